"""One kind of resource as both doors see it: the dynamic resource classes and the native
``whatsapp`` plugin read the same `Kind`.

A kind is its ``Args`` dataclass (the inputs: names, types, which are required, and their
``#:`` comments), its ``Outputs`` class (every property the resource reports, with the same
kind of comments), its rules class (check, diff, create, read, update, delete),
which properties are secret and which replace the resource when they change. The plugin's
``schema.json`` is generated from these (`waba_webhooks.plugin.schema`); nothing about a
property is written twice.

Property names are snake_case here, as the rules and the Python API use them; the plugin's
wire names are their camelCase forms (`camel`), as Pulumi schemas have them.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from .base import Rules

    D = TypeVar("D", bound=DataclassInstance)

#: The native plugin's package name, and the module of its resource types.
PACKAGE = "whatsapp"
MODULE = "index"
#: The dynamic resources' type prefix, as their states record it.
DYNAMIC_TYPE = "pulumi-python:dynamic/waba-webhooks:{}"

_DOC_COMMENT = re.compile(r"^\s*#:\s?(.*)$")
_ATTRIBUTE = re.compile(r"^\s*(\w+)\s*:")


def camel(name: str) -> str:
    """``phone_number_id`` -> ``phoneNumberId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def attribute_docs(cls: type) -> dict[str, str]:
    """The ``#:`` comments above each annotated attribute of `cls` (as Sphinx reads them),
    joined into one line each."""
    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        comment = _DOC_COMMENT.match(line)
        if comment:
            pending.append(comment.group(1).strip())
            continue
        attribute = _ATTRIBUTE.match(line)
        if attribute and pending:
            docs[attribute.group(1)] = " ".join(pending)
        if not line.strip().startswith("#"):
            pending = []
    return docs


class WireNames:
    """The names of a kind's or a function's properties: snake_case in the rules and Python,
    camelCase on the wire."""

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input names."""
        raise NotImplementedError

    @property
    def properties(self) -> tuple[str, ...]:
        """Every property the resource or function returns."""
        raise NotImplementedError

    @cached_property
    def wire_names(self) -> dict[str, str]:
        """snake_case -> camelCase, for every input and property."""
        return {name: camel(name) for name in (*self.inputs, *self.properties)}

    @cached_property
    def python_names(self) -> dict[str, str]:
        """camelCase -> snake_case, the inverse of `wire_names`."""
        return {wire: name for name, wire in self.wire_names.items()}

    def to_wire(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Top-level keys to their wire names (map keys inside, ids, stay as they are)."""
        return {self.wire_names.get(key, key): value for key, value in props.items()}

    def from_wire(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Top-level wire names back to the Python names."""
        return {self.python_names.get(key, key): value for key, value in props.items()}


@dataclass(frozen=True)
class Kind(WireNames):
    """A resource kind: its name, its types and the class that holds its rules."""

    #: The resource's name in both doors (``WabaRouting``).
    name: str
    #: The ``Args`` dataclass: the inputs.
    args: type
    #: The class that declares every output (a base of both doors' resource classes); its
    #: docstring describes the resource.
    outputs: type
    #: The class with the rules (check, diff, create, read, update, delete).
    rules: type[Rules]
    #: What the resource id is, in words (``the WABA id``): `pulumi import` takes it.
    id_is: str
    #: Inputs kept as secrets (in state, outputs and the preview).
    secrets: tuple[str, ...] = ()
    #: Inputs whose change replaces the resource.
    replaces: tuple[str, ...] = ()
    #: What an absent input means, where it means something (``unlisted``: ``keep``).
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def token(self) -> str:
        """The native type token, ``whatsapp:index:<name>``."""
        return f"{PACKAGE}:{MODULE}:{self.name}"

    @property
    def dynamic_type(self) -> str:
        """The dynamic resource's type, as states made with it record it."""
        return DYNAMIC_TYPE.format(self.name)

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """Input names, in the ``Args`` order."""
        return tuple(f.name for f in dataclasses.fields(self.args))

    @cached_property
    def required_inputs(self) -> tuple[str, ...]:
        """Inputs without a default."""
        return tuple(f.name for f in dataclasses.fields(self.args)
                     if f.default is dataclasses.MISSING)

    @cached_property
    def properties(self) -> tuple[str, ...]:
        """Every output name (inputs included), in the ``Outputs`` order."""
        return tuple(_annotations(self.outputs))

    def description(self) -> str:
        """What the resource is, from the ``Outputs`` class's docstring."""
        return inspect.cleandoc(self.outputs.__doc__ or "")

    def input_docs(self) -> dict[str, str]:
        """Input -> its ``#:`` comment in ``Args``."""
        return attribute_docs(self.args)

    def output_docs(self) -> dict[str, str]:
        """Property -> its ``#:`` comment in ``Outputs``, else the input's."""
        return {**attribute_docs(self.args), **attribute_docs(self.outputs)}



def typed(cls: type[D], props: Mapping[str, Any]) -> D:
    """`props` (plain values by property name) as the dataclass `cls` of a kind's rules: an
    absent or None value takes the field's default."""
    return cls(**{f.name: props[f.name] for f in dataclasses.fields(cls)
                  if props.get(f.name) is not None})


def _annotations(cls: type) -> dict[str, Any]:
    """The annotations `cls` declares itself (not its bases'), in order."""
    return dict(inspect.get_annotations(cls))
