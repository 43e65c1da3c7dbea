"""A routing table (plain data, e.g. from stack config) turned into override resources.

The table says, per WABA and per phone number, whether our app's messages webhooks go to an
alternate callback; the result also says where each listed phone number's webhooks end up::

    {
      "appCallbackUri": "https://hooks.example.com/app",     # informational: the App Dashboard's
      "wabas": [{"wabaId": "102290129340398", "callbackUri": "https://…/east",
                 "verifyToken": "east"}],                   # name of an entry in verify_tokens
      "phoneNumbers": [{"phoneNumberId": "106540352242922", "wabaId": "102290129340398",
                        "callbackUri": "https://…/vip", "verifyToken": "vip"},
                       {"phoneNumberId": "106540352242923", "wabaId": "102290129340398"}]
    }

Verify tokens stay out of the table: they come from a separate secret map so that the table can
be reviewed in plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .phone import PhoneCallbackOverride
from .waba import WabaCallbackOverride

APPLICATION = "application"
WABA = "whatsapp_business_account"
PHONE = "phone_number"


class RoutingTableError(ValueError):
    """The routing table is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Route:
    """One override to declare."""

    object_id: str
    callback_uri: str
    verify_token_name: str


@dataclass(frozen=True)
class RoutingPlan:
    """What a routing table declares, before any resource exists."""

    wabas: list[Route] = field(default_factory=list)
    phones: list[Route] = field(default_factory=list)
    #: phone number id -> {"callbackUri", "rule"}: where its webhooks go once applied.
    effective: dict[str, dict[str, str]] = field(default_factory=dict)


def plan(table: Mapping[str, Any]) -> RoutingPlan:
    """Read and check a routing table (no Pulumi, no network)."""
    if not isinstance(table, Mapping):
        raise RoutingTableError("the routing table must be an object with wabas and phoneNumbers")
    app_uri = table.get("appCallbackUri") or "(the app's callback URL)"
    result = RoutingPlan()
    waba_uris: dict[str, str] = {}
    for i, entry in enumerate(_list(table, "wabas")):
        waba_id = _id(entry, "wabaId", f"wabas[{i}]")
        if waba_id in waba_uris:
            raise RoutingTableError(f"wabas[{i}]: WABA {waba_id} is listed twice")
        route = _route(entry, waba_id, f"wabas[{i}]")
        waba_uris[waba_id] = route.callback_uri if route else ""
        if route:
            result.wabas.append(route)
    for i, entry in enumerate(_list(table, "phoneNumbers")):
        where = f"phoneNumbers[{i}]"
        phone_id = _id(entry, "phoneNumberId", where)
        if phone_id in result.effective:
            raise RoutingTableError(f"{where}: phone number {phone_id} is listed twice")
        route = _route(entry, phone_id, where)
        waba_id = entry.get("wabaId")
        if route:
            result.phones.append(route)
            result.effective[phone_id] = {"callbackUri": route.callback_uri, "rule": PHONE}
        elif waba_id is not None and waba_uris.get(str(waba_id)):
            result.effective[phone_id] = {"callbackUri": waba_uris[str(waba_id)], "rule": WABA}
        else:
            result.effective[phone_id] = {"callbackUri": app_uri, "rule": APPLICATION}
    return result


@dataclass
class AppliedRouting:
    """The resources a routing table created, by object id."""

    wabas: dict[str, WabaCallbackOverride]
    phones: dict[str, PhoneCallbackOverride]
    effective: dict[str, dict[str, str]]


def apply(table: Mapping[str, Any], verify_tokens: pulumi.Input[Mapping[str, str]],
          opts: pulumi.ResourceOptions | None = None) -> AppliedRouting:
    """Declare one `WabaCallbackOverride` / `PhoneCallbackOverride` per routed entry.

    Resource names are ``waba-<id>`` and ``phone-<id>``, so reordering the table changes
    nothing. `verify_tokens` is the secret map the table's ``verifyToken`` names point into.
    """
    routes = plan(table)
    tokens = pulumi.Output.secret(verify_tokens)

    def token(name: str) -> pulumi.Output[str]:
        return tokens.apply(lambda found: _token(found, name))

    wabas = {
        r.object_id: WabaCallbackOverride(
            f"waba-{r.object_id}", waba_id=r.object_id, callback_uri=r.callback_uri,
            verify_token=token(r.verify_token_name), opts=opts)
        for r in routes.wabas
    }
    phones = {
        r.object_id: PhoneCallbackOverride(
            f"phone-{r.object_id}", phone_number_id=r.object_id, callback_uri=r.callback_uri,
            verify_token=token(r.verify_token_name), opts=opts)
        for r in routes.phones
    }
    return AppliedRouting(wabas=wabas, phones=phones, effective=routes.effective)


def _token(tokens: Mapping[str, str] | None, name: str) -> str:
    if not tokens or name not in tokens:
        raise RoutingTableError(f"no verify token named {name!r} in the verify token map")
    return str(tokens[name])


def _list(table: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = table.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise RoutingTableError(f"{key} must be a list of objects")
    return entries


def _id(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.isdigit():
        raise RoutingTableError(f"{where}.{key} must be a quoted string of digits")
    return value


def _route(entry: Mapping[str, Any], object_id: str, where: str) -> Route | None:
    uri = entry.get("callbackUri")
    if not uri:
        return None
    name = entry.get("verifyToken")
    if not isinstance(name, str) or not name:
        raise RoutingTableError(f"{where}.verifyToken must name an entry of the verify token map")
    return Route(object_id=object_id, callback_uri=str(uri), verify_token_name=name)
