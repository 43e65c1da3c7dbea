"""Our resources in the JSON the pulumi CLI prints (``preview --json``, ``refresh --preview-only
--json``, ``preview --refresh --json``), whichever door made them: one reading for `review`,
`drift` and their reports.

Each step carries the resource's ``oldState`` / ``newState``: its ``type``, ``inputs``,
``outputs`` and the ``provider`` that manages it (``<provider URN>::<id>``). The kinds
(`waba_webhooks.resources.KINDS`) know both spellings: a dynamic resource's type is
``pulumi-python:dynamic/waba-webhooks:<Kind>`` with snake_case properties, a native one's
``whatsapp:index:<Kind>`` with camelCase ones. `read` gives either as a `Resource` whose
properties have the Python names, and `Resource.uri`, `Resource.object_id`... read one value
as the report needs it. Secrets are as the engine prints them (``[secret]``, or the secret
signature form with ``--show-secrets``) and values known only after apply are its unknown
sentinel: both become `Opaque`, and verify tokens are never read.

Anything of ours that cannot be read raises `UnreadableError` naming the resource: a type of our
package no kind has, a dynamic resource of this package that fits no kind, a property that is
not of its type (a WABA id that is not a string of digits, a map that is not a map). A command
never reports "no change" for what it could not read.

Which app: every dynamic resource, and a native one of the default provider, acts for the app
the command's own settings name; a native resource of an explicit provider
(``pulumi:providers:whatsapp``) for that provider's app: `Resource.provider` is that provider's
URN, else None (see `waba_webhooks.commands.apps`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources import KINDS, Kind
from ..rules.kind import DYNAMIC_TYPE, PACKAGE

#: How Pulumi prints a value it will know only after apply.
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: How Pulumi prints a secret without --show-secrets.
SECRET_PLACEHOLDER = "[secret]"
#: The key of a secret value in Pulumi's serialized form ({sig: ..., value/plaintext: ...}).
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
#: The type of an untyped dynamic resource (a class declared without module and name).
UNTYPED_DYNAMIC = "pulumi-python:dynamic:Resource"
#: The type of an explicit provider instance of the native plugin.
PROVIDER_TYPE = f"pulumi:providers:{PACKAGE}"
#: Where a dynamic resource's inputs hold its pickled provider (it names our module).
_PICKLED_PROVIDER = "__provider"
_OUR_MODULE = b"waba_webhooks"


@dataclass(frozen=True)
class Opaque:
    """A value the JSON does not show: unknown until apply, or secret."""

    label: str

    def __str__(self) -> str:
        return self.label


KNOWN_AFTER_APPLY = Opaque("(known after apply)")
SECRET = Opaque("[secret]")

#: A callback URI as the JSON shows it: a string, opaque, or None (no override).
Uri = str | Opaque | None


class UnreadableError(ValueError):
    """A resource of ours that the command cannot read; the message names it."""


@dataclass(frozen=True)
class Resource:
    """One state of one of our resources, its properties by their Python names."""

    urn: str
    kind: Kind
    #: ``dynamic`` or ``native``: which door's type the state has.
    door: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    #: The explicit provider's URN (``pulumi:providers:whatsapp``), None for a default provider.
    provider: str | None = None
    #: Marked ``retainOnDelete``: deleting it leaves its overrides set.
    retained: bool = False

    @property
    def name(self) -> str:
        """The resource's name (the URN's last segment)."""
        return self.urn.rsplit("::", 1)[-1]

    def spelled(self, prop: str) -> str:
        """`prop` as this resource's door spells it (``wabaId`` for a native resource)."""
        return self.kind.wire_names.get(prop, prop) if self.door == "native" else prop

    def unreadable(self, prop: str, raw: Any, expected: str) -> UnreadableError:
        shown = repr(raw)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return UnreadableError(
            f"resource `{self.name}` ({self.urn}): its {self.spelled(prop)} is {shown}, not "
            f"{expected}; this version of waba-webhooks cannot read it")

    # ---- one value, as the reports take it --------------------------------------------------

    def uri(self, prop: str, bag: Mapping[str, Any] | None = None) -> Uri:
        """A URL (or None, unknown, secret)."""
        raw = (self.inputs if bag is None else bag).get(prop)
        shown = opaque(raw)
        if shown is not None or raw is None:
            return shown
        if isinstance(raw, str):
            return raw
        raise self.unreadable(prop, raw, "a URL")

    def object_id(self, prop: str, bag: Mapping[str, Any] | None = None) -> str | Opaque:
        """A WABA or phone number id (a string of digits), or unknown until apply."""
        raw = (self.inputs if bag is None else bag).get(prop)
        shown = opaque(raw)
        if shown is not None:
            return shown
        if isinstance(raw, str) and raw.isdigit():
            return raw
        raise self.unreadable(prop, raw, "an id (a string of digits)")

    def uri_map(self, prop: str, bag: Mapping[str, Any] | None = None) -> (
            dict[str, Uri] | Opaque):
        """Phone number id -> URL; absent: empty."""
        raw = (self.inputs if bag is None else bag).get(prop)
        shown = opaque(raw)
        if shown is not None:
            return shown
        if raw is None:
            return {}
        if not isinstance(raw, Mapping) or not all(str(k).isdigit() for k in raw):
            raise self.unreadable(prop, raw, "a map of phone number id to URL")
        return {str(key): self.uri(str(key), raw) for key in raw}

    def id_list(self, prop: str, bag: Mapping[str, Any] | None = None) -> list[str]:
        """A list of phone number ids; absent: empty."""
        raw = (self.inputs if bag is None else bag).get(prop)
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(i, str) and i.isdigit() for i in raw):
            raise self.unreadable(prop, raw, "a list of phone number ids")
        return list(raw)

    def names(self, prop: str, bag: Mapping[str, Any] | None = None) -> tuple[str, ...] | Opaque:
        """A list of names (webhook fields); absent: none."""
        raw = (self.inputs if bag is None else bag).get(prop)
        shown = opaque(raw)
        if shown is not None:
            return shown
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.unreadable(prop, raw, "a list of webhook fields")
        if any(opaque(item) is not None for item in raw):
            return KNOWN_AFTER_APPLY
        if not all(isinstance(item, str) for item in raw):
            raise self.unreadable(prop, raw, "a list of webhook fields")
        return tuple(raw)

    def flag(self, prop: str, bag: Mapping[str, Any] | None = None) -> bool:
        """A boolean (absent, unknown or secret: the kind's default, else False)."""
        raw = (self.inputs if bag is None else bag).get(prop)
        if raw is None or opaque(raw) is not None:
            return bool(self.kind.defaults.get(prop, False))
        if not isinstance(raw, bool):
            raise self.unreadable(prop, raw, "true or false")
        return raw

    def choice(self, prop: str, bag: Mapping[str, Any] | None = None) -> str | Opaque | None:
        """A word of a fixed set (``unlisted``); absent: the kind's default."""
        raw = (self.inputs if bag is None else bag).get(prop)
        shown = opaque(raw)
        if shown is not None:
            return shown
        if raw is None:
            default = self.kind.defaults.get(prop)
            return default if isinstance(default, str) else None
        if not isinstance(raw, str):
            raise self.unreadable(prop, raw, "a word")
        return raw


def properties_of(kind: Kind, *names: str) -> tuple[str, ...]:
    """`names`, each checked to be a property of `kind` (its ``Outputs``): a command that reads
    an output by name fails at once, not silently, if the kind renames it."""
    missing = [name for name in names if name not in kind.properties]
    if missing:
        raise LookupError(f"{kind.name} has no output {', '.join(missing)}")
    return names


def opaque(raw: Any) -> Opaque | None:
    """`KNOWN_AFTER_APPLY` or `SECRET` for a value the JSON does not show, else None."""
    if isinstance(raw, str):
        if raw == UNKNOWN_SENTINEL:
            return KNOWN_AFTER_APPLY
        if raw == SECRET_PLACEHOLDER:
            return SECRET
    if isinstance(raw, Mapping) and SECRET_SIGNATURE in raw:
        return SECRET
    return None


def read(urn: str, state: Mapping[str, Any], provider: str | None = None) -> Resource | None:
    """One of our resources from a step's state, or None for anyone else's. `provider`: the
    step's own ``provider`` reference, when the state has none."""
    type_token = str(state.get("type", ""))
    inputs, outputs = _mapping(state.get("inputs")), _mapping(state.get("outputs"))
    kind = kind_of(urn, type_token, inputs)
    if kind is None:
        return None
    door = "native" if type_token == kind.token else "dynamic"
    reference = state.get("provider") or provider
    return Resource(
        urn, kind, door, kind.from_wire(inputs), kind.from_wire(outputs),
        explicit_provider(reference) if isinstance(reference, str) else None,
        bool(state.get("retainOnDelete")))


#: Type token -> (kind, door), for both doors' types of every kind.
TYPES: dict[str, tuple[Kind, str]] = {
    **{kind.dynamic_type: (kind, "dynamic") for kind in KINDS},
    **{kind.token: (kind, "native") for kind in KINDS},
}


def kind_of(urn: str, type_token: str, inputs: Mapping[str, Any]) -> Kind | None:
    """Our kind of a resource type, None for anyone else's; a type of ours that no kind has
    raises `UnreadableError`."""
    if type_token in TYPES:
        return TYPES[type_token][0]
    name = urn.rsplit("::", 1)[-1]
    if type_token.startswith((f"{PACKAGE}:", DYNAMIC_TYPE.format(""))):
        raise UnreadableError(
            f"resource `{name}` ({urn}) is of type {type_token}, which this version of "
            "waba-webhooks does not know (it knows "
            + ", ".join(k.token for k in KINDS) + " and their dynamic forms); upgrade it")
    if type_token != UNTYPED_DYNAMIC:
        return None
    # A dynamic class declared without module and name: the kind whose inputs fit.
    keys = {key for key in inputs if not key.startswith("__")}
    fitting = [k for k in KINDS
               if set(k.required_inputs) <= keys <= {*k.inputs, *k.properties}]
    if fitting:
        return min(fitting, key=lambda k: len(k.inputs))
    if _ours(inputs.get(_PICKLED_PROVIDER)):
        raise UnreadableError(
            f"resource `{name}` ({urn}) is a dynamic resource of waba-webhooks whose inputs "
            f"({', '.join(sorted(keys)) or 'none'}) fit none of its kinds")
    return None


def explicit_provider(reference: str) -> str | None:
    """The URN of the explicit ``whatsapp`` provider a ``<URN>::<id>`` reference names, None
    for a default provider (``default``, ``default_0_2_0``) or another package's."""
    urn = reference.rsplit("::", 1)[0] if reference.count("::") >= 4 else reference
    parts = urn.split("::")
    if len(parts) < 4 or parts[-2].rsplit("$", 1)[-1] != PROVIDER_TYPE:
        return None
    return None if parts[-1] == "default" or parts[-1].startswith("default_") else urn


def _ours(pickled: Any) -> bool:
    """Whether a dynamic resource's pickled provider is a class of this package."""
    if not isinstance(pickled, str):
        return False
    try:
        return _OUR_MODULE in base64.b64decode(pickled, validate=True)
    except (binascii.Error, ValueError):
        return False


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}
