"""Input checks shared by both resources, run by ``check()`` before any Graph API call.

Every check returns `Failure` values naming the property, never raises on odd input (any type,
any string), and makes no network call: a bad routing table fails ``pulumi preview`` and changes
nothing remotely.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Meta's limit on an override callback URI.
MAX_CALLBACK_URI_LENGTH = 200
#: Webhook fields of the ``whatsapp_business_account`` object that an app subscribes to
#: (``/{app-id}/subscriptions``), from Meta's "Managing webhooks" and "Webhook overrides" pages
#: (2026). Meta adds fields over time, so a name not listed is a warning, not an error.
APP_WEBHOOK_FIELDS = (
    "messages", "message_template_status_update", "message_template_quality_update",
    "message_template_components_update", "template_category_update", "account_update",
    "account_review_update", "account_alerts", "business_capability_update",
    "phone_number_name_update", "phone_number_quality_update", "security", "history",
    "smb_app_state_sync", "smb_message_echoes", "partner_solutions",
    "payment_configuration_update", "user_preferences", "automatic_events",
    # The fields an override can route, besides messages.
    "message_echoes", "calls", "consumer_profile", "messaging_handovers", "standby",
    "group_lifecycle_update", "group_participants_update", "group_settings_update",
    "group_status_update", "account_settings_update",
)
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Ids are Graph object ids: decimal digits. Longer than any id Meta issues.
MAX_ID_LENGTH = 32


@dataclass(frozen=True)
class Failure:
    """One rejected property and why, in words a user can act on."""

    property: str
    reason: str


@dataclass(frozen=True)
class UrlParts:
    scheme: str
    host: str
    userinfo: str | None
    fragment: str | None
    port: str | None = None


# What RFC 3986 allows in a URI, unencoded: unreserved, reserved and "%" (for escapes).
_URI_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


# The form nearly every callback URI has, which needs no normalising: a lowercase http(s)
# scheme, a lowercase host name or IPv4 address, a port without leading zeros, then a path and a
# query of plain characters. `split_url` reads it with this pattern, in about 5 µs where rfc3986
# takes about 95 µs, and gives everything else (upper case, user@, #fragment, IPv6, escapes,
# "_" in the host...) to rfc3986. tests/test_validation_properties.py checks that both parses
# agree wherever the pattern matches.
_COMMON_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(?:\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?"
)
_IPV4_OCTET = re.compile(r"25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]")


def _common_url(value: str) -> UrlParts | None:
    """`split_url`'s answer for a URL of the common form (`_COMMON_URL`), else None: not
    decided here."""
    match = _COMMON_URL.fullmatch(value)
    if match is None:
        return None
    host, port = match["host"], match["port"]
    # A host of digits and dots is an IPv4 address to rfc3986, which checks its numbers.
    if not host.strip("0123456789.") and not (
        host.count(".") == 3 and all(_IPV4_OCTET.fullmatch(part) for part in host.split("."))
    ):
        return None
    if port is not None and int(port) > 65535:
        return None
    return UrlParts(scheme=match["scheme"], host=host, userinfo=None, fragment=None, port=port)


def split_url(value: str) -> UrlParts | None:
    """The parts of an absolute URL that our rules look at, or None if it is not a valid URI."""
    # rfc3986 percent-encodes characters it does not allow before validating; we refuse them
    # instead, since parsers disagree on them (is "\\" part of the host or not?).
    if not set(value) <= _URI_CHARACTERS or _BAD_ESCAPE.search(value):
        return None
    common = _common_url(value)
    if common is not None:
        return common
    return _rfc3986_parts(value)


def _rfc3986_parts(value: str) -> UrlParts | None:
    """`split_url` by rfc3986, for a value of `_URI_CHARACTERS` with valid escapes."""
    # Imported here: a plugin step that checks no URL never pays for it.
    import rfc3986
    import rfc3986.exceptions
    import rfc3986.validators

    try:
        uri = rfc3986.uri_reference(value).normalize()
        rfc3986.validators.Validator().require_presence_of("scheme", "host").check_validity_of(
            "scheme", "host", "userinfo", "port", "path", "query", "fragment"
        ).validate(uri)
    except (rfc3986.exceptions.RFC3986Exception, ValueError, TypeError):
        return None
    if not uri.host:  # rfc3986 takes "https://:443/" as having a (blank) host
        return None
    return UrlParts(
        scheme=uri.scheme or "", host=uri.host or "", userinfo=uri.userinfo, fragment=uri.fragment,
        port=uri.port,
    )


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_id(prop: str, value: Any) -> list[Failure]:
    """A WABA id or phone number id: a non-empty string of ASCII digits."""
    if value is None or value == "":
        return [Failure(prop, f"{prop} is required")]
    if isinstance(value, bool) or not isinstance(value, str):
        hint = " (quote it: numbers lose digits on the way through the engine)" if isinstance(
            value, int | float
        ) and not isinstance(value, bool) else ""
        return [Failure(prop, f"{prop} must be a string of digits, got {_type(value)}{hint}")]
    if len(value) > MAX_ID_LENGTH or not (value.isascii() and value.isdigit()):
        return [Failure(prop, f"{prop} must be a string of digits, got {_show(value)}")]
    return []


def check_callback_uri(prop: str, value: Any, *, allow_http_loopback: bool) -> list[Failure]:
    """An override callback URI as Meta accepts it: absolute ``https``, at most 200 characters,
    no whitespace, credentials or fragment. ``http`` only to loopback when allowed."""
    if value is None or value == "":
        return [Failure(prop, f"{prop} is required")]
    if not isinstance(value, str):
        return [Failure(prop, f"{prop} must be a string, got {_type(value)}")]
    if len(value) > MAX_CALLBACK_URI_LENGTH:
        return [Failure(
            prop,
            f"{prop} is {len(value)} characters long; Meta allows at most "
            f"{MAX_CALLBACK_URI_LENGTH}",
        )]
    return list(_check_uri_string(prop, value, allow_http_loopback))


@lru_cache(maxsize=4096)
def _parts(value: str) -> UrlParts | None:
    """`split_url`, once per distinct URI for both `_uri_failures` and `_uri_warnings`: a fleet
    shares a handful of callback URIs, each under many property names, and a URI that is not of
    the common form costs ~95 µs (rfc3986), which a check() of every number on every preview
    would pay again."""
    return split_url(value)


@lru_cache(maxsize=4096)
def _check_uri_string(prop: str, value: str, allow_http_loopback: bool) -> tuple[Failure, ...]:
    return tuple(_uri_failures(prop, value, allow_http_loopback))


def _uri_failures(prop: str, value: str, allow_http_loopback: bool) -> list[Failure]:
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return [Failure(prop, f"{prop} must not contain whitespace or control characters")]
    parts = _parts(value)
    if parts is None:
        return [Failure(prop, f"{prop} must be an absolute https:// URL, got {_show(value)}")]
    if parts.userinfo is not None:
        return [Failure(prop, f"{prop} must not carry a user name or password (user@host)")]
    if parts.fragment is not None:
        return [Failure(prop, f"{prop} must not have a #fragment")]
    if parts.scheme == "https":
        return []
    if parts.scheme == "http" and is_loopback_host(parts.host):
        if allow_http_loopback:
            return []
        return [Failure(
            prop,
            f"{prop} uses http:// to a loopback host; set whatsapp:allowHttpLoopback to true "
            "for local testing, Meta requires https://",
        )]
    return [Failure(prop, f"{prop} must use https:// (Meta requires it), got {parts.scheme}://")]


def callback_uri_warnings(prop: str, value: Any) -> list[str]:
    """What may keep Meta from accepting a callback URI that passes `check_callback_uri`: a host
    with ``_`` or an explicit ``:port``. A vendor's documentation (360dialog's, on its Cloud API
    webhooks) says neither is supported; Meta's does not, so these are warnings, not failures.
    None for loopback hosts (only the local emulator calls them) or for a value
    `check_callback_uri` refuses."""
    if not isinstance(value, str) or len(value) > MAX_CALLBACK_URI_LENGTH:
        return []
    return list(_uri_warnings(prop, value))


@lru_cache(maxsize=4096)
def _uri_warnings(prop: str, value: str) -> tuple[str, ...]:
    parts = _parts(value)
    if parts is None or is_loopback_host(parts.host):
        return ()
    warnings = []
    reported = "360dialog's documentation says Cloud API webhook URLs do not support"
    unconfirmed = "(Meta's does not say so: a warning, not an error)"
    if "_" in parts.host:
        warnings.append(
            f"{prop} {value}: its host name has an underscore (_); {reported} that "
            f"{unconfirmed}"
        )
    if parts.port is not None:
        warnings.append(
            f"{prop} {value}: it has an explicit port (:{parts.port}); {reported} a port: "
            f"serve it on the default https port and leave the port out {unconfirmed}"
        )
    return tuple(warnings)


def check_verify_token(prop: str, value: Any) -> list[Failure]:
    """A verify token: a non-empty string (Meta sets no maximum). Never echoed in a reason."""
    if value is None or value == "":
        return [Failure(prop, f"{prop} is required and must not be empty")]
    if not isinstance(value, str):
        return [Failure(prop, f"{prop} must be a string, got {_type(value)}")]
    if not value.strip():
        return [Failure(prop, f"{prop} must not be blank")]
    if any(not ch.isprintable() for ch in value):
        return [Failure(prop, f"{prop} must not contain control characters")]
    return []


def check_webhook_fields(prop: str, value: Any,
                         skip: Callable[[Any], bool] | None = None) -> list[Failure]:
    """The webhook fields of the app's subscription: a non-empty list of field names (lower
    case, digits and ``_``), each once; a failure names the entry, ``fields[2]``. Entries for
    which `skip` is true (unknown until `up`) are not checked. Names Meta may not know are
    `unknown_webhook_fields`, a warning."""
    if value is None:
        return [Failure(prop, f"{prop} is required: a list of webhook field names, such as "
                              "['messages']")]
    if isinstance(value, str) or not isinstance(value, list | tuple):
        return [Failure(prop, f"{prop} must be a list of webhook field names, got "
                              f"{_show(value) if isinstance(value, str) else _type(value)}")]
    if not value:
        return [Failure(prop, f"{prop} must not be empty: an app subscribed to no field gets no "
                              "webhook at all (list at least 'messages')")]
    failures: list[Failure] = []
    seen: set[str] = set()
    for i, name in enumerate(value):
        entry = f"{prop}[{i}]"
        if skip is not None and skip(name):
            continue
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            shown = _show(name) if isinstance(name, str) else _type(name)
            failures.append(Failure(entry, f"{entry} must be a webhook field name such as "
                                           f"'messages', got {shown}"))
        elif name in seen:
            failures.append(Failure(entry, f"{entry}: {name!r} is listed twice"))
        else:
            seen.add(name)
    return failures


def unknown_webhook_fields(value: Any) -> list[str]:
    """The names in a list of webhook fields that are not in `APP_WEBHOOK_FIELDS`: perhaps a
    field Meta added since, perhaps a typo."""
    if not isinstance(value, list | tuple):
        return []
    return [name for name in value
            if isinstance(name, str) and _FIELD_NAME.match(name)
            and name not in APP_WEBHOOK_FIELDS]


def check_bool(prop: str, value: Any) -> list[Failure]:
    """An optional flag."""
    if value is None or isinstance(value, bool):
        return []
    return [Failure(prop, f"{prop} must be true or false, got {_type(value)}")]


def check_choice(prop: str, value: Any, choices: tuple[str, ...]) -> list[Failure]:
    """An optional string that must be one of `choices`."""
    if value is None or value in choices:
        return []
    shown = _show(value) if isinstance(value, str) else _type(value)
    return [Failure(prop, f"{prop} must be one of {', '.join(map(repr, choices))}, got {shown}")]


def check_id_map(prop: str, value: Any, check_value: Any, *,
                 skip: Callable[[Any], bool] | None = None) -> list[Failure]:
    """An optional object from ids (strings of digits) to values; each entry is checked with
    ``check_value(name, value)`` and its failures name the entry as ``prop["<id>"]``. Values
    for which `skip` is true (unknown until `up`) are not checked."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [Failure(prop, f"{prop} must be an object of id -> value, got {_type(value)}")]
    failures: list[Failure] = []
    for key, item in value.items():
        name = f"{prop}[{_show(str(key))}]"
        key_failures = check_id(name, key)
        if key_failures:
            failures.append(Failure(name, f"{name}: the key must be an id, a string of digits"))
        elif skip is None or not skip(item):
            failures.extend(check_value(name, item))
    return failures


def check_known(props: Mapping[str, Any], known: set[str]) -> list[Failure]:
    """Reject properties the resource does not have (typos would otherwise be ignored)."""
    return [
        Failure(str(key), f"{_show(str(key))} is not a property of this resource")
        for key, value in props.items()
        # None: an output-only property the program declared; "__": the engine's own keys.
        if key not in known and value is not None and not str(key).startswith("__")
    ]


def _type(value: Any) -> str:
    return "a number" if isinstance(value, int | float) and not isinstance(value, bool) else (
        f"a {type(value).__name__}"
    )


def _show(value: str, limit: int = 60) -> str:
    """A value quoted for a message: shortened, with non-printable characters escaped."""
    text = value if len(value) <= limit else value[:limit] + "…"
    return repr(text)
