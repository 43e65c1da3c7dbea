"""Several Meta apps in one program, with the real CLI: explicit ``whatsapp`` providers
(`waba_webhooks.native.Provider`), one per app, each with its own token from secret stack
config, beside the default provider that the ``whatsapp:*`` stack config configures.

Both apps route the same WABA and the same phone number. Each app's overrides are written with
its own token (the emulator's call log names the app of every write), the other app's are never
touched, a no-change preview calls nothing, and removing one app's resources, then destroying
the rest, clears each app's own overrides only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import E2EStack, changes

PROGRAM = Path(__file__).resolve().parent / "providers_program"
WABA = "102290129340398"  # both apps are subscribed to it in the default fixture
PHONE = "106540352242922"  # a number of WABA
DEFAULT_PHONE = "106540352242924"  # routed by the default provider (another WABA)
BY_HAND = "106540352242923"  # each app has an override here that no stack declares


@pytest.fixture
def apps(emulator) -> dict[str, tuple[str, str]]:
    """Provider name -> (its app id, its access token): the default fixture's two apps."""
    tokens = {app["id"]: app["access_tokens"][0] for app in emulator.admin.state()["apps"]}
    other = next(app_id for app_id in tokens if app_id != emulator.app_id)
    return {"lucky": (emulator.app_id, tokens[emulator.app_id]), "other": (other, tokens[other])}


@pytest.fixture
def stack(engine, tmp_path, emulator, callback_receiver, pulumi_home,
          apps) -> Iterator[E2EStack]:
    """A stack of the providers program. The default provider (``whatsapp:*`` config) acts
    for the other app; the explicit providers ``lucky`` and ``other`` for one app each."""
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     access_token=apps["other"][1], program=PROGRAM)
    stack.stack.set_all_config({
        "e2e:graphUrl": auto.ConfigValue(emulator.url),
        **{f"e2e:{name}Token": auto.ConfigValue(token, secret=True)
           for name, (_, token) in apps.items()},
    })
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    tokens = [token for _, token in apps.values()]
    assert stack.leaked(*tokens, callback_receiver.verify_token) == []


def declare(stack: E2EStack, overrides: list[dict]) -> None:
    stack.stack.set_all_config({
        "e2e:providers": auto.ConfigValue(json.dumps(["lucky", "other"])),
        "e2e:overrides": auto.ConfigValue(json.dumps(overrides)),
    })


def overrides_of(receiver, app: str, version: str = "") -> list[dict]:
    """App `app`'s two overrides: on WABA and on PHONE, through its explicit provider."""
    return [
        {"name": f"{app}-waba", "kind": "waba", "id": WABA, "provider": app,
         "callbackUri": receiver.url_for(f"{app}/waba{version}")},
        {"name": f"{app}-phone", "kind": "phone", "id": PHONE, "provider": app,
         "callbackUri": receiver.url_for(f"{app}/phone{version}")},
    ]


def default_override(receiver) -> dict:
    """A resource with no explicit provider."""
    return {"name": "default-phone", "kind": "phone", "id": DEFAULT_PHONE,
            "callbackUri": receiver.url_for("default/phone")}


def live(emulator) -> dict[tuple[str, str], str]:
    """(object id, app id) -> the override, on every WABA and number of the fixture."""
    state = emulator.admin.state()
    found = {(w["id"], app): uri for w in state["wabas"]
             for app, uri in w["subscriptions"].items() if uri}
    found.update({(p["id"], app): uri for p in state["phone_numbers"]
                  for app, uri in p["overrides"].items() if uri})
    return found


def writes(emulator, since: int = 0) -> list[tuple[str, str, str]]:
    """The accepted Graph writes after the first `since` calls: (app id, object id, URL set or
    "" for a clear)."""
    found = []
    for call in emulator.admin.calls()[since:]:
        if call["method"] in ("POST", "DELETE") and call["status"] == 200:
            body = call["body"] or {}
            body = body.get("webhook_configuration") or body  # a phone number's
            object_id = call["path"].strip("/").split("/")[1]
            found.append((call["app_id"], object_id, body.get("override_callback_uri") or ""))
    return found


def test_two_apps_in_one_program(stack, emulator, callback_receiver, apps):
    started = time.monotonic()
    lucky, other = apps["lucky"][0], apps["other"][0]
    url = callback_receiver.url_for
    for app in (lucky, other):  # overrides no stack declares: nothing may touch them
        emulator.admin.set_phone_override(BY_HAND, app, f"https://by-hand.example/{app}")
    untouched = {(BY_HAND, app): f"https://by-hand.example/{app}" for app in (lucky, other)}

    declare(stack, [*overrides_of(callback_receiver, "lucky"),
                    *overrides_of(callback_receiver, "other"), default_override(callback_receiver)])
    mark = len(emulator.admin.calls())
    result = stack.up()
    # The stack, the two explicit providers and five overrides.
    assert changes(result.summary.resource_changes) == {"create": 8}, result.stdout
    assert sorted(writes(emulator, mark)) == sorted([
        (lucky, WABA, url("lucky/waba")), (lucky, PHONE, url("lucky/phone")),
        (other, WABA, url("other/waba")), (other, PHONE, url("other/phone")),
        # The default provider: the whatsapp:accessToken of the stack config (the other app).
        (other, DEFAULT_PHONE, url("default/phone")),
    ])
    assert live(emulator) == {
        **untouched,
        (WABA, lucky): url("lucky/waba"), (PHONE, lucky): url("lucky/phone"),
        (WABA, other): url("other/waba"), (PHONE, other): url("other/phone"),
        (DEFAULT_PHONE, other): url("default/phone"),
    }
    outputs = stack.stack.outputs()
    assert outputs["lucky-phone.effective"].value == url("lucky/phone")
    assert outputs["other-phone.effective"].value == url("other/phone")

    # What the SDK sent for the providers' inputs, as the state records them: a bool stays a
    # bool, the token is a secret.
    resources = stack.deployment()["resources"]
    providers = {r["urn"].rsplit("::", 1)[-1]: r for r in resources
                 if r["type"] == "pulumi:providers:whatsapp"}
    assert {"lucky", "other"} <= set(providers)
    for name in ("lucky", "other"):
        inputs = providers[name]["inputs"]
        assert inputs["allowHttpLoopback"] is True
        assert inputs["graphUrl"] == emulator.url
        assert "ciphertext" in inputs["accessToken"]
    by_name = {r["urn"].rsplit("::", 1)[-1]: r for r in resources}
    for name in ("lucky-waba", "lucky-phone", "other-waba", "other-phone"):
        owner = name.split("-")[0]
        assert by_name[name]["provider"].startswith(providers[owner]["urn"] + "::")
    assert "pulumi:providers:whatsapp::default" in by_name["default-phone"]["provider"]

    calls = emulator.admin.counts()["total"]
    assert changes(stack.preview().change_summary) == {}
    no_change_calls = emulator.admin.counts()["total"] - calls
    assert no_change_calls == 0, "a no-change preview called the Graph API"

    # One app's URLs change: only its token writes, only its overrides move.
    declare(stack, [*overrides_of(callback_receiver, "lucky", "-v2"),
                    *overrides_of(callback_receiver, "other"), default_override(callback_receiver)])
    mark = len(emulator.admin.calls())
    assert changes(stack.up().summary.resource_changes) == {"update": 2}
    assert sorted(writes(emulator, mark)) == sorted([
        (lucky, WABA, url("lucky/waba-v2")), (lucky, PHONE, url("lucky/phone-v2"))])
    assert live(emulator) == {
        **untouched,
        (WABA, lucky): url("lucky/waba-v2"), (PHONE, lucky): url("lucky/phone-v2"),
        (WABA, other): url("other/waba"), (PHONE, other): url("other/phone"),
        (DEFAULT_PHONE, other): url("default/phone"),
    }

    # One app's resources go: they clear that app's overrides, with its token, and no other.
    declare(stack, [*overrides_of(callback_receiver, "other"), default_override(callback_receiver)])
    mark = len(emulator.admin.calls())
    assert changes(stack.up().summary.resource_changes) == {"delete": 2}
    assert sorted(writes(emulator, mark)) == sorted([(lucky, WABA, ""), (lucky, PHONE, "")])
    assert live(emulator) == {
        **untouched,
        (WABA, other): url("other/waba"), (PHONE, other): url("other/phone"),
        (DEFAULT_PHONE, other): url("default/phone"),
    }
    assert emulator.is_subscribed(WABA), "a WABA override's delete unsubscribed the app"

    mark = len(emulator.admin.calls())
    stack.destroy()
    assert sorted(writes(emulator, mark)) == sorted(
        [(other, WABA, ""), (other, PHONE, ""), (other, DEFAULT_PHONE, "")])
    assert live(emulator) == untouched
    state = emulator.admin.state()
    waba = next(w for w in state["wabas"] if w["id"] == WABA)
    assert set(waba["subscriptions"]) >= {lucky, other}, "destroy unsubscribed an app"
    print(f"\nno-change preview: {no_change_calls} Graph calls; "
          f"{time.monotonic() - started:.1f} s")
