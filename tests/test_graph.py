"""GraphClient against the emulator over real HTTP: requests, typed errors, retry policy."""

import http.server
import itertools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest

from waba_webhooks import errors
from waba_webhooks.config import Settings
from waba_webhooks.emulator import fixtures
from waba_webhooks.graph import GraphClient
from waba_webhooks.graph.client import _app_subscription

WABA = "102290129340398"


@pytest.fixture
def client(emulator):
    return GraphClient(
        Settings(
            access_token=emulator.token,
            graph_url=emulator.url,
            retry_budget_seconds=5,
            max_retries=4,
        )
    )


def graph_calls(emulator):
    return emulator.admin.calls()


def test_app_id_is_looked_up_once(client, emulator):
    assert client.app_id() == emulator.app_id
    assert client.app_id() == emulator.app_id
    assert emulator.admin.counts()["by_operation"].get("GET app") == 1


def test_no_connection_is_thrown_away_at_full_concurrency(emulator, caplog):
    """As many calls as the process can have in flight, all at once through one client, each
    keep their connection afterwards: urllib3 never reports a full pool and drops one."""
    settings = Settings(access_token=emulator.token, graph_url=emulator.url,
                        app_id=emulator.app_id, write_concurrency=1)
    in_flight = settings.calls_in_flight
    client = GraphClient(settings)
    emulator.admin.set_latency(300)  # every call still open when the last one starts
    started = threading.Barrier(in_flight)

    def call(_: int) -> tuple[bool, str | None]:
        started.wait(timeout=30)
        return client.waba_override(WABA)

    with (caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"),
          ThreadPoolExecutor(in_flight) as pool):
        answers = list(pool.map(call, range(in_flight)))
    assert answers == [(True, None)] * in_flight
    assert emulator.admin.counts()["total"] == in_flight
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def test_configured_app_id_needs_no_lookup(emulator):
    client = GraphClient(
        Settings(access_token=emulator.token, graph_url=emulator.url, app_id=emulator.app_id)
    )
    assert client.waba_override(WABA) == (True, None)
    assert "GET app" not in emulator.admin.counts()["by_operation"]


def test_waba_override_set_read_clear_keeps_the_subscription(client, emulator, callback_receiver):
    client.set_waba_override(WABA, callback_receiver.url, callback_receiver.verify_token)
    assert client.waba_override(WABA) == (True, callback_receiver.url)
    client.clear_waba_override(WABA)
    assert client.waba_override(WABA) == (True, None)
    assert not [c for c in graph_calls(emulator) if c["method"] == "DELETE"]


def test_phone_override_set_read_clear(client, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    before = client.webhook_configuration(phone)
    assert before.phone_number is None and before.application
    assert before.effective == before.application and before.effective_rule == "application"
    client.set_phone_override(phone, callback_receiver.url, callback_receiver.verify_token)
    after = client.webhook_configuration(phone)
    assert after.phone_number == callback_receiver.url
    assert after.effective_rule == "phone_number"
    client.clear_phone_override(phone)
    assert client.webhook_configuration(phone).phone_number is None


def test_phone_numbers_reads_a_whole_waba_in_one_call_per_page(emulator):
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=230))
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  app_id=emulator.app_id))
    emulator.admin.set_phone_override("300000000000229", emulator.app_id, "https://p.example/h")
    numbers = client.phone_numbers("200000000000000")
    assert len(numbers) == 230 and len({n.phone_number_id for n in numbers}) == 230
    last = numbers[-1]
    assert last.phone_number_id == "300000000000229" and last.display_phone_number
    assert last.webhook_configuration.effective == "https://p.example/h"
    assert numbers[0].webhook_configuration.effective_rule == "application"
    # 230 numbers, pages of 100: three calls, no per-number read.
    assert emulator.admin.counts()["by_operation"] == {"GET phone_numbers": 3}


def test_subscribe_app_subscribes_a_waba_without_an_override(client, emulator):
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=1, subscribed=False))
    assert client.waba_override("200000000000000") == (False, None)
    client.subscribe_app("200000000000000")
    assert client.waba_override("200000000000000") == (True, None)


def test_token_only_in_the_authorization_header(client, emulator, callback_receiver):
    client.set_waba_override(WABA, callback_receiver.url, callback_receiver.verify_token)
    for call in graph_calls(emulator):
        assert emulator.token not in repr(call)
        assert "access_token" not in call["query"]


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        (
            {"status": 401, "error": {"code": 190, "message": "Invalid OAuth access token"}},
            errors.InvalidTokenError,
        ),
        (
            {"status": 403, "error": {"code": 200, "message": "(#200) Permissions error"}},
            errors.PermissionDeniedError,
        ),
        (
            {"status": 400, "error": {"code": 100, "message": "(#100) Invalid parameter"}},
            errors.InvalidParameterError,
        ),
    ],
)
def test_non_retryable_errors_fail_fast_with_metas_fields(client, emulator, fault, cls):
    emulator.admin.add_fault(count=5, **fault)
    with pytest.raises(cls) as caught:
        client.subscribed_apps(WABA)
    assert caught.value.fbtrace_id
    assert fault["error"]["message"] in str(caught.value)
    assert len(graph_calls(emulator)) == 1, "a non-retryable error must not be retried"


def test_bad_token_is_invalid_token_error_without_the_token(emulator):
    bad = "EAAB-not-a-real-token-0123456789"
    client = GraphClient(Settings(access_token=bad, graph_url=emulator.url))
    with pytest.raises(errors.InvalidTokenError) as caught:
        client.app_id()
    assert bad not in str(caught.value) and bad not in repr(caught.value.__dict__)
    assert "whatsapp:accessToken" in str(caught.value)


def test_unknown_waba_is_not_found(client):
    with pytest.raises(errors.NotFoundError):
        client.subscribed_apps("999999999999")


def test_failed_verification_is_a_callback_verification_error(client, emulator, callback_receiver):
    with pytest.raises(errors.CallbackVerificationError) as caught:
        client.set_waba_override(WABA, callback_receiver.url, "not-the-receivers-token")
    assert "not-the-receivers-token" not in str(caught.value)
    assert client.waba_override(WABA) == (True, None)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 400, "error": {"code": 4, "message": "Application request limit reached"}},
        {"status": 400, "error": {"code": 80007, "message": "WABA rate limit"}},
        {"status": 429, "error": {"code": 130429, "message": "Throughput limit"}},
        {"status": 500, "error": {"code": 1, "message": "Unknown error", "is_transient": True}},
        {"status": 503, "error": {"code": 2, "message": "Service temporarily unavailable"}},
        {"status": 400, "error": {"code": 9000, "message": "flaky", "is_transient": True}},
        {"drop_connection": True},
    ],
)
def test_retryable_failures_are_retried_then_succeed(client, emulator, fault):
    emulator.admin.add_fault(count=2, path="subscribed_apps", **fault)
    assert client.waba_override(WABA) == (True, None)
    calls = [c for c in graph_calls(emulator) if c["operation"] == "GET subscribed_apps"]
    assert [c["fault"] for c in calls] == [True, True, False]


def test_retries_stop_at_the_attempt_limit(emulator):
    client = GraphClient(
        Settings(
            access_token=emulator.token,
            graph_url=emulator.url,
            app_id=emulator.app_id,
            max_retries=2,
        )
    )
    emulator.admin.add_fault(count=10, status=503, error={"code": 2, "message": "down"})
    with pytest.raises(errors.TransientError):
        client.subscribed_apps(WABA)
    assert len(graph_calls(emulator)) == 3


def test_meta_asked_wait_longer_than_the_budget_gives_up_at_once(client, emulator):
    usage = '{"102290129340398": [{"type": "whatsapp", "estimated_time_to_regain_access": 30}]}'
    emulator.admin.add_fault(
        count=5,
        status=400,
        error={"code": 80008, "message": "WABA rate limit hit"},
        headers={"X-Business-Use-Case-Usage": usage},
    )
    started = time.monotonic()
    with pytest.raises(errors.RateLimitError) as caught:
        client.subscribed_apps(WABA)
    assert caught.value.retry_after == 30 * 60
    assert len(graph_calls(emulator)) == 1
    assert time.monotonic() - started < 5


def test_retry_after_header_is_honoured(client, emulator):
    emulator.admin.add_fault(
        count=1, status=429, error={"code": 4, "message": "slow down"}, headers={"Retry-After": "1"}
    )
    started = time.monotonic()
    client.subscribed_apps(WABA)
    assert time.monotonic() - started >= 1.0


def test_total_wait_is_capped_by_the_budget(emulator):
    client = GraphClient(
        Settings(
            access_token=emulator.token,
            graph_url=emulator.url,
            app_id=emulator.app_id,
            max_retries=50,
            retry_budget_seconds=1.5,
        )
    )
    emulator.admin.add_fault(count=100, status=500, error={"code": 1, "message": "down"})
    started = time.monotonic()
    with pytest.raises(errors.TransientError):
        client.subscribed_apps(WABA)
    assert time.monotonic() - started < 1.5 + 2.0  # budget + one request's slack


def test_retry_log_lines_carry_no_token(client, emulator, caplog):
    emulator.admin.add_fault(count=1, status=503, error={"code": 2, "message": "down"})
    with caplog.at_level(logging.DEBUG):
        client.subscribed_apps(WABA)
    assert "retrying" in caplog.text
    assert emulator.token not in caplog.text


def test_one_client_serves_many_threads(client, emulator, callback_receiver):
    results: list[object] = []
    phones = emulator.routable_phone_ids

    def work(phone):
        client.set_phone_override(phone, callback_receiver.url, callback_receiver.verify_token)
        results.append(client.webhook_configuration(phone).phone_number)

    threads = [threading.Thread(target=work, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [callback_receiver.url] * len(phones)


class _KeepAliveHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET like GET /app, over HTTP/1.1 keep-alive (the emulator's server closes
    each connection), and records the client port of each request."""

    protocol_version = "HTTP/1.1"
    ports: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.ports.append(self.client_address[1])
        body = b'{"id": "670843887433847"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_connections_are_reused_across_calls_and_threads():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = GraphClient(Settings(access_token="t",
                                      graph_url=f"http://127.0.0.1:{server.server_port}"))
        calls = [threading.Thread(target=lambda: [client.request("GET", "app")
                                                  for _ in range(25)]) for _ in range(4)]
        for t in calls:
            t.start()
        for t in calls:
            t.join()
    finally:
        server.shutdown()
        server.server_close()
    assert len(_KeepAliveHandler.ports) == 100
    assert len(set(_KeepAliveHandler.ports)) <= 4, "a new connection per call"


class _ProxyHandler(_KeepAliveHandler):
    """A forward proxy that answers every GET itself (like GET /app), recording the URL asked
    for: a client sends a proxy the whole URL."""

    urls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.urls.append(self.path)
        super().do_GET()


@pytest.mark.parametrize("name", ["http_proxy", "HTTP_PROXY"])
def test_the_environments_proxy_is_used_unless_no_proxy_names_the_host(emulator, monkeypatch,
                                                                       name):
    """The client reads the environment's proxy settings once, not at every call, and still
    follows them: calls go through the proxy, and straight to Graph when ``NO_PROXY`` names
    its host."""
    for variable in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy",
                     "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server_port}")
        proxied = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url))
        assert proxied.app_id() == "670843887433847"  # the proxy's answer
        assert _ProxyHandler.urls == [
            f"{emulator.url}/{proxied.settings.api_version}/app?fields=id"]
        assert emulator.admin.counts()["total"] == 0

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url))
        assert direct.app_id() == emulator.app_id
        assert len(_ProxyHandler.urls) == 1
    finally:
        _ProxyHandler.urls.clear()
        proxy.shutdown()
        proxy.server_close()


def test_the_environments_ca_bundle_is_used(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = GraphClient(Settings(access_token="t", graph_url="https://graph.example"))
    assert client._session.verify == str(bundle)


def test_client_requests_match_metas_openapi(client, emulator, callback_receiver, openapi):
    seen = []
    client._session.hooks["response"].append(lambda r, *a, **k: seen.append(r))
    phone = emulator.phone_ids[0]
    client.set_waba_override(WABA, callback_receiver.url, callback_receiver.verify_token)
    client.subscribed_apps(WABA)
    client.clear_waba_override(WABA)
    client.set_phone_override(phone, callback_receiver.url, callback_receiver.verify_token)
    client.webhook_configuration(phone)
    client.clear_phone_override(phone)
    assert len(seen) == 6
    for response in seen:
        openapi.validate_request(response.request)
        openapi.validate_response(response.request, response)


# --------------------------------------------------------------------------- hourly call budget

GEN_WABA = "200000000000000"
GEN_PHONES = [f"3000000000000{i:02d}" for i in range(8)]


def budget_client(emulator, **settings):
    return GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                app_id=emulator.app_id, **settings))


def seed_spent(emulator, calls: int, hourly_budget: int = 200) -> None:
    """One WABA of 8 numbers at ``hourly_budget`` calls an hour, ``calls`` of them spent."""
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=8,
                                          hourly_budget=hourly_budget))
    emulator.admin.spend(GEN_WABA, calls)


def test_calls_to_a_waba_near_its_budget_are_spaced_across_threads(emulator):
    seed_spent(emulator, 170)  # 85 % of 200
    client = budget_client(emulator, retry_budget_seconds=4)  # gaps of at most 4 / 8 s
    answered: list[float] = []
    client._session.hooks["response"].append(lambda r, *a, **k: answered.append(time.monotonic()))
    client.subscribed_apps(GEN_WABA)  # the client learns the WABA's usage
    threads = [threading.Thread(target=client.webhook_configuration, args=(phone,))
               for phone in GEN_PHONES[:4]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Four threads, four numbers the client had never called: one call at a time, 0.5 s apart.
    gaps = [b - a for a, b in itertools.pairwise(answered[1:])]
    assert len(gaps) == 3 and min(gaps) > 0.4, gaps
    assert emulator.admin.waba_usage(GEN_WABA)["calls"] == 175


def test_a_spent_waba_fails_at_once_naming_the_waba_and_the_wait(emulator):
    seed_spent(emulator, 200)
    client = budget_client(emulator)  # retry budget 60 s: less than Meta's hour
    started = time.monotonic()
    with pytest.raises(errors.BudgetExhaustedError) as caught:
        client.webhook_configuration(GEN_PHONES[0])
    error = caught.value
    assert isinstance(error, errors.RateLimitError)
    assert (error.waba_id, error.wait_seconds, error.code) == (GEN_WABA, 3600, 80007)
    assert error.fbtrace_id
    text = str(error)
    assert f"WABA {GEN_WABA}" in text and "about 60 minutes" in text
    assert "whatsapp:retryBudgetSeconds" in text and "registered phone number" in text
    assert len(graph_calls(emulator)) == 1, "a refusal with a long wait must not be retried"
    # The client now knows the WABA is spent: the next call for it is not even made.
    with pytest.raises(errors.BudgetExhaustedError) as again:
        client.subscribed_apps(GEN_WABA)
    assert again.value.waba_id == GEN_WABA and again.value.wait_minutes == 60
    assert len(graph_calls(emulator)) == 1
    assert time.monotonic() - started < 5


def test_the_answer_that_spends_the_budget_stops_the_next_call(emulator):
    seed_spent(emulator, 199)
    client = budget_client(emulator)
    client.subscribed_apps(GEN_WABA)  # the 200th call: accepted, usage 100 %, wait 60 min
    with pytest.raises(errors.BudgetExhaustedError):
        client.subscribed_apps(GEN_WABA)
    assert len(graph_calls(emulator)) == 1


def test_the_usage_header_of_an_error_answer_is_read_too(emulator):
    seed_spent(emulator, 199)
    client = budget_client(emulator)
    with pytest.raises(errors.InvalidParameterError):  # charged, and it spends the budget
        client.set_phone_override(GEN_PHONES[0], "ftp://not-a-callback.example", "token")
    with pytest.raises(errors.BudgetExhaustedError):
        client.webhook_configuration(GEN_PHONES[0])
    assert len(graph_calls(emulator)) == 1


def test_a_wait_shorter_than_the_retry_budget_is_waited_out(emulator):
    usage = {GEN_WABA: [{"type": "whatsapp_business_management", "call_count": 100,
                         "estimated_time_to_regain_access": 0.02}]}  # 1.2 s
    seed_spent(emulator, 0)
    emulator.admin.add_fault(status=400, error={"code": 80007, "message": "rate limit"},
                             headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    client = budget_client(emulator, retry_budget_seconds=5)
    started = time.monotonic()
    client.subscribed_apps(GEN_WABA)
    assert time.monotonic() - started >= 1.2
    assert [c["status"] for c in graph_calls(emulator)] == [400, 200]


# --------------------------------------------------------------------------- app subscription

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"


@pytest.fixture
def app_client(emulator):
    """Our app with its app secret: the client forms the app token for the subscription calls."""
    return GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                app_id=emulator.app_id, app_secret=APP_SECRET,
                                allow_http_loopback=True, retry_budget_seconds=5))


def test_app_subscription_reads_writes_and_deletes_with_the_app_token(
        app_client, emulator, callback_receiver):
    app = emulator.app_id
    live = app_client.app_subscription(app)
    assert live is not None and live.callback_url == emulator.app_callback_url
    assert live.active and "messages" in live.fields
    app_client.subscribe_app_webhooks(app, callback_receiver.url, callback_receiver.verify_token,
                                      ["calls", "messages"])
    assert app_client.app_subscription(app).callback_url == callback_receiver.url
    assert "calls" in app_client.app_subscription(app).fields
    app_client.unsubscribe_app_fields(app, ["calls", "account_alerts"])
    fields = app_client.app_subscription(app).fields
    assert "calls" not in fields and "account_alerts" not in fields and "messages" in fields
    app_client.delete_app_subscription(app)
    assert app_client.app_subscription(app) is None
    calls = emulator.admin.calls()
    assert [(c["method"], c["query"]) for c in calls if c["method"] == "DELETE"] == [
        ("DELETE", {"object": "whatsapp_business_account",
                    "fields": "calls,account_alerts"}),
        ("DELETE", {"object": "whatsapp_business_account"}),
    ]
    post = next(c for c in calls if c["method"] == "POST")
    assert post["body"] == {"object": "whatsapp_business_account",
                            "callback_url": callback_receiver.url, "verify_token": "***",
                            "fields": "calls,messages", "include_values": True}


def test_unsubscribing_no_field_is_refused_before_any_call(app_client, emulator):
    # A DELETE without fields would remove the whole subscription: never by accident.
    with pytest.raises(ValueError):
        app_client.unsubscribe_app_fields(emulator.app_id, [])
    assert emulator.admin.calls() == []


def test_app_subscription_accepts_fields_as_bare_strings_and_ignores_other_objects(
        app_client, emulator):
    fixture = fixtures.load()
    fixture["apps"][0]["other_subscriptions"] = {
        "page": {"callback_url": "https://pages.example/hook", "fields": ["feed"]}}
    fixture["apps"][0]["fields"] = ["messages", "account_update"]
    emulator.admin.seed(fixture)
    live = app_client.app_subscription(emulator.app_id)
    assert live.fields == ("messages", "account_update")
    # Some API versions list the fields as bare strings.
    assert _app_subscription({"callback_url": "https://a.example/h", "active": True,
                              "fields": ["messages", {"name": "calls"}]}).fields == (
        "messages", "calls")
    emulator.admin.set_app_subscription(emulator.app_id, None, None)
    assert app_client.app_subscription(emulator.app_id) is None


def test_without_an_app_secret_it_is_a_configuration_error_naming_the_setting(emulator):
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  app_id=emulator.app_id))
    with pytest.raises(errors.ConfigurationError) as caught:
        client.app_subscription(emulator.app_id)
    assert "whatsapp:appSecret" in str(caught.value)
    assert "WHATSAPP_APP_SECRET" in str(caught.value)
    assert emulator.admin.calls() == []


def test_a_wrong_app_secret_is_an_app_token_error_without_the_secret(emulator):
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  app_id=emulator.app_id, app_secret="WRONG-SECRET-42"))
    with pytest.raises(errors.AppTokenRequiredError) as caught:
        client.app_subscription(emulator.app_id)
    assert "whatsapp:appSecret" in str(caught.value) and caught.value.code == 190
    assert "WRONG-SECRET-42" not in str(caught.value)
    assert "WRONG-SECRET-42" not in repr(client.settings)


@pytest.mark.parametrize(("error", "cls"), [
    ({"code": 15, "message": "(#15) This method must be called with an app access_token."},
     errors.AppTokenRequiredError),
    ({"code": 190, "message": "(#190) Application Secret required"},
     errors.AppTokenRequiredError),
])
def test_metas_app_token_refusals_say_which_setting_provides_it(app_client, emulator, error, cls):
    emulator.admin.add_fault(path="subscriptions", status=400, error=error)
    with pytest.raises(cls) as caught:
        app_client.app_subscription(emulator.app_id)
    text = str(caught.value)
    assert error["message"] in text and "app access token" in text
    assert "whatsapp:appSecret" in text and "WHATSAPP_APP_SECRET" in text


def test_metas_use_the_app_dashboard_answer_says_what_to_do(
        app_client, emulator, callback_receiver):
    message = ("(#100) Webhooks for WhatsApp is not supported through this API. Please use the "
               "App Dashboard")
    emulator.admin.add_fault(path="subscriptions", method="POST", status=400,
                             error={"code": 100, "message": message})
    with pytest.raises(errors.AppSubscriptionRefusedError) as caught:
        app_client.subscribe_app_webhooks(emulator.app_id, callback_receiver.url,
                                          callback_receiver.verify_token, ["messages"])
    text = str(caught.value)
    assert message in text and "App Dashboard" in text and "adopts it without a write" in text
    assert isinstance(caught.value, errors.InvalidParameterError)


def test_a_failed_app_subscription_verification_names_the_url(app_client, emulator,
                                                               callback_receiver):
    with pytest.raises(errors.CallbackVerificationError) as caught:
        app_client.subscribe_app_webhooks(emulator.app_id, callback_receiver.url, "not-the-token",
                                          ["messages"])
    assert callback_receiver.url in str(caught.value) and "not-the-token" not in str(caught.value)
def test_business_wabas_follows_paging_next(client, emulator):
    fixture = fixtures.generate(wabas=130)
    emulator.admin.seed(fixtures.with_business(fixture, owned=5))
    owned = client.business_wabas(fixtures.DEFAULT_BUSINESS_ID, "owned")
    clients = client.business_wabas(fixtures.DEFAULT_BUSINESS_ID, "client")
    ids = [w["id"] for w in fixture["wabas"]]
    assert [w.id for w in owned] == ids[:5] and {w.relation for w in owned} == {"owned"}
    assert [w.id for w in clients] == ids[5:] and clients[0].name == "WABA 6"
    pages = [c for c in graph_calls(emulator) if "client_whatsapp" in c["path"]]
    assert len(pages) == 2  # 125 client WABAs in pages of 100


def test_business_wabas_without_access_is_a_permission_error(client, emulator):
    fixture = fixtures.generate(wabas=1, other_apps=1)
    emulator.admin.seed(fixtures.with_business(fixture, owned=1,
                                               apps_with_access=["880000000000001"]))
    with pytest.raises(errors.GraphError) as raised:
        client.business_wabas(fixtures.DEFAULT_BUSINESS_ID, "owned")
    assert raised.value.code == 200
