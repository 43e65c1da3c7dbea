"""A rule's diff, per property: what ``pulumi preview --diff`` shows, decided by the rules alone.

A resource's rules return a `Diff`: Pulumi's `DiffResult` (whether anything changes, which
changes replace; all the dynamic door hands the engine) with the `PropertyChange` list behind it
(which property, which key of a map, added, updated or deleted, whether it replaces, whether an
input or an output carries it). The native door translates that list to the engine's detailed
diff; it decides nothing itself.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi.dynamic import DiffResult


class ChangeKind(enum.Enum):
    """What happens to one property (or one key of a map property)."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class PropertyChange:
    """One line of the preview's diff: a property, or one `key` of a map property, by its
    snake_case name."""

    name: str
    kind: ChangeKind
    #: The map key (a phone number id) when the change is one entry of a map.
    key: str | None = None
    #: Whether the change replaces the resource.
    replace: bool = False
    #: An input changes (True), or an output carries work the inputs do not show (False).
    input: bool = True


class Diff(DiffResult):
    """A rule's diff: changes and replaces (from `properties`) as Pulumi's `DiffResult`, and
    the per-property changes behind them."""

    def __init__(self, properties: Iterable[PropertyChange]) -> None:
        self.properties = tuple(properties)
        super().__init__(
            changes=bool(self.properties),
            replaces=list(dict.fromkeys(c.name for c in self.properties if c.replace)),
            delete_before_replace=False,
        )
