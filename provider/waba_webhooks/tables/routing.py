"""A routing table (plain data, e.g. from stack config) turned into resources.

The table says where our app's webhooks go: the app's own subscription (its callback URL and
the webhook fields Meta delivers), and per WABA and per phone number whether its messages webhooks
go to an alternate callback; the result also says where each listed phone number's webhooks end
up::

    {
      "app": {"callbackUrl": "https://hooks.example.com/app",
              "verifyToken": "app",                         # name of an entry in verify_tokens
              "fields": ["messages", "message_template_status_update"],
              "includeValues": True,                        # optional (default true)
              "adoptExisting": False,                       # optional (default false)
              "removeOnDestroy": False},                    # optional (default false)
      "wabas": [{"wabaId": "102290129340398", "callbackUri": "https://…/east",
                 "verifyToken": "east",                     # name of an entry in verify_tokens
                 "unlisted": "keep"}],                      # or "clear" (WabaRouting only)
      "phoneNumbers": [{"phoneNumberId": "106540352242922", "wabaId": "102290129340398",
                        "callbackUri": "https://…/vip", "verifyToken": "vip"},
                       {"phoneNumberId": "106540352242923", "wabaId": "102290129340398"}]
    }

The ``app`` block declares one `AppWebhookSubscription` (Meta's third rule: the URL every number
without an override falls back to, and the only one that receives template and account
webhooks). It replaces ``appCallbackUri``, the earlier informational key, which is still read:
it only informs the effective routing, and a table giving both must give the same URL.

Verify tokens stay out of the table: they come from a separate secret map so that the table can
be reviewed in plain text.

`apply` declares the table in one of three forms (`FORMS`): one `WabaRouting` per WABA (the
default), one `WabaCallbackOverride` / `PhoneCallbackOverride` per routed entry (the earlier
form), or that same form with ``retain_on_delete``: the step that moves a stack from the second
form to the first without a Graph write (docs/routing-tables.md, "Moving a stack to WabaRouting").

It declares them through one of two doors (`DOORS`): the dynamic resources (the default) or the
native ``whatsapp`` plugin's (`waba_webhooks.native`). The names are the same in both and each
native class carries an alias to its dynamic type, so switching a stack's door moves its
resources with no Graph call (docs/routing-tables.md, "The native door").

With a `Shard` (stack config ``waba-webhooks:shard: "I/K"``) it declares only the WABAs of that
shard, each with its numbers (`in_shard`); every stack of the set reads the same table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import pulumi

from .. import native
from ..resources.app_subscription import AppWebhookSubscription, AppWebhookSubscriptionOutputs
from ..resources.phone import PhoneCallbackOverride, PhoneCallbackOverrideOutputs
from ..resources.waba import WabaCallbackOverride, WabaCallbackOverrideOutputs
from ..resources.waba_routing import (
    APPLICATION_RULE,
    CLEAR,
    KEEP,
    PHONE_RULE,
    WABA_RULE,
    WabaRouting,
    WabaRoutingOutputs,
)
from .shard import Shard

APPLICATION = APPLICATION_RULE
WABA = WABA_RULE
PHONE = PHONE_RULE

#: One `WabaRouting` per WABA of the table.
PER_WABA = "per-waba"
#: One `WabaCallbackOverride` / `PhoneCallbackOverride` per routed entry.
PER_OVERRIDE = "per-override"
#: `PER_OVERRIDE` with ``retain_on_delete``: leaving the stack, they leave the overrides be.
PER_OVERRIDE_RETAINED = "per-override-retained"
FORMS = (PER_WABA, PER_OVERRIDE, PER_OVERRIDE_RETAINED)

#: The dynamic resources (`waba_webhooks.WabaRouting`...): Python programs, the default.
DYNAMIC = "dynamic"
#: The native ``whatsapp`` plugin's resources (`waba_webhooks.native`).
NATIVE = "native"
DOORS = (DYNAMIC, NATIVE)


@dataclass(frozen=True)
class _DoorClasses:
    """The four resource classes of one door (both take the same names and inputs)."""

    waba_routing: Callable[..., WabaRoutingOutputs]
    waba: Callable[..., WabaCallbackOverrideOutputs]
    phone: Callable[..., PhoneCallbackOverrideOutputs]
    app: Callable[..., AppWebhookSubscriptionOutputs]


_CLASSES = {
    DYNAMIC: _DoorClasses(WabaRouting, WabaCallbackOverride, PhoneCallbackOverride,
                   AppWebhookSubscription),
    NATIVE: _DoorClasses(native.WabaRouting, native.WabaCallbackOverride,
                  native.PhoneCallbackOverride, native.AppWebhookSubscription),
}


class RoutingTableError(ValueError):
    """The routing table is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Route:
    """One override to declare."""

    object_id: str
    callback_uri: str
    verify_token_name: str


@dataclass(frozen=True)
class AppRoute:
    """The app's webhook subscription to declare (the table's ``app`` block)."""

    callback_url: str
    verify_token_name: str
    fields: tuple[str, ...]
    include_values: bool = True
    adopt_existing: bool = False
    remove_on_destroy: bool = False


#: The keys of the ``app`` block: required, then optional ones with their defaults.
APP_REQUIRED = ("callbackUrl", "verifyToken", "fields")
APP_OPTIONAL = {"includeValues": True, "adoptExisting": False, "removeOnDestroy": False}
#: The field without which Meta delivers no messages webhook at all, overrides included.
MESSAGES_FIELD = "messages"
#: Where the effective routing says a number's messages webhooks go when none are delivered.
NOT_DELIVERED = "none"


@dataclass(frozen=True)
class RoutingPlan:
    """What a routing table declares, before any resource exists."""

    wabas: list[Route] = field(default_factory=list)
    phones: list[Route] = field(default_factory=list)
    #: phone number id -> {"callbackUri", "rule"}: where its webhooks go once applied
    #: (``callbackUri`` None, rule "none": nowhere, the app does not subscribe to ``messages``).
    effective: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: Every WABA the table names, in order: its ``wabas``, then those only numbers name.
    waba_ids: list[str] = field(default_factory=list)
    #: phone number id -> its WABA id, for the numbers that name one.
    waba_of: dict[str, str] = field(default_factory=dict)
    #: WABA id -> "keep" or "clear", where the table says.
    unlisted: dict[str, str] = field(default_factory=dict)
    #: The app's subscription, when the table has an ``app`` block.
    app: AppRoute | None = None
    #: The app's callback URL as the table gives it (``app.callbackUrl``, else the informational
    #: ``appCallbackUri``), or None.
    app_callback_url: str | None = None


def plan(table: object) -> RoutingPlan:
    """Read and check a routing table (no Pulumi, no network)."""
    if not isinstance(table, Mapping):
        raise RoutingTableError("the routing table must be an object with wabas and phoneNumbers")
    app = _app(table.get("app")) if table.get("app") is not None else None
    informational = table.get("appCallbackUri")
    if informational is not None and not isinstance(informational, str):
        raise RoutingTableError("appCallbackUri must be a URL (a string)")
    if app and informational and informational != app.callback_url:
        raise RoutingTableError(
            f"appCallbackUri ({informational}) and app.callbackUrl ({app.callback_url}) differ: "
            "the app block declares the app's callback URL; remove appCallbackUri (it only "
            "informed the effective routing) or give it the same URL")
    app_url = app.callback_url if app else informational or None
    app_uri = app_url or "(the app's callback URL)"
    result = RoutingPlan(app=app, app_callback_url=app_url)
    waba_uris: dict[str, str] = {}
    for i, entry in enumerate(_list(table, "wabas")):
        waba_id = _id(entry, "wabaId", f"wabas[{i}]")
        if waba_id in waba_uris:
            raise RoutingTableError(f"wabas[{i}]: WABA {waba_id} is listed twice")
        route = _route(entry, waba_id, f"wabas[{i}]")
        waba_uris[waba_id] = route.callback_uri if route else ""
        result.waba_ids.append(waba_id)
        if route:
            result.wabas.append(route)
        unlisted = entry.get("unlisted")
        if unlisted is not None:
            if unlisted not in (KEEP, CLEAR):
                raise RoutingTableError(f"wabas[{i}].unlisted must be {KEEP!r} or {CLEAR!r}")
            result.unlisted[waba_id] = unlisted
    for i, entry in enumerate(_list(table, "phoneNumbers")):
        where = f"phoneNumbers[{i}]"
        phone_id = _id(entry, "phoneNumberId", where)
        if phone_id in result.effective:
            raise RoutingTableError(f"{where}: phone number {phone_id} is listed twice")
        route = _route(entry, phone_id, where)
        if entry.get("wabaId") is not None:
            waba_id = _id(entry, "wabaId", where)
            result.waba_of[phone_id] = waba_id
            if waba_id not in result.waba_ids:
                result.waba_ids.append(waba_id)
        elif route:
            raise RoutingTableError(
                f"{where}.wabaId is required for a number with a callbackUri (its override is "
                "declared with its WABA's routing)")
        if route:
            result.phones.append(route)
            result.effective[phone_id] = {"callbackUri": route.callback_uri, "rule": PHONE}
        elif waba_id is not None and waba_uris.get(str(waba_id)):
            result.effective[phone_id] = {"callbackUri": waba_uris[str(waba_id)], "rule": WABA}
        else:
            result.effective[phone_id] = {"callbackUri": app_uri, "rule": APPLICATION}
    if app and MESSAGES_FIELD not in app.fields:
        # Meta delivers a field the app does not subscribe to nowhere, overrides included.
        for phone_id in result.effective:
            result.effective[phone_id] = {"callbackUri": None, "rule": NOT_DELIVERED}
    return result


def _app(block: Any) -> AppRoute:
    """The ``app`` block, checked: every failure names its key."""
    if not isinstance(block, Mapping):
        raise RoutingTableError("app must be an object with callbackUrl, verifyToken and fields")
    unknown = sorted(set(block) - set(APP_REQUIRED) - set(APP_OPTIONAL))
    if unknown:
        key = "callbackUri" if "callbackUri" in unknown else unknown[0]
        hint = " (did you mean callbackUrl?)" if key == "callbackUri" else ""
        raise RoutingTableError(
            f"app.{key} is not a key of the app block{hint}: it takes "
            f"{', '.join([*APP_REQUIRED, *APP_OPTIONAL])}")
    url = block.get("callbackUrl")
    if not isinstance(url, str) or not url.strip():
        raise RoutingTableError("app.callbackUrl is required: the app's callback URL")
    name = block.get("verifyToken")
    if not isinstance(name, str) or not name:
        raise RoutingTableError("app.verifyToken must name an entry of the verify token map")
    fields = block.get("fields")
    if not isinstance(fields, list) or not fields or not all(
            isinstance(f, str) and f.strip() for f in fields):
        raise RoutingTableError(
            "app.fields must be a non-empty list of webhook field names (e.g. messages, "
            "message_template_status_update): a field the app does not subscribe to is "
            "delivered nowhere")
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise RoutingTableError(f"app.fields lists {twice[0]!r} twice")
    flags = {}
    for key, default in APP_OPTIONAL.items():
        value = block.get(key, default)
        if not isinstance(value, bool):
            raise RoutingTableError(f"app.{key} must be true or false, got {value!r}")
        flags[key] = value
    return AppRoute(callback_url=url, verify_token_name=name, fields=tuple(fields),
                    include_values=flags["includeValues"],
                    adopt_existing=flags["adoptExisting"],
                    remove_on_destroy=flags["removeOnDestroy"])


def in_shard(routes: RoutingPlan, shard: Shard | None) -> RoutingPlan:
    """The part of `routes` that `shard` declares: its WABAs with their overrides and their
    numbers' (a number follows its WABA). Numbers the table lists without a WABA declare nothing
    and are exported by the shard that owns what is not per WABA (shard 1). None: all of it."""
    if shard is None:
        return routes
    wabas = {w for w in routes.waba_ids if shard.owns(w)}

    def mine(phone_id: str) -> bool:
        waba_id = routes.waba_of.get(phone_id)
        return shard.owns_app_wide if waba_id is None else waba_id in wabas

    return RoutingPlan(
        wabas=[r for r in routes.wabas if r.object_id in wabas],
        phones=[r for r in routes.phones if mine(r.object_id)],
        effective={k: v for k, v in routes.effective.items() if mine(k)},
        waba_ids=[w for w in routes.waba_ids if w in wabas],
        waba_of={k: v for k, v in routes.waba_of.items() if v in wabas},
        unlisted={k: v for k, v in routes.unlisted.items() if k in wabas},
        app=routes.app,
        app_callback_url=routes.app_callback_url,
    )


@dataclass
class AppliedRouting:
    """The resources a routing table declared, by object id, and what to export."""

    #: phone number id -> {"callbackUri", "rule"}: where the table routes each listed number.
    effective: dict[str, dict[str, str | None]]
    #: WABA id -> our override on it, for the WABAs the table routes.
    waba_overrides: dict[str, pulumi.Output[Any]]
    #: phone number id -> its override, for the numbers the table routes.
    phone_overrides: dict[str, pulumi.Output[Any]]
    #: The per-WABA form's resources (of either door: both share these outputs).
    routings: dict[str, WabaRoutingOutputs] = field(default_factory=dict)
    #: The per-override forms' resources.
    wabas: dict[str, WabaCallbackOverrideOutputs] = field(default_factory=dict)
    phones: dict[str, PhoneCallbackOverrideOutputs] = field(default_factory=dict)
    #: The app's subscription, when the table has an ``app`` block and the program declares it.
    app: AppWebhookSubscriptionOutputs | None = None


def apply(table: Mapping[str, Any], verify_tokens: pulumi.Input[Mapping[str, str]],
          opts: pulumi.ResourceOptions | None = None, *,
          form: str = PER_WABA, declare_app: bool = True, shard: Shard | None = None,
          reshard_to: int | None = None, door: str = DYNAMIC) -> AppliedRouting:
    """Declare the table's resources in one of `FORMS`, through one of `DOORS`.

    - `PER_WABA`: one `WabaRouting` named ``waba-routing-<WABA id>`` per WABA of the table
      (also for a WABA without an override of its own), with the verify token most of its routes
      use as ``verify_token`` and the others in ``verify_tokens``.
    - `PER_OVERRIDE`: one `WabaCallbackOverride` / `PhoneCallbackOverride` per routed entry,
      named ``waba-<id>`` and ``phone-<id>``.
    - `PER_OVERRIDE_RETAINED`: the same with ``retain_on_delete``, so that switching to
      `PER_WABA` afterwards removes them from the stack without clearing any override.

    In every form the table's ``app`` block declares one `AppWebhookSubscription` named
    ``app-subscription``, unless ``declare_app`` is false: a set of stacks sharing one app
    declares it in exactly one of them (the others still read the block for the effective
    routing). The form's ``retain_on_delete`` does not apply to it: its own ``removeOnDestroy``
    (default false) says whether destroying it removes the subscription.

    Names derive from ids, so reordering the table changes nothing. `verify_tokens` is the
    secret map the table's ``verifyToken`` names point into. With `shard`, only that shard's
    WABAs and their numbers are declared and exported (`in_shard`); a resource for what is not
    per WABA (the app's own subscription) must be declared only when ``shard is None or
    shard.owns_app_wide``: pass that as ``declare_app``, so that exactly one stack of a set
    declares it.

    `reshard_to` (K', during a move of the set from K to K' shards) declares the WABAs that
    shard I of K' will not own with ``retain_on_delete``, with their numbers: when they leave
    this stack, their overrides stay set for the stack that adopts them
    (docs/routing-tables.md, "Resharding").

    `door` `DYNAMIC` declares the dynamic resources, `NATIVE` the ``whatsapp`` plugin's, with
    the same names and inputs; `opts` may then name an explicit `waba_webhooks.native.Provider`
    (one per Meta app). A stack switched from the first to the second keeps every resource:
    the native classes' aliases move them to their native types with no Graph call.
    """
    if form not in FORMS:
        raise RoutingTableError(f"the resource form must be one of {', '.join(FORMS)}, "
                                f"got {form!r}")
    if door not in DOORS:
        raise RoutingTableError(f"the door must be one of {', '.join(DOORS)}, got {door!r}")
    classes = _CLASSES[door]
    routes = in_shard(plan(table), shard)
    tokens = pulumi.Output.secret(verify_tokens)
    leaving: set[str] = set()
    if reshard_to is not None:
        after = Shard(shard.index if shard else 1, reshard_to)
        leaving = {w for w in routes.waba_ids if not after.owns(w)}
    app = (_declare_app(classes, routes.app, tokens, opts)
           if routes.app and declare_app else None)
    if form == PER_OVERRIDE_RETAINED:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True))
    if form == PER_WABA:
        applied = _per_waba(classes, routes, tokens, opts, leaving)
    else:
        applied = _per_override(classes, routes, tokens, opts, leaving)
    applied.app = app
    return applied


def _declare_app(classes: _DoorClasses, route: AppRoute, tokens: pulumi.Output[Mapping[str, str]],
                 opts: pulumi.ResourceOptions | None) -> AppWebhookSubscriptionOutputs:
    return classes.app(
        "app-subscription", callback_url=route.callback_url,
        verify_token=_named(tokens, route.verify_token_name), fields=list(route.fields),
        include_values=route.include_values, adopt_existing=route.adopt_existing,
        remove_on_destroy=route.remove_on_destroy, opts=opts)


def _retained(opts: pulumi.ResourceOptions | None, waba_id: str | None,
              leaving: set[str]) -> pulumi.ResourceOptions | None:
    """`opts`, with ``retain_on_delete`` for the resources of a WABA that leaves the stack."""
    if waba_id not in leaving:
        return opts
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True))


def _per_override(classes: _DoorClasses, routes: RoutingPlan,
                  tokens: pulumi.Output[Mapping[str, str]], opts: pulumi.ResourceOptions | None,
                  leaving: set[str]) -> AppliedRouting:
    wabas = {
        r.object_id: classes.waba(
            f"waba-{r.object_id}", waba_id=r.object_id, callback_uri=r.callback_uri,
            verify_token=_named(tokens, r.verify_token_name),
            opts=_retained(opts, r.object_id, leaving))
        for r in routes.wabas
    }

    def after_its_waba(phone_id: str) -> pulumi.ResourceOptions | None:
        # A WABA override the table declares goes first: on a WABA our app has not subscribed
        # to yet, its create subscribes the app, which Meta requires before a phone override.
        own = _retained(opts, routes.waba_of.get(phone_id), leaving)
        waba = wabas.get(routes.waba_of.get(phone_id, ""))
        return own if waba is None else pulumi.ResourceOptions.merge(
            # Either door's class is a pulumi.Resource; its outputs' type does not say so.
            own, pulumi.ResourceOptions(depends_on=[cast(pulumi.Resource, waba)]))

    phones = {
        r.object_id: classes.phone(
            f"phone-{r.object_id}", phone_number_id=r.object_id, callback_uri=r.callback_uri,
            verify_token=_named(tokens, r.verify_token_name), opts=after_its_waba(r.object_id))
        for r in routes.phones
    }
    return AppliedRouting(
        effective=routes.effective,
        waba_overrides={waba_id: r.callback_uri for waba_id, r in wabas.items()},
        phone_overrides={phone_id: r.callback_uri for phone_id, r in phones.items()},
        wabas=wabas, phones=phones)


def _per_waba(classes: _DoorClasses, routes: RoutingPlan, tokens: pulumi.Output[Mapping[str, str]],
              opts: pulumi.ResourceOptions | None, leaving: set[str]) -> AppliedRouting:
    applied = AppliedRouting(effective=routes.effective, waba_overrides={}, phone_overrides={})
    waba_routes = {r.object_id: r for r in routes.wabas}
    for waba_id in routes.waba_ids:
        own = waba_routes.get(waba_id)
        phones = [r for r in routes.phones if routes.waba_of[r.object_id] == waba_id]
        default = own.verify_token_name if own else _most_common(
            r.verify_token_name for r in phones)
        others = {r.object_id: r.verify_token_name for r in phones
                  if r.verify_token_name != default}
        routing = classes.waba_routing(
            f"waba-routing-{waba_id}",
            waba_id=waba_id,
            callback_uri=own.callback_uri if own else None,
            phone_numbers={r.object_id: r.callback_uri for r in phones} or None,
            verify_token=_named(tokens, default) if default else None,
            verify_tokens=tokens.apply(partial(_tokens_by_phone, others=others))
            if others else None,
            unlisted=routes.unlisted.get(waba_id),
            opts=_retained(opts, waba_id, leaving),
        )
        applied.routings[waba_id] = routing
        if own:
            applied.waba_overrides[waba_id] = routing.callback_uri
        for r in phones:
            applied.phone_overrides[r.object_id] = routing.phone_numbers.apply(
                partial(_phone_uri, phone_id=r.object_id))
    return applied


def _tokens_by_phone(found: Mapping[str, str], others: Mapping[str, str]) -> dict[str, str]:
    """The verify token of each number in `others` (phone id -> token name), from `found`."""
    return {phone_id: _token(found, name) for phone_id, name in others.items()}


def _phone_uri(live: Mapping[str, str] | None, phone_id: str) -> str | None:
    """The callback URI a WabaRouting's applied ``phone_numbers`` gives `phone_id`, if any."""
    return (live or {}).get(phone_id)


def _named(tokens: pulumi.Output[Mapping[str, str]], name: str) -> pulumi.Output[str]:
    return tokens.apply(lambda found: _token(found, name))


def _most_common(names: Iterable[str]) -> str | None:
    """The most frequent of `names` (the first one seen on a tie), or None."""
    counted = Counter(names).most_common(1)
    return counted[0][0] if counted else None


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
