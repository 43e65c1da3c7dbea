"""The Graph API emulator over real HTTP: endpoints, errors, faults, call log, delivery, CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests.conftest import CallbackReceiver, EmulatorHandle
from waba_webhooks.emulator import EmulatorAdminError, EmulatorServer, fixtures

WABA = "102290129340398"
WABA_2 = "102290129340399"
WABA_NEW = "102290129340400"  # no app has ever subscribed to it
PHONE = "106540352242922"
PHONE_NEW = "106540352242926"  # in WABA_NEW
NOT_SUBSCRIBED = (
    "(#100) Before override the current callback uri, your app must be subscribed to receive "
    "messages for WhatsApp Business Account"
)
OTHER_APP = "880011223344556"
APP_SECRET = "EMU-APP-SECRET-lucky-shrub"


def assert_envelope(
    response: requests.Response, status: int, code: int, subcode: int | None = None
) -> dict[str, Any]:
    """Check that ``response`` is Graph's JSON error envelope; return its ``error`` object."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Traceback" not in response.text and "<html" not in response.text.lower()
    error = response.json()["error"]
    assert error["code"] == code
    assert error.get("error_subcode") == subcode
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]
    assert isinstance(error["is_transient"], bool)
    return dict(error)


def our_override(emulator: EmulatorHandle, waba_id: str = WABA) -> str | None:
    data = emulator.call("GET", f"{waba_id}/subscribed_apps").json()["data"]
    ours = [e for e in data if e["whatsapp_business_api_data"]["id"] == emulator.app_id]
    assert ours, "our app is not subscribed"
    return ours[0].get("override_callback_uri")


def webhook_configuration(emulator: EmulatorHandle, phone: str = PHONE) -> dict[str, str]:
    response = emulator.call("GET", phone, params={"fields": "webhook_configuration"})
    assert response.status_code == 200, response.text
    return dict(response.json()["webhook_configuration"])


# --------------------------------------------------------------------------- auth


def test_get_app_with_a_bearer_token(emulator: EmulatorHandle) -> None:
    response = emulator.call("GET", "app")
    assert response.status_code == 200
    assert response.json() == {
        "id": emulator.app_id,
        "name": "Lucky Shrub",
        "link": f"https://www.facebook.com/games/?app_id={emulator.app_id}",
    }


@pytest.mark.parametrize("version", ["v17.0", "v23.0", "v99.9"])
def test_any_version_segment_is_accepted(emulator: EmulatorHandle, version: str) -> None:
    url = f"{emulator.url}/{version}/app"
    assert requests.get(url, headers=emulator.headers, timeout=10).status_code == 200


def test_access_token_parameter_is_accepted_as_graph_does(emulator: EmulatorHandle) -> None:
    response = emulator.call("GET", "app", headers={}, params={"access_token": emulator.token})
    assert response.json()["id"] == emulator.app_id
    response = emulator.call(
        "POST",
        f"{WABA}/subscribed_apps",
        headers={},
        data={"access_token": emulator.token},
    )
    assert response.json() == {"success": True}
    assert emulator.admin.calls()[-1]["app_id"] == emulator.app_id


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer EMU-TOKEN-unknown"}, {"Authorization": "Basic dXNlcjpwdw=="}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_bad_tokens_are_code_190(emulator: EmulatorHandle, headers: dict[str, str]) -> None:
    response = emulator.call("GET", f"{WABA}/subscribed_apps", headers=headers)
    error = assert_envelope(response, 401, 190)
    assert error["type"] == "OAuthException"
    assert error["message"].startswith("Invalid OAuth access token")
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_calls_are_attributed_to_the_tokens_app(emulator: EmulatorHandle) -> None:
    other = {"Authorization": "Bearer EMU-TOKEN-other-app"}
    assert emulator.call("GET", "app", headers=other).json()["id"] == OTHER_APP
    emulator.call("GET", "app", headers={})
    assert [c["app_id"] for c in emulator.admin.calls()] == [OTHER_APP, None]


# --------------------------------------------------------------------------- WABA override


@pytest.mark.parametrize("how", ["json", "form", "query"])
def test_waba_override_is_verified_then_stored(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver, how: str
) -> None:
    fields = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": "receiver-verify-token",
    }
    kwargs = {"json": {"json": fields}, "form": {"data": fields}, "query": {"params": fields}}[how]
    response = emulator.call("POST", f"{WABA}/subscribed_apps", **kwargs)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert our_override(emulator) == callback_receiver.url
    assert [
        (c.path, c.mode, c.token_matched, c.signed) for c in callback_receiver.challenges
    ] == [("/webhook", "subscribe", True, False)], "one unsigned GET with the hub parameters"
    assert emulator.admin.verifications() == [
        {
            "url": callback_receiver.url,
            "ok": True,
            "reason": "",
            "app_id": emulator.app_id,
            "object_id": WABA,
        }
    ]
    assert webhook_configuration(emulator)["whatsapp_business_account"] == callback_receiver.url


def test_failed_verification_is_code_2200_with_the_receivers_status(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    secret = "not-the-receivers-token"
    body = {"override_callback_uri": callback_receiver.url, "verify_token": secret}
    response = emulator.call("POST", f"{WABA}/subscribed_apps", json=body)
    error = assert_envelope(response, 400, 2200)
    assert error["message"] == (
        "(#2200) Callback verification failed with the following errors: "
        "HTTP Status Code = 403; HTTP Message = FORBIDDEN"
    )
    assert error["type"] == "OAuthException" and "error_user_title" not in error
    assert secret not in response.text
    assert our_override(emulator) is None
    [attempt] = emulator.admin.verifications()
    assert attempt["ok"] is False and "HTTP Status Code = 403" in attempt["reason"]


def test_a_missing_callback_path_is_reported_as_404(emulator: EmulatorHandle) -> None:
    body = {"override_callback_uri": f"{emulator.url}/no-such-hook", "verify_token": "t"}
    response = emulator.call("POST", PHONE, json={"webhook_configuration": body})
    assert assert_envelope(response, 400, 2200)["message"].endswith(
        "HTTP Status Code = 404; HTTP Message = NOT FOUND"
    )


def test_verification_needs_the_challenge_echoed(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    callback_receiver.answer = "12345"  # 200, but not the challenge
    body = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    response = emulator.call("POST", f"{WABA}/subscribed_apps", json=body)
    message = assert_envelope(response, 400, 2200)["message"]
    assert "HTTP Status Code = 200; HTTP Message = OK; Response does not match challenge" in message
    assert message.endswith('received="12345"')


def test_unreachable_callback_fails_verification_with_a_curl_error(
    emulator: EmulatorHandle,
) -> None:
    closed = CallbackReceiver()  # bound, never served, then closed: nobody listens
    url = closed.url
    closed.stop()
    body = {"override_callback_uri": url, "verify_token": "t0k3n"}
    response = emulator.call("POST", f"{WABA}/subscribed_apps", json=body)
    error = assert_envelope(response, 400, 2200)
    assert error["message"] == (
        "(#2200) Callback verification failed with the following errors: "
        "curl_errno = 7; curl_error = Couldn't connect to server"
    )
    assert "t0k3n" not in response.text


def test_a_self_signed_certificate_fails_verification(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """Meta requires TLS with a certificate it trusts: a self-signed one is refused."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    answer = Response("challenge would be here")
    server = make_server("127.0.0.1", 0, answer, ssl_context=(str(cert), str(key)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        body = {"override_callback_uri": f"https://127.0.0.1:{server.port}/hook",
                "verify_token": "t0k3n"}
        response = emulator.call("POST", f"{WABA}/subscribed_apps", json=body)
    finally:
        server.shutdown()
        server.server_close()
    message = assert_envelope(response, 400, 2200)["message"]
    # OpenSSL 3 says "self-signed certificate", 1.1 "self signed certificate".
    assert re.search(r"curl_errno = 60; curl_error = SSL certificate problem: self.signed "
                     r"certificate$", message), message
    assert our_override(emulator) is None


def test_an_override_on_a_never_subscribed_waba_is_refused_until_the_app_subscribes(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    assert emulator.call("GET", f"{WABA_NEW}/subscribed_apps").json() == {"data": []}
    config = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    response = emulator.call("POST", f"{WABA_NEW}/subscribed_apps", json=config)
    error = assert_envelope(response, 400, 100)
    assert {k: v for k, v in error.items() if k != "fbtrace_id"} == {
        "message": NOT_SUBSCRIBED, "type": "OAuthException", "code": 100, "is_transient": False,
    }
    phone = emulator.call("POST", PHONE_NEW, json={"webhook_configuration": config})
    assert assert_envelope(phone, 400, 100)["message"] == NOT_SUBSCRIBED
    assert callback_receiver.challenges == [], "refused before any verification call"
    assert not emulator.is_subscribed(WABA_NEW)
    # Subscribe first (a plain POST), then both overrides are accepted.
    assert emulator.call("POST", f"{WABA_NEW}/subscribed_apps").json() == {"success": True}
    assert emulator.call("POST", f"{WABA_NEW}/subscribed_apps", json=config).status_code == 200
    assert emulator.call(
        "POST", PHONE_NEW, json={"webhook_configuration": config}).status_code == 200
    assert our_override(emulator, WABA_NEW) == callback_receiver.url
    assert webhook_configuration(emulator, PHONE_NEW)["phone_number"] == callback_receiver.url


def test_numbers_of_a_customer_managed_waba_answer_permissions_error(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    fixture = fixtures.load()
    next(w for w in fixture["wabas"] if w["id"] == WABA)["customer_managed"] = True
    emulator.admin.seed(fixture)
    config = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    response = emulator.call("POST", PHONE, json={"webhook_configuration": config})
    assert assert_envelope(response, 403, 200)["message"] == "(#200) Permissions error"
    assert emulator.call("POST", f"{WABA}/subscribed_apps", json=config).status_code == 200
    assert emulator.call("GET", PHONE, params={"fields": "webhook_configuration"}).ok


def test_post_without_fields_clears_the_override_and_keeps_the_subscription(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    emulator.admin.set_waba_override(WABA, emulator.app_id, callback_receiver.url)
    response = emulator.call("POST", f"{WABA}/subscribed_apps")
    assert response.json() == {"success": True}
    assert our_override(emulator) is None
    assert emulator.is_subscribed(WABA)
    assert callback_receiver.challenges == [], "subscribing needs no verification"


def test_delete_unsubscribes_the_app_and_is_logged(emulator: EmulatorHandle) -> None:
    emulator.admin.set_waba_override(WABA, emulator.app_id, "https://old.example/h")
    assert emulator.call("DELETE", f"{WABA}/subscribed_apps").json() == {"success": True}
    data = emulator.call("GET", f"{WABA}/subscribed_apps").json()["data"]
    assert [e["whatsapp_business_api_data"]["id"] for e in data] == [OTHER_APP]
    assert not emulator.is_subscribed(WABA)
    assert [c["operation"] for c in emulator.admin.calls()] == [
        "DELETE subscribed_apps",
        "GET subscribed_apps",
    ]


# --------------------------------------------------------------------------- phone override


@pytest.mark.parametrize("how", ["json", "form"])
def test_phone_override_set_then_cleared(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver, how: str
) -> None:
    config = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    if how == "json":
        response = emulator.call("POST", PHONE, json={"webhook_configuration": config})
    else:
        response = emulator.call("POST", PHONE, data={"webhook_configuration": json.dumps(config)})
    assert response.json() == {"success": True}
    assert webhook_configuration(emulator) == {
        "phone_number": callback_receiver.url,
        "application": "https://lucky-shrub.example/webhook",
    }
    cleared = emulator.call(
        "POST", PHONE, json={"webhook_configuration": {"override_callback_uri": ""}}
    )
    assert cleared.json() == {"success": True}
    assert "phone_number" not in webhook_configuration(emulator)
    assert len(callback_receiver.challenges) == 1


def test_webhook_configuration_shows_all_three_levels(emulator: EmulatorHandle) -> None:
    emulator.admin.set_waba_override(WABA, emulator.app_id, "https://waba.example/h")
    emulator.admin.set_phone_override(PHONE, emulator.app_id, "https://phone.example/h")
    response = emulator.call("GET", PHONE, params={"fields": "webhook_configuration"})
    assert response.json() == {
        "webhook_configuration": {
            "phone_number": "https://phone.example/h",
            "whatsapp_business_account": "https://waba.example/h",
            "application": "https://lucky-shrub.example/webhook",
        },
        "id": PHONE,
    }


def test_phone_number_fields(emulator: EmulatorHandle) -> None:
    assert emulator.call("GET", PHONE).json() == {
        "id": PHONE,
        "display_phone_number": "+1 555-010-0001",
        "verified_name": "Lucky Shrub",
        "quality_rating": "GREEN",
    }
    response = emulator.call("GET", PHONE, params={"fields": "id,verified_name"})
    assert response.json() == {"id": PHONE, "verified_name": "Lucky Shrub"}
    response = emulator.call("GET", PHONE, params={"fields": "secret_sauce"})
    assert "nonexisting field (secret_sauce)" in assert_envelope(response, 400, 100)["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "webhook_configuration is required"),
        ({"webhook_configuration": 5}, "webhook_configuration must be an object"),
        ({"webhook_configuration": "{not json"}, "webhook_configuration must be an object"),
        ({"webhook_configuration": {"verify_token": "x"}}, "override_callback_uri] is required"),
        (
            {"webhook_configuration": {"override_callback_uri": 5, "verify_token": "x"}},
            "must be a string",
        ),
        (
            {"webhook_configuration": {"override_callback_uri": "https://a.example/h"}},
            "verify_token is required",
        ),
        (
            {
                "webhook_configuration": {
                    "override_callback_uri": "https://a.example/" + "x" * 190,
                    "verify_token": "x",
                }
            },
            "Param override_callback_uri must be at most 200 characters long",
        ),
        (
            {
                "webhook_configuration": {
                    "override_callback_uri": "http://public.example/h",
                    "verify_token": "x",
                }
            },
            "must use https",
        ),
    ],
)
def test_malformed_webhook_configuration_is_code_100(
    emulator: EmulatorHandle, body: dict[str, Any], fragment: str
) -> None:
    response = emulator.call("POST", PHONE, json=body)
    error = assert_envelope(response, 400, 100)
    assert error["type"] == "OAuthException"
    assert fragment in error["message"]
    assert emulator.admin.verifications() == []


# --------------------------------------------------------------------------- phone_numbers


def test_phone_numbers_are_paged(emulator: EmulatorHandle) -> None:
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=3))
    first = emulator.call("GET", "200000000000000/phone_numbers", params={"limit": 2}).json()
    assert [p["id"] for p in first["data"]] == ["300000000000000", "300000000000001"]
    assert set(first["data"][0]) >= {
        "id",
        "display_phone_number",
        "verified_name",
        "quality_rating",
    }
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    follow = requests.get(first["paging"]["next"], headers=emulator.headers, timeout=10).json()
    assert [p["id"] for p in follow["data"]] == ["300000000000002"]
    assert "next" not in follow["paging"]
    # A token passed as a parameter is never echoed into the next link.
    response = emulator.call(
        "GET",
        "200000000000000/phone_numbers",
        headers={},
        params={"limit": 1, "access_token": emulator.token},
    )
    assert emulator.token not in response.json()["paging"]["next"]
    response = emulator.call("GET", "200000000000000/phone_numbers", params={"limit": "many"})
    assert_envelope(response, 400, 100)


def test_phone_numbers_expand_webhook_configuration_per_number(emulator: EmulatorHandle) -> None:
    """Field expansion on the edge: each number with exactly the fields asked for and its
    routing as our app sees it (keys absent where a level has no URL); the next link keeps the
    fields."""
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=3))
    emulator.admin.set_waba_override("200000000000000", emulator.app_id, "https://w.example/h")
    emulator.admin.set_phone_override("300000000000001", emulator.app_id, "https://p.example/h")
    fields = "id,display_phone_number,webhook_configuration"
    first = emulator.call(
        "GET", "200000000000000/phone_numbers", params={"fields": fields, "limit": 2}
    ).json()
    assert [set(p) for p in first["data"]] == [{"id", "display_phone_number",
                                                "webhook_configuration"}] * 2
    configs = [p["webhook_configuration"] for p in first["data"]]
    assert "phone_number" not in configs[0]
    assert configs[0]["whatsapp_business_account"] == "https://w.example/h"
    assert configs[1]["phone_number"] == "https://p.example/h"
    follow = requests.get(first["paging"]["next"], headers=emulator.headers, timeout=10).json()
    assert [set(p) for p in follow["data"]] == [{"id", "display_phone_number",
                                                 "webhook_configuration"}]
    response = emulator.call("GET", "200000000000000/phone_numbers", params={"fields": "nope"})
    assert_envelope(response, 400, 100)


# --------------------------------------------------------------------------- unknown ids


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "subcode", "message"),
    [
        (
            "GET",
            "my-waba/subscribed_apps",
            404,
            803,
            None,
            "(#803) Some of the aliases you requested do not exist: my-waba",
        ),
        (
            "GET",
            "abc",
            404,
            803,
            None,
            "(#803) Some of the aliases you requested do not exist: abc",
        ),
        (
            "GET",
            "999/subscribed_apps",
            400,
            100,
            33,
            "Unsupported get request. Object with ID '999' does not exist",
        ),
        (
            "POST",
            "999",
            400,
            100,
            33,
            "Unsupported post request. Object with ID '999' does not exist",
        ),
        ("GET", "999/phone_numbers", 400, 100, 33, "Unsupported get request. Object with ID '999'"),
        ("GET", WABA, 400, 100, 33, f"Unsupported get request. Object with ID '{WABA}'"),
    ],
)
def test_unknown_ids(
    emulator: EmulatorHandle,
    method: str,
    path: str,
    status: int,
    code: int,
    subcode: int | None,
    message: str,
) -> None:
    body = {"webhook_configuration": {"override_callback_uri": ""}} if method == "POST" else None
    error = assert_envelope(emulator.call(method, path, json=body), status, code, subcode)
    assert error["message"].startswith(message)


def test_a_waba_without_access_answers_like_an_unknown_one(emulator: EmulatorHandle) -> None:
    fixture = fixtures.load()
    fixture["wabas"].append(
        {
            "id": "555000000000001",
            "name": "Not ours",
            "apps_with_access": [OTHER_APP],
            "subscriptions": {},
        }
    )
    emulator.admin.seed(fixture)
    for method in ("GET", "POST", "DELETE"):
        response = emulator.call(method, "555000000000001/subscribed_apps")
        error = assert_envelope(response, 400, 100, 33)
        assert error["type"] == "GraphMethodException"
        assert error["message"].startswith(
            f"Unsupported {method.lower()} request. Object with ID '555000000000001'"
        )


# --------------------------------------------------------------------------- malformed requests


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        (
            "POST",
            f"{WABA}/subscribed_apps",
            {"data": '{"override_callback_uri": ', "headers": {"Content-Type": "application/json"}},
            400,
            100,
        ),
        ("POST", f"{WABA}/subscribed_apps", {"json": ["a", "list"]}, 400, 100),
        (
            "POST",
            f"{WABA}/subscribed_apps",
            {"json": {"override_callback_uri": 5, "verify_token": "x"}},
            400,
            100,
        ),
        (
            "POST",
            f"{WABA}/subscribed_apps",
            {"json": {"override_callback_uri": "https://a.example/h", "verify_token": ["x"]}},
            400,
            100,
        ),
        ("POST", f"{WABA}/subscribed_apps", {"data": b"x" * (100 * 1024)}, 413, 100),
        ("PUT", f"{WABA}/subscribed_apps", {}, 405, 100),
        ("PATCH", PHONE, {}, 405, 100),
        ("GET", f"{WABA}/subscribed_apps/extra", {}, 404, 2500),
        ("GET", "/", {}, 404, 2500),
    ],
    ids=[
        "bad-json",
        "json-list",
        "uri-int",
        "token-list",
        "huge-body",
        "put",
        "patch",
        "deep-path",
        "root",
    ],
)
def test_malformed_requests_get_the_envelope(
    emulator: EmulatorHandle, method: str, path: str, kwargs: dict[str, Any], status: int, code: int
) -> None:
    headers = {**emulator.headers, **kwargs.pop("headers", {})}
    assert_envelope(emulator.call(method, path, headers=headers, **kwargs), status, code)
    assert our_override(emulator) is None


@pytest.mark.parametrize(
    "path", ["/nonsense", "/v23/app", "/v23.0", "/favicon.ico", "/_emulator/nope"]
)
def test_unknown_routes_get_the_envelope(emulator: EmulatorHandle, path: str) -> None:
    response = requests.get(emulator.url + path, headers=emulator.headers, timeout=10)
    assert_envelope(response, 404, 2500)


def test_admin_input_errors_get_the_envelope(emulator: EmulatorHandle) -> None:
    url = f"{emulator.url}/_emulator"
    assert_envelope(requests.post(f"{url}/seed", data="{", timeout=10), 400, 100)
    assert_envelope(requests.post(f"{url}/seed", json={"apps": []}, timeout=10), 400, 100)
    assert_envelope(requests.post(f"{url}/latency", json={"ms": "slow"}, timeout=10), 400, 100)
    assert_envelope(requests.delete(f"{url}/calls", timeout=10), 405, 100)
    assert_envelope(requests.put(f"{url}/apps/1", json={"callback_url": "x"}, timeout=10), 400, 100)
    with pytest.raises(EmulatorAdminError) as excinfo:
        emulator.admin.deliver("999")
    assert excinfo.value.status == 400


def test_an_unexpected_failure_is_a_transient_code_1_without_details() -> None:
    def broken_verifier(url: str, verify_token: str) -> None:
        raise RuntimeError(f"kaboom while checking {verify_token}")

    with EmulatorServer(verifier=broken_verifier) as server:
        response = requests.post(
            f"{server.url}/v23.0/{WABA}/subscribed_apps",
            headers={"Authorization": f"Bearer {fixtures.DEFAULT_TOKEN}"},
            json={"override_callback_uri": "https://a.example/h", "verify_token": "hush"},
            timeout=10,
        )
    error = assert_envelope(response, 500, 1)
    assert error["is_transient"] is True
    assert "kaboom" not in response.text and "hush" not in response.text
    assert "RuntimeError" not in response.text


# --------------------------------------------------------------------------- faults


RATE_LIMIT = {
    "status": 429,
    "error": {
        "code": 80008,
        "error_subcode": 2494055,
        "message": "(#80008) There have been too many calls to this WhatsApp Business account.",
        "is_transient": True,
    },
    "headers": {
        "X-Business-Use-Case-Usage": '{"102290129340398": [{"estimated_time_to_regain_access": 1}]}'
    },
}


def test_an_error_fault_answers_once_then_normal_service(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(**RATE_LIMIT)
    faulted = emulator.call("GET", f"{WABA}/subscribed_apps")
    error = assert_envelope(faulted, 429, 80008, 2494055)
    assert error["is_transient"] is True
    assert "estimated_time_to_regain_access" in faulted.headers["X-Business-Use-Case-Usage"]
    assert emulator.call("GET", f"{WABA}/subscribed_apps").status_code == 200
    calls = emulator.admin.calls()
    assert [(c["status"], c["fault"]) for c in calls] == [(429, True), (200, False)]
    assert calls[0]["operation"] == "GET subscribed_apps"
    assert emulator.admin.counts()["faults_injected"] == 1
    assert emulator.admin.faults() == []


def test_faults_match_method_and_path_and_queue_in_order(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(count=2, method="POST", path=r"/subscribed_apps$", status=500)
    emulator.admin.add_fault(count=1, path=r"/subscribed_apps$", status=503)
    assert len(emulator.admin.faults()) == 2
    assert emulator.call("GET", "app").status_code == 200  # no rule matches
    assert emulator.call("GET", f"{WABA}/subscribed_apps").status_code == 503  # second rule
    statuses = [emulator.call("POST", f"{WABA}/subscribed_apps").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert emulator.admin.faults() == []
    default_5xx = emulator.admin.calls()[2]
    assert default_5xx["fault"] is True


def test_first_matching_rule_is_used_first(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(status=500)
    emulator.admin.add_fault(status=503)
    statuses = [emulator.call("GET", "app").status_code for _ in range(3)]
    assert statuses == [500, 503, 200]


def test_a_faulted_write_changes_nothing(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    emulator.admin.add_fault(
        count=3,
        method="POST",
        status=500,
        error={"code": 2, "message": "down", "is_transient": True},
    )
    emulator.admin.add_fault(method="DELETE", status=500)
    body = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    assert emulator.call("POST", f"{WABA}/subscribed_apps", json=body).status_code == 500
    config = {"webhook_configuration": body}
    assert emulator.call("POST", PHONE, json=config).status_code == 500
    assert emulator.call("POST", f"{WABA}/subscribed_apps").status_code == 500
    assert emulator.call("DELETE", f"{WABA}/subscribed_apps").status_code == 500
    assert callback_receiver.challenges == [], "a faulted write must not even verify"
    assert emulator.admin.verifications() == []
    expected = fixtures.load()
    expected.pop("_comment")
    assert emulator.admin.state() == expected
    assert our_override(emulator) is None and emulator.is_subscribed(WABA)
    assert "phone_number" not in webhook_configuration(emulator)


def test_a_latency_fault_delays_then_answers_normally(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(latency_ms=300, path="/app$")
    started = time.monotonic()
    assert emulator.call("GET", "app").status_code == 200
    assert time.monotonic() - started >= 0.3
    assert emulator.call("GET", "app").status_code == 200
    assert [c["fault"] for c in emulator.admin.calls()] == [True, False]
    assert emulator.admin.faults() == []


def test_a_dropped_connection_gets_no_answer(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(drop_connection=True, method="POST")
    with pytest.raises(requests.ConnectionError):
        emulator.call("POST", f"{WABA}/subscribed_apps", json={"verify_token": "drop-secret"})
    assert emulator.call("POST", f"{WABA}/subscribed_apps").json() == {"success": True}
    dropped, normal = emulator.admin.calls()
    assert (dropped["fault"], dropped["status"]) == (True, None)
    assert dropped["body"] == {"verify_token": "***"}
    assert (normal["fault"], normal["status"]) == (False, 200)


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 200},
        {"count": 0},
        {"path": "("},
        {"color": "red"},
        {"error": {"code": "one hundred"}},
        {"error": {"colour": 1}},
        {"headers": {"X-A": 1}},
        {"drop_connection": "yes"},
        {"latency_ms": -5},
    ],
)
def test_malformed_fault_rules_are_refused(emulator: EmulatorHandle, spec: dict[str, Any]) -> None:
    with pytest.raises(EmulatorAdminError) as excinfo:
        emulator.admin.add_fault(**spec)
    assert excinfo.value.status == 400
    assert emulator.admin.faults() == []


def test_faults_can_be_cleared(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(count=5, status=500)
    emulator.admin.clear_faults()
    assert emulator.admin.faults() == []
    assert emulator.call("GET", "app").status_code == 200


def test_global_latency_delays_graph_calls_until_reset(emulator: EmulatorHandle) -> None:
    emulator.admin.set_latency(200)
    started = time.monotonic()
    emulator.call("GET", "app")
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    emulator.admin.state()
    assert time.monotonic() - started < 0.2, "admin calls are not delayed"
    emulator.admin.reset()
    latency = requests.get(f"{emulator.url}/_emulator/latency", timeout=10).json()
    assert latency == {"ms": 0}


# --------------------------------------------------------------------------- call log and counts


def test_the_call_log_never_holds_a_secret(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    verify = callback_receiver.verify_token
    fields = {"override_callback_uri": callback_receiver.url, "verify_token": verify}
    emulator.call("POST", f"{WABA}/subscribed_apps", json=fields)
    emulator.call("POST", f"{WABA}/subscribed_apps", data=fields)
    emulator.call("POST", f"{WABA}/subscribed_apps", params=fields)
    emulator.call("POST", PHONE, data={"webhook_configuration": json.dumps(fields)})
    emulator.call("POST", PHONE, json={"webhook_configuration": fields})
    emulator.call("GET", "app", headers={}, params={"access_token": emulator.token})
    emulator.call(
        "POST",
        f"{WABA}/subscribed_apps",
        headers={},
        data={"access_token": emulator.token},
    )
    emulator.call(
        "POST",
        f"{WABA}/subscribed_apps",
        data='{"verify_token": "half-a-json',
        headers={"Content-Type": "application/json", **emulator.headers},
    )
    admin = f"{emulator.url}/_emulator"
    texts = [
        requests.get(f"{admin}/{what}", timeout=10).text
        for what in ("calls", "counts", "verifications", "received")
    ]
    assert len(emulator.admin.calls()) == 8
    for text in texts:
        assert verify not in text
        assert "half-a-json" not in text
        assert emulator.token not in text
    assert '"***"' in texts[0]
    assert "Authorization" not in texts[0] and "Bearer" not in texts[0]


def test_counts_split_reads_writes_and_operations(emulator: EmulatorHandle) -> None:
    emulator.call("GET", "app")
    emulator.call("GET", f"{WABA}/subscribed_apps")
    emulator.call("POST", f"{WABA}/subscribed_apps")
    emulator.call("DELETE", f"{WABA}/subscribed_apps")
    emulator.call("GET", PHONE, params={"fields": "webhook_configuration"})
    emulator.call("POST", PHONE, json={"webhook_configuration": {"override_callback_uri": ""}})
    emulator.call("GET", f"{WABA}/phone_numbers")
    emulator.admin.state()  # admin calls are not counted
    assert emulator.admin.counts() == {
        "total": 7,
        "reads": 4,
        "writes": 3,
        "by_operation": {
            "GET app": 1,
            "GET subscribed_apps": 1,
            "POST subscribed_apps": 1,
            "DELETE subscribed_apps": 1,
            "GET phone_number": 1,
            "POST phone_number": 1,
            "GET phone_numbers": 1,
        },
        "faults_injected": 0,
        "verifications": 0,
    }
    assert [c["seq"] for c in emulator.admin.calls()] == list(range(1, 8))


# --------------------------------------------------------------------------- admin state changes


def test_admin_changes_state_outside_pulumi_without_verification(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    admin = emulator.admin
    admin.set_waba_override(WABA, emulator.app_id, "https://waba.example/h")
    admin.set_phone_override(PHONE, emulator.app_id, "https://phone.example/h")
    admin.set_app_callback(emulator.app_id, "https://new-app.example/h")
    assert webhook_configuration(emulator) == {
        "phone_number": "https://phone.example/h",
        "whatsapp_business_account": "https://waba.example/h",
        "application": "https://new-app.example/h",
    }
    admin.set_waba_override(WABA, emulator.app_id, None)
    admin.set_phone_override(PHONE, emulator.app_id, None)
    assert webhook_configuration(emulator) == {"application": "https://new-app.example/h"}
    assert emulator.is_subscribed(WABA)
    assert admin.verifications() == [] and callback_receiver.challenges == []
    # Only the Graph reads are logged, not the admin calls.
    assert [c["operation"] for c in admin.calls()] == ["GET phone_number"] * 2


def test_seed_replaces_the_baseline_and_reset_returns_to_it(emulator: EmulatorHandle) -> None:
    fixture = fixtures.generate(app_id="111", token="EMU-TOKEN-seeded", wabas=2, phones_per_waba=2)
    emulator.admin.seed(fixture)
    seeded = {"Authorization": "Bearer EMU-TOKEN-seeded"}
    assert emulator.call("GET", "app", headers=seeded).json()["id"] == "111"
    assert_envelope(emulator.call("GET", "app"), 401, 190)  # the default token is gone
    emulator.admin.set_waba_override("200000000000000", "111", "https://x.example/h")
    emulator.admin.reset()
    assert emulator.admin.state() == fixture
    assert emulator.admin.calls() == []


def test_state_is_fixture_shaped(emulator: EmulatorHandle) -> None:
    state = emulator.admin.state()
    expected = fixtures.load()
    expected.pop("_comment")
    assert state == expected


# --------------------------------------------------------------------------- delivery


def verify_signature(headers: dict[str, str], body: bytes, secret: str = APP_SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Hub-Signature-256"], expected)


@pytest.mark.parametrize("rule", ["phone_number", "whatsapp_business_account", "application"])
def test_delivery_follows_precedence_and_is_signed(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver, rule: str
) -> None:
    admin = emulator.admin
    admin.set_app_callback(emulator.app_id, callback_receiver.url_for("app"))
    if rule in ("phone_number", "whatsapp_business_account"):
        admin.set_waba_override(WABA, emulator.app_id, callback_receiver.url_for("waba"))
    if rule == "phone_number":  # set through the Graph API, with verification
        config = {
            "override_callback_uri": callback_receiver.url_for("phone"),
            "verify_token": callback_receiver.verify_token,
        }
        assert (
            emulator.call("POST", PHONE, json={"webhook_configuration": config}).status_code == 200
        )
    path = {"phone_number": "/phone", "whatsapp_business_account": "/waba", "application": "/app"}[
        rule
    ]

    report = admin.deliver(PHONE, text="ping")
    assert report == {
        "delivered_to": callback_receiver.base_url + path,
        "rule": rule,
        "status": 200,
        "error": None,
    }
    [webhook] = callback_receiver.received
    assert webhook.path == path
    assert verify_signature(webhook.headers, webhook.body)
    assert not verify_signature(webhook.headers, webhook.body, "EMU-APP-SECRET-other-app")
    payload = webhook.json()
    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["entry"][0]["id"] == WABA
    assert value["metadata"]["phone_number_id"] == PHONE
    assert value["messages"][0]["text"]["body"] == "ping"


def test_delivery_for_another_app_uses_its_secret(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    emulator.admin.set_app_callback(OTHER_APP, callback_receiver.url)
    report = emulator.admin.deliver(PHONE, app_id=OTHER_APP)
    assert report["rule"] == "application" and report["status"] == 200
    [webhook] = callback_receiver.received
    assert verify_signature(webhook.headers, webhook.body, "EMU-APP-SECRET-other-app")


def test_no_delivery_once_the_app_is_unsubscribed(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    emulator.admin.set_phone_override(PHONE, emulator.app_id, callback_receiver.url)
    emulator.call("DELETE", f"{WABA}/subscribed_apps")
    report = emulator.admin.deliver(PHONE)
    assert report["delivered_to"] is None and report["status"] is None
    assert "not subscribed" in report["error"]
    assert callback_receiver.received == []


def test_template_and_account_webhooks_go_to_the_app_callback(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    admin = emulator.admin
    admin.set_app_callback(emulator.app_id, callback_receiver.url_for("app"))
    admin.set_waba_override(WABA, emulator.app_id, callback_receiver.url_for("waba"))
    admin.set_phone_override(PHONE, emulator.app_id, callback_receiver.url_for("phone"))
    template = admin.deliver(field="message_template_status_update", waba_id=WABA)
    account = admin.deliver(PHONE, field="account_update")
    messages = admin.deliver(PHONE)
    assert [(r["rule"], r["status"]) for r in (template, account, messages)] == [
        ("application", 200), ("application", 200), ("phone_number", 200)]
    assert [w.path for w in callback_receiver.received] == ["/app", "/app", "/phone"]
    fields = [w.json()["entry"][0]["changes"][0]["field"] for w in callback_receiver.received]
    assert fields == ["message_template_status_update", "account_update", "messages"]
    assert all(verify_signature(w.headers, w.body) for w in callback_receiver.received)
    with pytest.raises(EmulatorAdminError, match="phone_number_id"):
        admin.deliver()


def test_an_unreachable_callback_is_reported(emulator: EmulatorHandle) -> None:
    closed = CallbackReceiver()
    closed.stop()
    emulator.admin.set_app_callback(emulator.app_id, closed.url)
    report = emulator.admin.deliver(PHONE)
    assert report["delivered_to"] == closed.url and report["status"] is None
    assert "ConnectionError" in report["error"]


def test_the_built_in_sink_verifies_and_receives(emulator: EmulatorHandle) -> None:
    sink = emulator.admin.callback_url("demo/phone")
    config = {"override_callback_uri": sink, "verify_token": "any-token-will-do"}
    assert emulator.call("POST", PHONE, json={"webhook_configuration": config}).status_code == 200
    assert emulator.admin.deliver(PHONE, text="hello sink")["status"] == 200
    [received] = emulator.admin.received()
    assert received["name"] == "demo/phone"
    assert received["signature"].startswith("sha256=")
    assert (
        received["body"]["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"]
        == "hello sink"
    )
    assert [c["operation"] for c in emulator.admin.calls()] == ["POST phone_number"]


# --------------------------------------------------------------------------- concurrency


def test_a_slow_verification_does_not_block_other_calls(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    callback_receiver.delay_s = 2.0
    body = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    results: list[int] = []
    writer = threading.Thread(
        target=lambda: results.append(
            emulator.call("POST", f"{WABA}/subscribed_apps", json=body).status_code
        )
    )
    writer.start()
    deadline = time.monotonic() + 5
    while not callback_receiver.challenges and time.monotonic() < deadline:
        time.sleep(0.01)  # wait until the verification call is in flight
    for _ in range(5):
        assert emulator.call("GET", f"{WABA_2}/subscribed_apps").status_code == 200
    emulator.admin.set_phone_override(PHONE, emulator.app_id, "https://during.example/h")
    assert writer.is_alive(), "reads and writes went through while the verification waited"
    writer.join(10)
    assert results == [200]


def test_parallel_writes_all_land(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    phones = emulator.routable_phone_ids
    config = {
        "override_callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    statuses: list[int] = []

    def write(phone: str) -> None:
        statuses.append(
            emulator.call("POST", phone, json={"webhook_configuration": config}).status_code
        )

    threads = [threading.Thread(target=write, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [200] * len(phones)
    assert all(emulator.phone_override(phone) == callback_receiver.url for phone in phones)


# --------------------------------------------------------------------------- hourly call budget

USAGE = "X-Business-Use-Case-Usage"
GEN_WABA = "200000000000000"
GEN_PHONE = "300000000000000"


def usage_header(response: requests.Response) -> dict[str, Any]:
    """The one entry of the answer's usage header, for the one WABA it names."""
    data = json.loads(response.headers[USAGE])
    (waba_id, entries), = data.items()
    (entry,) = entries
    return {"waba_id": waba_id, **entry}


def seed_budget(emulator: EmulatorHandle, hourly_budget: int) -> None:
    emulator.admin.seed(fixtures.generate(wabas=2, phones_per_waba=2,
                                          hourly_budget=hourly_budget))


def test_every_answer_about_a_waba_carries_its_usage(emulator: EmulatorHandle) -> None:
    seed_budget(emulator, 200)
    read = emulator.call("GET", f"{GEN_WABA}/subscribed_apps")
    assert usage_header(read) == {
        "waba_id": GEN_WABA, "type": "whatsapp_business_management", "call_count": 0,
        "total_cputime": 0, "total_time": 0, "estimated_time_to_regain_access": 0}
    # 0 %: one call of 200 is half a percent, floored. A phone number's calls go to its WABA.
    emulator.call("GET", GEN_PHONE, params={"fields": "webhook_configuration"})
    bad = emulator.call("POST", GEN_PHONE, json={"webhook_configuration": {}})
    assert_envelope(bad, 400, 100)
    assert usage_header(bad) == {**usage_header(read), "call_count": 1}  # errors too
    assert emulator.admin.waba_usage(GEN_WABA)["calls"] == 3
    # GET /app is not charged to any WABA and says nothing about one.
    assert USAGE not in emulator.call("GET", "app").headers
    assert emulator.admin.usage() == [emulator.admin.waba_usage(GEN_WABA)]


def test_past_the_budget_calls_are_refused_with_80007_and_change_nothing(
    emulator: EmulatorHandle, callback_receiver: CallbackReceiver
) -> None:
    seed_budget(emulator, 200)
    emulator.admin.spend(GEN_WABA, 199)
    last = emulator.call("GET", f"{GEN_WABA}/phone_numbers")
    assert last.status_code == 200
    assert usage_header(last)["call_count"] == 100
    assert usage_header(last)["estimated_time_to_regain_access"] == 60
    config = {"override_callback_uri": callback_receiver.url,
              "verify_token": callback_receiver.verify_token}
    refused = emulator.call("POST", GEN_PHONE, json={"webhook_configuration": config})
    error = assert_envelope(refused, 400, 80007)
    assert "rate limit" in error["message"]
    assert usage_header(refused)["estimated_time_to_regain_access"] == 60
    assert emulator.phone_override(GEN_PHONE) is None
    assert emulator.admin.verifications() == []  # refused before Meta calls the URL
    assert emulator.admin.waba_usage(GEN_WABA)["calls"] == 200  # a refusal is not charged
    # The other WABA and another app's budget on this one are untouched.
    assert emulator.call("GET", "200000000000001/subscribed_apps").status_code == 200
    other = {"Authorization": "Bearer EMU-TOKEN-other-1"}
    emulator.admin.seed(fixtures.generate(other_apps=1, hourly_budget=200))
    emulator.admin.spend(GEN_WABA, 200)
    assert emulator.call("GET", f"{GEN_WABA}/subscribed_apps", headers=other).status_code == 200


def test_moving_the_clock_an_hour_gives_the_budget_back(emulator: EmulatorHandle) -> None:
    seed_budget(emulator, 200)
    emulator.admin.spend(GEN_WABA, 200)
    assert_envelope(emulator.call("GET", f"{GEN_WABA}/subscribed_apps"), 400, 80007)
    assert emulator.admin.advance_clock(1800) == 1800
    assert emulator.admin.waba_usage(GEN_WABA)["estimated_time_to_regain_access"] == 30
    emulator.admin.advance_clock(1800)
    answer = emulator.call("GET", f"{GEN_WABA}/subscribed_apps")
    assert answer.status_code == 200 and usage_header(answer)["call_count"] == 0
    emulator.admin.reset()  # usage and clock go back with the state
    assert emulator.admin.usage() == []
    assert emulator.admin.advance_clock(0) == 0


def test_the_budget_is_set_through_the_admin_api(emulator: EmulatorHandle) -> None:
    assert emulator.admin.waba_usage(WABA)["hourly_budget"] == 5000  # registered numbers
    assert emulator.admin.set_hourly_budget(WABA, 2) == 2
    emulator.call("GET", f"{WABA}/subscribed_apps")
    emulator.call("GET", PHONE)
    assert_envelope(emulator.call("GET", PHONE), 400, 80007)
    assert emulator.admin.set_hourly_budget(WABA, None) == 5000
    assert emulator.call("GET", PHONE).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/clock", {"advance_seconds": -1}),
    ("POST", "/clock", {"advance_seconds": "60"}),
    ("PUT", f"/wabas/{WABA}/budget", {"hourly_budget": 0}),
    ("PUT", f"/wabas/{WABA}/budget", {}),
    ("PUT", "/wabas/999/budget", {"hourly_budget": 10}),
    ("POST", f"/wabas/{WABA}/usage", {"calls": -3}),
    ("POST", "/wabas/999/usage", {"calls": 3}),
])
def test_bad_budget_admin_calls_get_the_envelope(
    emulator: EmulatorHandle, method: str, path: str, body: dict[str, Any]
) -> None:
    response = requests.request(method, f"{emulator.url}/_emulator{path}", json=body, timeout=10)
    assert_envelope(response, 400, 100, 33 if "999" in path else None)


def test_a_faults_own_usage_header_wins(emulator: EmulatorHandle) -> None:
    emulator.admin.add_fault(**RATE_LIMIT)
    faulted = emulator.call("GET", f"{WABA}/subscribed_apps")
    assert faulted.headers[USAGE] == RATE_LIMIT["headers"][USAGE]
    assert emulator.admin.waba_usage(WABA)["calls"] == 0  # a faulted answer is not charged
    emulator.admin.add_fault(status=500)
    assert usage_header(emulator.call("GET", f"{WABA}/subscribed_apps"))["waba_id"] == WABA


# --------------------------------------------------------------------------- server and CLI


def test_the_server_binds_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(host="0.0.0.0")


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "waba_webhooks.emulator"],
    [str(Path(sys.executable).with_name("waba-webhooks")), "emulator"],
], ids=["python -m", "waba-webhooks emulator"])
def test_the_cli_serves_until_sigterm(tmp_path: Path, command: list[str]) -> None:
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps(fixtures.generate(wabas=1, phones_per_waba=2)))
    process = subprocess.Popen(
        [*command, "--port", "0", "--fixture", str(fixture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("emulator listening on http://127.0.0.1:"), line
        url = line.removeprefix("emulator listening on ")
        response = requests.get(
            f"{url}/v23.0/200000000000000/phone_numbers",
            headers={"Authorization": f"Bearer {fixtures.DEFAULT_TOKEN}"},
            timeout=10,
        )
        assert [p["id"] for p in response.json()["data"]] == ["300000000000000", "300000000000001"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_cli_refuses_a_bad_fixture(tmp_path: Path) -> None:
    fixture = tmp_path / "broken.json"
    fixture.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "waba_webhooks.emulator", "--fixture", str(fixture)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid fixture" in result.stderr
    assert "Traceback" not in result.stderr
