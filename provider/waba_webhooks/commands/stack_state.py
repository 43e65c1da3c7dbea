"""A stack's state (``pulumi stack export``) read as our resources, whichever door made them:
`waba_webhooks.commands.states` reads each resource the export lists, as it reads the steps of a
preview, so both take type names and spellings from the kinds alone.

Just after the move from the dynamic door, a native resource may still carry snake_case outputs
(the engine keeps an unchanged resource's outputs until its next update or refresh); the kinds'
`from_wire` reads both spellings. A resource of our packages whose type no kind has is an error
naming it (`StateError`): a command never reads past what it does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi import automation as auto

from ..resources import Kind
from . import states

#: What a secret property reads as.
SECRET = "[secret]"
#: Type token -> (kind, door): the types `states` knows.
TYPES = states.TYPES
StateError = states.UnreadableError


@dataclass(frozen=True)
class Recorded:
    """One of our resources as a stack's state records it."""

    kind: Kind
    #: ``dynamic`` or ``native``: the door whose type the state records.
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
        ours = states.read(str(resource.get("urn", "")), resource)
        if ours is None:
            continue
        found.append(Recorded(
            kind=ours.kind, door=ours.door, name=ours.name, id=str(resource.get("id", "")),
            inputs=_masked(ours.kind, ours.inputs), outputs=_masked(ours.kind, ours.outputs),
            retained=ours.retained))
    return found


def _masked(kind: Kind, props: Mapping[str, Any]) -> dict[str, Any]:
    return {name: SECRET if name in kind.secrets else value for name, value in props.items()}


def read(stack: auto.Stack) -> list[Recorded]:
    """Our resources in `stack`'s state (one ``pulumi stack export``)."""
    try:
        return recorded(stack.export_stack().deployment or {})
    except StateError as error:
        raise StateError(f"stack {stack.name}: {error}") from None
