"""Meta's rules on the emulator's GraphBackend directly: no HTTP, verification is a function."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field

import pytest

from waba_webhooks.emulator import fixtures
from waba_webhooks.emulator.exceptions import (
    CallbackVerificationError,
    GraphAPIError,
    InvalidFixtureError,
    NotSubscribedError,
    VerificationFailed,
)
from waba_webhooks.emulator.models import GraphBackend

OURS = "670843887433847"
OTHER = "880011223344556"
WABA = "102290129340398"
WABA_2 = "102290129340399"
WABA_NEW = "102290129340400"  # no app has ever subscribed to it: what a new customer meets
PHONE = "106540352242922"  # in WABA
PHONE_2 = "106540352242924"  # in WABA_2
PHONE_NEW = "106540352242926"  # in WABA_NEW
NOT_SUBSCRIBED = (
    "(#100) Before override the current callback uri, your app must be subscribed to receive "
    "messages for WhatsApp Business Account"
)
URL = "https://ours.example/webhook"
TOKEN = "verify-me-please"


@dataclass
class FakeVerifier:
    """A verifier that records its calls and fails with ``fail_reason`` when set."""

    fail_reason: str | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, url: str, verify_token: str) -> None:
        self.calls.append((url, verify_token))
        if self.fail_reason is not None:
            raise VerificationFailed(self.fail_reason)


@pytest.fixture
def verifier() -> FakeVerifier:
    return FakeVerifier()


@pytest.fixture
def backend(verifier: FakeVerifier) -> GraphBackend:
    return GraphBackend(fixtures.load(), verifier)


def error_of(excinfo: pytest.ExceptionInfo[GraphAPIError]) -> tuple[int, int | None, int]:
    err = excinfo.value
    return err.code, err.error_subcode, err.http_status


def our_waba_override(backend: GraphBackend, waba_id: str = WABA) -> str | None:
    for entry in backend.list_subscribed_apps(OURS, waba_id)["data"]:
        if entry["whatsapp_business_api_data"]["id"] == OURS:
            return entry.get("override_callback_uri")
    raise AssertionError("our app is not subscribed")


# --------------------------------------------------------------------------- auth and reads


def test_tokens_identify_their_app(backend: GraphBackend) -> None:
    assert backend.authenticate("EMU-TOKEN-lucky-shrub") == OURS
    assert backend.authenticate("EMU-TOKEN-other-app") == OTHER
    assert backend.get_app(OURS) == {
        "id": OURS,
        "name": "Lucky Shrub",
        "link": f"https://www.facebook.com/games/?app_id={OURS}",
    }


@pytest.mark.parametrize("token", [None, "", "EMU-TOKEN-nobody"])
def test_missing_or_unknown_token_is_code_190(backend: GraphBackend, token: str | None) -> None:
    with pytest.raises(GraphAPIError) as excinfo:
        backend.authenticate(token)
    assert error_of(excinfo) == (190, None, 401)
    assert excinfo.value.type == "OAuthException"


def test_default_fixture_has_both_apps_subscribed_without_overrides(backend: GraphBackend) -> None:
    data = backend.list_subscribed_apps(OURS, WABA)["data"]
    assert [e["whatsapp_business_api_data"]["id"] for e in data] == [OURS, OTHER]
    assert all("override_callback_uri" not in e for e in data)
    assert backend.get_phone_number(OURS, PHONE, ["webhook_configuration"]) == {
        "webhook_configuration": {"application": "https://lucky-shrub.example/webhook"},
        "id": PHONE,
    }


def nulls(value: object) -> int:
    """How many None values a JSON-ready structure holds, at any depth."""
    if value is None:
        return 1
    if isinstance(value, dict):
        return sum(nulls(item) for item in value.values())
    if isinstance(value, list):
        return sum(nulls(item) for item in value)
    return 0


def test_levels_without_a_url_are_absent_never_null(backend: GraphBackend) -> None:
    backend.force_app_callback(OURS, "")
    config = backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])
    assert config == {"webhook_configuration": {}, "id": PHONE}
    backend.update_phone_webhook(OURS, PHONE, URL, TOKEN)
    assert backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])[
        "webhook_configuration"
    ] == {"phone_number": URL}
    page = backend.list_phone_numbers(OURS, WABA, fields=["id", "webhook_configuration"])
    assert [p["webhook_configuration"] for p in page.data] == [{"phone_number": URL}, {}]
    listed = [backend.list_subscribed_apps(OURS, w) for w in (WABA, WABA_NEW)]
    assert nulls([config, page.data, listed]) == 0


def test_phone_fields_default_and_subset(backend: GraphBackend) -> None:
    assert backend.get_phone_number(OURS, PHONE) == {
        "id": PHONE,
        "display_phone_number": "+1 555-010-0001",
        "verified_name": "Lucky Shrub",
        "quality_rating": "GREEN",
    }
    assert backend.get_phone_number(OURS, PHONE, ["verified_name"]) == {
        "verified_name": "Lucky Shrub",
        "id": PHONE,
    }
    with pytest.raises(GraphAPIError, match=r"nonexisting field \(pin\)") as excinfo:
        backend.get_phone_number(OURS, PHONE, ["pin"])
    assert error_of(excinfo) == (100, None, 400)


# --------------------------------------------------------------------------- WABA override


def test_waba_override_is_verified_then_stored(
    backend: GraphBackend, verifier: FakeVerifier
) -> None:
    assert backend.subscribe_app(OURS, WABA, URL, TOKEN) == {"success": True}
    assert verifier.calls == [(URL, TOKEN)]
    assert our_waba_override(backend) == URL
    config = backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])
    assert config["webhook_configuration"]["whatsapp_business_account"] == URL
    assert backend.verifications() == [
        {"url": URL, "ok": True, "reason": "", "app_id": OURS, "object_id": WABA}
    ]


def test_failed_verification_is_code_2200_stores_nothing_and_hides_the_token(
    backend: GraphBackend, verifier: FakeVerifier
) -> None:
    verifier.fail_reason = "HTTP Status Code = 404; HTTP Message = Not Found"
    with pytest.raises(CallbackVerificationError) as excinfo:
        backend.subscribe_app(OURS, WABA, URL, TOKEN)
    assert error_of(excinfo) == (2200, None, 400)
    assert excinfo.value.message == (
        "(#2200) Callback verification failed with the following errors: HTTP Status Code = "
        "404; HTTP Message = Not Found"
    )
    assert excinfo.value.to_envelope("trace") == {"error": {
        "message": excinfo.value.message, "type": "OAuthException", "code": 2200,
        "fbtrace_id": "trace", "is_transient": False,
    }}
    assert TOKEN not in json.dumps(excinfo.value.to_envelope("trace"))
    assert our_waba_override(backend) is None
    assert backend.verifications()[-1]["ok"] is False


def test_post_without_fields_clears_the_override_and_keeps_the_subscription(
    backend: GraphBackend, verifier: FakeVerifier
) -> None:
    backend.subscribe_app(OURS, WABA, URL, TOKEN)
    backend.subscribe_app(OURS, WABA)
    assert our_waba_override(backend) is None  # still listed: still subscribed
    assert len(verifier.calls) == 1, "clearing needs no verification"


def test_delete_unsubscribes_entirely(backend: GraphBackend) -> None:
    backend.subscribe_app(OURS, WABA, URL, TOKEN)
    assert backend.unsubscribe_app(OURS, WABA) == {"success": True}
    ids = [
        e["whatsapp_business_api_data"]["id"]
        for e in backend.list_subscribed_apps(OURS, WABA)["data"]
    ]
    assert ids == [OTHER]
    assert backend.effective_callback(PHONE, OURS).url is None, "no webhook after DELETE"
    # Subscribing again brings the app back, without its old override.
    backend.subscribe_app(OURS, WABA)
    assert our_waba_override(backend) is None


def test_a_never_subscribed_waba_lists_no_app(backend: GraphBackend) -> None:
    assert backend.list_subscribed_apps(OURS, WABA_NEW) == {"data": []}


@pytest.mark.parametrize("waba", [WABA_NEW, WABA], ids=["never subscribed", "unsubscribed"])
def test_an_override_needs_the_app_subscribed_first(
    backend: GraphBackend, verifier: FakeVerifier, waba: str
) -> None:
    backend.unsubscribe_app(OURS, waba)
    with pytest.raises(NotSubscribedError) as excinfo:
        backend.subscribe_app(OURS, waba, URL, TOKEN)
    assert error_of(excinfo) == (100, None, 400)
    assert excinfo.value.message == NOT_SUBSCRIBED
    assert excinfo.value.type == "OAuthException"
    assert verifier.calls == [], "refused before any verification call"
    assert OURS not in [
        e["whatsapp_business_api_data"]["id"]
        for e in backend.list_subscribed_apps(OURS, waba)["data"]
    ], "a refused override does not subscribe the app"
    # What works: a plain subscribe, then the override.
    backend.subscribe_app(OURS, waba)
    backend.subscribe_app(OURS, waba, URL, TOKEN)
    assert our_waba_override(backend, waba) == URL


def test_an_unsubscribe_during_verification_is_respected(verifier: FakeVerifier) -> None:
    holder: dict[str, GraphBackend] = {}

    def unsubscribing_verifier(url: str, verify_token: str) -> None:
        holder["backend"].unsubscribe_app(OURS, WABA)

    backend = GraphBackend(fixtures.load(), unsubscribing_verifier)
    holder["backend"] = backend
    with pytest.raises(NotSubscribedError):
        backend.subscribe_app(OURS, WABA, URL, TOKEN)
    with pytest.raises(NotSubscribedError):
        backend.update_phone_webhook(OURS, PHONE, URL, TOKEN)
    assert backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])[
        "webhook_configuration"
    ] == {"application": "https://lucky-shrub.example/webhook"}


def test_overrides_belong_to_one_app(backend: GraphBackend) -> None:
    backend.subscribe_app(OTHER, WABA, "https://other.example/hook", TOKEN)
    backend.update_phone_webhook(OTHER, PHONE, "https://other.example/phone", TOKEN)
    assert our_waba_override(backend) is None
    assert backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])[
        "webhook_configuration"
    ] == {"application": "https://lucky-shrub.example/webhook"}
    other = backend.list_subscribed_apps(OURS, WABA)["data"][1]
    assert other["override_callback_uri"] == "https://other.example/hook"


# --------------------------------------------------------------------------- phone override


def test_phone_override_set_and_cleared_with_an_empty_string(
    backend: GraphBackend, verifier: FakeVerifier
) -> None:
    assert backend.update_phone_webhook(OURS, PHONE, URL, TOKEN) == {"success": True}
    config = backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])
    assert config["webhook_configuration"]["phone_number"] == URL
    assert backend.update_phone_webhook(OURS, PHONE, "") == {"success": True}
    config = backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])
    assert "phone_number" not in config["webhook_configuration"]
    assert verifier.calls == [(URL, TOKEN)], "clearing needs no verify token or verification"


def test_a_phone_override_needs_the_app_subscribed_to_the_numbers_waba(
    backend: GraphBackend, verifier: FakeVerifier
) -> None:
    """Inferred (docs/meta-rules.md): refused like a WABA override; clearing still works."""
    with pytest.raises(NotSubscribedError) as excinfo:
        backend.update_phone_webhook(OURS, PHONE_NEW, URL, TOKEN)
    assert (error_of(excinfo), excinfo.value.message) == ((100, None, 400), NOT_SUBSCRIBED)
    assert verifier.calls == []
    assert backend.update_phone_webhook(OURS, PHONE_NEW, "") == {"success": True}
    backend.subscribe_app(OURS, WABA_NEW)
    assert backend.update_phone_webhook(OURS, PHONE_NEW, URL, TOKEN) == {"success": True}


def customer_managed_fixture() -> dict[str, object]:
    """The default fixture with WABA_2 in the customer's own Business Manager (coexistence)."""
    fixture = fixtures.load()
    next(w for w in fixture["wabas"] if w["id"] == WABA_2)["customer_managed"] = True
    return fixture


def test_numbers_of_a_customer_managed_waba_refuse_writes(verifier: FakeVerifier) -> None:
    """Observed (fazer-ai/chatwoot #568): (#200) Permissions error on the phone POST, while
    subscribed_apps works."""
    backend = GraphBackend(customer_managed_fixture(), verifier)
    for uri in (URL, ""):
        with pytest.raises(GraphAPIError) as excinfo:
            backend.update_phone_webhook(OURS, PHONE_2, uri, TOKEN)
        assert error_of(excinfo) == (200, None, 403)
        assert excinfo.value.message == "(#200) Permissions error"
    assert verifier.calls == []
    backend.subscribe_app(OURS, WABA_2, URL, TOKEN)
    assert our_waba_override(backend, WABA_2) == URL
    assert backend.get_phone_number(OURS, PHONE_2)["id"] == PHONE_2
    state = backend.to_fixture()
    assert next(w for w in state["wabas"] if w["id"] == WABA_2)["customer_managed"] is True
    assert GraphBackend(state, verifier).to_fixture() == state


def test_failed_phone_verification_keeps_the_old_override(
    backend: GraphBackend, verifier: FakeVerifier
) -> None:
    backend.update_phone_webhook(OURS, PHONE, URL, TOKEN)
    verifier.fail_reason = "connection failed"
    with pytest.raises(CallbackVerificationError):
        backend.update_phone_webhook(OURS, PHONE, "https://new.example/hook", TOKEN)
    config = backend.get_phone_number(OURS, PHONE, ["webhook_configuration"])
    assert config["webhook_configuration"]["phone_number"] == URL


# --------------------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    ("phone_override", "waba_override", "expected"),
    [
        (
            "https://phone.example/h",
            "https://waba.example/h",
            ("https://phone.example/h", "phone_number"),
        ),
        (None, "https://waba.example/h", ("https://waba.example/h", "whatsapp_business_account")),
        (None, None, ("https://lucky-shrub.example/webhook", "application")),
        ("https://phone.example/h", None, ("https://phone.example/h", "phone_number")),
    ],
)
def test_precedence_phone_then_waba_then_app(
    backend: GraphBackend,
    phone_override: str | None,
    waba_override: str | None,
    expected: tuple[str, str],
) -> None:
    if waba_override:
        backend.subscribe_app(OURS, WABA, waba_override, TOKEN)
    if phone_override:
        backend.update_phone_webhook(OURS, PHONE, phone_override, TOKEN)
    route = backend.effective_callback(PHONE, OURS)
    assert (route.url, route.rule) == expected
    # The other WABA's number is untouched by these overrides.
    assert backend.effective_callback(PHONE_2, OURS).rule == "application"


def test_another_apps_overrides_do_not_route_our_webhooks(backend: GraphBackend) -> None:
    backend.update_phone_webhook(OTHER, PHONE, "https://other.example/phone", TOKEN)
    assert backend.effective_callback(PHONE, OURS).rule == "application"
    assert backend.effective_callback(PHONE, OTHER).url == "https://other.example/phone"


def test_delivery_is_signed_with_the_app_secret(backend: GraphBackend) -> None:
    backend.update_phone_webhook(OURS, PHONE, URL, TOKEN)
    delivery = backend.prepare_delivery(PHONE, OURS, text="hi there")
    expected = hmac.new(b"EMU-APP-SECRET-lucky-shrub", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert (delivery.route.url, delivery.route.rule) == (URL, "phone_number")
    payload = json.loads(delivery.body)
    assert payload["object"] == "whatsapp_business_account"
    entry = payload["entry"][0]
    assert entry["id"] == WABA
    change = entry["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["metadata"] == {
        "display_phone_number": "+1 555-010-0001",
        "phone_number_id": PHONE,
    }
    assert value["messages"][0]["text"] == {"body": "hi there"}
    assert value["messages"][0]["type"] == "text"
    assert value["contacts"][0]["wa_id"] == value["messages"][0]["from"]


@pytest.mark.parametrize("field", ["message_template_status_update", "account_update",
                                   "account_review_update", "account_alerts"])
def test_template_and_account_webhooks_go_to_the_app_callback_whatever_the_overrides(
    backend: GraphBackend, field: str
) -> None:
    backend.subscribe_app(OURS, WABA, "https://waba.example/h", TOKEN)
    backend.update_phone_webhook(OURS, PHONE, "https://phone.example/h", TOKEN)
    for delivery in (backend.prepare_delivery(PHONE, OURS, field=field),
                     backend.prepare_delivery(None, OURS, field=field, waba_id=WABA)):
        assert (delivery.route.url, delivery.route.rule) == (
            "https://lucky-shrub.example/webhook", "application")
        payload = json.loads(delivery.body)
        assert payload["entry"][0]["id"] == WABA
        assert payload["entry"][0]["changes"][0]["field"] == field
    assert backend.prepare_delivery(PHONE, OURS).route.rule == "phone_number"  # messages
    # Nothing for an app that is not subscribed to the WABA.
    assert backend.prepare_delivery(None, OURS, field=field, waba_id=WABA_NEW).route.url is None
    with pytest.raises(GraphAPIError, match="Param field"):
        backend.prepare_delivery(PHONE, OURS, field="statuses")


def test_delivery_defaults_to_the_first_app(backend: GraphBackend) -> None:
    assert backend.default_app_id == OURS
    assert backend.prepare_delivery(PHONE).route.rule == "application"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (None, "The parameter override_callback_uri is required"),
        ("", "The parameter override_callback_uri is required"),
        (42, "Param override_callback_uri must be a string"),
        (
            "https://x.example/" + "a" * 183,
            "Param override_callback_uri must be at most 200 characters long",
        ),
        ("not a url", "Param override_callback_uri must be a valid absolute URL"),
        ("/relative/path", "Param override_callback_uri must be a valid absolute URL"),
        ("ftp://files.example/hook", "Param override_callback_uri must be a valid absolute URL"),
        (
            "https://bad port.example:99999/",
            "Param override_callback_uri must be a valid absolute URL",
        ),
        ("http://plain.example/hook", "Param override_callback_uri must use https"),
    ],
)
def test_callback_url_validation(
    backend: GraphBackend, verifier: FakeVerifier, uri: object, message: str
) -> None:
    calls = [lambda: backend.subscribe_app(OURS, WABA, uri, TOKEN)]
    if uri != "":  # on a phone number, "" means "clear the override"
        calls.append(lambda: backend.update_phone_webhook(OURS, PHONE, uri, TOKEN))
    for call in calls:
        with pytest.raises(GraphAPIError) as excinfo:
            call()
        assert error_of(excinfo) == (100, None, 400)
        assert excinfo.value.type == "OAuthException"
        assert excinfo.value.message.startswith(f"(#100) {message}")
    assert verifier.calls == [], "invalid input must fail before the verification call"


@pytest.mark.parametrize(
    "uri",
    [
        "https://x.example/" + "a" * 182,  # exactly 200 characters
        "http://localhost:8080/hook",
        "http://127.0.0.5/hook",
        "http://[::1]:9000/hook",
        "https://hooks.example.com/path?query=1",
    ],
)
def test_accepted_callback_urls(backend: GraphBackend, uri: str) -> None:
    assert len("https://x.example/" + "a" * 182) == 200
    assert backend.subscribe_app(OURS, WABA, uri, TOKEN) == {"success": True}
    assert backend.update_phone_webhook(OURS, PHONE, uri, TOKEN) == {"success": True}


@pytest.mark.parametrize(
    ("token", "message"), [(None, "is required"), ("", "is required"), (7, "must be a string")]
)
def test_verify_token_is_required_with_an_override(
    backend: GraphBackend, verifier: FakeVerifier, token: object, message: str
) -> None:
    with pytest.raises(GraphAPIError, match=f"verify_token {message}"):
        backend.subscribe_app(OURS, WABA, URL, token)
    with pytest.raises(GraphAPIError, match=f"verify_token {message}"):
        backend.update_phone_webhook(OURS, PHONE, URL, token)
    assert verifier.calls == []


# --------------------------------------------------------------------------- ids and permissions


def no_access_fixture() -> dict[str, object]:
    """The default fixture plus a WABA (with one number) only the other app can see."""
    fixture = fixtures.load()
    fixture["wabas"].append(
        {
            "id": "555000000000001",
            "name": "Not ours",
            "apps_with_access": [OTHER],
            "subscriptions": {OTHER: None},
        }
    )
    fixture["phone_numbers"].append(
        {
            "id": "555000000000002",
            "waba_id": "555000000000001",
            "display_phone_number": "+1 555-099-0001",
            "verified_name": "Not ours",
        }
    )
    return fixture


def test_unknown_and_inaccessible_ids(verifier: FakeVerifier) -> None:
    backend = GraphBackend(no_access_fixture(), verifier)
    # Non-numeric: an unknown alias.
    with pytest.raises(GraphAPIError) as excinfo:
        backend.list_subscribed_apps(OURS, "my-waba")
    assert error_of(excinfo) == (803, None, 404)
    assert excinfo.value.message == "(#803) Some of the aliases you requested do not exist: my-waba"
    # Numeric but unknown: code 100, subcode 33, naming the method.
    with pytest.raises(GraphAPIError) as excinfo:
        backend.get_phone_number(OURS, "999")
    assert error_of(excinfo) == (100, 33, 400)
    assert excinfo.value.message.startswith("Unsupported get request. Object with ID '999'")
    with pytest.raises(GraphAPIError, match=r"^Unsupported post request"):
        backend.update_phone_webhook(OURS, "999", URL, TOKEN)
    # A WABA id is not a phone number.
    with pytest.raises(GraphAPIError) as excinfo:
        backend.get_phone_number(OURS, WABA)
    assert error_of(excinfo) == (100, 33, 400)
    # A WABA the app has no access to answers like one that does not exist (observed; Meta's
    # OpenAPI examples say 403 / code 200).
    for method, call in (
        ("get", lambda: backend.list_subscribed_apps(OURS, "555000000000001")),
        ("post", lambda: backend.subscribe_app(OURS, "555000000000001", URL, TOKEN)),
        ("delete", lambda: backend.unsubscribe_app(OURS, "555000000000001")),
        ("get", lambda: backend.list_phone_numbers(OURS, "555000000000001")),
    ):
        with pytest.raises(GraphAPIError) as excinfo:
            call()
        assert error_of(excinfo) == (100, 33, 400)
        assert excinfo.value.type == "GraphMethodException"
        assert excinfo.value.message.startswith(
            f"Unsupported {method} request. Object with ID '555000000000001' does not exist"
        )
    # A number of such a WABA cannot be loaded at all.
    with pytest.raises(GraphAPIError) as excinfo:
        backend.update_phone_webhook(OURS, "555000000000002", URL, TOKEN)
    assert error_of(excinfo) == (100, 33, 400)
    assert verifier.calls == []
    # The other app sees both.
    assert backend.get_phone_number(OTHER, "555000000000002")["id"] == "555000000000002"


# --------------------------------------------------------------------------- listing


def test_phone_numbers_are_paged_with_cursors(verifier: FakeVerifier) -> None:
    backend = GraphBackend(fixtures.generate(wabas=2, phones_per_waba=5), verifier)
    waba = "200000000000000"
    first = backend.list_phone_numbers(OURS, waba, limit=2)
    assert [p["id"] for p in first.data] == ["300000000000000", "300000000000001"]
    assert first.has_more
    second = backend.list_phone_numbers(OURS, waba, limit=2, after=first.after)
    third = backend.list_phone_numbers(OURS, waba, limit=2, after=second.after)
    assert [p["id"] for p in second.data + third.data] == [
        "300000000000002",
        "300000000000003",
        "300000000000004",
    ]
    assert not third.has_more
    assert len(backend.list_phone_numbers(OURS, waba).data) == 5
    with pytest.raises(GraphAPIError, match="limit"):
        backend.list_phone_numbers(OURS, waba, limit=0)
    with pytest.raises(GraphAPIError, match="cursor"):
        backend.list_phone_numbers(OURS, waba, after="not-a-cursor")


# --------------------------------------------------------------------------- seeding


def test_reset_returns_to_the_baseline_and_seed_moves_it(backend: GraphBackend) -> None:
    backend.subscribe_app(OURS, WABA, URL, TOKEN)
    backend.reset()
    assert our_waba_override(backend) is None
    assert backend.verifications() == []
    backend.subscribe_app(OURS, WABA, URL, TOKEN)
    backend.seed(backend.to_fixture())
    backend.unsubscribe_app(OURS, WABA)
    backend.reset()
    assert our_waba_override(backend) == URL


def test_state_round_trips_through_a_fixture(backend: GraphBackend) -> None:
    backend.subscribe_app(OURS, WABA, URL, TOKEN)
    backend.update_phone_webhook(OURS, PHONE, URL, TOKEN)
    state = backend.to_fixture()
    assert TOKEN not in json.dumps(state)
    clone = GraphBackend(state, FakeVerifier())
    assert clone.to_fixture() == state


@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: f.pop("apps"),
        lambda f: f["apps"].clear(),
        lambda f: f["phone_numbers"][0].update(waba_id="1"),
        lambda f: f["wabas"][0]["apps_with_access"].append("42"),
        lambda f: f["phone_numbers"][0].update(id=f["wabas"][0]["id"]),
        lambda f: f["wabas"][0].update(id="not-digits"),
        lambda f: f["apps"][0].update(access_tokens="one-token"),
        lambda f: f["phone_numbers"].append(dict(f["phone_numbers"][0])),
        lambda f: f["wabas"].append(7),
    ],
)
def test_malformed_fixtures_are_refused(mutate: object) -> None:
    fixture = fixtures.load()
    mutate(fixture)  # type: ignore[operator]
    with pytest.raises(InvalidFixtureError):
        GraphBackend(fixture, FakeVerifier())


def test_generate_builds_fixtures_of_any_size() -> None:
    fixture = fixtures.generate(wabas=30, phones_per_waba=40, other_apps=2)
    backend = GraphBackend(fixture, FakeVerifier())
    assert len(fixture["phone_numbers"]) == 1200
    assert len({p["display_phone_number"] for p in fixture["phone_numbers"]}) == 1200
    assert backend.authenticate("EMU-TOKEN-other-2") == "880000000000002"
    assert len(backend.list_subscribed_apps(OURS, "200000000000029")["data"]) == 3


# --------------------------------------------------------------------------- concurrency


def test_the_lock_is_not_held_during_verification(backend: GraphBackend) -> None:
    """A verification that reads the backend (as a slow callback's traffic would) must not
    deadlock, and other writes proceed meanwhile."""
    inside = threading.Event()
    release = threading.Event()

    def slow_verifier(url: str, verify_token: str) -> None:
        inside.set()
        assert release.wait(5)

    slow = GraphBackend(fixtures.load(), slow_verifier)
    worker = threading.Thread(target=slow.subscribe_app, args=(OURS, WABA, URL, TOKEN))
    worker.start()
    assert inside.wait(5)
    # While the verification runs, reads and other writes go through.
    assert slow.get_app(OURS)["id"] == OURS
    slow.update_phone_webhook(OURS, PHONE_2, "")
    release.set()
    worker.join(5)
    assert not worker.is_alive()
    assert our_waba_override(slow) == URL


def test_a_reset_during_verification_is_respected(verifier: FakeVerifier) -> None:
    """The object is looked up again after verification: if it vanished, nothing is stored."""
    holder: dict[str, GraphBackend] = {}

    def reseeding_verifier(url: str, verify_token: str) -> None:
        holder["backend"].seed(fixtures.generate())

    backend = GraphBackend(fixtures.load(), reseeding_verifier)
    holder["backend"] = backend
    with pytest.raises(GraphAPIError) as excinfo:
        backend.subscribe_app(OURS, WABA, URL, TOKEN)
    assert error_of(excinfo) == (100, 33, 400)


def test_envelope_has_optional_fields_only_when_set() -> None:
    bare = GraphAPIError("boom", code=1).to_envelope("T")
    assert bare == {
        "error": {
            "message": "boom",
            "type": "OAuthException",
            "code": 1,
            "fbtrace_id": "T",
            "is_transient": False,
        }
    }
    full = GraphAPIError(
        "boom", code=100, error_subcode=2200, error_user_title="T1", error_user_msg="M1"
    ).to_envelope("T")["error"]
    assert (full["error_subcode"], full["error_user_title"], full["error_user_msg"]) == (
        2200, "T1", "M1")
