"""The app's own webhook subscription in the emulator (``/{app-id}/subscriptions``) over real
HTTP, and delivery following its fields: app token only, verification on POST, add-only POST,
DELETE by field or whole, Meta's GET shape, the App Dashboard through the admin API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CallbackReceiver, EmulatorHandle
from tests.test_emulator import APP_SECRET, OTHER_APP, PHONE, WABA, assert_envelope
from waba_webhooks.emulator import EmulatorAdminError, fixtures
from waba_webhooks.emulator.models import DEFAULT_APP_FIELDS

APP_TOKEN = f"{fixtures.DEFAULT_APP_ID}|{APP_SECRET}"
OBJECT = "whatsapp_business_account"


def app_call(emulator: EmulatorHandle, method: str, token: str = APP_TOKEN,
             app_id: str | None = None, **kwargs: Any):
    """A call on the app's subscriptions edge with the app token (or `token`)."""
    return emulator.call(method, f"{app_id or emulator.app_id}/subscriptions",
                         headers={"Authorization": f"Bearer {token}"}, **kwargs)


def live(emulator: EmulatorHandle) -> dict[str, Any] | None:
    """Our app's whatsapp_business_account entry of GET, or None."""
    response = app_call(emulator, "GET")
    assert response.status_code == 200, response.text
    entries = [e for e in response.json()["data"] if e["object"] == OBJECT]
    return entries[0] if entries else None


def names(entry: dict[str, Any] | None) -> list[str]:
    return [f["name"] for f in entry["fields"]] if entry else []


def subscribe(emulator: EmulatorHandle, receiver: CallbackReceiver, fields: Any,
              url: str | None = None, **extra: Any):
    return app_call(emulator, "POST", json={
        "object": OBJECT, "callback_url": url or receiver.url,
        "verify_token": receiver.verify_token, "fields": fields, **extra})


def test_the_default_fixture_app_is_subscribed_as_metas_get_shows_it(emulator):
    entry = live(emulator)
    assert entry == {
        "object": OBJECT,
        "callback_url": emulator.app_callback_url,
        "active": True,
        "fields": [{"name": name, "version": "v23.0"} for name in DEFAULT_APP_FIELDS],
    }
    assert "messages" in names(entry) and "verify_token" not in json.dumps(entry)


def test_only_an_app_token_may_use_the_edge(emulator):
    # A system user token (what the other resources use): code 15, in Meta's words.
    error = assert_envelope(app_call(emulator, "GET", token=emulator.token), 400, 15)
    assert error["message"] == "(#15) This method must be called with an app access_token."
    # An app token with a wrong secret, or no token: 190.
    assert_envelope(app_call(emulator, "GET", token=f"{emulator.app_id}|wrong"), 401, 190)
    assert_envelope(emulator.call("GET", f"{emulator.app_id}/subscriptions", headers={}),
                    401, 190)
    # Another app's token on our app's edge: like an object it cannot see.
    other = f"{OTHER_APP}|EMU-APP-SECRET-other-app"
    assert_envelope(app_call(emulator, "GET", token=other), 400, 100, 33)
    # The app token is for this edge only.
    assert_envelope(emulator.call("GET", f"{WABA}/subscribed_apps",
                                  headers={"Authorization": f"Bearer {APP_TOKEN}"}), 401, 190)


def test_post_verifies_the_url_then_only_adds_fields(emulator, callback_receiver):
    emulator.admin.set_app_subscription(emulator.app_id, "https://old.example/hook", ["messages"])
    response = subscribe(emulator, callback_receiver, "account_update,messages")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert callback_receiver.challenges, "Meta verifies the callback URL before it saves"
    entry = live(emulator)
    assert entry["callback_url"] == callback_receiver.url  # one URL per (app, object)
    assert names(entry) == ["messages", "account_update"]
    # A JSON array adds too, and never removes what it does not list.
    assert subscribe(emulator, callback_receiver, ["calls"]).status_code == 200
    assert names(live(emulator)) == ["messages", "account_update", "calls"]
    # A form body with the array as a string, as Meta documents both forms.
    form = {"object": OBJECT, "callback_url": callback_receiver.url,
            "verify_token": callback_receiver.verify_token, "fields": '["security"]',
            "include_values": "true"}
    assert app_call(emulator, "POST", data=form).status_code == 200
    assert names(live(emulator))[-1] == "security"


def test_a_failed_verification_is_2200_and_changes_nothing(emulator, callback_receiver):
    before = live(emulator)
    wrong_token = app_call(emulator, "POST", json={
        "object": OBJECT, "callback_url": callback_receiver.url, "verify_token": "not-it",
        "fields": "calls"})
    error = assert_envelope(wrong_token, 400, 2200)
    assert error["message"] == ("(#2200) Callback verification failed with the following "
                                "errors: HTTP Status Code = 403; HTTP Message = FORBIDDEN")
    assert live(emulator) == before


@pytest.mark.parametrize(("body", "named"), [
    ({"callback_url": "https://x.example/h", "verify_token": "t", "fields": "messages"},
     "object"),
    ({"object": "page", "callback_url": "https://x.example/h", "verify_token": "t",
      "fields": "messages"}, "object"),
    ({"object": OBJECT, "verify_token": "t", "fields": "messages"}, "callback_url"),
    ({"object": OBJECT, "callback_url": "http://x.example/h", "verify_token": "t",
      "fields": "messages"}, "callback_url"),
    ({"object": OBJECT, "callback_url": "https://x.example/h", "fields": "messages"},
     "verify_token"),
    ({"object": OBJECT, "callback_url": "https://x.example/h", "verify_token": "t"}, "fields"),
    ({"object": OBJECT, "callback_url": "https://x.example/h", "verify_token": "t",
      "fields": "messages,not_a_field"}, "fields[1]"),
    ({"object": OBJECT, "callback_url": "https://x.example/h", "verify_token": "t",
      "fields": "messages", "include_values": "maybe"}, "include_values"),
])
def test_bad_parameters_are_code_100_naming_them_before_any_verification(
        emulator, callback_receiver, body, named):
    error = assert_envelope(app_call(emulator, "POST", json=body), 400, 100)
    assert named in error["message"]
    assert emulator.admin.verifications() == []


def test_delete_with_fields_drops_only_those(emulator):
    response = app_call(emulator, "DELETE", params={
        "object": OBJECT, "fields": "account_update,account_alerts"})
    assert response.status_code == 200 and response.json() == {"success": True}
    entry = live(emulator)
    assert entry["callback_url"] == emulator.app_callback_url
    assert names(entry) == [f for f in DEFAULT_APP_FIELDS
                            if f not in ("account_update", "account_alerts")]


def test_delete_with_object_alone_removes_the_whole_subscription(emulator):
    assert app_call(emulator, "DELETE", params={"object": OBJECT}).status_code == 200
    assert live(emulator) is None
    assert emulator.admin.app_subscription(emulator.app_id) is None
    assert_envelope(app_call(emulator, "DELETE", params={}), 400, 100)  # object is required


def test_other_objects_are_listed_beside_it(emulator):
    fixture = fixtures.load()
    fixture["apps"][0]["other_subscriptions"] = {
        "page": {"callback_url": "https://pages.example/hook", "fields": ["feed"]}}
    emulator.admin.seed(fixture)
    data = app_call(emulator, "GET").json()["data"]
    assert [e["object"] for e in data] == [OBJECT, "page"]
    assert emulator.admin.state()["apps"][0]["other_subscriptions"] == {
        "page": {"callback_url": "https://pages.example/hook", "fields": ["feed"]}}


def test_the_call_log_never_holds_the_app_token_secret_or_verify_token(
        emulator, callback_receiver):
    subscribe(emulator, callback_receiver, "calls")
    app_call(emulator, "GET", params={"access_token": APP_TOKEN})
    app_call(emulator, "DELETE", params={"object": OBJECT, "fields": "calls"})
    logged = json.dumps(emulator.admin.calls())
    for secret in (APP_TOKEN, APP_SECRET, callback_receiver.verify_token):
        assert secret not in logged
    assert [c["app_id"] for c in emulator.admin.calls()] == [emulator.app_id] * 3
    # Not charged to any WABA's hourly budget.
    assert emulator.admin.usage() == []


def test_the_admin_api_edits_it_like_the_app_dashboard(emulator):
    admin = emulator.admin
    edited = admin.set_app_subscription(emulator.app_id, "https://dash.example/hook",
                                        ["messages", "calls"])
    assert edited == live(emulator)
    assert names(edited) == ["messages", "calls"]  # replaced, not added
    assert admin.verifications() == []  # a dashboard edit is not verified here
    assert admin.set_app_subscription(emulator.app_id, None, None) is None
    assert live(emulator) is None
    with pytest.raises(EmulatorAdminError):
        admin.set_app_subscription(emulator.app_id, "https://x.example/h", ["no_such_field"])
    assert admin.state()["apps"][0]["callback_url"] == ""


# --------------------------------------------------------------------------- delivery


def test_without_the_messages_field_no_message_webhook_reaches_any_override(
        emulator, callback_receiver):
    admin = emulator.admin
    admin.set_phone_override(PHONE, emulator.app_id, callback_receiver.url_for("phone"))
    assert admin.deliver(PHONE)["status"] == 200
    app_call(emulator, "DELETE", params={"object": OBJECT, "fields": "messages"})
    report = admin.deliver(PHONE)
    assert report["delivered_to"] is None and "messages field" in report["error"]
    assert len(callback_receiver.received) == 1
    # Subscribed again: webhooks flow again.
    subscribe(emulator, callback_receiver, "messages")
    assert admin.deliver(PHONE)["delivered_to"] == callback_receiver.url_for("phone")


def test_template_and_account_webhooks_need_their_field(emulator, callback_receiver):
    admin = emulator.admin
    admin.set_app_subscription(emulator.app_id, callback_receiver.url_for("app"),
                               ["messages", "account_update"])
    assert admin.deliver(field="account_update", waba_id=WABA)["status"] == 200
    report = admin.deliver(field="message_template_status_update", waba_id=WABA)
    assert report["delivered_to"] is None
    assert "message_template_status_update field" in report["error"]
    assert [w.path for w in callback_receiver.received] == ["/app"]


# --------------------------------------------------------------------------- the model alone


def test_model_post_adds_with_the_request_version_and_verifies_first():
    from tests.test_emulator_models import OURS, FakeVerifier
    from waba_webhooks.emulator.models import GraphBackend

    verifier = FakeVerifier()
    backend = GraphBackend(fixtures.load(), verifier)
    backend.subscribe_app_webhooks(OURS, OURS, OBJECT, "https://a.example/h", "tok",
                                   ["calls", "messages"], True, version="v24.0")
    entry = backend.app_subscription(OURS)
    assert verifier.calls == [("https://a.example/h", "tok")]
    # messages keeps the version it was subscribed with; calls is new at v24.0.
    assert {"name": "messages", "version": "v23.0"} in entry["fields"]
    assert entry["fields"][-1] == {"name": "calls", "version": "v24.0"}
    verifier.fail_reason = "HTTP Status Code = 404; HTTP Message = Not Found"
    with pytest.raises(Exception) as caught:
        backend.subscribe_app_webhooks(OURS, OURS, OBJECT, "https://b.example/h", "tok",
                                       ["security"])
    assert getattr(caught.value, "code", None) == 2200
    assert backend.app_subscription(OURS) == entry
    # Non-default fields survive a round trip through a fixture, versions included.
    state = backend.to_fixture()
    assert state["apps"][0]["fields"][-1] == {"name": "calls", "version": "v24.0"}
    assert GraphBackend(state, verifier).to_fixture() == state


@pytest.mark.parametrize(("change", "words"), [
    (lambda app: app.update(fields=["messages", "no_such_field"]), "unknown webhook field"),
    (lambda app: app.update(callback_url="", fields=["messages"]), "need a callback_url"),
    (lambda app: app.update(fields="messages"), "must be a list"),
])
def test_bad_fixture_fields_are_refused(change, words):
    from waba_webhooks.emulator.exceptions import InvalidFixtureError
    from waba_webhooks.emulator.models import GraphBackend

    fixture = fixtures.load()
    change(fixture["apps"][0])
    with pytest.raises(InvalidFixtureError, match=words):
        GraphBackend(fixture, lambda url, token: None)


def test_generated_fixtures_choose_the_apps_fields():
    from waba_webhooks.emulator.models import GraphBackend

    fixture = fixtures.generate(app_fields=["messages", "calls"])
    backend = GraphBackend(fixture, lambda url, token: None)
    entry = backend.app_subscription(fixtures.DEFAULT_APP_ID)
    assert [f["name"] for f in entry["fields"]] == ["messages", "calls"]
    assert backend.to_fixture() == fixture
