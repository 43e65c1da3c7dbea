"""`pulumi import` of each kind of the native ``whatsapp`` plugin, with the real CLI against the
emulator, on a stack of the e2e Python program (native door):

- what someone set by hand (an override, a WABA's routing, the app's subscription) is imported
  with no Graph write, and the program then declaring the same values (with its verify token,
  which Meta never returns) previews with no change;
- an id with nothing of our app behind it fails the import with the reason, and the state
  records nothing;
- ``pulumi package get-schema`` of the plugin executable prints the checked-in schema.json.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import PLUGIN_DIR, E2EStack, changes
from waba_webhooks.plugin import schema

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's first app (ours)
ROUTED_WABA = "102290129340398"  # with numbers ROUTED_NUMBER and another
ROUTED_NUMBER = "106540352242922"
SUPPORT_WABA = "102290129340399"  # with numbers PHONE and another
PHONE = "106540352242924"
NEW_WABA = "102290129340400"  # no app subscribed
MISSING = "999999999999"


@dataclass
class Case:
    """One kind: what is set live by hand, the id `pulumi import` takes, and the e2e program's
    declaration of the same values."""

    kind: str
    name: str
    id: Callable[[Any], str]
    set_live: Callable[[Any, Any], None]
    declared: Callable[[Any], dict[str, list[dict]]]

    @property
    def token(self) -> str:
        return f"whatsapp:index:{self.kind}"


def _routing(emulator, receiver) -> None:
    emulator.admin.set_waba_override(ROUTED_WABA, emulator.app_id, receiver.url_for("routing"))
    emulator.admin.set_phone_override(ROUTED_NUMBER, emulator.app_id,
                                      receiver.url_for("routed-number"))


APP_FIELDS = ["messages", "calls"]

CASES = [
    Case("WabaCallbackOverride", "waba", lambda e: SUPPORT_WABA,
         lambda e, r: e.admin.set_waba_override(SUPPORT_WABA, e.app_id, r.url_for("waba")),
         lambda r: {"wabas": [{"name": "waba", "id": SUPPORT_WABA,
                               "callbackUri": r.url_for("waba")}]}),
    Case("PhoneCallbackOverride", "phone", lambda e: PHONE,
         lambda e, r: e.admin.set_phone_override(PHONE, e.app_id, r.url_for("phone")),
         lambda r: {"phones": [{"name": "phone", "id": PHONE,
                                "callbackUri": r.url_for("phone")}]}),
    Case("WabaRouting", "routing", lambda e: ROUTED_WABA, _routing,
         lambda r: {"routings": [{"name": "routing", "id": ROUTED_WABA,
                                  "callbackUri": r.url_for("routing"),
                                  "phones": {ROUTED_NUMBER: r.url_for("routed-number")}}]}),
    Case("AppWebhookSubscription", "app", lambda e: e.app_id,
         lambda e, r: e.admin.set_app_subscription(e.app_id, r.url_for("app"), APP_FIELDS),
         lambda r: {"apps": [{"name": "app", "callbackUrl": r.url_for("app"),
                              "fields": APP_FIELDS}]}),
]


@pytest.fixture
def import_stack(engine, tmp_path, emulator, callback_receiver,
                 pulumi_home) -> Iterator[E2EStack]:
    """A stack of the e2e program, native door, declaring nothing yet; the default provider
    acts for our app (app id and secret set). Afterwards nothing its runs printed or exported
    holds the access token, the app secret or the verify token."""
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.stack.set_config("whatsapp:appId", auto.ConfigValue(emulator.app_id))
    stack.declare(door="native")
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, callback_receiver.verify_token) == []


def pulumi(stack: E2EStack, *args: str) -> subprocess.CompletedProcess[str]:
    """The pulumi CLI in the stack's project, with its environment (as a user runs it)."""
    done = subprocess.run(
        ["pulumi", *args, "--stack", stack.stack.name, "--non-interactive", "--color", "never"],
        cwd=stack.stack.workspace.work_dir, env={**os.environ, **stack.env},
        capture_output=True, text=True, timeout=300, check=False)
    stack.outputs.extend([done.stdout, done.stderr])
    return done


def import_(stack: E2EStack, token: str, name: str, object_id: str
            ) -> subprocess.CompletedProcess[str]:
    return pulumi(stack, "import", token, name, object_id, "--yes", "--generate-code=false")


def recorded(stack: E2EStack, name: str) -> list[dict[str, Any]]:
    """The state's resources named `name`."""
    return [r for r in stack.deployment().get("resources", [])
            if r["urn"].endswith(f"::{name}")]


def writes(emulator) -> int:
    return emulator.admin.counts()["writes"]


def test_import_of_each_kind_writes_nothing_and_matches_the_program(
        import_stack, emulator, callback_receiver):
    for case in CASES:
        case.set_live(emulator, callback_receiver)
    before = emulator.admin.state()
    declared: dict[str, list[dict]] = {}
    calls: dict[str, int] = {}
    for case in CASES:
        seen = emulator.admin.counts()["total"]
        done = import_(import_stack, case.token, case.name, case.id(emulator))
        assert done.returncode == 0, f"{case.kind}: {done.stdout}\n{done.stderr}"
        assert writes(emulator) == 0, f"{case.kind}: the import wrote"
        calls[case.kind] = emulator.admin.counts()["total"] - seen
        [resource] = recorded(import_stack, case.name)
        assert (resource["type"], resource["id"]) == (case.token, case.id(emulator))
        assert "verifyToken" not in resource["inputs"], "Meta never returns a verify token"
        declared.update(case.declared(callback_receiver))
    assert emulator.admin.state() == before

    # The program now declares what was imported, with its verify token: no change.
    import_stack.declare(**declared, door="native")
    preview = import_stack.preview()
    assert changes(preview.change_summary) == {}, preview.stdout
    assert writes(emulator) == 0
    print("\nGraph calls of each `pulumi import` (0 writes): "
          + ", ".join(f"{kind} {n}" for kind, n in calls.items()))


@pytest.mark.parametrize(("kind", "object_id", "reason"), [
    ("PhoneCallbackOverride", MISSING, "does not exist"),
    ("WabaCallbackOverride", SUPPORT_WABA, "nothing to import"),  # subscribed, no override
    ("WabaCallbackOverride", NEW_WABA, "nothing to import"),  # not even subscribed
    ("AppWebhookSubscription", "APP", "nothing to import"),  # the app has no subscription
])
def test_import_of_nothing_fails_with_the_reason_and_records_nothing(
        import_stack, emulator, kind, object_id, reason):
    if object_id == "APP":
        object_id = emulator.app_id
        emulator.admin.set_app_subscription(emulator.app_id, None, None)
    done = import_(import_stack, f"whatsapp:index:{kind}", "ghost", object_id)
    assert done.returncode != 0, done.stdout
    said = done.stdout + done.stderr
    assert reason in said and object_id in said, said
    assert recorded(import_stack, "ghost") == [], "the failed import recorded a resource"
    assert writes(emulator) == 0


def test_get_schema_prints_the_checked_in_schema(engine, tmp_path: Path):
    """`pulumi package get-schema <plugin executable>` starts the plugin and prints its schema:
    the same JSON as provider/waba_webhooks/plugin/schema.json (the CLI reorders keys)."""
    plugin = PLUGIN_DIR / "pulumi-resource-whatsapp"
    env = {**os.environ, "PULUMI_HOME": str(tmp_path / "home"),
           "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
    done = subprocess.run([engine, "package", "get-schema", str(plugin), "--non-interactive"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == json.loads(schema.checked_in())
    assert set(printed["resources"]) == {f"whatsapp:index:{case.kind}" for case in CASES}
