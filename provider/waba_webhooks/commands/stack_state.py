"""A stack's state (``pulumi stack export``) read as our resources, whichever door made them.

A dynamic resource is recorded as ``pulumi-python:dynamic/waba-webhooks:<Kind>`` with
snake_case properties (and its pickled provider, ``__provider``); a native one as
``whatsapp:index:<Kind>`` with camelCase properties, except just after the move from the
dynamic door: the engine keeps an unchanged resource's outputs as they were until its next
update or refresh, so a native resource may still carry snake_case outputs. The kinds
(`waba_webhooks.resources.KINDS`: ``token``, ``dynamic_type``, ``from_wire``) know both type
names and both spellings; this module keeps no list of its own.

A resource of our packages whose type no kind has (a newer release's, a typo in a YAML program)
is an error naming it (`StateError`): a command never reads past what it does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi import automation as auto

from ..resources import KINDS, Kind
from ..resources.kind import DYNAMIC_TYPE, MODULE, PACKAGE
from ..resources.routing import DYNAMIC, NATIVE

#: Type token -> (kind, door), for both doors' types of every kind.
TYPES: dict[str, tuple[Kind, str]] = {
    **{kind.dynamic_type: (kind, DYNAMIC) for kind in KINDS},
    **{kind.token: (kind, NATIVE) for kind in KINDS},
}
#: Type prefixes of our packages (a type with one of them must be a kind's).
OURS = (DYNAMIC_TYPE.format(""), f"{PACKAGE}:{MODULE}:")


#: What a secret property reads as.
SECRET = "[secret]"


class StateError(ValueError):
    """A stack's state holds something this release cannot read; the message names it."""


@dataclass(frozen=True)
class Recorded:
    """One of our resources as a stack's state records it."""

    kind: Kind
    #: `DYNAMIC` or `NATIVE`: the door whose type the state records.
    door: str
    #: The resource's name in the program (the last part of its URN).
    name: str
    #: Its id: the WABA id, the phone number id or the app id (the kind's ``id_is``).
    id: str
    #: Inputs and outputs by their Python (snake_case) names; the kind's secrets are `SECRET`
    #: (never read, whatever the export shows).
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    #: Whether it leaves the stack without a Graph call (``retainOnDelete``).
    retained: bool


def recorded(deployment: Mapping[str, Any]) -> list[Recorded]:
    """Our resources in a state export's ``deployment``, in the order it lists them; the
    stack, provider and other packages' resources are left out."""
    found = []
    for resource in deployment.get("resources") or []:
        type_token = str(resource.get("type", ""))
        urn = str(resource.get("urn", ""))
        if type_token not in TYPES:
            if type_token.startswith(OURS):
                raise StateError(f"{urn}: unknown resource type {type_token} (known: "
                                 f"{', '.join(sorted(TYPES))}); is waba-webhooks older than "
                                 "the program that made this stack?")
            continue
        kind, door = TYPES[type_token]
        found.append(Recorded(
            kind=kind, door=door, name=urn.rsplit("::", 1)[-1], id=str(resource.get("id", "")),
            inputs=_python(kind, resource.get("inputs")),
            outputs=_python(kind, resource.get("outputs")),
            retained=bool(resource.get("retainOnDelete", False))))
    return found


def _python(kind: Kind, props: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state's property bag by Python names, its secrets masked."""
    return {name: SECRET if name in kind.secrets else value
            for name, value in kind.from_wire(props or {}).items()}


def read(stack: auto.Stack) -> list[Recorded]:
    """Our resources in `stack`'s state (one ``pulumi stack export``)."""
    try:
        return recorded(stack.export_stack().deployment or {})
    except StateError as error:
        raise StateError(f"stack {stack.name}: {error}") from None
