"""``pulumi preview --json`` read as changes to our app's webhook overrides.

The preview prints one step per resource it changes: ``op`` (``same``, ``create``,
``update``, ``delete``, ``replace``, ...), its ``urn``, the ``provider`` that manages it, and
``oldState`` / ``newState``. `waba_webhooks.commands.states` reads a state as one of our
resources, from either door (dynamic or native, snake_case or camelCase, a mixed stack
included), and here each one's inputs become what it declares (`Declared`: override callback
URIs by WABA id and by phone number id, or the app's own subscription, `AppDeclared`), with the
property names of its kind. Values known only after apply and secrets are `Opaque`; verify
tokens are never read. A resource of ours that cannot be read raises `UnreadableError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources import APP_SUBSCRIPTION, PHONE, WABA, WABA_ROUTING, Kind
from ..resources import app_subscription as app_rules
from ..resources import phone as phone_rules
from ..resources import waba as waba_rules
from ..resources import waba_routing as routing_rules
from ..rules.base import ADOPT_EXISTING, CALLBACK_URI
from .states import (
    KNOWN_AFTER_APPLY,
    SECRET,
    SECRET_PLACEHOLDER,
    SECRET_SIGNATURE,
    UNKNOWN_SENTINEL,
    Opaque,
    Resource,
    UnreadableError,
    Uri,
    read,
)

__all__ = ["KNOWN_AFTER_APPLY", "SECRET", "SECRET_PLACEHOLDER", "SECRET_SIGNATURE",
           "UNKNOWN_SENTINEL", "AppDeclared", "Declared", "Opaque", "OverrideStep", "Preview",
           "PreviewFormatError", "UnreadableError", "Uri", "declared", "loads", "parse",
           "plaintext_secrets"]


class PreviewFormatError(ValueError):
    """The input is not the JSON ``pulumi preview --json`` prints."""


@dataclass(frozen=True)
class AppDeclared:
    """What an `AppWebhookSubscription`'s inputs declare: the app's callback URL and fields."""

    callback_url: Uri
    #: The webhook fields, in the order given (`KNOWN_AFTER_APPLY` or `SECRET` when not shown).
    fields: tuple[str, ...] | Opaque
    adopt_existing: bool = False
    #: Whether deleting the resource removes the subscription (by default it leaves it).
    remove_on_destroy: bool = False


@dataclass(frozen=True)
class Declared:
    """What one resource's inputs declare about our app's overrides."""

    #: WABA id -> override callback URI (None: no override).
    wabas: Mapping[str, Uri] = field(default_factory=dict)
    #: Phone number id -> override callback URI (None: no override).
    phones: Mapping[str, Uri] = field(default_factory=dict)
    #: WABAs whose every number's override belongs to this resource: numbers it does not list
    #: have none (an authoritative resource). Empty for the per-object resources.
    exclusive_wabas: frozenset[str] = frozenset()
    #: WABAs the resource reads and writes as a whole (a `WabaRouting`'s): a review reads their
    #: numbers from the WABA's edge, and leaves out what stays as it is.
    whole_wabas: frozenset[str] = frozenset()
    #: Take over an override set to another URL instead of failing (``adopt_existing``).
    adopt_existing: bool = False
    #: What the resource targets but the preview cannot tell yet (e.g. an id known after apply).
    unresolved: tuple[str, ...] = ()
    #: The app's subscription, for an `AppWebhookSubscription`.
    app: AppDeclared | None = None


#: The input that names a single override's object.
_OVERRIDE_ID = {WABA.name: waba_rules.WABA_ID, PHONE.name: phone_rules.PHONE_NUMBER_ID}


def _single(resource: Resource) -> Declared:
    """A `WabaCallbackOverride` or `PhoneCallbackOverride`: its one override."""
    object_id = resource.object_id(_OVERRIDE_ID[resource.kind.name])
    adopt = resource.flag(ADOPT_EXISTING)
    if isinstance(object_id, Opaque):
        noun = "WABA" if resource.kind is WABA else "phone number"
        return Declared(unresolved=(f"its {noun} id is {object_id}",), adopt_existing=adopt)
    uri = resource.uri(CALLBACK_URI)
    if resource.kind is WABA:
        return Declared(wabas={object_id: uri}, adopt_existing=adopt)
    return Declared(phones={object_id: uri}, adopt_existing=adopt)


def _waba_routing(resource: Resource) -> Declared:
    """A `WabaRouting`: its WABA override (unless None) and the numbers it lists. Under
    ``unlisted="clear"`` it owns the whole WABA: overrides of ours it does not list go, the WABA
    override too when it declares none."""
    waba_id = resource.object_id(routing_rules.WABA_ID)
    adopt = resource.flag(ADOPT_EXISTING)
    if isinstance(waba_id, Opaque):
        return Declared(unresolved=(f"its WABA id is {waba_id}",), adopt_existing=adopt)
    uri = resource.uri(CALLBACK_URI)
    numbers = resource.uri_map(routing_rules.PHONE_NUMBERS)
    unresolved = (f"the numbers it lists are {numbers}",) if isinstance(numbers, Opaque) else ()
    return Declared(
        wabas={waba_id: uri} if uri is not None else {},
        phones=numbers if isinstance(numbers, dict) else {},
        exclusive_wabas=frozenset({waba_id}) if routing_rules.clears_unlisted(
            {routing_rules.UNLISTED: resource.choice(routing_rules.UNLISTED)}) else frozenset(),
        whole_wabas=frozenset({waba_id}), adopt_existing=adopt, unresolved=unresolved)


def _app_subscription(resource: Resource) -> Declared:
    """An `AppWebhookSubscription`: the app's callback URL and the fields Meta delivers."""
    return Declared(app=AppDeclared(
        callback_url=resource.uri(app_rules.CALLBACK_URL),
        fields=resource.names(app_rules.FIELDS),
        adopt_existing=resource.flag(ADOPT_EXISTING),
        remove_on_destroy=resource.flag(app_rules.REMOVE_ON_DESTROY)))


#: Each kind's inputs -> what the resource declares.
_DECLARED: dict[str, Callable[[Resource], Declared]] = {
    WABA.name: _single, PHONE.name: _single, WABA_ROUTING.name: _waba_routing,
    APP_SUBSCRIPTION.name: _app_subscription,
}


def declared(resource: Resource) -> Declared:
    """What a resource's inputs declare."""
    return _DECLARED[resource.kind.name](resource)


#: Step ops as Pulumi prints them -> what they do to the resource's overrides.
_OPS = {
    "create": "create", "create-replacement": "create", "update": "update",
    "delete": "delete", "delete-replaced": "delete", "replace": "replace",
}


@dataclass(frozen=True)
class OverrideStep:
    """One step of the preview on one of our resources."""

    #: ``create``, ``update``, ``delete``, ``replace`` or ``same``.
    op: str
    urn: str
    kind: Kind
    #: What the resource declares now (None for a create) and after the step (None for a delete).
    old: Declared | None
    new: Declared | None
    #: The resource is marked ``retainOnDelete``: deleting it leaves its overrides set.
    retained: bool = False
    #: Its explicit provider's URN (`waba_webhooks.commands.apps`), None for a default one.
    provider: str | None = None

    @property
    def name(self) -> str:
        """The resource's name (the URN's last segment)."""
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class Preview:
    """The part of a preview that concerns webhook routing."""

    stack: str | None
    project: str | None
    steps: list[OverrideStep]
    #: Steps on resources that are not ours: (op, urn).
    other_steps: list[tuple[str, str]]
    #: Error diagnostics the preview reported (their text is not kept).
    errors: int
    #: Resources the preview leaves as they are (its change summary; it prints no step for them).
    unchanged: int = 0
    #: The WABAs the stack's routing table names (a ``<namespace>:routing`` config value, as
    #: `waba_webhooks.tables.routing` reads it): the numbers an app-level change moves,
    #: though the preview prints no step for their unchanged resources.
    table_wabas: tuple[str, ...] = ()


def parse(document: Any) -> Preview:
    """Read a decoded ``pulumi preview --json`` document. Raises `PreviewFormatError` for
    anything else, `UnreadableError` for a resource of ours it cannot read."""
    if not isinstance(document, Mapping) or not isinstance(document.get("steps", []), list):
        raise PreviewFormatError("expected the JSON object `pulumi preview --json` prints")
    raw_steps = [s for s in document.get("steps") or [] if isinstance(s, Mapping)]
    replaced = {s.get("urn") for s in raw_steps if s.get("op") == "replace"}
    steps, others = [], []
    stack = project = None
    for raw in raw_steps:
        urn, op = str(raw.get("urn", "")), str(raw.get("op", ""))
        parts = urn.split("::")
        if len(parts) >= 2 and parts[0].startswith("urn:pulumi:"):
            stack, project = parts[0][len("urn:pulumi:"):], parts[1]
        if op in ("create-replacement", "delete-replaced") and urn in replaced:
            continue  # the `replace` step of the same resource says it all
        reference = raw.get("provider") if isinstance(raw.get("provider"), str) else None
        action = _OPS.get(op, "same")
        old_state, new_state = _state(raw, "oldState"), _state(raw, "newState")
        before = read(urn, old_state, reference) if old_state else None
        after = read(urn, new_state, reference) if new_state else None
        either = after or before
        if either is None:
            others.append((op, urn))
            continue
        old = declared(before) if before and action != "create" else None
        new = declared(after) if after and action != "delete" else None
        steps.append(OverrideStep(action, urn, either.kind, old, new,
                                  retained=before.retained if before else False,
                                  provider=either.provider))
    errors = sum(1 for d in document.get("diagnostics") or []
                 if isinstance(d, Mapping) and d.get("severity") == "error")
    summary = document.get("changeSummary")
    same = summary.get("same", 0) if isinstance(summary, Mapping) else 0
    return Preview(stack, project, steps, others, errors,
                   same if isinstance(same, int) else 0, _table_wabas(document.get("config")))


def _table_wabas(config: Any) -> tuple[str, ...]:
    """The WABA ids of the routing table in the preview's config, if there is one."""
    if not isinstance(config, Mapping):
        return ()
    found: dict[str, None] = {}
    for key, raw in config.items():
        table = _json_text(raw) if isinstance(raw, str) else raw
        if not str(key).endswith(":routing") or not isinstance(table, Mapping):
            continue
        for group, id_key in (("wabas", "wabaId"), ("phoneNumbers", "wabaId")):
            entries = table.get(group)
            for entry in entries if isinstance(entries, list) else []:
                waba_id = entry.get(id_key) if isinstance(entry, Mapping) else None
                if isinstance(waba_id, str) and waba_id.isdigit():
                    found[waba_id] = None
    return tuple(found)


def loads(text: str) -> Preview:
    """Read the text ``pulumi preview --json`` prints."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise PreviewFormatError(f"not JSON: {error}") from None
    return parse(document)


def plaintext_secrets(document: Any) -> set[str]:
    """Every plaintext value the document holds under a secret-looking key (tokens, secrets,
    passwords), also inside config values that are JSON text: what a report must never show."""
    found: set[str] = set()

    def walk(node: Any, secret: bool) -> None:
        if isinstance(node, Mapping):
            if SECRET_SIGNATURE in node:
                walk(node.get("plaintext", node.get("value")), True)
                return
            for key, child in node.items():
                walk(child, secret or _secret_key(str(key)))
        elif isinstance(node, list):
            for child in node:
                walk(child, secret)
        elif isinstance(node, str):
            parsed = _json_text(node)
            if parsed is not None:
                walk(parsed, secret)
            elif secret and node not in (SECRET_PLACEHOLDER, UNKNOWN_SENTINEL):
                found.add(node)

    walk(document, False)
    return found


#: Keys that look secret but hold a name: a routing table entry's ``verifyToken`` names an entry
#: of the secret verify token map.
_NAMES = frozenset({"verifyToken"})


def _secret_key(key: str) -> bool:
    lowered = key.rsplit(":", 1)[-1].lower()
    return key not in _NAMES and any(
        word in lowered for word in ("token", "secret", "password", "passphrase"))


def _json_text(text: str) -> Any:
    if text[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _state(step: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    state = step.get(key)
    return state if isinstance(state, Mapping) else {}
