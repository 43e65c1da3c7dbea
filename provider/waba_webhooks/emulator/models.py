"""State and rules of the emulated Graph API: apps, WABAs, phone numbers and their callbacks.

No HTTP lives here. :class:`GraphBackend` holds the state behind one lock and has one method per
Graph operation; each takes the caller's app id (the app owning the access token) and either
returns a JSON-ready dict or raises a :class:`GraphAPIError`. The callback verification call is
an injected ``verifier(url, verify_token)`` that returns ``None`` on success or raises
:class:`VerificationFailed`; the backend never holds its lock while the verifier runs.

Rules (docs/meta-rules.md: Meta's "Webhook Overrides" page, and what integrators observe):

* A messages webhook for a phone number goes to the app's phone number override, else to the
  app's override on the phone's WABA, else to the app's callback URL -- and nowhere if the app
  is not subscribed to that WABA. Template and account webhooks always go to the app's callback
  URL.
* ``POST /{WABA}/subscribed_apps`` without fields subscribes the app and clears its WABA
  override; with ``override_callback_uri`` + ``verify_token`` it verifies, then stores the
  override -- but only for an app already subscribed: otherwise code 100, "Before override the
  current callback uri, ..." (observed). ``DELETE`` unsubscribes the app entirely.
* ``POST /{PHONE}`` with ``webhook_configuration.override_callback_uri`` sets the phone override
  (after verification); an empty string clears it. Refused the same way when the app is not
  subscribed to the number's WABA (inferred), and with code 200 (HTTP 403) when the WABA lives
  in the customer's own Business Manager (``customer_managed``, observed).
* A failed verification is code 2200 with what the callback answered, in Meta's words.
* Callback URLs: required, at most 200 characters, absolute, https (http only for loopback).
* An id that does not exist or that the app cannot see: code 100, subcode 33.
* Reads show keys only for levels that have a URL (never null), and ``{"data": []}`` for a WABA
  no app is subscribed to.
* The app's own webhook subscription (``/{app-id}/subscriptions``, object
  ``whatsapp_business_account``): the app's callback URL and the fields Meta delivers. Only an
  app access token (``{app-id}|{app-secret}``) may use it (another token: code 15). ``POST``
  verifies ``callback_url`` like an override, then sets the URL and *adds* the fields (never
  removes one); ``DELETE`` with ``fields`` drops those fields, with ``object`` alone the whole
  subscription. One callback URL per (app, object). GET never returns the verify token.
* Delivery follows the fields: a field the app is not subscribed to is delivered nowhere (no
  ``messages`` field: no messages webhook reaches any override either); template and account
  webhooks go to the app's callback URL only when their field is subscribed.
* A business lists the WABAs it owns and those its clients shared with it
  (``GET /{BUSINESS}/owned_whatsapp_business_accounts``, ``.../client_whatsapp_business_accounts``:
  cursor paging, ``limit`` 25 by default and at most 100) to a token whose app has access to the
  business; another app gets code 200. A WABA marked ``refuses_reads`` is listed, but reads of it
  and its numbers answer ``(#200) Permissions error`` (a token whose scopes do not cover it).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..validation import APP_WEBHOOK_FIELDS, is_loopback_host
from .budget import default_hourly_budget
from .exceptions import (
    REVOKED_TOKEN_ANSWERS,
    AppTokenRequiredError,
    BusinessPermissionError,
    CallbackVerificationError,
    InvalidFixtureError,
    InvalidParameterError,
    InvalidTokenError,
    NotSubscribedError,
    ObjectNotFoundError,
    PermissionDeniedError,
    RevokedTokenError,
    UnknownAliasError,
    VerificationFailed,
)

Verifier = Callable[[str, str], None]
"""``verifier(url, verify_token)``: returns on success, raises :class:`VerificationFailed`."""

MAX_CALLBACK_URL_LENGTH = 200
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
PHONE_DEFAULT_FIELDS = ("id", "display_phone_number", "verified_name", "quality_rating")
PHONE_FIELDS = (*PHONE_DEFAULT_FIELDS, "webhook_configuration")
#: Fields of a WABA in a business's WABA lists: Graph's default for an edge is id and name.
WABA_DEFAULT_FIELDS = ("id", "name")
WABA_FIELDS = (*WABA_DEFAULT_FIELDS, "timezone_id", "message_template_namespace", "currency",
               "account_review_status", "ownership_type")
OWNED, CLIENT = "owned", "client"

RULE_PHONE = "phone_number"
RULE_WABA = "whatsapp_business_account"
RULE_APP = "application"

MESSAGES_FIELD = "messages"
#: WABA-level webhook fields, with a sample ``value``: Meta sends them to the app's callback URL
#: whatever overrides are set (docs/meta-rules.md).
ACCOUNT_FIELDS: dict[str, dict[str, Any]] = {
    "message_template_status_update": {
        "event": "APPROVED", "message_template_id": 1234567890, "reason": "NONE",
        "message_template_name": "emulator_template", "message_template_language": "en_US",
    },
    "message_template_quality_update": {
        "previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
        "message_template_id": 1234567890, "message_template_name": "emulator_template",
        "message_template_language": "en_US",
    },
    "account_update": {"event": "VERIFIED_ACCOUNT"},
    "account_review_update": {"decision": "APPROVED"},
    "account_alerts": {
        "entity_type": "WABA", "alert_severity": "INFORMATIONAL", "alert_status": "NONE",
        "alert_type": "EMULATOR_ALERT", "alert_description": "A sample alert from the emulator",
    },
}
WEBHOOK_FIELDS = (MESSAGES_FIELD, *ACCOUNT_FIELDS)

#: The ``object`` of an app's webhook subscription that carries WhatsApp's fields.
APP_WEBHOOK_OBJECT = "whatsapp_business_account"
#: Field names of that object (`validation.APP_WEBHOOK_FIELDS`: "Managing webhooks" and
#: "Webhook overrides", 2026). Meta adds fields over time; the emulator refuses names it does
#: not know, as Graph does for values outside an enum.
APP_SUBSCRIPTION_FIELDS = APP_WEBHOOK_FIELDS
#: The fields of a fixture app with a callback URL and no ``fields`` key: every field the
#: emulator delivers (so fixtures written before the subscription was modelled behave as
#: before).
DEFAULT_APP_FIELDS = WEBHOOK_FIELDS
#: The API version recorded for a field given without one (fixtures, the admin API).
DEFAULT_FIELD_VERSION = "v23.0"


# --------------------------------------------------------------------------- state


@dataclass
class App:
    """A Meta app: its webhook subscription for ``whatsapp_business_account`` (the App
    Dashboard's callback URL, ``""`` for none, and the subscribed fields), its app secret and
    the tokens that act as it."""

    id: str
    name: str
    callback_url: str
    app_secret: str
    access_tokens: list[str] = field(default_factory=list)
    #: Tokens of this app that Meta no longer accepts -> why (``expired``, ``invalidated``):
    #: they answer code 190 with that reason's subcode.
    revoked_tokens: dict[str, str] = field(default_factory=dict)
    #: Subscribed field name -> the API version it was subscribed with (empty: none).
    fields: dict[str, str] = field(default_factory=dict)
    #: Subscriptions for other objects (``page``, ``user``...), fixture only: object ->
    #: ``{"callback_url", "fields": {name: version}}``. Only listed by GET.
    other_subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def app_token(self) -> str:
        """The app access token, ``{app-id}|{app-secret}``."""
        return f"{self.id}|{self.app_secret}"

    @property
    def subscribed(self) -> bool:
        """Whether the app has a webhook subscription for ``whatsapp_business_account``."""
        return bool(self.callback_url)

    @property
    def link(self) -> str:
        """The app's public link, as Graph returns it."""
        return f"https://www.facebook.com/games/?app_id={self.id}"


@dataclass
class Waba:
    """A WhatsApp Business Account and, per subscribed app, its override URL (or None).

    ``customer_managed``: the WABA lives in the customer's own Business Manager (a WhatsApp
    Business app "coexistence" number): apps may subscribe, but writes to its numbers answer
    ``(#200) Permissions error``.
    """

    id: str
    name: str
    apps_with_access: list[str] = field(default_factory=list)
    subscriptions: dict[str, str | None] = field(default_factory=dict)
    customer_managed: bool = False
    #: Calls per hour per app; None: Meta's default for the WABA (see `.budget`).
    hourly_budget: int | None = None
    #: Reads of the WABA and its numbers answer ``(#200) Permissions error``: the token's
    #: granular scopes do not cover it, though its business still lists it.
    refuses_reads: bool = False


@dataclass
class Business:
    """A Meta business portfolio: the WABAs it owns, those its clients shared with it (a
    solution provider's), and the apps whose system-user tokens have access to it."""

    id: str
    name: str
    apps_with_access: list[str] = field(default_factory=list)
    owned_wabas: list[str] = field(default_factory=list)
    client_wabas: list[str] = field(default_factory=list)

    def wabas(self, relation: str) -> list[str]:
        """The WABA ids of one relation (`OWNED` or `CLIENT`), in the order they were added."""
        return self.owned_wabas if relation == OWNED else self.client_wabas


@dataclass
class PhoneNumber:
    """A business phone number of one WABA and its per-app override URLs."""

    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    overrides: dict[str, str] = field(default_factory=dict)
    #: Registered with the Cloud API; a WABA with one gets the larger hourly budget.
    registered: bool = True


@dataclass(frozen=True)
class VerificationAttempt:
    """One verification call made before accepting an override (never holds the token)."""

    url: str
    ok: bool
    reason: str
    app_id: str
    object_id: str

    def to_json(self) -> dict[str, Any]:
        """Return the attempt as a JSON-ready dict."""
        return {
            "url": self.url,
            "ok": self.ok,
            "reason": self.reason,
            "app_id": self.app_id,
            "object_id": self.object_id,
        }


@dataclass(frozen=True)
class PhoneNumberPage:
    """One page of ``GET /{WABA}/phone_numbers``; cursors are None on an empty page."""

    data: list[dict[str, Any]]
    before: str | None
    after: str | None
    has_more: bool


@dataclass(frozen=True)
class WabaPage:
    """One page of a business's WABA list; cursors are None on an empty page."""

    data: list[dict[str, Any]]
    before: str | None
    after: str | None
    has_more: bool


@dataclass(frozen=True)
class Route:
    """Where a messages webhook goes and by which rule; ``url=None`` (with ``reason``) when
    Meta would send nothing."""

    url: str | None
    rule: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A signed ``messages`` webhook and its route."""

    route: Route
    body: bytes
    headers: dict[str, str]


# --------------------------------------------------------------------------- validation


def validate_callback_url(value: object, param: str = "override_callback_uri") -> str:
    """Check a callback URL the way Graph does; return it or raise code 100 naming ``param``."""
    if value is None or value == "":
        raise InvalidParameterError(f"The parameter {param} is required")
    if not isinstance(value, str):
        raise InvalidParameterError(f"Param {param} must be a string")
    if len(value) > MAX_CALLBACK_URL_LENGTH:
        raise InvalidParameterError(
            f"Param {param} must be at most {MAX_CALLBACK_URL_LENGTH} characters long"
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise InvalidParameterError(f"Param {param} must be a valid absolute URL")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise InvalidParameterError(f"Param {param} must be a valid absolute URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(f"Param {param} must be a valid absolute URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InvalidParameterError(
            f"Param {param} must use https (http is accepted for loopback hosts only)"
        )
    return value


def validate_verify_token(value: object) -> str:
    """Check a verify token: a non-empty string with no maximum length."""
    if value is None or value == "":
        raise InvalidParameterError("The parameter verify_token is required")
    if not isinstance(value, str):
        raise InvalidParameterError("Param verify_token must be a string")
    return value


def _app_object(value: object) -> str:
    """The ``object`` of an app subscription call: required, and the one the emulator models."""
    if value is None or value == "":
        raise InvalidParameterError("The parameter object is required")
    if value != APP_WEBHOOK_OBJECT:
        raise InvalidParameterError(f"Param object must be one of {{{APP_WEBHOOK_OBJECT}}}")
    return APP_WEBHOOK_OBJECT


def _app_field_names(fields: Sequence[object], param: str) -> list[str]:
    """Webhook field names of ``whatsapp_business_account``; code 100 names an unknown one in
    Graph's wording for a value outside an enum (``Param fields[0] must be one of {...}``)."""
    names: list[str] = []
    for i, name in enumerate(fields):
        if not isinstance(name, str) or name not in APP_SUBSCRIPTION_FIELDS:
            raise InvalidParameterError(
                f"Param {param}[{i}] must be one of {{{', '.join(APP_SUBSCRIPTION_FIELDS)}}}"
            )
        if name not in names:
            names.append(name)
    return names


def _bool_param(value: object, param: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise InvalidParameterError(f"Param {param} must be a boolean")


def _subscription_json(obj: str, callback_url: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """One entry of ``GET /{APP}/subscriptions`` (Meta's shape; no verify token)."""
    return {
        "object": obj,
        "callback_url": callback_url,
        "active": True,
        "fields": [{"name": name, "version": version} for name, version in fields.items()],
    }


def is_hourly_budget(value: object) -> bool:
    """True for a valid hourly call budget: a positive integer."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _phone_fields(fields: Sequence[str]) -> list[str]:
    """Check requested phone number fields; code 100 names the first unknown one."""
    for name in fields:
        if name not in PHONE_FIELDS:
            raise InvalidParameterError(
                f"Tried accessing nonexisting field ({name}) on node type "
                "(WhatsAppBusinessPhoneNumber)"
            )
    return list(fields)


def _phone_entry(
    phone: PhoneNumber, fields: Sequence[str], webhook_configuration: dict[str, str]
) -> dict[str, Any]:
    """A phone number with the requested fields (and always its id)."""
    result: dict[str, Any] = {}
    for name in fields:
        if name == "webhook_configuration":
            result[name] = webhook_configuration
        elif name == "quality_rating":
            result[name] = "GREEN"
        elif name != "id":
            result[name] = getattr(phone, name)
    result["id"] = phone.id
    return result


def _waba_fields(fields: Sequence[str]) -> list[str]:
    """Check requested WABA fields; code 100 names the first unknown one."""
    for name in fields:
        if name not in WABA_FIELDS:
            raise InvalidParameterError(
                f"Tried accessing nonexisting field ({name}) on node type "
                "(WhatsAppBusinessAccount)"
            )
    return list(fields)


def _waba_entry(waba: Waba, relation: str, fields: Sequence[str]) -> dict[str, Any]:
    """A WABA of a business's list with the requested fields (and always its id). Values the
    emulator does not model are fixed, plausible ones of the types Meta's OpenAPI gives."""
    values: dict[str, Any] = {
        "name": waba.name,
        "timezone_id": "1",
        "message_template_namespace": hashlib.sha256(waba.id.encode()).hexdigest()[:32],
        "currency": "USD",
        "account_review_status": "APPROVED",
        "ownership_type": "SELF_OWNED" if relation == OWNED else "CLIENT_OWNED",
    }
    result = {name: values[name] for name in fields if name != "id"}
    result["id"] = waba.id
    return result


def _cursor(phone_id: str) -> str:
    return base64.urlsafe_b64encode(phone_id.encode()).decode()


def _uncursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidParameterError("Param after is not a valid cursor") from None


# --------------------------------------------------------------------------- delivery payload


def build_account_webhook(waba_id: str, field_name: str) -> dict[str, Any]:
    """Build a WABA-level webhook payload (template or account event) for ``field_name``."""
    value = dict(ACCOUNT_FIELDS[field_name])
    if field_name == "account_alerts":
        value["entity_id"] = waba_id
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": int(time.time()),
                "changes": [{"field": field_name, "value": value}],
            }
        ],
    }


def build_messages_webhook(
    waba_id: str,
    phone: PhoneNumber,
    text: str,
    from_wa_id: str = "16505551234",
    profile_name: str = "Emulator User",
) -> dict[str, Any]:
    """Build a WhatsApp ``messages`` webhook payload for one inbound text message."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": phone.display_phone_number,
                                "phone_number_id": phone.id,
                            },
                            "contacts": [{"profile": {"name": profile_name}, "wa_id": from_wa_id}],
                            "messages": [
                                {
                                    "from": from_wa_id,
                                    "id": "wamid.EMU" + secrets.token_hex(12).upper(),
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def sign_payload(body: bytes, app_secret: str) -> str:
    """Return the ``X-Hub-Signature-256`` value: ``sha256=<hex HMAC of body with the secret>``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# --------------------------------------------------------------------------- fixture parsing


def _require(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise InvalidFixtureError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def _objects(container: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items: list[Mapping[str, Any]] = _require(container, key, list, "fixture")
    if not all(isinstance(item, Mapping) for item in items):
        raise InvalidFixtureError(f"fixture: every entry of '{key}' must be an object")
    return items


def _parse_revoked(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
            isinstance(token, str) and token and reason in REVOKED_TOKEN_ANSWERS
            for token, reason in raw.items()):
        raise InvalidFixtureError(f"{where}: revoked_tokens must map tokens to one of "
                                  f"{', '.join(REVOKED_TOKEN_ANSWERS)}")
    return dict(raw)


def _parse_apps(fixture: Mapping[str, Any]) -> dict[str, App]:
    apps: dict[str, App] = {}
    for raw in _objects(fixture, "apps"):
        where = f"app {raw.get('id')!r}"
        tokens = _require(raw, "access_tokens", list, where)
        if not all(isinstance(t, str) and t for t in tokens):
            raise InvalidFixtureError(f"{where}: access_tokens must be non-empty strings")
        callback_url = _require(raw, "callback_url", str, where)
        app = App(
            id=_require(raw, "id", str, where),
            name=_require(raw, "name", str, where),
            callback_url=callback_url,
            app_secret=_require(raw, "app_secret", str, where),
            access_tokens=list(tokens),
            revoked_tokens=_parse_revoked(raw.get("revoked_tokens"), where),
            fields=_parse_app_fields(raw.get("fields"), callback_url, where),
            other_subscriptions=_parse_other_subscriptions(raw.get("other_subscriptions"), where),
        )
        if app.id in apps:
            raise InvalidFixtureError(f"{where}: duplicate id")
        apps[app.id] = app
    if not apps:
        raise InvalidFixtureError("fixture: at least one app is required")
    return apps


def _parse_app_fields(raw: object, callback_url: str, where: str) -> dict[str, str]:
    """An app's subscribed fields from a fixture: absent means `DEFAULT_APP_FIELDS` when the app
    has a callback URL (none without); else a list of names or ``{"name", "version"}``."""
    if raw is None:
        return dict.fromkeys(DEFAULT_APP_FIELDS, DEFAULT_FIELD_VERSION) if callback_url else {}
    if not isinstance(raw, list):
        raise InvalidFixtureError(f"{where}: 'fields' must be a list")
    fields = _field_versions(raw, where, known=APP_SUBSCRIPTION_FIELDS)
    if fields and not callback_url:
        raise InvalidFixtureError(f"{where}: 'fields' need a callback_url")
    return fields


def _field_versions(raw: list[Any], where: str, known: Sequence[str] | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in raw:
        name, version = (item.get("name"), item.get("version", DEFAULT_FIELD_VERSION)) if (
            isinstance(item, Mapping)) else (item, DEFAULT_FIELD_VERSION)
        if not isinstance(name, str) or not name or not isinstance(version, str):
            raise InvalidFixtureError(f"{where}: a field is a name or {{'name', 'version'}}")
        if known is not None and name not in known:
            raise InvalidFixtureError(f"{where}: unknown webhook field {name!r}")
        fields[name] = version
    return fields


def _parse_other_subscriptions(raw: object, where: str) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidFixtureError(f"{where}: 'other_subscriptions' must be an object")
    result: dict[str, dict[str, Any]] = {}
    for obj, sub in raw.items():
        if obj == APP_WEBHOOK_OBJECT or not isinstance(sub, Mapping):
            raise InvalidFixtureError(
                f"{where}: 'other_subscriptions' maps other objects to their subscription")
        result[str(obj)] = {
            "callback_url": _require(sub, "callback_url", str, where),
            "fields": _field_versions(_require(sub, "fields", list, where), where, known=None),
        }
    return result


def _fields_json(fields: Mapping[str, str]) -> list[Any]:
    """Fields as a fixture lists them: a bare name when at the default version."""
    return [name if version == DEFAULT_FIELD_VERSION else {"name": name, "version": version}
            for name, version in fields.items()]


def _parse_wabas(fixture: Mapping[str, Any], apps: Mapping[str, App]) -> dict[str, Waba]:
    wabas: dict[str, Waba] = {}
    for raw in _objects(fixture, "wabas"):
        where = f"waba {raw.get('id')!r}"
        access = _require(raw, "apps_with_access", list, where)
        subscriptions = raw.get("subscriptions", {})
        if not isinstance(subscriptions, Mapping):
            raise InvalidFixtureError(f"{where}: 'subscriptions' must be an object")
        for app_id in [*access, *subscriptions]:
            if app_id not in apps:
                raise InvalidFixtureError(f"{where}: unknown app {app_id!r}")
        if any(uri is not None and not isinstance(uri, str) for uri in subscriptions.values()):
            raise InvalidFixtureError(f"{where}: subscription overrides must be strings or null")
        customer_managed = raw.get("customer_managed", False)
        if not isinstance(customer_managed, bool):
            raise InvalidFixtureError(f"{where}: 'customer_managed' must be true or false")
        budget = raw.get("hourly_budget")
        if budget is not None and not is_hourly_budget(budget):
            raise InvalidFixtureError(f"{where}: 'hourly_budget' must be a positive integer")
        refuses_reads = raw.get("refuses_reads", False)
        if not isinstance(refuses_reads, bool):
            raise InvalidFixtureError(f"{where}: 'refuses_reads' must be true or false")
        waba = Waba(
            id=_require(raw, "id", str, where),
            name=_require(raw, "name", str, where),
            apps_with_access=list(access),
            subscriptions=dict(subscriptions),
            customer_managed=customer_managed,
            hourly_budget=budget,
            refuses_reads=refuses_reads,
        )
        if waba.id in wabas:
            raise InvalidFixtureError(f"{where}: duplicate id")
        wabas[waba.id] = waba
    return wabas


def _parse_phones(
    fixture: Mapping[str, Any], apps: Mapping[str, App], wabas: Mapping[str, Waba]
) -> dict[str, PhoneNumber]:
    phones: dict[str, PhoneNumber] = {}
    for raw in _objects(fixture, "phone_numbers"):
        where = f"phone number {raw.get('id')!r}"
        overrides = raw.get("overrides", {})
        if not isinstance(overrides, Mapping) or not all(
            isinstance(uri, str) and app_id in apps for app_id, uri in overrides.items()
        ):
            raise InvalidFixtureError(f"{where}: 'overrides' must map known app ids to strings")
        if not isinstance(raw.get("registered", True), bool):
            raise InvalidFixtureError(f"{where}: 'registered' must be true or false")
        phone = PhoneNumber(
            id=_require(raw, "id", str, where),
            waba_id=_require(raw, "waba_id", str, where),
            display_phone_number=_require(raw, "display_phone_number", str, where),
            verified_name=_require(raw, "verified_name", str, where),
            overrides=dict(overrides),
            registered=raw.get("registered", True),
        )
        if phone.waba_id not in wabas:
            raise InvalidFixtureError(f"{where}: unknown waba {phone.waba_id!r}")
        if phone.id in phones:
            raise InvalidFixtureError(f"{where}: duplicate id")
        phones[phone.id] = phone
    return phones


def _parse_businesses(
    fixture: Mapping[str, Any], apps: Mapping[str, App], wabas: Mapping[str, Waba]
) -> dict[str, Business]:
    """The optional ``businesses`` list: every WABA has at most one owner, and is listed once
    per business."""
    businesses: dict[str, Business] = {}
    owners: dict[str, str] = {}
    for raw in _objects(fixture, "businesses") if "businesses" in fixture else []:
        where = f"business {raw.get('id')!r}"
        lists = {key: raw.get(key, []) for key in ("apps_with_access", "owned_wabas",
                                                   "client_wabas")}
        for key, ids in lists.items():
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise InvalidFixtureError(f"{where}: '{key}' must be a list of ids")
        if any(app_id not in apps for app_id in lists["apps_with_access"]):
            raise InvalidFixtureError(f"{where}: apps_with_access names an unknown app")
        listed = [*lists["owned_wabas"], *lists["client_wabas"]]
        for waba_id in listed:
            if waba_id not in wabas:
                raise InvalidFixtureError(f"{where}: unknown waba {waba_id!r}")
        if len(set(listed)) != len(listed):
            raise InvalidFixtureError(f"{where}: a WABA is listed twice")
        for waba_id in lists["owned_wabas"]:
            if waba_id in owners:
                raise InvalidFixtureError(f"{where}: WABA {waba_id} already has an owner")
            owners[waba_id] = where
        business = Business(
            id=_require(raw, "id", str, where),
            name=_require(raw, "name", str, where),
            apps_with_access=list(lists["apps_with_access"]),
            owned_wabas=list(lists["owned_wabas"]),
            client_wabas=list(lists["client_wabas"]),
        )
        if business.id in businesses:
            raise InvalidFixtureError(f"{where}: duplicate id")
        businesses[business.id] = business
    return businesses


def _parse_fixture(
    fixture: Mapping[str, Any],
) -> tuple[dict[str, App], dict[str, Waba], dict[str, PhoneNumber], dict[str, Business]]:
    """Turn fixture JSON into state, checking types and that every reference resolves."""
    if not isinstance(fixture, Mapping):
        raise InvalidFixtureError("fixture must be a JSON object")
    apps = _parse_apps(fixture)
    wabas = _parse_wabas(fixture, apps)
    phones = _parse_phones(fixture, apps, wabas)
    businesses = _parse_businesses(fixture, apps, wabas)
    ids = [*apps, *wabas, *phones, *businesses]
    if len(set(ids)) != len(ids):
        raise InvalidFixtureError("fixture: ids must be unique across apps, WABAs and phones")
    if not all(i.isdigit() for i in ids):
        raise InvalidFixtureError("fixture: ids must be digit strings")
    return apps, wabas, phones, businesses


# --------------------------------------------------------------------------- the backend


class GraphBackend:
    """The emulated Graph API state and its rules; thread-safe, no HTTP.

    ``app_id`` arguments name the *calling* app (the owner of the access token).
    """

    def __init__(self, fixture: Mapping[str, Any], verifier: Verifier) -> None:
        self._lock = threading.Lock()
        self._verifier = verifier
        self._baseline: dict[str, Any] = {}
        self._apps: dict[str, App] = {}
        self._wabas: dict[str, Waba] = {}
        self._phones: dict[str, PhoneNumber] = {}
        self._businesses: dict[str, Business] = {}
        self._verifications: list[VerificationAttempt] = []
        self.seed(fixture)

    # ----------------------------------------------------------------- seeding

    def seed(self, fixture: Mapping[str, Any]) -> None:
        """Replace the whole state with ``fixture`` and make it the baseline for :meth:`reset`."""
        apps, wabas, phones, businesses = _parse_fixture(fixture)
        with self._lock:
            self._baseline = copy.deepcopy(dict(fixture))
            self._apps, self._wabas, self._phones = apps, wabas, phones
            self._businesses = businesses
            self._verifications.clear()

    def reset(self) -> None:
        """Return to the baseline fixture and forget the verification attempts."""
        with self._lock:
            baseline = self._baseline
        self.seed(baseline)

    def to_fixture(self) -> dict[str, Any]:
        """Return the current state in the fixture format (verify tokens are never stored)."""
        with self._lock:
            return {
                "apps": [
                    {
                        "id": a.id,
                        "name": a.name,
                        "callback_url": a.callback_url,
                        "app_secret": a.app_secret,
                        "access_tokens": list(a.access_tokens),
                        **({"revoked_tokens": dict(a.revoked_tokens)}
                           if a.revoked_tokens else {}),
                        # Fields only when not the default, like a hand-written fixture.
                        **({"fields": _fields_json(a.fields)} if a.fields != _parse_app_fields(
                            None, a.callback_url, "") else {}),
                        **({"other_subscriptions": {
                            obj: {"callback_url": sub["callback_url"],
                                  "fields": _fields_json(sub["fields"])}
                            for obj, sub in a.other_subscriptions.items()}}
                           if a.other_subscriptions else {}),
                    }
                    for a in self._apps.values()
                ],
                "wabas": [
                    {
                        "id": w.id,
                        "name": w.name,
                        "apps_with_access": list(w.apps_with_access),
                        "subscriptions": dict(w.subscriptions),
                        **({"customer_managed": True} if w.customer_managed else {}),
                        # Budget keys only when not the default, like a hand-written fixture.
                        **({"hourly_budget": w.hourly_budget} if w.hourly_budget else {}),
                        **({"refuses_reads": True} if w.refuses_reads else {}),
                    }
                    for w in self._wabas.values()
                ],
                "phone_numbers": [
                    {
                        "id": p.id,
                        "waba_id": p.waba_id,
                        "display_phone_number": p.display_phone_number,
                        "verified_name": p.verified_name,
                        "overrides": dict(p.overrides),
                        **({} if p.registered else {"registered": False}),
                    }
                    for p in self._phones.values()
                ],
                **({"businesses": [
                    {
                        "id": b.id,
                        "name": b.name,
                        "apps_with_access": list(b.apps_with_access),
                        "owned_wabas": list(b.owned_wabas),
                        "client_wabas": list(b.client_wabas),
                    }
                    for b in self._businesses.values()
                ]} if self._businesses else {}),
            }

    @property
    def default_app_id(self) -> str:
        """The first app of the fixture (the one deliveries default to)."""
        with self._lock:
            return next(iter(self._apps))

    # ----------------------------------------------------------------- auth

    def app_for_token(self, token: str | None) -> str | None:
        """Return the id of the app owning ``token``, or None."""
        if not token:
            return None
        with self._lock:
            for app in self._apps.values():
                if token in app.access_tokens:
                    return app.id
        return None

    def authenticate(self, token: str | None) -> str:
        """Return the calling app's id, or raise code 190: with a subcode for a revoked or
        expired token, without one for a missing or unknown token."""
        app_id = self.app_for_token(token)
        if app_id is None:
            reason = self._revoked(token)
            raise RevokedTokenError(reason) if reason else InvalidTokenError()
        return app_id

    def _revoked(self, token: str | None) -> str | None:
        with self._lock:
            for app in self._apps.values():
                if token and token in app.revoked_tokens:
                    return app.revoked_tokens[token]
        return None

    # ----------------------------------------------------------------- credentials (admin)

    def add_access_token(self, app_id: str, token: str) -> None:
        """A new token of the app (a system user's, generated in Business Manager)."""
        if not token or "|" in token:
            raise InvalidParameterError("Param access_token must be a token without '|'")
        with self._lock:
            if any(token in app.access_tokens for app in self._apps.values()):
                raise InvalidParameterError("Param access_token is already a token")
            app = self._app(app_id)
            app.revoked_tokens.pop(token, None)
            app.access_tokens.append(token)

    def revoke_access_token(self, token: str, reason: str) -> str:
        """Meta stops accepting `token` (`reason`: ``expired`` or ``invalidated``); returns the
        id of its app."""
        if reason not in REVOKED_TOKEN_ANSWERS:
            raise InvalidParameterError(
                f"Param reason must be one of {', '.join(REVOKED_TOKEN_ANSWERS)}")
        with self._lock:
            for app in self._apps.values():
                if token in app.access_tokens:
                    app.access_tokens.remove(token)
                    app.revoked_tokens[token] = reason
                    return app.id
        raise InvalidParameterError("Param access_token is not a token of any app")

    def reset_app_secret(self, app_id: str, app_secret: str) -> None:
        """App Dashboard > App settings > Basic > Reset: the app has a new secret, and app
        access tokens formed from the old one answer code 190."""
        if not app_secret or "|" in app_secret:
            raise InvalidParameterError("Param app_secret must be a secret without '|'")
        with self._lock:
            self._app(app_id).app_secret = app_secret

    def app_for_app_token(self, token: str | None) -> str | None:
        """Return the id of the app whose app access token (``{app-id}|{app-secret}``) this is,
        or None."""
        if not token or "|" not in token:
            return None
        with self._lock:
            for app in self._apps.values():
                # Bytes: a header may carry any characters, and str comparison takes ASCII only.
                if hmac.compare_digest(token.encode(), app.app_token.encode()):
                    return app.id
        return None

    def authenticate_app_token(self, token: str | None) -> str:
        """For ``/{app-id}/subscriptions``: the app of an app access token; code 15 for any
        other valid token (a system user token), code 190 for a missing or unknown one (an app
        token with a wrong secret included)."""
        app_id = self.app_for_app_token(token)
        if app_id is not None:
            return app_id
        if self.app_for_token(token) is not None:
            raise AppTokenRequiredError()
        raise InvalidTokenError()

    # ----------------------------------------------------------------- lookups (lock held)

    def _waba(self, app_id: str, waba_id: str, method: str) -> Waba:
        if not waba_id.isdigit():
            raise UnknownAliasError(waba_id)
        waba = self._wabas.get(waba_id)
        # A WABA the app cannot see answers like one that does not exist, as observed
        # (ObjectNotFoundError); Meta's OpenAPI examples say 403 / code 200 instead.
        if waba is None or app_id not in waba.apps_with_access:
            raise ObjectNotFoundError(waba_id, method)
        if waba.refuses_reads and method == "GET":
            raise PermissionDeniedError()
        return waba

    def _phone(self, app_id: str, phone_id: str, method: str) -> PhoneNumber:
        if not phone_id.isdigit():
            raise UnknownAliasError(phone_id)
        phone = self._phones.get(phone_id)
        if phone is None or app_id not in self._wabas[phone.waba_id].apps_with_access:
            raise ObjectNotFoundError(phone_id, method)
        if self._wabas[phone.waba_id].refuses_reads and method == "GET":
            raise PermissionDeniedError()
        return phone

    def _business(self, app_id: str, business_id: str) -> Business:
        # The description's 400 example: a business id must be a numeric string (code 100).
        if not business_id.isdigit():
            raise InvalidParameterError(
                f"Invalid parameter: business_id must be a valid numeric string, got "
                f"{business_id!r}"
            )
        business = self._businesses.get(business_id)
        if business is None:
            raise ObjectNotFoundError(business_id, "GET")
        if app_id not in business.apps_with_access:
            raise BusinessPermissionError()
        return business

    def _app(self, app_id: str) -> App:
        app = self._apps.get(app_id)
        if app is None:
            raise InvalidParameterError(f"Unknown app id {app_id}")
        return app

    # ----------------------------------------------------------------- verification

    def _verify(self, app_id: str, object_id: str, url: str, verify_token: str) -> None:
        """Run the injected verifier (lock NOT held) and record the attempt."""
        try:
            self._verifier(url, verify_token)
        except VerificationFailed as failure:
            self._record(VerificationAttempt(url, False, failure.reason, app_id, object_id))
            raise CallbackVerificationError(failure.reason) from None
        self._record(VerificationAttempt(url, True, "", app_id, object_id))

    def _record(self, attempt: VerificationAttempt) -> None:
        with self._lock:
            self._verifications.append(attempt)

    def verifications(self) -> list[dict[str, Any]]:
        """Every verification attempt since the last seed or reset, oldest first."""
        with self._lock:
            return [attempt.to_json() for attempt in self._verifications]

    # ----------------------------------------------------------------- GET /app

    def get_app(self, app_id: str) -> dict[str, Any]:
        """``GET /app``: the calling app's id, name and link."""
        with self._lock:
            app = self._app(app_id)
            return {"id": app.id, "name": app.name, "link": app.link}

    # ----------------------------------------------------------------- GET /debug_token

    def debug_token(self, app_id: str, input_token: object) -> dict[str, Any]:
        """``GET /debug_token?input_token=...``: what the input token is, for the calling app.

        Every emulator token is a system-user token with ``whatsapp_business_management``
        (targets: the WABAs its app has access to) and ``business_management`` (targets: the
        businesses). A token of another app is refused as Meta words it; an unknown one is
        answered with ``is_valid: false`` (code 190 inside ``data``), as Graph does.
        """
        if not isinstance(input_token, str) or not input_token:
            raise InvalidParameterError("The parameter input_token is required")
        owner = self.app_for_token(input_token)
        if owner is None:
            return {"data": {"error": {"code": 190, "message": "Invalid OAuth access token."},
                             "is_valid": False, "scopes": []}}
        if owner != app_id:
            raise InvalidParameterError("The App_id in the input_token did not match the "
                                        "Viewing App")
        with self._lock:
            app = self._apps[owner]
            wabas = [w.id for w in self._wabas.values()
                     if owner in w.apps_with_access and not w.refuses_reads]
            businesses = [b.id for b in self._businesses.values() if owner in b.apps_with_access]
        granular = [{"scope": "whatsapp_business_management", "target_ids": wabas}]
        if businesses:
            granular.append({"scope": "business_management", "target_ids": businesses})
        return {"data": {
            "app_id": app.id,
            "type": "SYSTEM_USER",
            "application": app.name,
            "data_access_expires_at": 0,
            "expires_at": 0,
            "is_valid": True,
            "scopes": [entry["scope"] for entry in granular],
            "granular_scopes": granular,
        }}

    # ----------------------------------------------------------------- /{BUSINESS}/..._accounts

    def list_business_wabas(
        self,
        app_id: str,
        business_id: str,
        relation: str,
        limit: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> WabaPage:
        """``GET /{BUSINESS}/owned_whatsapp_business_accounts`` (`OWNED`) or
        ``.../client_whatsapp_business_accounts`` (`CLIENT`): one page (``limit`` capped at
        100) after a cursor, each WABA with ``fields`` (default id and name)."""
        if limit < 1:
            raise InvalidParameterError("Param limit must be a positive integer")
        limit = min(limit, MAX_PAGE_SIZE)
        wanted = _waba_fields(fields or WABA_DEFAULT_FIELDS)
        with self._lock:
            business = self._business(app_id, business_id)
            wabas = [self._wabas[waba_id] for waba_id in business.wabas(relation)]
        ids = [w.id for w in wabas]
        start = 0
        if after:
            after_id = _uncursor(after)
            if after_id not in ids:
                raise InvalidParameterError("Param after is not a valid cursor")
            start = ids.index(after_id) + 1
        page = wabas[start : start + limit]
        return WabaPage(
            data=[_waba_entry(w, relation, wanted) for w in page],
            before=_cursor(page[0].id) if page else None,
            after=_cursor(page[-1].id) if page else None,
            has_more=start + limit < len(wabas),
        )

    # ----------------------------------------------------------------- /{WABA}/subscribed_apps

    def list_subscribed_apps(self, app_id: str, waba_id: str) -> dict[str, Any]:
        """``GET /{WABA}/subscribed_apps``: every subscribed app, with its override if any."""
        with self._lock:
            waba = self._waba(app_id, waba_id, "GET")
            data = []
            for sub_app_id, override in waba.subscriptions.items():
                sub_app = self._apps[sub_app_id]
                entry: dict[str, Any] = {
                    "whatsapp_business_api_data": {
                        "id": sub_app.id,
                        "link": sub_app.link,
                        "name": sub_app.name,
                    }
                }
                if override is not None:
                    entry["override_callback_uri"] = override
                data.append(entry)
            return {"data": data}

    def subscribe_app(
        self,
        app_id: str,
        waba_id: str,
        override_callback_uri: object = None,
        verify_token: object = None,
    ) -> dict[str, Any]:
        """``POST /{WABA}/subscribed_apps``.

        Without override fields: subscribe the app (if needed) and clear its override. With
        them: validate; refuse unless the app is already subscribed (code 100, Meta's words);
        run the verification call; then store the override.
        """
        with self._lock:
            waba = self._waba(app_id, waba_id, "POST")
            if override_callback_uri is None and verify_token is None:
                waba.subscriptions[app_id] = None
                return {"success": True}
        url = validate_callback_url(override_callback_uri)
        token = validate_verify_token(verify_token)
        # Checked after the parameters and before the verification call: which comes first at
        # Meta is not known; refusing before calling the URL is what a new customer would see
        # (no verification request reaches the receiver).
        self._require_subscription(app_id, waba_id, "POST")
        self._verify(app_id, waba_id, url, token)
        with self._lock:  # look again: the state may have changed meanwhile
            waba = self._waba(app_id, waba_id, "POST")
            if app_id not in waba.subscriptions:
                raise NotSubscribedError()
            waba.subscriptions[app_id] = url
        return {"success": True}

    def _require_subscription(self, app_id: str, waba_id: str, method: str) -> None:
        with self._lock:
            if app_id not in self._waba(app_id, waba_id, method).subscriptions:
                raise NotSubscribedError()

    def unsubscribe_app(self, app_id: str, waba_id: str) -> dict[str, Any]:
        """``DELETE /{WABA}/subscribed_apps``: unsubscribe the app, dropping its override."""
        with self._lock:
            self._waba(app_id, waba_id, "DELETE").subscriptions.pop(app_id, None)
        return {"success": True}

    # ----------------------------------------------------------------- /{APP}/subscriptions

    def list_app_subscriptions(self, caller: str, app_id: str) -> dict[str, Any]:
        """``GET /{APP}/subscriptions``: one entry per object the app subscribes to; never the
        verify token."""
        with self._lock:
            app = self._own_app(caller, app_id, "GET")
            data = []
            if app.subscribed:
                data.append(_subscription_json(APP_WEBHOOK_OBJECT, app.callback_url, app.fields))
            for obj, sub in app.other_subscriptions.items():
                data.append(_subscription_json(obj, sub["callback_url"], sub["fields"]))
            return {"data": data}

    def subscribe_app_webhooks(
        self,
        caller: str,
        app_id: str,
        object_: object,
        callback_url: object,
        verify_token: object,
        fields: Sequence[str] | None,
        include_values: object = None,
        version: str = DEFAULT_FIELD_VERSION,
    ) -> dict[str, Any]:
        """``POST /{APP}/subscriptions``: validate, verify ``callback_url`` with the token (code
        2200 on failure, nothing changed), then set the URL and *add* the fields: fields not
        listed stay subscribed ("without overwriting existing fields")."""
        with self._lock:
            self._own_app(caller, app_id, "POST")
        _app_object(object_)
        url = validate_callback_url(callback_url, "callback_url")
        token = validate_verify_token(verify_token)
        if not fields:
            raise InvalidParameterError("The parameter fields is required")
        names = _app_field_names(fields, "fields")
        _bool_param(include_values, "include_values")
        self._verify(app_id, app_id, url, token)
        with self._lock:
            app = self._own_app(caller, app_id, "POST")
            app.callback_url = url  # one callback URL per (app, object)
            for name in names:
                app.fields.setdefault(name, version)
        return {"success": True}

    def unsubscribe_app_webhooks(
        self, caller: str, app_id: str, object_: object, fields: Sequence[str] | None
    ) -> dict[str, Any]:
        """``DELETE /{APP}/subscriptions``: with ``fields``, stop those fields (the URL and the
        other fields stay, even when none is left); with ``object`` alone, remove the whole
        subscription: every webhook of the app stops."""
        with self._lock:
            self._own_app(caller, app_id, "DELETE")
        _app_object(object_)
        names = _app_field_names(fields, "fields") if fields else None
        with self._lock:
            app = self._own_app(caller, app_id, "DELETE")
            if names is None:
                app.callback_url, app.fields = "", {}
            else:
                for name in names:
                    app.fields.pop(name, None)
        return {"success": True}

    def _own_app(self, caller: str, app_id: str, method: str) -> App:
        """The app of the path, which must be the app token's own (lock held)."""
        if not app_id.isdigit():
            raise UnknownAliasError(app_id)
        if app_id != caller or app_id not in self._apps:
            raise ObjectNotFoundError(app_id, method)
        return self._apps[app_id]

    # ----------------------------------------------------------------- /{PHONE}

    def get_phone_number(
        self, app_id: str, phone_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """``GET /{PHONE}[?fields=...]``; ``webhook_configuration`` shows the caller's URLs."""
        wanted = _phone_fields(fields or PHONE_DEFAULT_FIELDS)
        with self._lock:
            phone = self._phone(app_id, phone_id, "GET")
            return _phone_entry(phone, wanted, self._webhook_configuration(app_id, phone))

    def _webhook_configuration(self, app_id: str, phone: PhoneNumber) -> dict[str, str]:
        config: dict[str, str] = {}
        if app_id in phone.overrides:
            config["phone_number"] = phone.overrides[app_id]
        waba_override = self._wabas[phone.waba_id].subscriptions.get(app_id)
        if waba_override is not None:
            config["whatsapp_business_account"] = waba_override
        if self._apps[app_id].callback_url:
            config["application"] = self._apps[app_id].callback_url
        return config

    def update_phone_webhook(
        self, app_id: str, phone_id: str, override_callback_uri: object, verify_token: object = None
    ) -> dict[str, Any]:
        """``POST /{PHONE}`` with ``webhook_configuration``: ``""`` clears, a URL is verified
        and stored for the calling app.

        Refused with code 200 (HTTP 403) for a number of a ``customer_managed`` WABA (observed,
        fazer-ai/chatwoot #568), and, when setting a URL, with Meta's code 100 "must be
        subscribed" answer when the app is not subscribed to the number's WABA. That one is
        inferred (docs/meta-rules.md, from a test stub in chatwoot): a WABA override is refused
        so, and a phone override routes nothing for an unsubscribed app. Clearing is allowed
        either way, so that an override can always be removed.
        """
        with self._lock:
            phone = self._phone(app_id, phone_id, "POST")
            waba = self._wabas[phone.waba_id]
            if waba.customer_managed:
                raise PermissionDeniedError()
            if override_callback_uri == "":
                phone.overrides.pop(app_id, None)
                return {"success": True}
        url = validate_callback_url(override_callback_uri)
        token = validate_verify_token(verify_token)
        self._require_subscription(app_id, waba.id, "POST")
        self._verify(app_id, phone_id, url, token)
        with self._lock:  # look again: the state may have changed meanwhile
            phone = self._phone(app_id, phone_id, "POST")
            if app_id not in self._wabas[phone.waba_id].subscriptions:
                raise NotSubscribedError()
            phone.overrides[app_id] = url
        return {"success": True}

    # ----------------------------------------------------------------- /{WABA}/phone_numbers

    def list_phone_numbers(
        self,
        app_id: str,
        waba_id: str,
        limit: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> PhoneNumberPage:
        """``GET /{WABA}/phone_numbers[?fields=...]``: one page (``limit`` capped at 100) after a
        cursor. Field expansion is Graph's generic edge behaviour: with ``fields``, each entry has
        exactly those fields (``id`` always), ``webhook_configuration`` as the caller sees it."""
        if limit < 1:
            raise InvalidParameterError("Param limit must be a positive integer")
        limit = min(limit, MAX_PAGE_SIZE)
        wanted = _phone_fields(fields) if fields else None
        with self._lock:
            waba = self._waba(app_id, waba_id, "GET")
            phones = [p for p in self._phones.values() if p.waba_id == waba.id]
            routing = {p.id: self._webhook_configuration(app_id, p) for p in phones}
        start = 0
        if after:
            after_id = _uncursor(after)
            ids = [p.id for p in phones]
            if after_id not in ids:
                raise InvalidParameterError("Param after is not a valid cursor")
            start = ids.index(after_id) + 1
        page = phones[start : start + limit]
        if wanted is None:
            data = [
                {
                    "id": p.id,
                    "display_phone_number": p.display_phone_number,
                    "verified_name": p.verified_name,
                    "quality_rating": "GREEN",
                    "status": "LINKED",  # required by Meta's OpenAPI schema of this list
                }
                for p in page
            ]
        else:
            data = [_phone_entry(p, wanted, routing[p.id]) for p in page]
        return PhoneNumberPage(
            data=data,
            before=_cursor(page[0].id) if page else None,
            after=_cursor(page[-1].id) if page else None,
            has_more=start + limit < len(phones),
        )

    # ----------------------------------------------------------------- delivery

    def effective_callback(self, phone_id: str, app_id: str | None = None) -> Route:
        """Where ``app_id``'s (default: the first app's) webhooks for the phone go."""
        with self._lock:
            app = self._app(app_id or next(iter(self._apps)))
            phone = self._phones.get(phone_id)
            if phone is None:
                raise ObjectNotFoundError(phone_id, "POST")
            return self._route(app, phone)

    def _route(self, app: App, phone: PhoneNumber) -> Route:
        waba = self._wabas[phone.waba_id]
        if app.id not in waba.subscriptions:
            return Route(None, None, f"app {app.id} is not subscribed to WABA {waba.id}")
        if MESSAGES_FIELD not in app.fields:
            # Meta delivers no field the app does not subscribe to, overrides included.
            return Route(None, None, f"app {app.id} is not subscribed to the messages field")
        if app.id in phone.overrides:
            return Route(phone.overrides[app.id], RULE_PHONE)
        waba_override = waba.subscriptions[app.id]
        if waba_override is not None:
            return Route(waba_override, RULE_WABA)
        return self._app_route(app)

    def _account_route(self, app: App, waba: Waba, field_name: str) -> Route:
        """Template and account webhooks: the app's callback URL, overrides or not, when the
        app subscribes to their field."""
        if app.id not in waba.subscriptions:
            return Route(None, None, f"app {app.id} is not subscribed to WABA {waba.id}")
        if field_name not in app.fields:
            return Route(None, None, f"app {app.id} is not subscribed to the {field_name} field")
        return self._app_route(app)

    @staticmethod
    def _app_route(app: App) -> Route:
        if app.callback_url:
            return Route(app.callback_url, RULE_APP)
        return Route(None, None, f"app {app.id} has no callback URL")

    def prepare_delivery(
        self,
        phone_id: str | None,
        app_id: str | None = None,
        text: str = "Hello from the Graph API emulator",
        from_wa_id: str = "16505551234",
        profile_name: str = "Emulator User",
        *,
        field: str = MESSAGES_FIELD,
        waba_id: str | None = None,
    ) -> Delivery:
        """Build a signed webhook and route it: a ``messages`` webhook for ``phone_id`` by
        precedence; a template or account webhook (a field of `ACCOUNT_FIELDS`) for ``waba_id``,
        or else ``phone_id``'s WABA, to the app's callback URL. Either goes nowhere (the route
        says why) when the app does not subscribe to its field."""
        if field not in WEBHOOK_FIELDS:
            raise InvalidParameterError(f"Param field must be one of {', '.join(WEBHOOK_FIELDS)}")
        with self._lock:
            app = self._app(app_id or next(iter(self._apps)))
            phone = self._phones.get(phone_id or "")
            if field == MESSAGES_FIELD or waba_id is None:
                if phone is None:
                    raise ObjectNotFoundError(phone_id or "", "POST")
                waba_id = phone.waba_id
            waba = self._wabas.get(waba_id)
            if waba is None:
                raise ObjectNotFoundError(waba_id, "POST")
            if field == MESSAGES_FIELD:
                assert phone is not None
                route = self._route(app, phone)
                payload = build_messages_webhook(waba.id, phone, text, from_wa_id, profile_name)
            else:
                route = self._account_route(app, waba, field)
                payload = build_account_webhook(waba.id, field)
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign_payload(body, app.app_secret),
            "User-Agent": "facebookexternalua",
        }
        return Delivery(route, body, headers)

    # ----------------------------------------------------------------- admin (no verification)

    def force_waba_override(self, waba_id: str, app_id: str, uri: str | None) -> None:
        """Set or clear an app's WABA override without verification, as someone would by hand:
        setting one on a WABA the app is not subscribed to also subscribes it (a person
        subscribes first, as Meta requires)."""
        with self._lock:
            self._app(app_id)
            waba = self._wabas.get(waba_id)
            if waba is None:
                raise ObjectNotFoundError(waba_id, "PUT")
            if uri is not None or app_id in waba.subscriptions:
                waba.subscriptions[app_id] = uri

    def force_phone_override(self, phone_id: str, app_id: str, uri: str | None) -> None:
        """Set or clear an app's phone number override without verification."""
        with self._lock:
            self._app(app_id)
            phone = self._phones.get(phone_id)
            if phone is None:
                raise ObjectNotFoundError(phone_id, "PUT")
            if uri is None:
                phone.overrides.pop(app_id, None)
            else:
                phone.overrides[app_id] = uri

    def force_subscription(self, waba_id: str, app_id: str) -> None:
        """Subscribe an app to a WABA by hand (its override, if any, stays)."""
        with self._lock:
            self._app(app_id)
            waba = self._wabas.get(waba_id)
            if waba is None:
                raise ObjectNotFoundError(waba_id, "PUT")
            waba.subscriptions.setdefault(app_id, None)

    def add_client_waba(
        self,
        business_id: str,
        waba: Mapping[str, Any],
        phone_numbers: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """A new customer onboards: add a WABA (fixture format) and its numbers, shared with
        the business as a client WABA. Checked as a fixture is; the baseline stays as it was."""
        fixture = self.to_fixture()
        business = next((b for b in fixture.get("businesses", []) if b["id"] == business_id),
                        None)
        if business is None:
            raise ObjectNotFoundError(business_id, "POST")
        fixture["wabas"].append(dict(waba))
        fixture["phone_numbers"].extend(dict(p) for p in phone_numbers)
        business["client_wabas"].append(waba.get("id"))
        try:
            apps, wabas, phones, businesses = _parse_fixture(fixture)
        except InvalidFixtureError as exc:
            raise InvalidParameterError(f"Invalid client WABA: {exc}") from None
        with self._lock:
            self._apps, self._wabas, self._phones = apps, wabas, phones
            self._businesses = businesses

    def force_app_callback(self, app_id: str, callback_url: str) -> None:
        """Change an app's dashboard callback URL (its fields stay); ``""`` removes the app's
        whole webhook subscription."""
        with self._lock:
            app = self._app(app_id)
            app.callback_url = callback_url
            if not callback_url:
                app.fields = {}

    def force_app_subscription(self, app_id: str, callback_url: str | None,
                               fields: Sequence[str] | None) -> None:
        """Set an app's webhook subscription as an App Dashboard edit does: no verification,
        the fields *replaced* by `fields`; None (URL or fields) removes the subscription."""
        if callback_url is not None:
            validate_callback_url(callback_url, "callback_url")
        names = None if fields is None else _app_field_names(fields, "fields")
        with self._lock:
            app = self._app(app_id)
            if callback_url is None or names is None:
                app.callback_url, app.fields = "", {}
                return
            versions = {name: app.fields.get(name, DEFAULT_FIELD_VERSION) for name in names}
            app.callback_url, app.fields = callback_url, versions

    def app_subscription(self, app_id: str) -> dict[str, Any] | None:
        """The app's ``whatsapp_business_account`` subscription as GET shows it, or None."""
        with self._lock:
            app = self._app(app_id)
            return _subscription_json(APP_WEBHOOK_OBJECT, app.callback_url, app.fields) if (
                app.subscribed) else None

    # ----------------------------------------------------------------- hourly call budget

    def charged_waba(self, app_id: str | None, object_id: str) -> str | None:
        """The WABA whose hourly budget a call by ``app_id`` on ``object_id`` is charged to: the
        WABA itself, or a phone number's WABA; None when the app cannot see either (such calls
        fail before any budget is involved)."""
        with self._lock:
            phone = self._phones.get(object_id)
            waba = self._wabas.get(phone.waba_id if phone else object_id)
            if waba is None or app_id not in waba.apps_with_access:
                return None
            return waba.id

    def hourly_budget(self, waba_id: str) -> int:
        """The WABA's calls per hour per app: its own setting, else Meta's default (5,000 with
        a registered phone number, 200 without)."""
        with self._lock:
            waba = self._wabas.get(waba_id)
            if waba is None:
                raise ObjectNotFoundError(waba_id, "GET")
            if waba.hourly_budget is not None:
                return waba.hourly_budget
            registered = any(p.registered for p in self._phones.values() if p.waba_id == waba_id)
            return default_hourly_budget(registered)

    def set_hourly_budget(self, waba_id: str, hourly_budget: int | None) -> None:
        """Set the WABA's hourly budget, or go back to Meta's default with None."""
        if hourly_budget is not None and not is_hourly_budget(hourly_budget):
            raise InvalidParameterError("Param hourly_budget must be a positive integer or null")
        with self._lock:
            waba = self._wabas.get(waba_id)
            if waba is None:
                raise ObjectNotFoundError(waba_id, "PUT")
            waba.hourly_budget = hourly_budget
