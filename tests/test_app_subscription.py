"""`AppWebhookSubscriptionRules` against the emulator over real HTTP: checks with no Graph
call, adoption, the no-takeover rule, updates that add before they drop, drift, and a destroy
that leaves the subscription unless asked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import configured
from waba_webhooks import errors
from waba_webhooks.emulator.models import DEFAULT_APP_FIELDS
from waba_webhooks.resources.app_subscription import AppWebhookSubscriptionRules

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"


@pytest.fixture
def provider(emulator) -> AppWebhookSubscriptionRules:
    return configured(AppWebhookSubscriptionRules, emulator,
                      **{"whatsapp:appSecret": APP_SECRET})


@pytest.fixture
def props(callback_receiver) -> dict[str, Any]:
    return {"callback_url": callback_receiver.url,
            "verify_token": callback_receiver.verify_token,
            "fields": ["messages", "account_update"]}


def calls(emulator) -> list[str]:
    """Each Graph call as ``METHOD fields`` (the fields a write names), in order."""
    found = []
    for call in emulator.admin.calls():
        fields = (call["body"] or {}).get("fields") or call["query"].get("fields")
        found.append(f"{call['method']} {fields}" if fields else call["method"])
    return found


def live(emulator) -> dict[str, Any] | None:
    subscription = emulator.admin.app_subscription(emulator.app_id)
    if subscription is None:
        return None
    return {"url": subscription["callback_url"],
            "fields": [f["name"] for f in subscription["fields"]]}


# --------------------------------------------------------------------------- check and diff


@pytest.mark.parametrize(("change", "prop"), [
    ({"callback_url": "http://hooks.example.com/webhook"}, "callback_url"),
    ({"callback_url": None}, "callback_url"),
    ({"verify_token": ""}, "verify_token"),
    ({"verify_token": None}, "verify_token"),  # optional in the schema: only an import has none
    ({"fields": []}, "fields"),
    ({"fields": None}, "fields"),
    ({"fields": "messages"}, "fields"),
    ({"fields": ["messages", "messages"]}, "fields[1]"),
    ({"fields": ["messages", "Not A Field"]}, "fields[1]"),
    ({"include_values": "yes"}, "include_values"),
    ({"remove_on_destroy": 1}, "remove_on_destroy"),
    ({"fieldz": ["messages"]}, "fieldz"),
])
def test_bad_input_fails_check_naming_the_property_without_a_graph_call(
        provider, emulator, props, change, prop):
    failures = provider.check({}, {**props, **change}).failures
    assert [f.property for f in failures] == [prop], failures
    assert prop in failures[0].reason
    assert emulator.admin.calls() == []


def test_an_unknown_field_name_is_a_warning_not_a_failure(provider, emulator, props, capsys):
    result = provider.check({}, {**props, "fields": ["messages", "brand_new_field"]})
    assert result.failures == []
    assert "brand_new_field" in capsys.readouterr().err
    assert emulator.admin.calls() == []


def test_diff_sees_changes_but_not_the_order_of_fields(provider, props):
    state = {**props, "include_values": True, "adopt_existing": False,
             "remove_on_destroy": False}
    assert not provider.diff("1", state, {**props, "fields": ["account_update", "messages"]}
                             ).changes
    assert not provider.diff("1", state, {**props, "include_values": True}).changes
    for change in ({"fields": ["messages"]}, {"callback_url": props["callback_url"] + "/2"},
                   {"verify_token": "new"}, {"include_values": False},
                   {"remove_on_destroy": True}):
        result = provider.diff("1", state, {**props, **change})
        assert result.changes and not result.replaces, change


# --------------------------------------------------------------------------- create


def test_create_adopts_an_equal_subscription_without_a_write(provider, emulator):
    declared = {"callback_url": emulator.app_callback_url, "verify_token": "t",
                # The same set in another order is equal: Meta's fields are a set.
                "fields": list(reversed(DEFAULT_APP_FIELDS))}
    result = provider.create(declared)
    assert result.id == emulator.app_id
    assert calls(emulator) == ["GET"]
    assert result.outs["live_fields"] == list(DEFAULT_APP_FIELDS)
    assert result.outs["active"] is True and result.outs["app_id"] == emulator.app_id


@pytest.mark.parametrize("change", [
    {"callback_url": "https://elsewhere.example/hook"},
    {"fields": ["messages"]},
])
def test_create_refuses_a_different_subscription_and_changes_nothing(
        provider, emulator, change):
    declared = {"callback_url": emulator.app_callback_url, "verify_token": "t",
                "fields": list(DEFAULT_APP_FIELDS), **change}
    before = live(emulator)
    with pytest.raises(errors.AppSubscriptionConflictError) as caught:
        provider.create(declared)
    message = str(caught.value)
    assert "Nothing was changed" in message and "adopt_existing=True" in message
    assert emulator.app_callback_url in message
    assert calls(emulator) == ["GET"] and live(emulator) == before


def test_create_with_adopt_existing_posts_then_drops(provider, emulator, props,
                                                     callback_receiver):
    provider.create({**props, "adopt_existing": True})
    assert live(emulator) == {"url": callback_receiver.url,
                              "fields": ["messages", "account_update"]}
    dropped = ",".join(f for f in DEFAULT_APP_FIELDS if f not in props["fields"])
    # The URL changes: one POST naming every declared field (Meta verifies it), then the DELETE.
    assert calls(emulator) == ["GET", "POST messages,account_update", f"DELETE {dropped}"]
    assert [v["url"] for v in emulator.admin.verifications()] == [callback_receiver.url]


def test_create_where_the_app_has_no_subscription(provider, emulator, props, callback_receiver):
    emulator.admin.set_app_subscription(emulator.app_id, None, None)
    result = provider.create(props)
    assert calls(emulator) == ["GET", "POST messages,account_update"]
    assert live(emulator) == {"url": callback_receiver.url, "fields": props["fields"]}
    assert result.outs["live_fields"] == props["fields"]


def test_without_the_app_secret_create_fails_naming_the_setting(emulator, props):
    provider = configured(AppWebhookSubscriptionRules, emulator)
    with pytest.raises(errors.ConfigurationError, match="whatsapp:appSecret"):
        provider.create(props)
    assert emulator.admin.counts()["writes"] == 0


# --------------------------------------------------------------------------- update and read


@pytest.fixture
def created(provider, emulator, props) -> dict[str, Any]:
    """The subscription created by the provider from a clean slate; the call log cleared."""
    emulator.admin.set_app_subscription(emulator.app_id, None, None)
    outs = provider.create(props).outs
    emulator.admin.seed(emulator.admin.state())  # the baseline, with an empty call log
    return outs


def test_update_adds_new_fields_before_it_drops_old_ones(provider, emulator, props, created):
    news = {**props, "fields": ["messages", "calls"]}
    result = provider.update(emulator.app_id, created, news)
    assert calls(emulator) == ["GET", "POST calls", "DELETE account_update"]
    assert live(emulator)["fields"] == ["messages", "calls"]
    assert result.outs["live_fields"] == ["messages", "calls"]


def test_update_of_the_url_is_one_verified_post(provider, emulator, props, created,
                                                callback_receiver):
    news = {**props, "callback_url": callback_receiver.url_for("v2")}
    provider.update(emulator.app_id, created, news)
    assert calls(emulator) == ["GET", "POST messages,account_update"]
    assert live(emulator)["url"] == callback_receiver.url_for("v2")
    assert [v["url"] for v in emulator.admin.verifications()] == [callback_receiver.url_for("v2")]


def test_update_of_stack_only_inputs_makes_no_graph_call(provider, emulator, props, created):
    result = provider.update(emulator.app_id, created, {**props, "remove_on_destroy": True})
    assert emulator.admin.calls() == []
    assert result.outs["remove_on_destroy"] is True


def test_read_reports_drift_and_an_out_of_band_deletion(provider, emulator, props, created):
    app = emulator.app_id
    assert provider.read(app, created).outs["fields"] == props["fields"]
    emulator.admin.set_app_subscription(app, "https://by-hand.example/hook", ["account_update"])
    drifted = provider.read(app, created).outs
    assert drifted["callback_url"] == "https://by-hand.example/hook"
    assert drifted["fields"] == drifted["live_fields"] == ["account_update"]
    assert provider.diff(app, drifted, props).changes
    # The next up restores it: messages first (POST with the declared URL), nothing to drop.
    emulator.admin.seed(emulator.admin.state())
    provider.update(app, drifted, props)
    assert calls(emulator) == ["GET", "POST messages"]
    assert live(emulator)["url"] == props["callback_url"]
    emulator.admin.set_app_subscription(app, None, None)
    assert provider.read(app, created).id == ""


# --------------------------------------------------------------------------- delete


def test_delete_leaves_the_subscription_and_warns_by_default(provider, emulator, props, created,
                                                            capsys):
    before = live(emulator)
    provider.delete(emulator.app_id, created)
    assert emulator.admin.calls() == [] and live(emulator) == before
    warning = capsys.readouterr().err
    assert "left the app's webhook subscription" in warning
    assert "remove_on_destroy=True" in warning and "every webhook" in warning


def test_delete_with_remove_on_destroy_removes_it(provider, emulator, props, created):
    provider.delete(emulator.app_id, {**created, "remove_on_destroy": True})
    assert calls(emulator) == ["GET", "DELETE"]
    assert [c["query"] for c in emulator.admin.calls() if c["method"] == "DELETE"] == [
        {"object": "whatsapp_business_account"}]
    assert live(emulator) is None


def test_remove_on_destroy_leaves_a_subscription_changed_by_hand(provider, emulator, props,
                                                                 created, capsys):
    emulator.admin.set_app_subscription(emulator.app_id, "https://by-hand.example/h", ["messages"])
    provider.delete(emulator.app_id, {**created, "remove_on_destroy": True})
    assert live(emulator) == {"url": "https://by-hand.example/h", "fields": ["messages"]}
    assert "changed outside this stack" in capsys.readouterr().err


def test_no_secret_in_outputs_or_the_call_log(provider, emulator, props, created):
    text = json.dumps([created, emulator.admin.calls()])
    assert APP_SECRET not in text and f"{emulator.app_id}|" not in text
    assert props["verify_token"] not in json.dumps(emulator.admin.calls())


def test_an_import_reads_the_live_subscription_as_the_inputs(provider, emulator):
    """`pulumi import` reads with no state: the live URL and fields become the inputs (the
    verify token, which Meta never returns, stays out), even for a subscription with no field."""
    emulator.admin.set_app_subscription(emulator.app_id, "https://hooks.example.com/app",
                                        ["messages", "calls"])
    read = provider.read(emulator.app_id, {})
    assert read.outs["callback_url"] == "https://hooks.example.com/app"
    assert read.inputs["fields"] == ["messages", "calls"]
    assert "verify_token" not in read.inputs
    emulator.admin.set_app_subscription(emulator.app_id, "https://hooks.example.com/app", [])
    assert provider.read(emulator.app_id, {}).outs["fields"] == []
