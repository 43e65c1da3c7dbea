"""Input checks: every rejection names its property and never echoes a verify token."""

import pytest

from waba_webhooks import validation

CALLBACK = "callback_uri"


def failures(value, allow_http_loopback=False):
    return validation.check_callback_uri(CALLBACK, value, allow_http_loopback=allow_http_loopback)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/webhook",
        "https://hooks.example.com:8443/a/b?tenant=7",
        "https://203.0.113.9/webhook",
        "https://[2001:db8::1]/webhook",
        "https://x.example/" + "a" * (200 - len("https://x.example/")),
    ],
)
def test_accepts_https_urls(url):
    assert failures(url) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (None, "is required"),
        ("", "is required"),
        (42, "must be a string"),
        ("https://x.example/" + "a" * 183, "201 characters"),
        ("http://hooks.example.com/webhook", "must use https://"),
        ("ftp://hooks.example.com/webhook", "must use https://"),
        ("javascript:alert(1)", "absolute https:// URL"),
        ("file:///etc/passwd", "absolute https:// URL"),
        ("/relative/path", "absolute https:// URL"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com/#frag", "#fragment"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://hooks.example.com/\x00", "control characters"),
        (" https://hooks.example.com/", "whitespace"),
        ("http://127.0.0.1:9000/hook", "allowHttpLoopback"),
    ],
)
def test_rejects_bad_urls_naming_the_property(url, words):
    [failure] = failures(url)
    assert failure.property == CALLBACK
    assert CALLBACK in failure.reason
    assert words in failure.reason


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/hook", "http://localhost/x", "http://[::1]:8080/"]
)
def test_http_to_loopback_only_when_allowed(url):
    assert failures(url, allow_http_loopback=True) == []


def test_http_to_public_host_rejected_even_when_loopback_allowed():
    [failure] = failures("http://hooks.example.com/", allow_http_loopback=True)
    assert "https://" in failure.reason


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("102290129340398", True),
        ("", False),
        (None, False),
        ("12a", False),
        ("-1", False),
        (102290129340398, False),
        (1.0e14, False),
        (True, False),
        ("١٢٣", False),
        ("1" * 33, False),
    ],
)
def test_ids_are_strings_of_ascii_digits(value, ok):
    result = validation.check_id("waba_id", value)
    assert (result == []) is ok
    for failure in result:
        assert failure.property == "waba_id" and "waba_id" in failure.reason


def test_numeric_id_gets_a_hint_to_quote_it():
    [failure] = validation.check_id("phone_number_id", 106540352242922)
    assert "quote it" in failure.reason


@pytest.mark.parametrize("token", ["", None, "   ", 12, "a\nb"])
def test_bad_verify_tokens_rejected_without_echo(token):
    [failure] = validation.check_verify_token("verify_token", token)
    assert failure.property == "verify_token"
    if isinstance(token, str) and token.strip():
        assert token not in failure.reason


def test_verify_token_has_no_maximum():
    assert validation.check_verify_token("verify_token", "x" * 10_000) == []


def test_unknown_properties_are_named():
    [failure] = validation.check_known(
        {"waba_id": "1", "callback_url": "x", "app_id": None, "__provider": "..."}, {"waba_id"}
    )
    assert failure.property == "callback_url"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("localhost", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert validation.is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://hooks_east.example.com/wa", ["underscore"]),
        ("https://hooks.example.com:8443/wa", ["explicit port (:8443)"]),
        ("https://hooks.example.com:443/wa", ["explicit port (:443)"]),
        ("https://hooks_east.example.com:8443/wa", ["underscore", "explicit port (:8443)"]),
        ("https://hooks.example.com/wa_b?x=_", []),  # only the host and port matter
        ("https://hooks.example.com/wa", []),
        ("http://127.0.0.1:9000/hook", []),  # loopback: only the local emulator calls it
        ("not a url", []),  # a failure, not a warning
        (None, []),
    ],
)
def test_hosts_with_underscores_and_explicit_ports_get_warnings(url, words):
    warnings = validation.callback_uri_warnings(CALLBACK, url)
    assert len(warnings) == len(words)
    for warning, word in zip(warnings, words, strict=True):
        assert word in warning and warning.startswith(f"{CALLBACK} {url}: ")
        assert "360dialog" in warning and "a warning, not an error" in warning
    if isinstance(url, str) and words:
        assert failures(url) == [], "a warning never fails the check"


def test_a_callback_uri_is_parsed_once_for_every_number_and_both_checks(monkeypatch):
    """A fleet's numbers share a few URIs: the validity and the warning checks of all of them
    parse each distinct URI once (rfc3986 is the costly part of a check)."""
    parsed = []
    split_url = validation.split_url
    monkeypatch.setattr(validation, "split_url", lambda value: parsed.append(value)
                        or split_url(value))
    validation._parts.cache_clear()
    uris = ["https://hooks_east.example.com:8443/wa", "https://hooks.example.com/a"]
    for number in range(50):
        for uri in uris:
            prop = f'phone_overrides["{number}"]'
            assert validation.check_callback_uri(prop, uri, allow_http_loopback=False) == []
            validation.callback_uri_warnings(prop, uri)
    assert parsed == uris
    assert len(validation.callback_uri_warnings("x", uris[0])) == 2
