"""``pulumi preview --json`` read as changes to our app's webhook overrides.

The preview prints one step per resource: ``op`` (``same``, ``create``, ``update``, ``delete``,
``replace``, ...), its ``urn``, and ``oldState`` / ``newState`` with the resource's ``type`` and
``inputs``. Our resources are dynamic resources: their type token is
``pulumi-python:dynamic/waba-webhooks:<Class>`` (``pulumi-python:dynamic:Resource`` for classes
declared without a module and name), so a kind is recognised by the type's last segment, else by
the keys of its inputs.

A `ResourceKind` turns one resource's inputs into what it declares (`Declared`: override callback
URIs by WABA id and by phone number id, or the app's own subscription, `AppDeclared`); supporting
another resource type is one more entry in `KINDS`. Values Pulumi does not know yet (its unknown
sentinel) and secret values (``[secret]``) become `KNOWN_AFTER_APPLY` and `SECRET`; verify tokens
are never read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: How Pulumi prints a value it will know only after apply.
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: How Pulumi prints a secret without --show-secrets.
SECRET_PLACEHOLDER = "[secret]"
#: The key of a secret value in Pulumi's serialized form ({sig: ..., value/plaintext: ...}).
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


@dataclass(frozen=True)
class Opaque:
    """A value the preview does not show: unknown until apply, or secret."""

    label: str

    def __str__(self) -> str:
        return self.label


KNOWN_AFTER_APPLY = Opaque("(known after apply)")
SECRET = Opaque("[secret]")

#: A callback URI as the preview shows it: a string, opaque, or None (no override).
Uri = str | Opaque | None


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


@dataclass(frozen=True)
class ResourceKind:
    """One of our resource types, as a preview shows it."""

    #: The class name: the last segment of its type token.
    name: str
    #: Input keys that identify it when the type token does not (an untyped dynamic resource).
    identifying_inputs: frozenset[str]
    #: Inputs (as printed, verify tokens untouched) -> what the resource declares.
    declared: Callable[[Mapping[str, Any]], Declared]


def _single(inputs: Mapping[str, Any], id_key: str, what: str,
            build: Callable[[str, Uri], Declared]) -> Declared:
    object_id = value(inputs.get(id_key))
    if not isinstance(object_id, str):
        return Declared(unresolved=(f"its {what} id is {object_id or 'not set'}",))
    return build(object_id, value(inputs.get("callback_uri")))


def _waba_override(inputs: Mapping[str, Any]) -> Declared:
    adopt = inputs.get("adopt_existing") is True
    return _single(inputs, "waba_id", "WABA",
                   lambda i, uri: Declared(wabas={i: uri}, adopt_existing=adopt))


def _phone_override(inputs: Mapping[str, Any]) -> Declared:
    adopt = inputs.get("adopt_existing") is True
    return _single(inputs, "phone_number_id", "phone number",
                   lambda i, uri: Declared(phones={i: uri}, adopt_existing=adopt))


def _waba_routing(inputs: Mapping[str, Any]) -> Declared:
    """A `WabaRouting`: its WABA override (unless None) and the numbers it lists. Under
    ``unlisted="clear"`` it owns the whole WABA: overrides of ours it does not list go, the WABA
    override too when it declares none."""
    waba_id = value(inputs.get("waba_id"))
    if not isinstance(waba_id, str):
        return Declared(unresolved=(f"its WABA id is {waba_id or 'not set'}",))
    uri = value(inputs.get("callback_uri"))
    numbers = inputs.get("phone_numbers")
    phones = ({str(p): value(u) for p, u in numbers.items()}
              if isinstance(numbers, Mapping) else {})
    unresolved = () if isinstance(numbers, Mapping) or numbers is None else (
        f"the numbers it lists are {value(numbers)}",)
    return Declared(wabas={waba_id: uri} if uri is not None else {}, phones=phones,
                    exclusive_wabas=frozenset({waba_id}) if inputs.get("unlisted") == "clear"
                    else frozenset(), whole_wabas=frozenset({waba_id}),
                    adopt_existing=inputs.get("adopt_existing") is True, unresolved=unresolved)


def _app_subscription(inputs: Mapping[str, Any]) -> Declared:
    """An `AppWebhookSubscription`: the app's callback URL and the fields Meta delivers."""
    raw = inputs.get("fields")
    shown = value(raw)
    fields: tuple[str, ...] | Opaque = (
        tuple(str(f) for f in raw) if isinstance(raw, list) and all(
            isinstance(value(f), str) for f in raw)
        else shown if isinstance(shown, Opaque) else KNOWN_AFTER_APPLY)
    return Declared(app=AppDeclared(
        callback_url=value(inputs.get("callback_url")), fields=fields,
        adopt_existing=inputs.get("adopt_existing") is True,
        remove_on_destroy=inputs.get("remove_on_destroy") is True))


KINDS: tuple[ResourceKind, ...] = (
    # First: a WabaRouting's inputs also hold waba_id and callback_uri.
    ResourceKind("WabaRouting", frozenset({"waba_id", "phone_numbers"}), _waba_routing),
    ResourceKind("WabaCallbackOverride", frozenset({"waba_id", "callback_uri"}), _waba_override),
    ResourceKind("PhoneCallbackOverride", frozenset({"phone_number_id", "callback_uri"}),
                 _phone_override),
    ResourceKind("AppWebhookSubscription", frozenset({"callback_url", "fields"}),
                 _app_subscription),
)


def kind_of(type_token: str, inputs: Mapping[str, Any],
            kinds: Iterable[ResourceKind] = KINDS) -> ResourceKind | None:
    """Our resource kind for a step, or None for anyone else's resource."""
    kinds = tuple(kinds)
    last = type_token.rsplit(":", 1)[-1]
    for kind in kinds:
        if last == kind.name:
            return kind
    if not type_token.startswith("pulumi-python:dynamic"):
        return None
    # An untyped dynamic resource: the most specific kind whose identifying inputs it has.
    matching = [k for k in kinds if k.identifying_inputs <= set(inputs)]
    if not matching:
        return None
    return max(matching, key=lambda k: len(k.identifying_inputs))


def value(raw: Any) -> Uri:
    """A property value as printed: a string, None, or `Opaque`."""
    if raw is None:
        return None
    if raw == UNKNOWN_SENTINEL:
        return KNOWN_AFTER_APPLY
    if raw == SECRET_PLACEHOLDER or (isinstance(raw, Mapping) and SECRET_SIGNATURE in raw):
        return SECRET
    return str(raw)


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
    kind: ResourceKind
    #: What the resource declares now (None for a create) and after the step (None for a delete).
    old: Declared | None
    new: Declared | None
    #: The resource is marked ``retainOnDelete``: deleting it leaves its overrides set.
    retained: bool = False

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
    #: `waba_webhooks.resources.routing` reads it): the numbers an app-level change moves,
    #: though the preview prints no step for their unchanged resources.
    table_wabas: tuple[str, ...] = ()


def parse(document: Any, kinds: Iterable[ResourceKind] = KINDS) -> Preview:
    """Read a decoded ``pulumi preview --json`` document; `kinds` are the resource types to
    recognise (default: ours)."""
    kinds = tuple(kinds)
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
        old_state, new_state = _state(raw, "oldState"), _state(raw, "newState")
        either = new_state or old_state
        kind = kind_of(str(either.get("type", "")), _inputs(either), kinds) if either else None
        if kind is None:
            others.append((op, urn))
            continue
        action = _OPS.get(op, "same")
        old = kind.declared(_inputs(old_state)) if old_state and action != "create" else None
        new = kind.declared(_inputs(new_state)) if new_state and action != "delete" else None
        steps.append(OverrideStep(action, urn, kind, old, new,
                                  retained=bool(old_state.get("retainOnDelete"))))
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


def _inputs(state: Mapping[str, Any]) -> Mapping[str, Any]:
    inputs = state.get("inputs")
    return inputs if isinstance(inputs, Mapping) else {}
