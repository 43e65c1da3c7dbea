"""`get`: a resource read by its id from what is live, with the real CLI against the emulator,
from Python (`waba_webhooks.native.<Kind>.get`) and TypeScript (the generated SDK's static
``get(name, id)``), with the function ``getEffectiveRouting`` beside. The stack records what it
read and writes nothing, `up` again is no change, destroy leaves everything live as it was, and
an id with nothing of the app's fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import E2EStack, local_plugin, pulumi_in
from tests.e2e.test_nodejs_host import nodejs_host_beside, ts_project, write_program
from tests.e2e.test_yaml import Calls

__all__ = ["ts_project"]  # the fixture, used by the TypeScript test below

PROGRAM = Path(__file__).resolve().parent / "get_program"
WABA = "102290129340398"
NUMBER = "106540352242922"  # a number of WABA
OTHER_NUMBER = "106540352242923"  # another number of WABA
APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's app


@pytest.fixture
def get_stack(engine, tmp_path, emulator, callback_receiver,
              pulumi_home) -> Iterator[E2EStack]:
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     program=PROGRAM, project_name="get", app_secret=APP_SECRET)
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, callback_receiver.verify_token) == []


def by_hand(emulator) -> dict[str, str]:
    """Overrides set outside any stack: on WABA and on one of its numbers."""
    emulator.admin.set_waba_override(WABA, emulator.app_id, "https://by-hand.example/waba")
    emulator.admin.set_phone_override(NUMBER, emulator.app_id, "https://by-hand.example/phone")
    return {"waba": "https://by-hand.example/waba", "phone": "https://by-hand.example/phone"}


def test_python_native_get_reads_what_is_live_and_writes_nothing(get_stack, emulator):
    live = by_hand(emulator)
    app_callback = emulator.app_callback_url
    get_stack.stack.set_all_config({
        "get:wabaId": auto.ConfigValue(WABA), "get:phoneId": auto.ConfigValue(NUMBER),
        "get:appId": auto.ConfigValue(emulator.app_id)})
    calls = Calls(emulator)
    get_stack.up()
    assert calls.writes() == [], calls.made()
    outputs = {key: value.value for key, value in get_stack.stack.outputs().items()}
    assert outputs["waba"] == {"callbackUri": live["waba"], "appId": emulator.app_id}
    assert outputs["phone"] == {"callbackUri": live["phone"], "effective": live["phone"]}
    effective = outputs["routing"]["effective"]
    assert effective[NUMBER] == {"callbackUri": live["phone"], "rule": "phone_number"}
    assert effective[OTHER_NUMBER] == {"callbackUri": live["waba"],
                                       "rule": "whatsapp_business_account"}
    # The function reads the same routing live, in both its forms.
    assert outputs["function"] == {"output": effective, "plain": effective}
    # As an import does, the read takes every override of ours on the WABA as listed.
    assert outputs["routing"]["phoneNumbers"] == {NUMBER: live["phone"]}
    assert outputs["app"]["callbackUrl"] == app_callback
    resources = get_stack.deployment()["resources"]
    read = [r for r in resources if r["type"].startswith("whatsapp:index:")]
    assert len(read) == 4 and all(r.get("external") for r in read), read

    # A change made by hand shows at the next run: a get reads every time.
    emulator.admin.set_waba_override(WABA, emulator.app_id, "https://by-hand.example/waba-2")
    get_stack.up()
    assert get_stack.stack.outputs()["waba"].value["callbackUri"] == \
        "https://by-hand.example/waba-2"

    calls = Calls(emulator)
    get_stack.destroy()
    assert calls.writes() == [], calls.made()
    assert emulator.waba_override(WABA) == "https://by-hand.example/waba-2"
    assert emulator.phone_override(NUMBER) == live["phone"]


def test_python_native_get_of_nothing_fails(get_stack, emulator):
    # No override of our app on the number: nothing to read.
    get_stack.stack.set_all_config({"get:phoneId": auto.ConfigValue(NUMBER),
                                    "get:only": auto.ConfigValue("phoneId")})
    with pytest.raises(auto.CommandError) as caught:
        get_stack.up()
    assert NUMBER in str(caught.value), str(caught.value)
    assert not [r for r in get_stack.deployment().get("resources", [])
                if r["type"].startswith("whatsapp:index:")]


TS_PROGRAM = """
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const waba = whatsapp.WabaCallbackOverride.get("waba", "WABA_ID");
const routing = whatsapp.WabaRouting.get("routing", "WABA_ID");
const phone = whatsapp.PhoneCallbackOverride.get("phone", "NUMBER_ID");
export const wabaCallbackUri = waba.callbackUri;
export const effective = whatsapp.getEffectiveRoutingOutput({ wabaId: routing.wabaId }).effective;
export const phoneEffective = phone.effectiveCallbackUri;
""".replace("WABA_ID", WABA).replace("NUMBER_ID", NUMBER)


def test_typescript_static_get_reads_what_is_live(engine: str, ts_project: Path,
                                                  tmp_path: Path, emulator):
    nodejs_host_beside(engine)
    live = by_hand(emulator)
    write_program(ts_project, "ts-get", TS_PROGRAM, **local_plugin())
    run = pulumi_in(engine, ts_project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    for key, value, secret in [
        ("whatsapp:accessToken", emulator.token, True), ("whatsapp:graphUrl", emulator.url, False),
        ("whatsapp:allowHttpLoopback", "true", False)]:
        run("config", "set", *(["--secret"] if secret else []), key, value)
    calls = Calls(emulator)
    run("up", "--yes", "--color", "never")
    assert calls.writes() == [], calls.made()
    outputs = json.loads(run("stack", "output", "--json").stdout)
    assert outputs["wabaCallbackUri"] == live["waba"]
    assert outputs["phoneEffective"] == live["phone"]
    assert outputs["effective"][NUMBER] == {"callbackUri": live["phone"], "rule": "phone_number"}
    assert outputs["effective"][OTHER_NUMBER] == {"callbackUri": live["waba"],
                                                  "rule": "whatsapp_business_account"}
    calls = Calls(emulator)
    run("destroy", "--yes", "--color", "never")
    assert calls.writes() == [], calls.made()
    assert emulator.waba_override(WABA) == live["waba"]
    run("stack", "rm", "dev", "--yes")
