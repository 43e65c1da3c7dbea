"""One benchmark stack: a program folder copied to a temporary project, a file backend, a
passphrase secrets provider, driven by the real pulumi CLI through the Automation API (as
tests/e2e do)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PASSPHRASE = "bench-passphrase"
VERIFY_TOKEN = "bench-verify-token"
PHONE_ID_START = 300_000_000_000_000
PROVIDER_KEY = "__provider"

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
    """A stack of ``program`` (a folder under benchmarks/) in ``root``."""

    def __init__(self, root: Path, program: str, pulumi_home: Path, *, name: str = "bench",
                 extra_env: Mapping[str, str] | None = None) -> None:
        self.root = root
        project = root / "project"
        shutil.copytree(BENCH_DIR / program, project,
                        ignore=shutil.ignore_patterns("__pycache__"))
        (project / "Pulumi.yaml").write_text(json.dumps({
            "name": f"bench-{program}",
            "runtime": {"name": "python", "options": {"virtualenv": str(REPO / ".venv")}},
        }))
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
            "PULUMI_HOME": str(pulumi_home),
            "PYTHONPATH": pythonpath,
            **extra,
        }
        self.stack = auto.create_or_select_stack(
            name, work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase"),
        )

    def configure(self, count: int, callback_base: str,
                  extra: Mapping[str, tuple[str, bool]] | None = None) -> None:
        """Declare ``count`` resources; ``extra`` is more config: key -> (value, secret)."""
        config = {
            "bench:count": auto.ConfigValue(str(count)),
            "bench:idStart": auto.ConfigValue(str(PHONE_ID_START)),
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


def state_size(export_text: str, resource_type_suffix: str, callback_base: str) -> dict[str, Any]:
    """Sizes from a `pulumi stack export`: the whole export, and per resource of the benchmarked
    type its compact-JSON entry, split into inputs, outputs and the rest, against its inputs."""
    data = json.loads(export_text)
    resources = (data.get("deployment") or {}).get("resources") or []
    ours = [r for r in resources if str(r.get("type", "")).endswith(resource_type_suffix)]
    result: dict[str, Any] = {"export_bytes": len(export_text.encode()), "resources": len(ours)}
    if not ours:
        return result
    entry = sum(compact(r) for r in ours) / len(ours)
    inputs = sum(compact(r.get("inputs") or {}) for r in ours) / len(ours)
    outputs = sum(compact(r.get("outputs") or {}) for r in ours) / len(ours)
    provider = sum(
        compact((r.get("inputs") or {}).get(PROVIDER_KEY)) + compact(
            (r.get("outputs") or {}).get(PROVIDER_KEY))
        for r in ours
    ) / len(ours)
    declared = sum(
        compact(inputs_of(int(r["id"]) - PHONE_ID_START, callback_base)) for r in ours
    ) / len(ours)
    result.update({
        "entry_bytes": round(entry, 1),
        "entry_inputs_bytes": round(inputs, 1),
        "entry_outputs_bytes": round(outputs, 1),
        "entry_provider_bytes": round(provider, 1),
        "entry_other_bytes": round(entry - inputs - outputs, 1),
        "declared_inputs_bytes": round(declared, 1),
        "ratio_to_inputs": round(entry / declared, 2),
        "export_bytes_per_resource": round(len(export_text.encode()) / len(ours), 1),
        "output_keys": sorted((ours[0].get("outputs") or {}).keys()),
    })
    return result
