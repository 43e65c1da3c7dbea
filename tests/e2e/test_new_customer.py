"""What a new customer meets first, through the real pulumi CLI against the emulator's Meta
rules: a WABA our app has never subscribed to, a number of such a WABA, and callback URLs a
vendor reports Meta refuses."""

from __future__ import annotations

import json

import pytest
from pulumi import automation as auto
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import ROUTING_PROGRAM, E2EStack, changes


def subscribed_apps_posts(emulator) -> list[object]:
    """The bodies of the accepted POST subscribed_apps calls, in order (None: a plain POST)."""
    return [c["body"] for c in emulator.admin.calls()
            if c["operation"] == "POST subscribed_apps" and c["status"] == 200]


def test_an_override_on_a_never_subscribed_waba_subscribes_first(
    e2e_stack, emulator, callback_receiver
):
    [waba] = emulator.never_subscribed_waba_ids
    e2e_stack.declare(wabas=[{"name": "new", "id": waba, "callbackUri": callback_receiver.url}])
    result = e2e_stack.up()
    assert changes(result.summary.resource_changes) == {"create": 2}  # stack + override
    # Exactly one subscribe and one override write, in that order; nothing else was written.
    assert subscribed_apps_posts(emulator) == [
        None, {"override_callback_uri": callback_receiver.url, "verify_token": "***"}]
    assert emulator.admin.counts()["writes"] == 2
    assert emulator.is_subscribed(waba)
    assert emulator.waba_override(waba) == callback_receiver.url
    # The provider's log line: with --diff the engine prints it on stderr.
    output = result.stdout + result.stderr
    assert f"WABA {waba}: app {emulator.app_id} was not subscribed" in output
    assert "subscribed it first" in output
    assert changes(e2e_stack.preview().change_summary) == {}


def test_a_number_of_a_waba_the_app_is_not_subscribed_to_fails_with_what_to_do(
    e2e_stack, emulator, callback_receiver
):
    [waba] = emulator.never_subscribed_waba_ids
    phone = next(p for p in emulator.phone_ids if emulator.waba_of(p) == waba)
    e2e_stack.declare(phones=[{"name": "new", "id": phone, "callbackUri": callback_receiver.url}])
    with pytest.raises(CommandError) as caught:
        e2e_stack.up()
    text = str(caught.value)
    assert "your app must be subscribed to receive messages" in text
    assert "PhoneOverrideRefusedError" in text and "WabaCallbackOverride" in text
    assert emulator.phone_override(phone) is None


def test_hosts_with_underscores_and_ports_get_warnings_at_preview(e2e_stack, emulator):
    url = "https://hooks_east.example.com:8443/whatsapp"
    e2e_stack.declare(wabas=[{"name": "w", "id": emulator.waba_ids[0], "callbackUri": url}])
    preview = e2e_stack.run("preview")  # as a user runs it: no --diff
    assert changes(preview.change_summary) == {"create": 2}  # a warning, not an error
    diagnostics = preview.stdout.split("Diagnostics:", 1)[1]
    assert f"warning: WABA {emulator.waba_ids[0]}: callback_uri {url}: its host name has an " \
           "underscore" in diagnostics
    assert f"callback_uri {url}: it has an explicit port (:8443)" in diagnostics
    assert emulator.admin.counts()["writes"] == 0


@pytest.mark.parametrize("form", ["per-waba", "per-override"])
def test_a_routing_table_for_a_never_subscribed_waba_applies_in_one_up(
    engine, tmp_path, emulator, callback_receiver, pulumi_home, form
):
    """The routing program, in both of its forms, on a new customer's WABA with a WABA override
    and a phone override: the subscribe comes first, then the overrides, in a single `up`."""
    [waba] = emulator.never_subscribed_waba_ids
    phone = next(p for p in emulator.phone_ids if emulator.waba_of(p) == waba)
    table = {"wabas": [{"wabaId": waba, "callbackUri": callback_receiver.url,
                        "verifyToken": "main"}],
             "phoneNumbers": [{"phoneNumberId": phone, "wabaId": waba,
                               "callbackUri": callback_receiver.url_for("own"),
                               "verifyToken": "main"}]}
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     program=ROUTING_PROGRAM, project_name="waba-webhooks")
    stack.stack.set_all_config({
        "waba-webhooks:routing": auto.ConfigValue(json.dumps(table)),
        "waba-webhooks:verifyTokens": auto.ConfigValue(
            json.dumps({"main": callback_receiver.verify_token}), secret=True),
        "waba-webhooks:resources": auto.ConfigValue(form),
    })
    try:
        stack.up()
        writes = [(c["operation"], c["body"]) for c in emulator.admin.calls()
                  if c["method"] == "POST" and c["status"] == 200]
        assert writes[0] == ("POST subscribed_apps", None), writes
        assert len(writes) == 3, writes
        assert emulator.waba_override(waba) == callback_receiver.url
        assert emulator.phone_override(phone) == callback_receiver.url_for("own")
        assert changes(stack.preview().change_summary) == {}
    finally:
        stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, callback_receiver.verify_token) == []
