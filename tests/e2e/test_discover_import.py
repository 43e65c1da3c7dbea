"""A whole business adopted from YAML and from TypeScript, with the real CLI against the emulator:
`waba-webhooks discover --business --import-file --app-subscription` writes the bulk-import
document; `pulumi import --file` records every WABA's live routing and the app's subscription
with 0 Graph writes and writes the code that declares them (the YAML host's and our Node.js
host's `GenerateProgram`); that code pasted into the program as it is previews with no change
and no write, and the TypeScript passes `tsc --strict`.

The business is tests/business.py's: 3 owned and 7 client WABAs of 5 numbers, routed by hand,
the last client WABA refusing reads (discover exits 3 and leaves it out). Steps, as a list like
the lifecycle tests: discover -> import -> paste -> preview."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests import business
from tests.conftest import EmulatorHandle, run_cli
from tests.e2e.conftest import local_plugin, pulumi_in
from tests.e2e.test_nodejs_host import nodejs_host_beside, ts_project
from tests.nodejs import require_tool, run
from waba_webhooks.commands import import_document

__all__ = ["ts_project"]  # the fixture, used by the TypeScript test

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's first app (ours)
READABLE = [w for w in business.WABA_IDS if w != business.REFUSING]
TSCONFIG = Path(__file__).resolve().parents[2] / "examples" / "typescript" / "tsconfig.json"


@dataclass
class Adoption:
    """One language's project adopting the business, and what each step saw."""

    engine: str
    emulator: EmulatorHandle
    project: Path
    tmp_path: Path
    #: Pulumi.yaml without resources, and the program file the generated code is pasted into.
    header: dict[str, Any]
    program: Path
    generated: Path
    pulumi: Callable[..., Any] = field(init=False)
    document: Path = field(init=False)

    def __post_init__(self) -> None:
        self.document = self.tmp_path / "import.json"

    def writes(self) -> int:
        return int(self.emulator.admin.counts()["writes"])


def step_discover(a: Adoption) -> None:
    """Reads only; exit 3 for the refusing WABA; one WabaRouting per readable WABA, then the
    app's subscription, typed with the kinds' tokens."""
    found = run_cli(a.emulator, "discover", "--business", business.BUSINESS,
                    "--import-file", str(a.document), "--app-subscription",
                    WHATSAPP_APP_SECRET=APP_SECRET)
    assert found.returncode == 3, found.stderr
    assert f"not read: WABA {business.REFUSING}" in found.stderr
    assert json.loads(a.document.read_text())["resources"] == [
        *({"type": "whatsapp:index:WabaRouting", "name": import_document.routing_name(w),
           "id": w} for w in READABLE),
        {"type": "whatsapp:index:AppWebhookSubscription", "name": import_document.APP_NAME,
         "id": a.emulator.app_id}]
    assert a.writes() == 0


def step_import_records_the_live_routing_with_no_write(a: Adoption) -> None:
    a.pulumi = pulumi_in(a.engine, a.project, a.tmp_path)
    a.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase")
    for key, value, secret in [
            ("whatsapp:accessToken", a.emulator.token, True),
            ("whatsapp:appSecret", APP_SECRET, True),
            ("whatsapp:graphUrl", a.emulator.url, False),
            ("whatsapp:allowHttpLoopback", "true", False)]:
        a.pulumi("config", "set", *(["--secret"] if secret else []), key, value)
    start = len(a.emulator.admin.calls())
    a.pulumi("import", "--file", str(a.document), "--out", str(a.generated), "--yes",
             "--color", "never")
    calls = a.emulator.admin.calls()[start:]
    assert a.writes() == 0, [c["path"] for c in calls if c["method"] != "GET"]
    print(f"\n{a.header['runtime']}: pulumi import --file of {len(READABLE)} WabaRouting and "
          f"the app's subscription: {len(calls)} Graph calls, {a.writes()} writes")
    exported = a.pulumi("stack", "export").stdout
    for secret in (a.emulator.token, APP_SECRET):
        assert secret not in exported + a.generated.read_text()
    state = json.loads(exported)
    ours = {r["id"]: r for r in state["deployment"]["resources"]
            if r["type"].startswith("whatsapp:index:")}
    assert set(ours) == {*READABLE, a.emulator.app_id}
    for w, waba_id in enumerate(business.WABA_IDS[:-1]):
        outputs = ours[waba_id]["outputs"]
        assert outputs.get("callbackUri") == _waba_override(w), waba_id
        assert outputs["phoneNumbers"] == _phone_overrides(w), waba_id
        assert "verifyToken" not in ours[waba_id]["inputs"], "Meta never returns one"
    assert ours[a.emulator.app_id]["outputs"]["callbackUrl"] == business.APP_CALLBACK
    assert "verifyToken" not in ours[a.emulator.app_id]["inputs"]
    assert a.generated.read_text().strip(), "pulumi import wrote no code"


def step_pasted_code_previews_with_no_change(a: Adoption) -> None:
    before = a.writes()
    a.pulumi("preview", "--expect-no-changes", "--color", "never")
    assert a.writes() == before == 0
    # Not a preview of nothing: the program declares every imported resource.
    preview = json.loads(a.pulumi("preview", "--json", "--show-sames").stdout)
    declared = {step["urn"].rsplit("::", 1)[-1]: step["op"] for step in preview["steps"]
                if step["urn"].split("::")[-2].split("$")[-1].startswith("whatsapp:index:")}
    assert declared == {name: "same" for name in (
        *(import_document.routing_name(w) for w in READABLE), import_document.APP_NAME)}


def _waba_override(w: int) -> str | None:
    path = business.WABA_OVERRIDES.get(w)
    return f"{business.BASE}/{path}" if path else None


def _phone_overrides(w: int) -> dict[str, str]:
    return {business.phone_id(w, n): f"{business.BASE}/{path}"
            for (waba, n), path in business.PHONE_OVERRIDES.items() if waba == w}


def _seeded(emulator: EmulatorHandle) -> EmulatorHandle:
    business.seed(emulator.admin)
    return emulator


def test_yaml_project_adopts_the_business(engine: str, tmp_path: Path, emulator):
    project = tmp_path / "yaml"
    project.mkdir()
    header = {"name": "adopted", "runtime": "yaml", **local_plugin()}
    adoption = Adoption(engine, _seeded(emulator), project, tmp_path, header,
                        project / "Pulumi.yaml", tmp_path / "imported.yaml")
    (project / "Pulumi.yaml").write_text(json.dumps(header) + "\n")
    step_discover(adoption)
    step_import_records_the_live_routing_with_no_write(adoption)
    # Pasted as it is: Pulumi.yaml's keys, then the generated `resources:` block.
    adoption.program.write_text(yaml.safe_dump(header, sort_keys=False)
                                + adoption.generated.read_text())
    step_pasted_code_previews_with_no_change(adoption)


def test_typescript_project_adopts_the_business(engine: str, ts_project: Path, tmp_path: Path,
                                                emulator):
    nodejs_host_beside(engine)
    header = {"name": "adopted", "runtime": "nodejs", **local_plugin()}
    (ts_project / "Pulumi.yaml").write_text(json.dumps(header) + "\n")
    (ts_project / "index.ts").write_text("")
    shutil.copy(TSCONFIG, ts_project / "tsconfig.json")
    for stale in ts_project.glob("Pulumi.*.yaml"):
        if stale.name != "Pulumi.yaml":
            stale.unlink()
    adoption = Adoption(engine, _seeded(emulator), ts_project, tmp_path, header,
                        ts_project / "index.ts", tmp_path / "imported.ts")
    step_discover(adoption)
    step_import_records_the_live_routing_with_no_write(adoption)
    code = adoption.generated.read_text()
    assert 'from "@waba-webhooks/whatsapp"' in code, code
    assert "new whatsapp.WabaRouting(" in code and "new whatsapp.AppWebhookSubscription(" in code
    adoption.program.write_text(code)
    run([require_tool("npx"), "--no-install", "tsc", "--noEmit", "--strict"], ts_project)
    step_pasted_code_previews_with_no_change(adoption)
