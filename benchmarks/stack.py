"""One benchmark stack: a program folder copied to a temporary project, a file backend, a
passphrase secrets provider, driven by the real pulumi CLI through the Automation API (as
tests/e2e do)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from waba_webhooks.rules.kind import camel

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PASSPHRASE = "bench-passphrase"
VERIFY_TOKEN = "bench-verify-token"
PHONE_ID_START = 300_000_000_000_000
WABA_ID_START = 200_000_000_000_000
#: Phone numbers per WABA in the fixtures (and per `WabaRouting` in ``benchmarks/routing``).
PER_WABA = 10
PROVIDER_KEY = "__provider"
#: Where the running interpreter's console scripts are, ``pulumi-resource-whatsapp`` among them.
PLUGIN_DIR = Path(sys.executable).parent

#: The steps, in order: (name, Automation API call).
STEPS = ("create", "preview", "update", "refresh", "destroy")
STEP_LABELS = {
    "create": "up (create)",
    "preview": "preview (no change)",
    "update": "up (no change)",
    "refresh": "refresh",
    "destroy": "destroy",
}


def inputs_of(i: int, callback_base: str) -> dict[str, str]:
    """Resource i's inputs as the programs declare them (the verify token in clear)."""
    return {
        "phone_number_id": str(PHONE_ID_START + i),
        "callback_uri": f"{callback_base.rstrip('/')}/phone-{i:05d}",
        "verify_token": VERIFY_TOKEN,
    }


def compact(value: Any) -> int:
    """Bytes of ``value`` as compact JSON."""
    return len(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class StepRun:
    """What one step took and what it changed."""

    wall_s: float
    summary: dict[str, int]


class BenchStack:
    """A stack of ``program`` (a folder under benchmarks/) in ``root``; with ``native``, its
    Pulumi.yaml points the engine at the ``whatsapp`` plugin beside the running interpreter (as
    the README tells an infra repo to: no download, no plugin looked up on PATH), and at each
    of ``plugins`` (package -> folder: the native floor's)."""

    def __init__(self, root: Path, program: str, pulumi_home: Path, *, name: str = "bench",
                 extra_env: Mapping[str, str] | None = None, native: bool = False,
                 plugins: Mapping[str, Path] | None = None) -> None:
        self.root = root
        project = root / "project"
        shutil.copytree(BENCH_DIR / program, project,
                        ignore=shutil.ignore_patterns("__pycache__"))
        settings: dict[str, Any] = {
            "name": f"bench-{program}",
            "runtime": {"name": "python", "options": {"virtualenv": str(REPO / ".venv")}},
        }
        # Each plugin the program's resources need: package -> the folder of its executable.
        providers = {**({"whatsapp": PLUGIN_DIR} if native else {}), **(plugins or {})}
        if providers:
            settings["plugins"] = {"providers": [{"name": package, "path": str(folder)}
                                                 for package, folder in providers.items()]}
        (project / "Pulumi.yaml").write_text(json.dumps(settings))
        self.state_dir = root / "state"
        self.state_dir.mkdir()
        extra = dict(extra_env or {})
        # Both programs and their provider processes import `benchmarks` (the floor's provider
        # unpickles benchmarks.noop by reference): the same path for both.
        pythonpath = os.pathsep.join(
            p for p in (extra.pop("PYTHONPATH", ""), str(REPO), os.environ.get("PYTHONPATH", ""))
            if p
        )
        self.env = {
            "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_HOME": str(pulumi_home),
            "PYTHONPATH": pythonpath,
            **extra,
        }
        self.stack = auto.create_or_select_stack(
            name, work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase"),
        )

    def configure(self, count: int, callback_base: str,
                  extra: Mapping[str, tuple[str, bool]] | None = None, *,
                  per_waba: int = PER_WABA) -> None:
        """Declare ``count`` phone numbers' overrides, ``per_waba`` numbers to a WABA (what
        ``benchmarks/routing`` groups by); ``extra`` is more config: key -> (value, secret)."""
        config = {
            "bench:count": auto.ConfigValue(str(count)),
            "bench:perWaba": auto.ConfigValue(str(per_waba)),
            "bench:idStart": auto.ConfigValue(str(PHONE_ID_START)),
            "bench:wabaIdStart": auto.ConfigValue(str(WABA_ID_START)),
            "bench:callbackBase": auto.ConfigValue(callback_base),
            "bench:verifyToken": auto.ConfigValue(VERIFY_TOKEN, secret=True),
        }
        for key, (value, secret) in (extra or {}).items():
            config[key] = auto.ConfigValue(value, secret=secret)
        self.stack.set_all_config(config)

    def run(self, step: str, parallel: int | None = None) -> StepRun:
        """Run one step; wall time is measured around the Automation API call alone."""
        call: Callable[[], Any] = {
            "create": lambda: self.stack.up(color="never", parallel=parallel),
            "preview": lambda: self.stack.preview(color="never", parallel=parallel),
            "update": lambda: self.stack.up(color="never", parallel=parallel),
            "refresh": lambda: self.stack.refresh(color="never", parallel=parallel),
            "destroy": lambda: self.stack.destroy(color="never", parallel=parallel),
        }[step]
        started = time.perf_counter()
        result = call()
        wall = time.perf_counter() - started
        if step == "preview":
            summary = dict(result.change_summary)
        else:
            summary = dict(result.summary.resource_changes or {})
        return StepRun(wall, {str(k): int(v) for k, v in summary.items()})

    def run_cli(self, step: str, *flags: str) -> float:
        """Run one step with the pulumi CLI itself, as the Automation API runs it but with
        ``flags`` added (``--profiling PREFIX``, which the Automation API cannot pass); returns
        its wall seconds. A failed step raises with the CLI's last output."""
        args = {
            "create": ["up", "--yes", "--skip-preview"],
            "preview": ["preview"],
            "update": ["up", "--yes", "--skip-preview"],
            "refresh": ["refresh", "--yes", "--skip-preview"],
            "destroy": ["destroy", "--yes", "--skip-preview"],
        }[step]
        started = time.perf_counter()
        done = subprocess.run(
            ["pulumi", *args, "--stack", self.stack.name, "--non-interactive", "--color",
             "never", *flags],
            cwd=self.stack.workspace.work_dir, env={**os.environ, **self.env},
            capture_output=True, text=True, check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed: "
                               f"{(done.stdout + done.stderr)[-2000:]}")
        return wall

    def export(self) -> str:
        """`pulumi stack export` as a user runs it (secrets stay encrypted)."""
        done = subprocess.run(
            ["pulumi", "stack", "export", "--stack", self.stack.name],
            cwd=self.stack.workspace.work_dir, env={**os.environ, **self.env},
            capture_output=True, text=True, check=True,
        )
        return done.stdout

    def remove(self) -> None:
        self.stack.workspace.remove_stack(self.stack.name, force=True)


def both(*names: str) -> tuple[str, ...]:
    """Each property name as the dynamic resources store it and as the native plugin does
    (camelCase)."""
    return tuple(dict.fromkeys(form for name in names for form in (name, camel(name))))


#: Properties of a `WabaRouting` entry that grow with its numbers (the rest is per resource).
PER_NUMBER_KEYS = {
    "inputs": both("phone_numbers"),
    "outputs": both("phone_numbers", "unlisted_overrides", "numbers_without_override"),
}


def listed_numbers(resource: Mapping[str, Any]) -> Any:
    """A `WabaRouting` entry's ``phone_numbers`` input (None for other entries)."""
    inputs = resource.get("inputs") or {}
    return inputs.get("phone_numbers", inputs.get("phoneNumbers"))


def numbers_of(resource: Mapping[str, Any]) -> int:
    """Phone numbers a state entry routes: its ``phone_numbers`` for a `WabaRouting`, else 1."""
    listed = listed_numbers(resource)
    return len(listed) if isinstance(listed, dict) else 1


def declared_inputs(resource: Mapping[str, Any], callback_base: str) -> dict[str, Any]:
    """What the program declared for this entry, the verify token in clear (property names as
    the entry's door stores them)."""
    listed = listed_numbers(resource)
    if isinstance(listed, dict):
        declared = {"waba_id": resource["id"], "phone_numbers": listed,
                    "verify_token": VERIFY_TOKEN}
    else:
        declared = inputs_of(int(resource["id"]) - PHONE_ID_START, callback_base)
    if not str(resource.get("type", "")).startswith("whatsapp:"):
        return declared
    return {camel(key): value for key, value in declared.items()}


def without_numbers(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with every property that grows with its numbers emptied."""
    entry = dict(resource)
    for section, keys in PER_NUMBER_KEYS.items():
        props = dict(entry.get(section) or {})
        for key in keys:
            if isinstance(props.get(key), dict | list):
                props[key] = type(props[key])()
        entry[section] = props
    return entry


#: Groups of an entry's properties (section, keys; None: the entry itself) for `fixed_parts`.
FIXED_PARTS: dict[str, tuple[tuple[str | None, tuple[str, ...]], ...]] = {
    "stack trace": ((None, ("stackTrace", "sourcePosition")),),
    "provider pickle (inputs + outputs)": (("inputs", (PROVIDER_KEY,)),
                                           ("outputs", (PROVIDER_KEY,))),
    "verify token ciphertext (inputs + outputs)": (("inputs", both("verify_token",
                                                                   "verify_tokens")),
                                                   ("outputs", both("verify_token",
                                                                    "verify_tokens"))),
    "URNs, id, type": ((None, ("urn", "parent", "provider", "id", "type")),),
    "engine bookkeeping": ((None, ("custom", "propertyDependencies", "additionalSecretOutputs",
                                   "created", "modified")),),
}


def _bytes_of(mapping: Mapping[str, Any], keys: tuple[str, ...]) -> int:
    """Bytes the ``keys`` of ``mapping`` take in its compact JSON (key, value and comma)."""
    return sum(compact({key: mapping[key]}) - 1 for key in keys if key in mapping)


def fixed_parts(resource: Mapping[str, Any]) -> dict[str, int]:
    """Where the bytes of an entry with its per-number maps emptied go; ``other inputs and
    outputs`` is the rest of those sections, ``rest`` the JSON around them."""
    entry = without_numbers(resource)
    parts: dict[str, int] = {}
    grouped: dict[str, set[str]] = {"inputs": set(), "outputs": set()}
    for name, places in FIXED_PARTS.items():
        total = 0
        for section, keys in places:
            total += _bytes_of(entry if section is None else entry.get(section) or {}, keys)
            if section is not None:
                grouped[section].update(keys)
        parts[name] = total
    parts["other inputs and outputs"] = sum(
        _bytes_of(entry.get(section) or {},
                  tuple(k for k in (entry.get(section) or {}) if k not in keys))
        for section, keys in grouped.items())
    parts["rest"] = compact(entry) - sum(parts.values())
    return parts


def state_size(export_text: str, resource_type_suffix: str, callback_base: str) -> dict[str, Any]:
    """Sizes from a `pulumi stack export`: the whole export, and per resource of the benchmarked
    type its compact-JSON entry, split into inputs, outputs and the rest, against its inputs;
    per phone number the entries' bytes over the numbers they route, split into what each entry
    pays once (``fixed``) and what each number adds (``per_number``)."""
    data = json.loads(export_text)
    resources = (data.get("deployment") or {}).get("resources") or []
    ours = [r for r in resources if str(r.get("type", "")).endswith(resource_type_suffix)]
    result: dict[str, Any] = {"export_bytes": len(export_text.encode()), "resources": len(ours)}
    if not ours:
        return result
    count = len(ours)
    entries = sum(compact(r) for r in ours)
    numbers = sum(numbers_of(r) for r in ours)
    fixed = sum(compact(without_numbers(r)) for r in ours)
    inputs = sum(compact(r.get("inputs") or {}) for r in ours)
    outputs = sum(compact(r.get("outputs") or {}) for r in ours)
    provider = sum(  # the native plugin's entries have none
        compact(section[PROVIDER_KEY])
        for r in ours for section in (r.get("inputs") or {}, r.get("outputs") or {})
        if PROVIDER_KEY in section
    )
    declared = sum(compact(declared_inputs(r, callback_base)) for r in ours)
    result.update({
        "numbers": numbers,
        "entry_bytes": round(entries / count, 1),
        "entry_inputs_bytes": round(inputs / count, 1),
        "entry_outputs_bytes": round(outputs / count, 1),
        "entry_provider_bytes": round(provider / count, 1),
        "entry_other_bytes": round((entries - inputs - outputs) / count, 1),
        "declared_inputs_bytes": round(declared / count, 1),
        "ratio_to_inputs": round(entries / declared, 2),
        "export_bytes_per_resource": round(len(export_text.encode()) / count, 1),
        "bytes_per_number": round(entries / numbers, 1),
        "fixed_bytes_per_resource": round(fixed / count, 1),
        "added_bytes_per_number": round((entries - fixed) / numbers, 1),
        "export_bytes_per_number": round(len(export_text.encode()) / numbers, 1),
        "fixed_parts": {name: round(sum(fixed_parts(r)[name] for r in ours) / count, 1)
                        for name in fixed_parts(ours[0])},
        "output_keys": sorted((ours[0].get("outputs") or {}).keys()),
    })
    return result
