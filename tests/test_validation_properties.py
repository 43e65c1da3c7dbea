"""Property-based tests of both providers' ``check()``: any input, no exception, no Graph call.

Every property runs against four providers -- `WabaCallbackOverrideRules` and
`PhoneCallbackOverrideRules`, each with ``whatsapp:allowHttpLoopback`` on and off -- configured
against the emulator, which must see no call at all. Hypothesis is driven from a nested
``@given`` function so that the function-scoped ``emulator`` fixture is set up once per test.

``WABA_REPORT_EXAMPLES=1`` makes the last test print how many examples each property ran.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import urllib3.util
from hypothesis import example, given
from hypothesis import strategies as st
from pulumi.runtime.rpc import UNKNOWN

from tests.conftest import EmulatorHandle, configured
from tests.examples import BASE_EXAMPLES, ExampleTally, property_settings
from waba_webhooks.resources.phone import PhoneCallbackOverrideRules
from waba_webhooks.resources.waba import WabaCallbackOverrideRules
from waba_webhooks.rules.base import OverrideRules

MAX_EXAMPLES = BASE_EXAMPLES
SETTINGS = property_settings(MAX_EXAMPLES)
COMMON = ("callback_uri", "verify_token", "adopt_existing")

TALLY = ExampleTally(MAX_EXAMPLES)
EXAMPLES = TALLY.counts


# --------------------------------------------------------------------------- providers


def providers(emulator: EmulatorHandle) -> list[tuple[OverrideRules, bool]]:
    """Both providers, with http:// to loopback allowed and not: ``(provider, allowed)``."""
    return [
        (configured(cls, emulator, **{"whatsapp:allowHttpLoopback": flag}), flag == "true")
        for cls in (WabaCallbackOverrideRules, PhoneCallbackOverrideRules)
        for flag in ("true", "false")
    ]


def run_property(name: str, emulator: EmulatorHandle, prop: Callable[[], None]) -> None:
    """Run a hypothesis property once for this test's emulator, then check that nothing
    reached the Graph API."""
    TALLY.run(name, prop)
    assert emulator.admin.counts()["total"] == 0


# --------------------------------------------------------------------------- strategies

#: Any characters (no surrogates: they cannot cross the engine's gRPC strings).
any_text = st.text(max_size=40)
control_text = st.text(
    st.one_of(
        st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]),
        st.sampled_from("\x00\t\n\r\x0b\x0c\x1c\x1f\x7f\x85\u200b\u2028\u202e\ufeff"),
        st.characters(codec="utf-8"),
    ),
    min_size=1,
    max_size=20,
)
long_text = st.builds(
    lambda unit, times: (unit * times)[:10_000],
    st.text(min_size=1, max_size=12),
    st.integers(min_value=1, max_value=10_000),
)
texts = st.one_of(any_text, control_text, long_text)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**14, max_value=10**16),  # a WABA id as a number
    st.floats(),
    texts,
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(scalars, max_size=3),
    st.dictionaries(any_text, scalars, max_size=3),
    st.just(UNKNOWN),
)

# ---- valid values

digit_ids = st.text(alphabet=string.digits, min_size=1, max_size=32)
printable_tokens = st.text(
    st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"]),
    min_size=1,
    max_size=60,
).flatmap(lambda core: st.sampled_from([core, f"{core} {core}", f" {core} "]))

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?", fullmatch=True)
top_label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
#: A DNS name ends with a label that is not all digits (``0.0.0.300`` is no host name).
dns_host = st.tuples(st.lists(label, max_size=3), top_label).map(
    lambda parts: ".".join([*parts[0], parts[1]])
)
ipv4_host = st.ip_addresses(v=4).map(str)
ipv6_host = st.ip_addresses(v=6).map(lambda a: f"[{a}]")
pchar = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
pct = st.integers(0, 255).map(lambda b: f"%{b:02X}")
segment = st.lists(st.sampled_from(pchar) | pct, max_size=12).map("".join)
path = st.lists(segment, max_size=5).map(lambda segs: "".join("/" + s for s in segs))
query = st.lists(st.sampled_from(pchar + "/?") | pct, max_size=20).map("".join)


@st.composite
def valid_urls(draw: st.DrawFn, loopback_http: bool = False) -> str:
    """``https://host[:port][/path][?query]`` (or ``http://`` to a loopback host), <= 200."""
    if loopback_http:
        scheme = "http"
        host = draw(st.sampled_from(["localhost", "127.0.0.1", "127.8.9.10", "[::1]"]))
    else:
        scheme = draw(st.sampled_from(["https", "HTTPS", "Https"]))
        host = draw(st.one_of(dns_host, ipv4_host, ipv6_host, st.just("xn--bcher-kva.example")))
    port = draw(st.none() | st.integers(1, 65535))
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{draw(path) or '/'}"
    if draw(st.booleans()):
        url += "?" + draw(query)
    if len(url) > 200:
        url = f"{scheme}://{host}/"
    # Some right at the limit: padded to 200 characters, or just under.
    target = draw(st.sampled_from([0, 0, 0, 199, 200]) | st.integers(len(url), 200))
    return url + "a" * max(0, target - len(url))


@st.composite
def valid_inputs(draw: st.DrawFn, id_property: str, allow_http_loopback: bool) -> dict[str, Any]:
    news: dict[str, Any] = {
        id_property: draw(digit_ids),
        "callback_uri": draw(
            valid_urls() | valid_urls(loopback_http=True) if allow_http_loopback else valid_urls()
        ),
        "verify_token": draw(printable_tokens),
    }
    adopt = draw(st.sampled_from([None, True, False, "absent"]))
    if adopt != "absent":
        news["adopt_existing"] = adopt
    # What the engine and the program add: output-only properties (None) and engine keys.
    if draw(st.booleans()):
        news.update({"app_id": None, "effective_callback_uri": None})
    if draw(st.booleans()):
        news["__provider"] = draw(any_text)
    return news


# ---- adversarial values

HOSTS = [
    "example.com", "EXAMPLE.com", "localhost", "LocalHost", "localhost.", "127.0.0.1", "127.1",
    "0x7f000001", "2130706433", "0177.0.0.1", "127.0.0.1.nip.io", "[::1]", "::1", "[::1",
    "[::ffff:127.0.0.1]", "[::1%25eth0]", "[0:0:0:0:0:0:0:1]", "[2001:db8::1]", "[v1.x]",
    "10.0.0.1", "169.254.169.254", "[fe80::1%25en0]", "xn--bcher-kva.example",
    "bücher.example", "例え.テスト", "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    "%6c%6fcalhost", "%31%32%37.0.0.1",
    "exa mple.com", "a..b", "-a-.com", "a_b.com", "", "@", ":", "[]",
]
SCHEMES = [
    "https", "http", "HTTPS", "HtTp", "javascript", "file", "data", "ftp", "ws", "wss",
    "mailto", "gopher", "", " https", "https ", "ht tp", "h\ttps", "1https", "https+x",
]
SEPARATORS = ["://", ":", ":/", ":///", "//", ":\\\\", ":/\\", "://\\", ":////", "\uff1a//"]
NASTY = string.printable + "é€\u200b\u202e\ufeff\x00\x7f\\`^{}|<>\"'%#@[]"
USERINFO = ["user@", "user:pw@", "@", ":@", "%40@", "a@b@", "user:@", ":pw@"]
PORTS = [":", ":0", ":00443", ":65536", ":99999", ":abc", ":-1", ": 1", ":1:2"]
ODD_URLS = [
    "javascript:alert(1)", "javascript://example.com/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>", "data:,hello", "file:///etc/passwd",
    "file://localhost/etc/passwd", "ftp://example.com/hook", "//example.com/hook",
    "//127.0.0.1/hook", "///hook", "/relative/path", "hook", "https:", "https://",
    "https:example.com", "https:/example.com", "https:///example.com", "http:\\\\x",
    "https://example.com/#", "https://example.com/#frag", "https://@example.com/",
    "https://:@example.com/", "https://u:p@example.com/", "https://example.com\\@127.0.0.1/",
    "http://localhost#@example.com/", "http://[::1]:80@example.com/",
    "https://example.com:99999/", "https://example.com:-1/", "https://example.com:1a/",
    "https://example.com::1/", "https://example.com/a b", "https://example.com/\u3000",
    "https://example.com/\x00", "https://example.com/\n", "\thttps://example.com/",
]


def mostly(normal: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``normal`` three times in four, else ``odd``: most URLs differ from a valid one in a
    part or two, which is where a check can go wrong."""
    return st.integers(0, 3).flatmap(lambda i: odd if i == 0 else normal)


@st.composite
def hostile_urls(draw: st.DrawFn) -> str:
    """URL-ish strings: odd schemes, userinfo, IP literals, IDN, percent-encoding, junk."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(texts)
    if kind == 1:
        return draw(st.sampled_from(ODD_URLS))
    scheme = draw(mostly(st.sampled_from(["https", "http"]),
                         st.sampled_from(SCHEMES) | st.text(max_size=8)))
    sep = draw(mostly(st.just("://"), st.sampled_from(SEPARATORS)))
    userinfo = draw(mostly(st.just(""), st.sampled_from(USERINFO) | st.text(max_size=8).map(
        lambda u: u + "@")))
    host = draw(mostly(
        dns_host | ipv4_host | ipv6_host | st.sampled_from(["localhost", "127.0.0.1", "[::1]"]),
        st.sampled_from(HOSTS) | st.ip_addresses(v=6).map(str) | st.text(max_size=15),
    ))
    port = draw(mostly(
        st.just("") | st.integers(1, 65535).map(lambda p: f":{p}"),
        st.sampled_from(PORTS) | st.integers(-5, 70_000).map(lambda p: f":{p}"),
    ))
    tail = draw(mostly(
        st.tuples(path, st.just("") | query.map(lambda q: "?" + q)).map("".join),
        st.text(st.sampled_from(NASTY) | st.characters(codec="utf-8"), max_size=30).flatmap(
            lambda t: st.sampled_from(
                [t, "/" + t, quote(t, safe=""), "/" + quote(t, safe="/"), quote(t, safe="/%#?")]
            )
        ),
    ))
    fragment = draw(mostly(st.just(""), st.sampled_from(["#", "#frag", "#@example.com", "#/x"])))
    url = f"{scheme}{sep}{userinfo}{host}{port}{tail}{fragment}"
    if kind == 9:  # around the length limit, or far past it
        target = draw(st.sampled_from([199, 200, 201, 202, 250, 1000, 10_000])
                      | st.integers(150, 260))
        url = url + "a" * max(0, target - len(url)) if "/" in tail else url
    return url


id_values = st.one_of(
    digit_ids,
    st.just("0"),
    st.text(alphabet=string.digits, min_size=33, max_size=80),
    st.sampled_from(
        ["١٢٣", "¹²³", "\uff11\uff12\uff13", "12a", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1"]
    ),
    texts,
    wrong_types,
)
uri_values = st.one_of(
    valid_urls(),
    valid_urls(loopback_http=True),
    hostile_urls(),
    hostile_urls(),
    hostile_urls(),
    wrong_types,
    st.just(""),
)
token_values = st.one_of(printable_tokens, texts, wrong_types, st.just(""))
bool_values = st.one_of(st.booleans(), wrong_types, texts)
unknown_keys = st.one_of(
    st.sampled_from([
        "callback_url", "callbackUri", "verifyToken", "wabaId", "phoneNumberId", "app_id",
        "effective_callback_uri", "waba_id", "phone_number_id", "__provider", "__x", "_x",
        "Callback_URI", "callback_uri ", "", " ", "verify_token\x00",
    ]),
    any_text,
    control_text,
    long_text,
)


@st.composite
def any_inputs(draw: st.DrawFn, id_property: str) -> dict[str, Any]:
    """A property bag: each input present or not, valid or not, plus unknown keys."""
    news: dict[str, Any] = {}
    for key, values in (
        (id_property, id_values),
        ("callback_uri", uri_values),
        ("verify_token", token_values),
        ("adopt_existing", bool_values),
    ):
        if draw(st.integers(0, 4)):  # present 80 % of the time
            news[key] = draw(values)
    news.update(draw(st.dictionaries(unknown_keys, json_like | wrong_types, max_size=3)))
    return news


def provider_and_inputs(
    pool: list[tuple[OverrideRules, bool]],
) -> st.SearchStrategy[tuple[OverrideRules, bool, dict[str, Any], dict[str, Any]]]:
    """``(provider, allow_http_loopback, olds, news)`` for any of the providers."""
    return st.sampled_from(pool).flatmap(
        lambda entry: st.tuples(
            st.just(entry[0]),
            st.just(entry[1]),
            st.dictionaries(any_text, json_like, max_size=3) | any_inputs(entry[0].id_property),
            any_inputs(entry[0].id_property),
        )
    )


# --------------------------------------------------------------------------- oracles


def is_loopback(host: str | None) -> bool:
    """Our own notion of a loopback host: ``localhost`` or a loopback IP literal."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.replace("%25", "%")).is_loopback
    except ValueError:
        return False


def where_requests_connects(url: str) -> tuple[str | None, str | None]:
    """``(scheme, host)`` as urllib3 (under requests) parses the URL, or Nones if it can't."""
    try:
        parsed = urllib3.util.parse_url(url)
    except (urllib3.exceptions.LocationParseError, ValueError):
        return None, None
    return (parsed.scheme or "").lower(), parsed.host


def token_of_same_class(token: str) -> str:
    """Another verify token that the rules classify like ``token`` (same failure, if any)."""
    if token == "":
        return ""
    if not token.strip():
        return "   "
    if not token.isprintable():
        return "SUBSTITUTE\x00TOKEN"
    return "SUBSTITUTE-TOKEN"


# --------------------------------------------------------------------------- properties


def test_check_never_raises(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(provider_and_inputs(pool))
    def prop(case: tuple[OverrideRules, bool, dict[str, Any], dict[str, Any]]) -> None:
        provider, _, olds, news = case
        EXAMPLES["check never raises"] += 1
        result = provider.check(olds, news)
        assert isinstance(result.failures, list)
        # Only inputs of the resource pass through; unknown keys are dropped.
        assert set(result.inputs) <= {provider.id_property, *COMMON}
        assert all(result.inputs[key] is news[key] for key in result.inputs)

    run_property("check never raises", emulator, prop)


def test_every_failure_names_its_property(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(provider_and_inputs(pool))
    def prop(case: tuple[OverrideRules, bool, dict[str, Any], dict[str, Any]]) -> None:
        provider, _, olds, news = case
        EXAMPLES["failures name their property"] += 1
        known = {provider.id_property, *COMMON}
        failures = provider.check(olds, news).failures
        for failure in failures:
            assert isinstance(failure.reason, str) and failure.reason
            if failure.property in known:
                assert failure.reason.startswith(failure.property), failure
                continue
            # An unknown key that was in the input: named as Python would quote it, shortened
            # to 60 characters -- so a short, plain key appears as it is.
            key = failure.property
            assert key in news and not key.startswith("__") and news[key] is not None
            assert repr(key[:60])[1:-1] in failure.reason, failure
            if len(key) <= 60 and key.isprintable() and "\\" not in key and not (
                "'" in key and '"' in key
            ):
                assert key in failure.reason
        # At most one failure per known property, one per unknown key.
        named = [f.property for f in failures]
        assert len(named) == len(set(named))

    run_property("failures name their property", emulator, prop)


def test_a_verify_token_is_never_echoed(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(
        provider_and_inputs(pool),
        st.text(min_size=4, max_size=40) | control_text.filter(lambda t: len(t) >= 4)
        | printable_tokens.filter(lambda t: len(t) >= 4) | long_text.filter(lambda t: len(t) >= 4),
    )
    def prop(
        case: tuple[OverrideRules, bool, dict[str, Any], dict[str, Any]], token: str
    ) -> None:
        provider, _, olds, news = case
        EXAMPLES["verify token never echoed"] += 1
        news = {**news, "verify_token": token}
        failures = provider.check(olds, news).failures
        # The same input with another token of the same kind: what the reasons would say if
        # they did not depend on the token's value at all.
        twin = provider.check(olds, {**news, "verify_token": token_of_same_class(token)})
        assert [(f.property, f.reason) for f in failures] == [
            (f.property, f.reason) for f in twin.failures
        ]
        if not any(token in f.reason for f in twin.failures):
            # (the twin's reasons may contain it only if the fixed wording happens to)
            assert not any(token in f.reason for f in failures)

    run_property("verify token never echoed", emulator, prop)


def test_valid_inputs_pass(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(
        st.sampled_from(pool).flatmap(
            lambda entry: st.tuples(
                st.just(entry[0]), valid_inputs(entry[0].id_property, entry[1])
            )
        ),
        st.dictionaries(any_text, json_like, max_size=3),
    )
    @example(
        (pool[0][0], {"waba_id": "102290129340398", "verify_token": "v",
                      "callback_uri": "https://hooks.example.com/whatsapp/webhook"}),
        {},
    )
    def prop(case: tuple[OverrideRules, dict[str, Any]], olds: dict[str, Any]) -> None:
        provider, news = case
        EXAMPLES["valid inputs pass"] += 1
        result = provider.check(olds, news)
        assert [(f.property, f.reason) for f in result.failures] == []
        expected = {k: v for k, v in news.items() if k in (provider.id_property, *COMMON)}
        assert result.inputs == expected

    run_property("valid inputs pass", emulator, prop)


def test_ids_tokens_and_flags_are_accepted_exactly_when_valid(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(st.sampled_from(pool), id_values, token_values, bool_values)
    def prop(entry: tuple[OverrideRules, bool], id_value: Any, token: Any, adopt: Any) -> None:
        provider, _ = entry
        EXAMPLES["ids, tokens, flags accepted iff valid"] += 1
        news = {provider.id_property: id_value, "callback_uri": "https://example.com/hook",
                "verify_token": token, "adopt_existing": adopt}
        failed = {f.property for f in provider.check({}, news).failures}
        expected = set()
        if not (id_value == UNKNOWN or (
            isinstance(id_value, str) and 0 < len(id_value) <= 32
            and all(ch in string.digits for ch in id_value)
        )):
            expected.add(provider.id_property)
        if not (token == UNKNOWN or (
            isinstance(token, str) and token.strip() and token.isprintable()
        )):
            expected.add("verify_token")
        if not (adopt is None or isinstance(adopt, bool) or adopt == UNKNOWN):
            expected.add("adopt_existing")
        assert failed == expected

    run_property("ids, tokens, flags accepted iff valid", emulator, prop)


def authority(url: str) -> str | None:
    """What Python's urllib.parse takes for the authority (``scheme://<authority>/...``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return None
    for end in "/?#":
        rest = rest.split(end, 1)[0]
    return rest


def known_bug(url: str) -> str | None:
    """The fixed bug class a URL belongs to (see the regression tests at the end), if any."""
    found = authority(url)
    if found is None:
        return None
    if found.startswith(":"):
        return "empty host"
    if "\\" in found:
        return "backslash"
    return None


def test_accepted_callback_uris_are_https_or_loopback_http(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(st.sampled_from(pool), uri_values)
    @example(pool[0], "https://[::1]/")
    @example(pool[0], "http://[::1%25eth0]:8080/")
    def prop(entry: tuple[OverrideRules, bool], uri: Any) -> None:
        provider, allow_http_loopback = entry
        EXAMPLES["accepted callback URIs are https"] += 1
        news = {provider.id_property: "1", "callback_uri": uri, "verify_token": "token"}
        failures = provider.check({}, news).failures
        if failures:
            assert [f.property for f in failures] == ["callback_uri"]
            return
        if uri == UNKNOWN:  # checked at `up`, when known
            return
        assert isinstance(uri, str) and 0 < len(uri) <= 200
        assert not any(ch.isspace() or not ch.isprintable() for ch in uri)
        assert "#" not in uri
        parts = urlsplit(uri)
        scheme, connects_to = where_requests_connects(uri)
        assert parts.scheme.lower() in ("https", "http")
        assert scheme in (parts.scheme.lower(), None)
        assert parts.hostname and parts.username is None and parts.password is None
        if parts.scheme.lower() == "http":
            assert allow_http_loopback
            assert is_loopback(parts.hostname)
            assert connects_to is None or is_loopback(connects_to)

    run_property("accepted callback URIs are https", emulator, prop)


# --------------------------------------------------------------------------- known bugs
# Regressions: bugs these properties found, each with its reproducer as the first example.


def test_callback_uris_without_a_host_are_rejected(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)

    @SETTINGS
    @given(st.sampled_from(pool), st.sampled_from(["https", "HTTPS", "http"]),
           st.integers(0, 65535), path, st.just("") | query.map(lambda q: "?" + q))
    @example(pool[0], "https", 443, "/hook", "")
    def prop(entry: tuple[OverrideRules, bool], scheme: str, port: int, path_: str,
             query_: str) -> None:
        provider, _ = entry
        uri = f"{scheme}://:{port}{path_}{query_}"
        assert known_bug(uri) == "empty host"
        failures = provider.check({}, {provider.id_property: "1", "callback_uri": uri,
                                       "verify_token": "token"}).failures
        assert [f.property for f in failures] == ["callback_uri"], uri

    prop()


def test_backslash_urls_are_rejected_or_unambiguous(emulator: EmulatorHandle) -> None:
    pool = providers(emulator)
    allowing = [entry for entry in pool if entry[1]]

    @SETTINGS
    @given(
        st.sampled_from(allowing),
        st.sampled_from(["http", "https"]),
        st.sampled_from(["127.0.0.1", "localhost", "[::1]", "example.com"]),
        st.sampled_from(["", ":1", ":8080"]),
        st.sampled_from(["\\", "\\\\", "\\x\\"]),
        st.sampled_from(["@example.com", "@127.0.0.1", "@[::1]", ""]),
    )
    @example(allowing[0], "http", "127.0.0.1", ":1", "\\", "@example.com")
    def prop(
        entry: tuple[OverrideRules, bool], scheme: str, host: str, port: str, slash: str,
        after: str,
    ) -> None:
        provider, _ = entry
        uri = f"{scheme}://{host}{port}{slash}{after}/hook"
        assert known_bug(uri) == "backslash"
        failures = provider.check({}, {provider.id_property: "1", "callback_uri": uri,
                                       "verify_token": "token"}).failures
        if not failures:  # accepted: both parsers must find the same host
            assert urlsplit(uri).hostname == (where_requests_connects(uri)[1] or "").strip("[]")

    prop()


# --------------------------------------------------------------------------- the two parses

def _mostly(usual: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`usual` five times in six, else `odd`."""
    return st.sampled_from((False,) * 5 + (True,)).flatmap(lambda is_odd: odd if is_odd else usual)


#: URLs part by part, around the fast parse's edges: case, IPv4 numbers and leading zeros,
#: ports, userinfo, fragments, escapes, IPv6, empty and odd parts.
_junk = st.text(alphabet="aZ09.-_:/?#@%~!$&'()*+,;=[]", max_size=4)
url_values = st.builds(
    lambda *parts: "".join(parts),
    _mostly(st.sampled_from(["https://", "http://"]),
            st.sampled_from(["HTTPS://", "Http://", "ftp://", "https:/", ""])),
    _mostly(st.just(""), st.sampled_from(["user@", "@", ":@"])),
    _mostly(st.one_of(label, st.sampled_from([
        "hooks.example.com", "b.c", "x-y", "a..b", "a.-b", "127.0.0.1", "255.255.255.255",
        "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "0.0.0.0", "1", "9.9.9.9.example",
    ])), st.one_of(st.sampled_from(["-a", "a-", ".", "_", "EXAMPLE.com", "a_b.c", "[::1]",
                                    "[2001:db8::1]", ""]), _junk)),
    _mostly(st.sampled_from(["", ":0", ":443", ":08443", ":65535", ":65536", ":999999"]),
            st.sampled_from([":", ":a", "::1"])),
    _mostly(st.sampled_from(["", "/", "/wa", "//", "/a/b/", "/~u", "/a:b@c", "/!$&'()*+,;="]),
            st.one_of(st.sampled_from(["/%2F", "/%2f", "/a/../b", "/./"]), _junk)),
    _mostly(st.sampled_from(["", "?", "?a=b&c", "?x/y?z"]),
            st.sampled_from(["#", "#top", "?a#b"])),
    _mostly(st.just(""), _junk),
)


def test_the_common_url_parse_agrees_with_rfc3986() -> None:
    """`split_url` reads the common form of a callback URI without rfc3986 (issue 27: it was
    most of a check's CPU). Wherever that fast parse decides, rfc3986 gives the same parts."""
    from waba_webhooks import validation

    decided = []

    @SETTINGS
    @given(url_values)
    @example("https://hooks.example.com/wa?tenant=7")
    @example("http://127.0.0.1:41234/phone-00001")
    @example("https://256.1.1.1/x")
    @example("https://example.com:65536")
    def prop(value: str) -> None:
        EXAMPLES["common_url"] += 1
        if not set(value) <= validation._URI_CHARACTERS or validation._BAD_ESCAPE.search(value):
            return  # refused before either parse
        fast = validation._common_url(value)
        if fast is not None:
            decided.append(value)
            assert fast == validation._rfc3986_parts(value), value

    TALLY.run("common_url", prop)
    assert len(decided) >= MAX_EXAMPLES // 10, "the fast parse decided too few examples"


@pytest.mark.parametrize("uri", [
    "https://hooks.example.com/whatsapp/1234?tenant=7",
    "https://hooks.example.com:8443/wa",
    "http://127.0.0.1:41234/phone-00001",
    "https://203.0.113.9",
])
def test_common_callback_uris_take_the_fast_parse(uri: str) -> None:
    from waba_webhooks import validation

    assert validation._common_url(uri) == validation._rfc3986_parts(uri) is not None


@pytest.mark.parametrize("uri", [
    "HTTPS://Hooks.Example.com/wa", "https://user@hooks.example.com/", "https://h.example/#x",
    "https://[::1]/", "https://hooks_east.example.com/", "https://256.0.0.1/",
    "https://01.2.3.4/", "https://h.example:08443/", "https://h.example/%7Euser",
])
def test_other_forms_go_to_rfc3986(uri: str) -> None:
    from waba_webhooks import validation

    assert validation._common_url(uri) is None


# --------------------------------------------------------------------------- the figures


def test_examples_were_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last: every property above ran at least MAX_EXAMPLES examples."""
    TALLY.check_and_report(capsys)
