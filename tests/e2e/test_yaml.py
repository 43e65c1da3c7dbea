"""A Pulumi YAML program of the native ``whatsapp`` plugin, run by the real CLI against the
emulator: the engine's YAML host finds the plugin's schema through the plugin
(``plugins.providers`` in Pulumi.yaml) and drives the same rules as a Python program.

The program, tests/e2e/yaml_program/Pulumi.yaml, declares all four kinds on the default
fixture's ids, with URLs and the verify token from the stack's config. Each step checks what a
user would notice, and the Graph calls it made (the emulator's call log):

- ``up`` makes the same Graph calls as the e2e Python program declaring the same resources
  through the native door (each against a freshly seeded emulator);
- a no-change ``preview`` makes none; changing one URL makes one write;
- a hand change shows in ``refresh`` and ``up`` restores it;
- a bad URL fails ``preview`` naming ``callbackUri``, with no Graph call;
- ``options: import`` adopts a live override with no write;
- ``destroy`` removes the overrides and leaves the WABAs subscribed and the app's subscription
  as it is;
- an explicit ``pulumi:providers:whatsapp`` acts with its own app's token only.

Run with ``-s`` to see the Graph calls per step.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import E2EStack, changes, local_plugin
from waba_webhooks.emulator.fixtures import load

YAML_PROGRAM = Path(__file__).resolve().parent / "yaml_program" / "Pulumi.yaml"
APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's first app (ours)

# The default fixture's objects the program declares.
ROUTED_WABA = "102290129340398"  # the WabaRouting's WABA...
ROUTED_NUMBER = "106540352242922"  # ...and the number it routes elsewhere
PHONE = "106540352242924"  # the PhoneCallbackOverride's number, of WABA SUPPORT_WABA
SUPPORT_WABA = "102290129340399"
SPARE_NUMBER = "106540352242925"  # another number of SUPPORT_WABA: imported in a step
NEW_WABA = "102290129340400"  # the WabaCallbackOverride's WABA: no app subscribed yet


# ---- the program and its stack ------------------------------------------------------------


def program(keep: tuple[str, ...] | None = None, **extra: dict[str, Any]) -> dict[str, Any]:
    """The YAML program as data, with the plugin entry: only the resources in `keep` (all by
    default), plus `extra` ones (name -> declaration); config entries for ``${...}`` names the
    extras use are the caller's."""
    text = yaml.safe_load(YAML_PROGRAM.read_text())
    if keep is not None:
        text["resources"] = {k: v for k, v in text["resources"].items() if k in keep}
        text["outputs"] = {k: v for k, v in text["outputs"].items()
                           if any(f"${{{name}." in v for name in keep)}
    text["resources"].update(extra)
    return {**text, **local_plugin()}


def write_program(project: Path, text: dict[str, Any]) -> None:
    """Pulumi.yaml of the project (JSON is YAML)."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text(json.dumps(text, indent=2))


def yaml_stack(root: Path, emulator, pulumi_home: Path, receiver, text: dict[str, Any],
               **config: str) -> E2EStack:
    """A stack of `text` in ``<root>/project``: the default provider acts for our app (app id
    and secret set, for the app subscription), `config` sets ``e2e:<key>``."""
    write_program(root / "project", text)
    stack = E2EStack(root, emulator, pulumi_home, receiver.verify_token, app_secret=APP_SECRET)
    stack.stack.set_all_config({
        "whatsapp:appId": auto.ConfigValue(emulator.app_id),
        **{f"e2e:{key}": auto.ConfigValue(value) for key, value in config.items()},
    })
    return stack


def urls(receiver) -> dict[str, str]:
    """The program's URL config: one path of the receiver per resource."""
    return {"routingUrl": receiver.url_for("routing"),
            "routedNumberUrl": receiver.url_for("routed-number"),
            "phoneUrl": receiver.url_for("phone"),
            "wabaUrl": receiver.url_for("waba"),
            "appUrl": receiver.url_for("app")}


FIELDS = ["messages", "account_update"]


def python_declarations(url: dict[str, str]) -> dict[str, list[dict]]:
    """The same resources for the e2e Python program (tests/e2e/program)."""
    return {
        "routings": [{"name": "routing", "id": ROUTED_WABA, "callbackUri": url["routingUrl"],
                      "phones": {ROUTED_NUMBER: url["routedNumberUrl"]}}],
        "phones": [{"name": "phone", "id": PHONE, "callbackUri": url["phoneUrl"]}],
        "wabas": [{"name": "waba", "id": NEW_WABA, "callbackUri": url["wabaUrl"]}],
        "apps": [{"name": "app", "callbackUrl": url["appUrl"], "fields": FIELDS,
                  "adopt": True}],
    }


# ---- what the emulator saw ------------------------------------------------------------------


class Calls:
    """The emulator's call log from a point on."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.start = len(emulator.admin.calls())

    def made(self) -> list[dict[str, Any]]:
        return self.emulator.admin.calls()[self.start:]

    def writes(self) -> list[dict[str, Any]]:
        return [c for c in self.made() if c["method"] in ("POST", "DELETE")]


def shape(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Calls as a multiset of (method and operation, path): what was called, not in which
    order."""
    return Counter((c["operation"], c["path"]) for c in calls)


def shown(calls: list[dict[str, Any]]) -> str:
    return "; ".join(f"{c['operation']} {c['path']}" for c in calls) or "none"


def live(emulator) -> dict[str, Any]:
    """Our app's routing as the emulator holds it, for the program's objects."""
    subscription = emulator.admin.app_subscription(emulator.app_id) or {}
    return {
        "routing": emulator.waba_override(ROUTED_WABA),
        "routedNumber": emulator.phone_override(ROUTED_NUMBER),
        "phone": emulator.phone_override(PHONE),
        "spare": emulator.phone_override(SPARE_NUMBER),
        "waba": emulator.waba_override(NEW_WABA),
        "app": (subscription.get("callback_url"),
                sorted(f["name"] for f in subscription.get("fields", []))),
    }


def app_state(emulator, app_id: str) -> dict[str, Any]:
    """Every override and subscription `app_id` has: WABA id -> override (None: subscribed
    without one), phone number id -> override."""
    state = emulator.admin.state()
    wabas = {w["id"]: w["subscriptions"][app_id] for w in state["wabas"]
             if app_id in w["subscriptions"]}
    phones = {p["id"]: p["overrides"][app_id] for p in state["phone_numbers"]
              if app_id in p["overrides"]}
    return {"wabas": wabas, "phones": phones}


def other_app(emulator) -> dict[str, Any]:
    return next(a for a in emulator.admin.state()["apps"] if a["id"] != emulator.app_id)


# ---- the program's life ---------------------------------------------------------------------


def test_yaml_program_through_its_life(engine, tmp_path, emulator, callback_receiver,
                                       pulumi_home):
    url = urls(callback_receiver)
    figures: dict[str, str] = {}

    # a. The Python program, native door, against the fresh emulator: the calls to match.
    python = E2EStack(tmp_path / "python", emulator, pulumi_home,
                      callback_receiver.verify_token, app_secret=APP_SECRET)
    python.stack.set_config("whatsapp:appId", auto.ConfigValue(emulator.app_id))
    python.declare(**python_declarations(url), door="native")
    assert changes(python.up().summary.resource_changes) == {"create": 5}
    python_calls = emulator.admin.calls()
    python_live = live(emulator)
    python.export()
    python.stack.workspace.remove_stack("test", force=True)  # its state only; Meta is reseeded
    assert python.leaked(emulator.token, APP_SECRET, callback_receiver.verify_token) == []

    emulator.admin.seed(load())
    stack = yaml_stack(tmp_path / "yaml", emulator, pulumi_home, callback_receiver, program(),
                       **url)
    up = stack.up()
    assert changes(up.summary.resource_changes) == {"create": 5}  # the stack and four
    yaml_calls = emulator.admin.calls()
    assert shape(yaml_calls) == shape(python_calls), (
        f"YAML: {shown(yaml_calls)}\nPython: {shown(python_calls)}")
    declared = {"routing": url["routingUrl"], "routedNumber": url["routedNumberUrl"],
                "phone": url["phoneUrl"], "spare": None, "waba": url["wabaUrl"],
                "app": (url["appUrl"], sorted(FIELDS))}
    assert live(emulator) == python_live == declared
    assert emulator.is_subscribed(NEW_WABA), "create subscribes the app to a new WABA"
    assert stack.stack.outputs()["phoneEffective"].value == url["phoneUrl"]
    figures["a. up"] = (f"YAML {len(yaml_calls)} calls "
                        f"({sum(c['method'] != 'GET' for c in yaml_calls)} writes), Python "
                        f"{len(python_calls)} ({sum(c['method'] != 'GET' for c in python_calls)}"
                        " writes), same multiset: "
                        + ", ".join(f"{n} {op}" for op, n in sorted(
                            Counter(c["operation"] for c in yaml_calls).items())))

    # b. Nothing changed: the preview reads state only.
    calls = Calls(emulator)
    assert changes(stack.preview().change_summary) == {}
    assert calls.made() == [], shown(calls.made())
    figures["b. no-change preview"] = f"{len(calls.made())} calls"

    # c. One URL changes: one write, to that number.
    new_phone_url = url["phoneUrl"] + "/v2"
    stack.stack.set_config("e2e:phoneUrl", auto.ConfigValue(new_phone_url))
    preview = stack.preview()
    assert changes(preview.change_summary) == {"update": 1}
    assert "callbackUri" in preview.stdout, preview.stdout
    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"update": 1}
    writes = calls.writes()
    assert [(c["method"], c["path"].rsplit("/", 1)[-1]) for c in writes] == [("POST", PHONE)], \
        shown(calls.made())
    assert live(emulator) == {**declared, "phone": new_phone_url}
    declared["phone"] = new_phone_url
    figures["c. one URL changed, up"] = f"{len(calls.made())} calls, {len(writes)} write"

    # d. Hand changes to a number and a WABA: refresh finds both, up restores both.
    emulator.admin.set_phone_override(PHONE, emulator.app_id, "https://by-hand.example/phone")
    emulator.admin.set_waba_override(NEW_WABA, emulator.app_id, "https://by-hand.example/waba")
    calls = Calls(emulator)
    assert changes(stack.refresh().summary.resource_changes) == {"update": 2}
    assert calls.writes() == [], "a refresh writes nothing"
    figures["d. refresh after two hand changes"] = f"{len(calls.made())} calls, 0 writes"
    assert stack.inputs("phone")["callbackUri"] == "https://by-hand.example/phone"
    preview = stack.preview()
    assert changes(preview.change_summary) == {"update": 2}
    assert "https://by-hand.example/waba" in preview.stdout, preview.stdout
    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"update": 2}
    assert len(calls.writes()) == 2, shown(calls.made())
    assert live(emulator) == declared
    figures["d. up restoring them"] = f"{len(calls.made())} calls, 2 writes"

    # e. A bad URL fails the preview, naming the property, before any Graph call.
    stack.stack.set_config("e2e:phoneUrl", auto.ConfigValue("http://hooks.example.com/x"))
    calls = Calls(emulator)
    with pytest.raises(CommandError) as caught:
        stack.preview()
    assert "callbackUri" in str(caught.value) and "http://hooks.example.com/x" in str(
        caught.value), str(caught.value)
    assert calls.made() == [], shown(calls.made())
    figures["e. bad URL, preview"] = "fails naming callbackUri, 0 calls"
    stack.stack.set_config("e2e:phoneUrl", auto.ConfigValue(new_phone_url))

    # g. `options: import` takes over an override set by hand, with no write.
    by_hand = callback_receiver.url_for("spare")
    emulator.admin.set_phone_override(SPARE_NUMBER, emulator.app_id, by_hand)
    imported = {"type": "whatsapp:index:PhoneCallbackOverride",
                "properties": {"phoneNumberId": SPARE_NUMBER, "callbackUri": by_hand,
                               "verifyToken": "${verifyToken}"},
                "options": {"import": SPARE_NUMBER}}
    write_program(tmp_path / "yaml" / "project", program(imported=imported))
    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"import": 1}
    assert calls.writes() == [], shown(calls.made())
    assert changes(stack.preview().change_summary) == {}
    declared["spare"] = by_hand
    assert live(emulator) == declared
    figures["g. import option, up"] = f"{len(calls.made())} calls, 0 writes"

    # f. Destroy: the overrides go, with no DELETE (that would unsubscribe the app from the
    # WABA); the WABAs stay subscribed and the app's subscription stays as it is.
    before = live(emulator)["app"]
    calls = Calls(emulator)
    result = stack.destroy()
    assert [c for c in calls.made() if c["method"] == "DELETE"] == [], shown(calls.made())
    assert emulator.is_subscribed(ROUTED_WABA) and emulator.is_subscribed(NEW_WABA)
    assert live(emulator) == {"routing": None, "routedNumber": None, "phone": None,
                              "spare": None, "waba": None, "app": before}
    assert "left the app's webhook subscription" in result.stdout, result.stdout
    figures["f. destroy"] = (f"{len(calls.made())} calls, {len(calls.writes())} writes "
                             "(POST), no DELETE")

    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, callback_receiver.verify_token) == []
    print("\nGraph calls of the YAML program's steps:")
    for step, figure in figures.items():
        print(f"  {step}: {figure}")


# ---- one program, two apps ------------------------------------------------------------------


def test_explicit_provider_acts_for_its_own_app(engine, tmp_path, emulator, callback_receiver,
                                                pulumi_home):
    """A ``pulumi:providers:whatsapp`` resource with the second app's token: its resource's
    calls carry that app's token, the default provider's carry ours, and neither touches the
    other's overrides (both on one WABA here)."""
    second = other_app(emulator)
    extra = {
        "otherApp": {"type": "pulumi:providers:whatsapp",
                     "properties": {"accessToken": "${otherToken}", "graphUrl": "${graphUrl}",
                                    "allowHttpLoopback": True}},
        "otherWaba": {"type": "whatsapp:index:WabaCallbackOverride",
                      "properties": {"wabaId": SUPPORT_WABA, "callbackUri": "${otherUrl}",
                                     "verifyToken": "${verifyToken}"},
                      "options": {"provider": "${otherApp}"}},
    }
    text = program(keep=("phone",), **extra)
    text["config"].update({"otherToken": {"type": "string", "secret": True},
                           "graphUrl": {"type": "string"}, "otherUrl": {"type": "string"}})
    for unused in ("routingUrl", "routedNumberUrl", "wabaUrl", "appUrl"):
        del text["config"][unused]
    other_url = callback_receiver.url_for("other-app")
    stack = yaml_stack(tmp_path / "yaml", emulator, pulumi_home, callback_receiver, text,
                       phoneUrl=callback_receiver.url_for("phone"), graphUrl=emulator.url,
                       otherUrl=other_url)
    stack.stack.set_config("e2e:otherToken",
                           auto.ConfigValue(second["access_tokens"][0], secret=True))
    ours_before = app_state(emulator, emulator.app_id)

    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"create": 4}  # stack, provider, 2
    by_app = {app: [c for c in calls.made() if c["app_id"] == app]
              for app in (emulator.app_id, second["id"])}
    assert sum(map(len, by_app.values())) == len(calls.made()), shown(calls.made())
    assert [c["path"] for c in by_app[second["id"]] if c["method"] == "POST"] == [
        f"/v23.0/{SUPPORT_WABA}/subscribed_apps"], shown(by_app[second["id"]])
    assert [c["path"] for c in by_app[emulator.app_id] if c["method"] == "POST"] == [
        f"/v23.0/{PHONE}"], shown(by_app[emulator.app_id])
    print(f"\nexplicit provider, up: {len(by_app[second['id']])} calls of the second app "
          f"({shown(by_app[second['id']])}), {len(by_app[emulator.app_id])} of ours "
          f"({shown(by_app[emulator.app_id])})")
    theirs = app_state(emulator, second["id"])
    assert theirs["wabas"][SUPPORT_WABA] == other_url
    ours = app_state(emulator, emulator.app_id)
    assert ours == {"wabas": ours_before["wabas"],
                    "phones": {**ours_before["phones"], PHONE: callback_receiver.url_for("phone")}}

    # The second app's URL changes: one write, with its token; ours stays as it is.
    stack.stack.set_config("e2e:otherUrl", auto.ConfigValue(other_url + "/v2"))
    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"update": 1}
    assert [(c["method"], c["app_id"]) for c in calls.writes()] == [("POST", second["id"])]
    assert {c["app_id"] for c in calls.made()} == {second["id"]}, shown(calls.made())
    assert app_state(emulator, second["id"])["wabas"][SUPPORT_WABA] == other_url + "/v2"
    assert app_state(emulator, emulator.app_id) == ours

    # Destroy removes each app's override with its own token; both stay subscribed.
    calls = Calls(emulator)
    stack.destroy()
    writes = sorted((c["app_id"], c["method"], c["path"]) for c in calls.writes())
    assert writes == sorted([(second["id"], "POST", f"/v23.0/{SUPPORT_WABA}/subscribed_apps"),
                             (emulator.app_id, "POST", f"/v23.0/{PHONE}")]), writes
    assert app_state(emulator, second["id"])["wabas"][SUPPORT_WABA] is None
    assert app_state(emulator, emulator.app_id) == ours_before

    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, second["access_tokens"][0],
                        callback_receiver.verify_token) == []
