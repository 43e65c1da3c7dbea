"""From the dynamic resources to the native ``whatsapp`` plugin's, with the real CLI.

A stack made with the dynamic resources (one of each kind) switches the e2e program's door to
native, as a user changes ``from waba_webhooks import ...`` to ``from waba_webhooks import
native``: each native class carries an alias to its dynamic type, so the next ``up`` moves every
resource to its native type with no create, delete, replace or update, and no Graph call. From
then on the plugin manages them: a URL change writes that URL alone, a resource removed from the
program clears its own override, a refresh only reads, a no-change preview calls nothing, and
destroy clears the rest. `pytest -s` prints each step's Graph calls. bin/test runs this file with
the newest and the oldest supported SDK.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.e2e.conftest import E2EStack, changes
from waba_webhooks.resources import KINDS

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's default app
WABA = "102290129340398"  # a WabaCallbackOverride here, a PhoneCallbackOverride on PHONE
PHONE = "106540352242922"
ROUTED_WABA = "102290129340399"  # a WabaRouting here, listing ROUTED_PHONE
ROUTED_PHONE = "106540352242924"
NAMES = {"waba": "WabaCallbackOverride", "phone": "PhoneCallbackOverride",
         "routing": "WabaRouting", "app": "AppWebhookSubscription"}


@pytest.fixture
def stack(engine, tmp_path, emulator, callback_receiver, pulumi_home) -> Iterator[E2EStack]:
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, callback_receiver.verify_token) == []


def declare(stack: E2EStack, receiver, door: str, phone_path: str = "phone",
            waba: bool = True) -> None:
    url = receiver.url_for
    stack.declare(
        door=door,
        wabas=[{"name": "waba", "id": WABA, "callbackUri": url("waba")}] if waba else [],
        phones=[{"name": "phone", "id": PHONE, "callbackUri": url(phone_path)}],
        routings=[{"name": "routing", "id": ROUTED_WABA, "callbackUri": url("routing"),
                   "phones": {ROUTED_PHONE: url("routed")}}],
        apps=[{"name": "app", "callbackUrl": url("app"), "fields": ["messages"]}],
    )


def writes(emulator) -> list[tuple[str, str]]:
    """The accepted Graph writes so far: (``POST /path``, the URL it set, if any)."""
    found = []
    for call in emulator.admin.calls():
        if call["method"] in ("POST", "DELETE") and call["status"] == 200:
            body = call["body"] or {}
            body = body.get("webhook_configuration") or body  # a phone number's
            uri = body.get("override_callback_uri") or body.get("callback_url") or ""
            found.append((f"{call['method']} {re.sub(r'^/v[0-9.]+', '', call['path'])}", uri))
    return found


def ours(deployment: dict) -> dict[str, dict]:
    """Resource name -> state entry, for the program's four resources."""
    return {r["urn"].rsplit("::", 1)[-1]: r for r in deployment.get("resources", [])
            if r["urn"].rsplit("::", 1)[-1] in NAMES}


@contextmanager
def counted(emulator, figures: dict[str, tuple[int, int]], step: str) -> Iterator[None]:
    """Record the Graph calls and accepted writes the block made, as ``figures[step]``."""
    calls, done = emulator.admin.counts()["total"], len(writes(emulator))
    yield
    figures[step] = (emulator.admin.counts()["total"] - calls, len(writes(emulator)) - done)


def test_dynamic_to_native_moves_every_resource_unchanged(stack, emulator, callback_receiver):
    started = time.monotonic()
    figures: dict[str, tuple[int, int]] = {}
    emulator.admin.set_app_subscription(emulator.app_id, None, None)  # none yet
    declare(stack, callback_receiver, "dynamic")
    assert changes(stack.up().summary.resource_changes) == {"create": 5}  # stack + 4
    before = ours(stack.deployment())
    assert {name: r["type"] for name, r in before.items()} == {
        name: f"pulumi-python:dynamic/waba-webhooks:{kind}" for name, kind in NAMES.items()}
    assert all("__provider" in r["inputs"] for r in before.values())
    live = (emulator.waba_override(WABA), emulator.phone_override(PHONE),
            emulator.waba_override(ROUTED_WABA), emulator.phone_override(ROUTED_PHONE))
    exported = {key: out.value for key, out in stack.stack.outputs().items()}

    # The move: the same program through the native door.
    declare(stack, callback_receiver, "native")
    with counted(emulator, figures, "move preview"):
        preview = stack.preview()
    assert changes(preview.change_summary) == {}, preview.stdout
    with counted(emulator, figures, "move"):
        moved = stack.up()
    assert changes(moved.summary.resource_changes) == {}, moved.stdout
    assert figures["move preview"] == figures["move"] == (0, 0), figures
    assert (emulator.waba_override(WABA), emulator.phone_override(PHONE),
            emulator.waba_override(ROUTED_WABA), emulator.phone_override(ROUTED_PHONE)) == live
    # The native classes read the outputs the dynamic ones recorded (snake_case keys).
    assert {key: out.value for key, out in stack.stack.outputs().items()} == exported

    after = ours(stack.deployment())
    assert {name: r["type"] for name, r in after.items()} == {
        name: f"whatsapp:index:{kind}" for name, kind in NAMES.items()}
    assert all(r["provider"].startswith(
        "urn:pulumi:test::e2e::pulumi:providers:whatsapp::default") for r in after.values())
    assert all(r["id"] == before[name]["id"] for name, r in after.items())
    assert not [name for name, r in after.items() if "__provider" in r["inputs"]]
    # The engine keeps an unchanged resource's outputs as they were (its SameStep), so the
    # dynamic door's outputs, its provider reference included, stay until the resource's next
    # update or refresh.
    assert all("__provider" in r["outputs"] and "callback_uri" in r["outputs"]
               for name, r in after.items() if name != "app")

    # Managed by the plugin from now on: one URL changed, one write of that URL.
    declare(stack, callback_receiver, "native", phone_path="phone-v2")
    with counted(emulator, figures, "URL change"):
        assert changes(stack.up().summary.resource_changes) == {"update": 1}
    assert writes(emulator)[-1:] == [(f"POST /{PHONE}", callback_receiver.url_for("phone-v2"))]
    assert figures["URL change"][1] == 1
    assert emulator.phone_override(PHONE) == callback_receiver.url_for("phone-v2")

    # A resource the plugin has not written since the move goes: its delete reads what the
    # dynamic door recorded and clears the override it set (one write, no unsubscribe).
    declare(stack, callback_receiver, "native", phone_path="phone-v2", waba=False)
    with counted(emulator, figures, "removal"):
        assert changes(stack.up().summary.resource_changes) == {"delete": 1}
    assert writes(emulator)[-1:] == [(f"POST /{WABA}/subscribed_apps", "")]
    assert figures["removal"][1] == 1
    assert emulator.waba_override(WABA) is None and emulator.is_subscribed(WABA)

    with counted(emulator, figures, "refresh"):
        assert changes(stack.refresh().summary.resource_changes) == {}
    assert figures["refresh"][1] == 0, "refresh wrote to the Graph API"
    with counted(emulator, figures, "no-change preview"):
        assert changes(stack.preview().change_summary) == {}
    assert figures["no-change preview"] == (0, 0), "a no-change preview called the Graph API"
    final = ours(stack.deployment())
    assert set(final) == set(NAMES) - {"waba"}
    assert not [name for name, r in final.items()
                if "__provider" in r["inputs"] or "__provider" in r["outputs"]]
    assert "callbackUri" in final["phone"]["outputs"]  # the plugin's names, after the refresh

    with counted(emulator, figures, "destroy"):
        stack.destroy()
    assert (emulator.phone_override(PHONE), emulator.waba_override(ROUTED_WABA),
            emulator.phone_override(ROUTED_PHONE)) == (None, None, None)
    assert emulator.is_subscribed(ROUTED_WABA)
    assert {kind.name for kind in KINDS} == set(NAMES.values())
    print("\n" + "; ".join(f"{step}: {calls} calls, {w} writes"
                           for step, (calls, w) in figures.items())
          + f"; {time.monotonic() - started:.1f} s")
