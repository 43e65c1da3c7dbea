"""Hostile requests to the emulator over real HTTP: it answers every one with JSON -- Graph's
error envelope for an error, never HTML or a traceback -- and a refused write changes nothing.

Requests go out over a raw socket (`send`), so bodies, paths and headers are exactly the bytes
generated. Callback URLs in generated bodies either fail the emulator's checks or point at a
closed port on loopback, so a verification call fails at once and never leaves the machine
(`Hostile.safe_url`). Hypothesis is driven from a nested ``@given`` function so that the
function-scoped ``emulator`` fixture is set up once per test; every test starts from a state
with overrides set at both levels, so a write that clears one by mistake shows.

``WABA_REPORT_EXAMPLES=1`` makes the last test print how many examples each property ran.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import pytest
import urllib3.util
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tests.conftest import EmulatorHandle
from tests.examples import BASE_EXAMPLES, ExampleTally, property_settings
from waba_webhooks.emulator.exceptions import GraphAPIError
from waba_webhooks.emulator.fixtures import load
from waba_webhooks.emulator.models import validate_callback_url

WABA = "102290129340398"
WABA_2 = "102290129340399"
PHONE = "106540352242922"
OTHER_TOKEN = "EMU-TOKEN-other-app"
MAX_BODY = 64 * 1024
#: Socket timeout of one request: verification of a closed port fails at once.
TIMEOUT = 8.0
#: Examples per property: three quarters of the base count, since each example here is one to
#: three HTTP round trips.
MAX_EXAMPLES = BASE_EXAMPLES * 3 // 4
SETTINGS = property_settings(MAX_EXAMPLES)
#: Overrides set before every test (our app), so that a wrongly cleared one shows.
WABA_BEFORE = "https://waba-before.example/hook"
PHONE_BEFORE = "https://phone-before.example/hook"

TALLY = ExampleTally(MAX_EXAMPLES)
EXAMPLES = TALLY.counts


# --------------------------------------------------------------------------- raw HTTP


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def send(
    emulator: EmulatorHandle,
    method: str,
    target: bytes | str,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes | None = None,
    *,
    auth: bool = True,
    chunked: bool = False,
    version: bytes = b"HTTP/1.1",
) -> Answer:
    """One request, byte for byte: ``target`` is the request-target as sent (nothing is
    quoted), ``headers`` are added after Host and Connection (and our token unless
    ``auth=False``); a body gets a Content-Length, or chunked transfer coding."""
    url = urlsplit(emulator.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    if isinstance(target, str):
        target = target.encode()
    lines = [b"%s %s %s" % (method.encode(), target, version),
             b"Host: %s:%d" % (host.encode(), port), b"Connection: close"]
    if auth:
        lines.append(b"Authorization: Bearer " + emulator.token.encode())
    lines += [name + b": " + value for name, value in headers or []]
    payload = b""
    if body is not None and chunked:
        lines.append(b"Transfer-Encoding: chunked")
        chunks = [body[i : i + 8192] for i in range(0, len(body), 8192)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    elif body is not None:
        lines.append(b"Content-Length: %d" % len(body))
        payload = body
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        # It may answer (413) before reading a huge body: read the answer anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + payload)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return Answer(response.status, response.msg, response.read())


def graph(path: str) -> str:
    return f"/v23.0/{path}"


# --------------------------------------------------------------------------- checks


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def check_answer(answer: Answer, secrets: tuple[str, ...] = ()) -> Any:
    """The answer is JSON; an error is Graph's envelope; nothing leaks. Returns the JSON."""
    assert answer.headers.get_content_type() == "application/json", answer
    text = answer.body.decode("utf-8")
    assert "Traceback" not in text and 'File "' not in text, text
    assert "<html" not in text.lower() and "<!doctype" not in text.lower(), text
    data = json.loads(text)
    # A malformed request is the client's fault: never "an unknown error has occurred".
    assert 200 <= answer.status < 500, text
    if answer.status >= 400:
        assert isinstance(data, dict) and list(data) == ["error"], text
        error = data["error"]
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["type"], str) and error["type"]
        assert isinstance(error["code"], int) and not isinstance(error["code"], bool)
        assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]
        assert isinstance(error["is_transient"], bool)
        assert answer.headers["x-fb-trace-id"] == error["fbtrace_id"]
        if error["code"] == 190:
            assert answer.status == 401 and "invalid_token" in answer.headers["WWW-Authenticate"]
    shown = [text, *strings_in(data)]
    for secret in secrets:
        assert not any(secret in s for s in shown), (secret, text)
    return data


class Hostile:
    """One test's emulator, a closed port for callback URLs, and the state bookkeeping."""

    def __init__(self, emulator: EmulatorHandle) -> None:
        self.emulator = emulator
        with socket.socket() as sock:  # bound, never listening, then closed: nobody answers
            sock.bind(("127.0.0.1", 0))
            self.closed_port = sock.getsockname()[1]
        fixture = load()
        next(w for w in fixture["wabas"] if w["id"] == WABA)["subscriptions"][
            emulator.app_id
        ] = WABA_BEFORE
        next(p for p in fixture["phone_numbers"] if p["id"] == PHONE)["overrides"][
            emulator.app_id
        ] = PHONE_BEFORE
        emulator.admin.seed(fixture)  # the baseline that reset() returns to
        self.baseline = emulator.admin.state()

    # ---- callback URLs

    def safe_url(self, value: Any) -> bool:
        """True unless the emulator would call ``value`` somewhere else than our closed port."""
        if not isinstance(value, str):
            return True
        try:
            validate_callback_url(value)
        except GraphAPIError:
            return True  # refused before any verification call
        try:
            parsed = urllib3.util.parse_url(value)  # where requests would connect
        except (urllib3.exceptions.LocationParseError, ValueError):
            return True  # requests cannot send it
        return (parsed.host or "").lower() in ("127.0.0.1", "localhost", "[::1]") and (
            parsed.port == self.closed_port
        )

    def safe_params(self, params: Any) -> bool:
        """No callback URL in a body or form (nor in its webhook_configuration) is unsafe."""
        if not isinstance(params, dict):
            return True
        config = params.get("webhook_configuration")
        if isinstance(config, str):
            try:
                config = json.loads(config)
            except ValueError:
                config = None
        urls = [params.get("override_callback_uri")]
        if isinstance(config, dict):
            urls.append(config.get("override_callback_uri"))
        return all(self.safe_url(url) for url in urls)

    def loopback_urls(self) -> st.SearchStrategy[str]:
        """Callback URLs the emulator accepts, on the closed port: verification fails."""
        return st.builds(
            lambda scheme, host, path, query: f"{scheme}://{host}:{self.closed_port}{path}{query}",
            st.sampled_from(["http", "https", "HTTP", "Https"]),
            st.sampled_from(["127.0.0.1", "localhost", "[::1]", "LOCALHOST"]),
            st.just("") | st.text(max_size=20).map(lambda t: "/" + quote(t, safe="/")),
            st.just("") | st.text(max_size=20).map(lambda t: "?" + quote(t, safe="=&")),
        )

    def urls(self) -> st.SearchStrategy[Any]:
        """Callback URL values: loopback on the closed port (verification fails), refused
        schemes and hosts, junk and wrong types."""
        port = self.closed_port
        refused = st.sampled_from([
            "javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd", "ftp://example.com/hook", "//example.com/hook",
            "http://example.com/hook", "http://169.254.169.254/latest/meta-data/",
            f"http://127.0.0.1:{port}/a b", f"https://127.0.0.1:{port}/\x00",
            f"https://127.0.0.1:{port}/" + "a" * 300, "https://[::1/", "https://:443/",
            f"http://%31%32%37.0.0.1:{port}/", "http://[::ffff:127.0.0.1]/", "https://",
            f"https://user:pw@127.0.0.1:{port}/", f"https://127.0.0.1:{port}#frag",
            f"https://127.0.0.1:{port}:1/", "https://127.0.0.1:99999/", "", "vt",
        ])
        values = st.one_of(self.loopback_urls(), refused, st.text(max_size=30), scalars,
                           json_values)
        return values.filter(self.safe_url)

    # ---- state

    def state(self) -> dict[str, Any]:
        return self.emulator.admin.state()

    def after(self, method: str, before: dict[str, Any], answer: Answer) -> None:
        """A read or a refused write changed nothing; an accepted write stored no unverified
        URL. Either way, the next example starts from the baseline."""
        after = self.state()
        if answer.status >= 400 or method in ("GET", "HEAD", "OPTIONS"):
            assert after == before, answer.body
        for url in overrides(after) - overrides(before):
            # Verification cannot succeed (closed port): no new URL is ever stored.
            pytest.fail(f"stored an unverified callback URL {url!r}: {answer.body!r}")
        if after != self.baseline:
            self.emulator.admin.reset()


def overrides(state: dict[str, Any]) -> set[str]:
    """Every override URL in a state (WABA and phone number level, all apps)."""
    found = {url for waba in state["wabas"] for url in waba["subscriptions"].values() if url}
    return found | {url for phone in state["phone_numbers"] for url in phone["overrides"].values()}


run_property = TALLY.run


# --------------------------------------------------------------------------- strategies

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12,
)
#: Verify tokens: marked, so that finding one in an answer is never a coincidence.
tokens = st.text(min_size=4, max_size=40).map(lambda t: "VT~" + t)
GRAPH_KEYS = ["override_callback_uri", "verify_token", "webhook_configuration", "access_token",
              "fields", "limit", "after"]
keys = st.sampled_from(GRAPH_KEYS) | st.text(max_size=12)

WRITES = [("POST", f"{WABA}/subscribed_apps"), ("POST", PHONE)]
OTHERS = [
    ("POST", f"{WABA_2}/subscribed_apps"), ("DELETE", f"{WABA}/subscribed_apps"),
    ("GET", f"{WABA}/subscribed_apps"), ("GET", f"{WABA}/phone_numbers"), ("GET", PHONE),
    ("GET", "app"), ("POST", "106540352242999"), ("POST", "abc/subscribed_apps"),
    ("PUT", PHONE), ("POST", f"{PHONE}/subscribed_apps"),
]
targets = st.sampled_from(WRITES) | st.sampled_from(WRITES + OTHERS)


def body_params(hostile: Hostile) -> st.SearchStrategy[dict[str, Any]]:
    """Graph-shaped bodies: a write that passes every check up to the verification call
    (which fails) plus junk, or the fields the endpoints read, each present or not, each of
    any type, webhook_configuration as an object or a JSON string, plus unknown keys."""
    loopback = hostile.loopback_urls()
    junk = st.dictionaries(keys, json_values, max_size=2)
    near_valid = st.one_of(
        st.builds(lambda extra, url, token: {**extra, "override_callback_uri": url,
                                             "verify_token": token}, junk, loopback, tokens),
        st.builds(lambda extra, url, token, as_text: {
            **extra,
            "webhook_configuration": (json.dumps if as_text else dict)(
                {"override_callback_uri": url, "verify_token": token}
            ),
        }, junk, loopback, tokens, st.booleans()),
    )
    return near_valid | free_params(hostile)


def free_params(hostile: Hostile) -> st.SearchStrategy[dict[str, Any]]:
    urls = hostile.urls()
    config = st.one_of(
        st.fixed_dictionaries({}, optional={"override_callback_uri": urls,
                                            "verify_token": tokens | json_values}),
        json_values,
    )
    config = config | config.map(lambda c: json.dumps(c))
    return st.fixed_dictionaries(
        {},
        optional={
            "override_callback_uri": urls,
            "verify_token": tokens | json_values,
            "webhook_configuration": config,
            "access_token": st.sampled_from([OTHER_TOKEN, "EMU-TOKEN-unknown"]) | json_values,
            "limit": json_values,
            "after": json_values,
            "fields": json_values,
        },
    ).flatmap(
        lambda fields: st.dictionaries(keys, json_values, max_size=3).map(
            lambda extra: {**extra, **fields}
        )
    )


def sent_tokens(params: Any) -> tuple[str, ...]:
    """The verify tokens (our marked ones) a request carries, wherever they are."""
    if not isinstance(params, dict):
        return ()
    found = [*strings_in(params), *strings_in(_json_strings(params))]
    return tuple(s for s in found if s.startswith("VT~"))


def _json_strings(params: dict[str, Any]) -> list[Any]:
    out = []
    for value in params.values():
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                out.append(json.loads(value))
    return out


# --------------------------------------------------------------------------- properties


def test_json_bodies(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)

    @SETTINGS
    @given(targets, body_params(hostile) | json_values)
    @example(WRITES[0], {"override_callback_uri": None, "verify_token": "VT~secret"})
    @example(WRITES[1], {"webhook_configuration": {"override_callback_uri": None}})
    @example(WRITES[1], {"webhook_configuration": "{\"override_callback_uri\": 1}"})
    def prop(target: tuple[str, str], params: Any) -> None:
        method, path = target
        assume(hostile.safe_params(params))
        EXAMPLES["JSON bodies"] += 1
        before = hostile.state()
        body = json.dumps(params).encode()  # NaN and Infinity too, as Python writes them
        answer = send(emulator, method, graph(path), [(b"Content-Type", b"application/json")],
                      body)
        check_answer(answer, sent_tokens(params))
        if not isinstance(params, dict):
            assert answer.status >= 400  # a body must be an object
        hostile.after(method, before, answer)

    run_property("JSON bodies", prop)


BAD_JSON = [
    b"{", b'{"a":', b"[1,2", b'{"override_callback_uri": "x"', b"nul", b'{"a":1}}', b"{'a': 1}",
    b"\xef\xbb\xbf{}", b'{"a": NaN}', b'"str"', b"1", b"null", b"[]", b"true", b'{"a": 1e999}',
    b"\xff\xfe{\x00}\x00", b"\x00", b"{\"a\": \"\xff\"}", b'{"a": "\\ud800"}', b"{}" * 3,
    b'{"verify_token": "VT~x", }', b"/* */ {}", b"\x1f\x8b\x08\x00",
]
JSON_TYPES = [b"application/json", b"application/json; charset=utf-8", b"APPLICATION/JSON",
              b"application/json; charset=latin-1", b"application/json;;", b"text/json",
              b"application/vnd.api+json", b"text/plain", b"", b"\xff/\xfe"]


def test_bad_json_bytes(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)

    @SETTINGS
    @given(
        targets,
        st.sampled_from(BAD_JSON) | st.binary(min_size=1, max_size=300)
        | st.builds(lambda value, cut: json.dumps(value).encode()[:cut], json_values,
                    st.integers(0, 200))
        | json_values.map(lambda v: json.dumps(v).encode("utf-16")),
        st.sampled_from(JSON_TYPES) | st.none(),
    )
    def prop(target: tuple[str, str], body: bytes, content_type: bytes | None) -> None:
        method, path = target
        try:
            params = json.loads(body)
        except ValueError:
            params = None
        assume(hostile.safe_params(params))
        EXAMPLES["bad JSON bytes"] += 1
        before = hostile.state()
        headers = [] if content_type is None else [(b"Content-Type", content_type)]
        answer = send(emulator, method, graph(path), headers, body)
        check_answer(answer)
        if not isinstance(params, dict) and body.strip():
            assert answer.status >= 400  # not a JSON object (nor a form): refused
        hostile.after(method, before, answer)

    run_property("bad JSON bytes", prop)


def test_form_bodies(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)
    params = body_params(hostile).map(
        lambda p: {k: v if isinstance(v, str) else json.dumps(v) for k, v in p.items()}
    )
    junk = st.text(st.sampled_from("=&%;+ azAZ09\x00é\u202e") | st.characters(codec="utf-8"),
                   max_size=80).map(lambda t: t.encode())

    @SETTINGS
    @given(
        targets,
        params.map(lambda p: urlencode(p).encode()) | junk | st.binary(max_size=120),
        st.sampled_from([b"application/x-www-form-urlencoded",
                         b"application/x-www-form-urlencoded; charset=latin-1",
                         b"multipart/form-data; boundary=xyz", b"multipart/form-data"]),
    )
    def prop(target: tuple[str, str], body: bytes, content_type: bytes) -> None:
        method, path = target
        fields = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
        assume(hostile.safe_params(fields))
        assume(hostile.safe_params(dict(parse_qsl(body.decode("utf-8", "replace")))))
        EXAMPLES["form bodies"] += 1
        before = hostile.state()
        answer = send(emulator, method, graph(path), [(b"Content-Type", content_type)], body)
        check_answer(answer, sent_tokens(fields))
        hostile.after(method, before, answer)

    run_property("form bodies", prop)


#: Characters sent raw in a request-target: none of their UTF-8 bytes, read as latin-1 (as the
#: HTTP server reads the request line, before splitting it at whitespace), is whitespace or a
#: control character. Those are test_requests_the_http_server_refuses_get_the_envelope's.
RAW_SAFE = st.characters(codec="utf-8").filter(
    lambda ch: all(not chr(b).isspace() and b >= 0x20 and b != 0x7F for b in ch.encode())
)
SEGMENTS = [WABA, PHONE, WABA_2, "app", "subscribed_apps", "phone_numbers", "..", ".", "",
            "%2e%2e", "%2F", "%00", "%zz", "%", "%ff%fe", ";x", "*", "0", "-1", "١٢٣", "%E2%80%AE"]
VERSIONS = ["v23.0", "v1.0", "v23", "V23.0", "v99999999999.0", "v23.0.1", "", "api", "%76%32%33.0"]


@st.composite
def request_targets(draw: st.DrawFn) -> bytes:
    """Request-targets: a version-ish segment, then known, odd, unicode (raw or
    percent-encoded) and very long segments; an occasional query or odd form."""
    segments = draw(st.lists(
        st.sampled_from(SEGMENTS)
        | st.text(max_size=20).map(lambda t: quote(t, safe=""))
        | st.text(RAW_SAFE, max_size=20)
        | st.builds(lambda unit, n: unit * n, st.sampled_from(["1", "a", "%41", "é", "/"]),
                    st.integers(100, 4000)),
        max_size=4,
    ))
    path = "/".join(["", draw(st.sampled_from(VERSIONS)), *segments])
    if draw(st.booleans()):
        path += "?" + draw(st.text(RAW_SAFE, max_size=30))
    target = draw(st.sampled_from([path, path, path, "http://graph.example" + path,
                                   path.lstrip("/"), "//" + path.lstrip("/")]))
    return (target or "/").encode()  # an empty one is a malformed request line


def test_random_paths(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)

    @SETTINGS
    @given(st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"]),
           request_targets(), st.booleans())
    @example("GET", b"/v23.0/../../../etc/passwd", True)
    @example("GET", b"/v23.0/" + b"9" * 16_000, True)
    @example("POST", b"/v23.0/%C3%A9/subscribed_apps", True)
    def prop(method: str, target: bytes, auth: bool) -> None:
        # Never the admin API, whatever the decoding.
        assume("_emulator" not in unquote(target.decode(), errors="replace").lower())
        assume(len(target) < 60_000)  # longer request lines: the regression test at the end
        EXAMPLES["random paths"] += 1
        before = hostile.state()
        answer = send(emulator, method, target, auth=auth)
        data = check_answer(answer)
        if not auth:
            assert answer.status in (401, 404, 405), data
        hostile.after(method, before, answer)

    run_property("random paths", prop)


def test_huge_bodies(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)

    @SETTINGS
    @given(
        targets,
        st.integers(MAX_BODY + 1, MAX_BODY + 4096)
        | st.sampled_from([MAX_BODY + 1, 100_000, 1_000_000]),
        st.sampled_from([b"application/json", b"application/x-www-form-urlencoded",
                         b"multipart/form-data; boundary=x", b"text/plain", None]),
        st.sampled_from([b"{\"verify_token\": \"VT~huge\", \"pad\": \"", b"verify_token=VT~huge&p=",
                         b"", b"\xff"]),
    )
    def prop(target: tuple[str, str], size: int, content_type: bytes | None,
             prefix: bytes) -> None:
        method, path = target
        EXAMPLES["huge bodies"] += 1
        before = hostile.state()
        body = (prefix + b"x" * size)[:size]
        headers = [] if content_type is None else [(b"Content-Type", content_type)]
        answer = send(emulator, method, graph(path), headers, body)
        error = check_answer(answer, ("VT~huge",))
        if answer.status != 405:  # a method the route lacks is said first
            assert answer.status == 413 and error["error"]["code"] == 100, error
        hostile.after(method, before, answer)

    run_property("huge bodies", prop)


READS = [f"{WABA}/subscribed_apps", f"{WABA}/phone_numbers", PHONE, "app",
         f"{WABA_2}/phone_numbers", "0/phone_numbers", "abc", "106540352242999",
         f"{PHONE}/phone_numbers"]
QUERY_KEYS = ["fields", "limit", "after", "access_token", "hub.verify_token", "verify_token",
              "fields[]", "limit[]"]
FIELD_NAMES = ["id", "display_phone_number", "verified_name", "quality_rating",
               "webhook_configuration", "status", "nope", "", " id ", "ID", "id{x}"]
CURSOR_OF = [PHONE, "106540352242923", WABA, "x", ""]
QUERY_VALUES = ["-1", "0", "1", "100", "101", "1e999", "inf", "nan", "\uff19", "1" * 5000, "",
                "0x10", "webhook_configuration", "id,,", "id,nope", "MTA2NTQwMzUyMjQyOTIy", "%%%",
                "=="]


def test_random_queries_on_gets(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)

    @SETTINGS
    @given(
        st.sampled_from(READS),
        st.lists(st.one_of(
            st.tuples(st.just("fields"), st.lists(
                st.sampled_from(FIELD_NAMES) | st.text(max_size=8), max_size=5).map(",".join)),
            st.tuples(st.just("limit"), st.sampled_from(QUERY_VALUES) | st.integers().map(str)),
            st.tuples(st.just("after"), st.sampled_from(CURSOR_OF).map(
                lambda i: base64.urlsafe_b64encode(i.encode()).decode()) | st.text(max_size=12)),
            st.tuples(st.sampled_from(["verify_token", "hub.verify_token"]), tokens),
            st.tuples(st.sampled_from(QUERY_KEYS) | st.text(max_size=10),
                      st.sampled_from(QUERY_VALUES) | st.text(max_size=30)),
        ), max_size=5).map(lambda pairs: urlencode(pairs))
        | st.text(RAW_SAFE, max_size=60),
    )
    @example(f"{WABA}/phone_numbers", "limit=1e999&after=%ff")
    def prop(path: str, query: str) -> None:
        EXAMPLES["random queries on GETs"] += 1
        method = "GET"
        before = hostile.state()
        answer = send(emulator, method, f"{graph(path)}?{query}")
        secrets = [v for k, v in parse_qsl(query) if k in ("verify_token", "hub.verify_token")]
        check_answer(answer, tuple(v for v in secrets if len(v) >= 4))
        hostile.after(method, before, answer)

    run_property("random queries on GETs", prop)


AUTH_SCHEMES = [b"Bearer", b"bearer", b"BEARER", b"OAuth", b"Basic", b"Token", b"Bearer:", b""]


def test_random_authorization_headers(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)
    token = emulator.token.encode()
    header_bytes = st.binary(max_size=60).map(
        lambda b: b.replace(b"\r", b"").replace(b"\n", b"")
    )
    values = st.one_of(
        st.sampled_from([b"Bearer " + token, b"OAuth " + token, b"bearer  " + token + b" "]),
        header_bytes,
        st.builds(lambda s, sep, v: s + sep + v, st.sampled_from(AUTH_SCHEMES),
                  st.sampled_from([b" ", b"  ", b"\t", b"", b" \x00"]),
                  header_bytes | st.sampled_from([token, token[:-1], token + b"x", token.upper(),
                                                  b"x" + token, token + b"\x00", token + b" x"])),
    )

    @SETTINGS
    @given(
        st.sampled_from([("GET", f"{WABA}/subscribed_apps"), ("GET", "app"), *WRITES]),
        st.lists(values, min_size=1, max_size=2),
        tokens,
    )
    def prop(target: tuple[str, str], auths: list[bytes], verify_token: str) -> None:
        method, path = target
        EXAMPLES["random Authorization headers"] += 1
        before = hostile.state()
        params = {"override_callback_uri": f"https://127.0.0.1:{hostile.closed_port}/h",
                  "verify_token": verify_token}
        body = json.dumps(params).encode() if method == "POST" else None
        headers = [(b"Authorization", value) for value in auths]
        if body is not None:
            headers.append((b"Content-Type", b"application/json"))
        answer = send(emulator, method, graph(path), headers, body, auth=False)
        check_answer(answer, (verify_token,))
        if not any(known in value for value in auths for known in (token, OTHER_TOKEN.encode())):
            assert answer.status == 401, answer.body  # nothing opens without a real token
        hostile.after(method, before, answer)

    run_property("random Authorization headers", prop)


# --------------------------------------------------------------------------- known bugs
# Regressions: bugs these properties found, each with its reproducer as the first example.


def test_chunked_bodies_over_the_limit_are_refused(emulator: EmulatorHandle) -> None:
    hostile = Hostile(emulator)

    @settings(SETTINGS, max_examples=20)
    @given(
        st.sampled_from(WRITES),
        st.integers(MAX_BODY + 1, 3 * MAX_BODY),
        st.sampled_from([(b"application/x-www-form-urlencoded", b"pad="),
                         (b"application/json", b"{}")]),
    )
    @example(WRITES[0], 70_000, (b"application/x-www-form-urlencoded", b"pad="))
    def prop(target: tuple[str, str], size: int, kind: tuple[bytes, bytes]) -> None:
        method, path = target
        content_type, prefix = kind
        before = hostile.state()
        body = prefix + (b"x" if prefix == b"pad=" else b" ") * (size - len(prefix))
        answer = send(emulator, method, graph(path), [(b"Content-Type", content_type)], body,
                      chunked=True)
        check_answer(answer)
        assert answer.status == 413
        hostile.after(method, before, answer)

    prop()


def test_an_infinite_limit_is_a_client_error(emulator: EmulatorHandle) -> None:
    @settings(SETTINGS, max_examples=20)
    @given(st.sampled_from([WABA, WABA_2]), st.sampled_from([b"1e999", b"-1e999", b"Infinity"]))
    @example(WABA, b"1e999")
    def prop(waba: str, limit: bytes) -> None:
        answer = send(emulator, "GET", graph(f"{waba}/phone_numbers"),
                      [(b"Content-Type", b"application/json")], b'{"limit": %s}' % limit)
        assert answer.status == 400, answer.body
        check_answer(answer)

    prop()


def test_requests_the_http_server_refuses_get_the_envelope(emulator: EmulatorHandle) -> None:
    @settings(SETTINGS, max_examples=20)
    @given(st.sampled_from([
        (b"/v23.0/a b", b"HTTP/1.1", []),
        ("/v23.0/à".encode(), b"HTTP/1.1", []),
        (b"/v23.0/" + b"1" * 70_000, b"HTTP/1.1", []),
        (b"/v23.0/app", b"HTTP/2.0", []),
        (b"/v23.0/app", b"HTTP/1.1", [(b"X-Long", b"a" * 70_000)]),
        (b"/v23.0/app", b"HTTP/1.1", [(b"X-%d" % i, b"a") for i in range(120)]),
    ]))
    @example((b"/v23.0/a b", b"HTTP/1.1", []))
    def prop(case: tuple[bytes, bytes, list[tuple[bytes, bytes]]]) -> None:
        target, version, headers = case
        try:
            answer = send(emulator, "GET", target, headers, version=version)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            pytest.fail(f"no answer to GET {target[:40]!r}")
        assert 400 <= answer.status < 600
        check_answer(answer)

    prop()


# --------------------------------------------------------------------------- the figures


def test_examples_were_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last: every property above ran at least MAX_EXAMPLES examples."""
    TALLY.check_and_report(capsys)
