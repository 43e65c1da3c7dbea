"""One function of the ``whatsapp`` package as every door sees it: a read of what is live that
writes nothing and records nothing (a data source, in Terraform's words).

A function is its ``Args`` dataclass (the inputs, with their ``#:`` comments), its result class
(each property it returns, with the same kind of comments; its docstring describes the
function), the resource kind whose rules answer it, and the name of that rule. The plugin's
schema, its ``Invoke``, the Python programs' `waba_webhooks.native` functions and the reference
pages read the same `Function`, as they read a `Kind`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import validation
from .kind import MODULE, PACKAGE, Kind, WireNames, attribute_docs, camel


@dataclass(frozen=True)
class Function(WireNames):
    """A function: its name, its types, and the rule that answers it."""

    #: The function's name on the wire (``getEffectiveRouting``).
    name: str
    #: The ``Args`` dataclass: the inputs.
    args: type
    #: The class that declares every property of the result; its docstring describes the
    #: function.
    result: type
    #: The kind whose configured rules answer the call.
    kind: Kind
    #: The rules' method that answers it, called with the inputs as keywords; it returns the
    #: result's properties by name.
    rule: str
    #: Input -> its check (`waba_webhooks.validation`), run before any Graph call.
    checks: Mapping[str, Callable[[str, Any], list[validation.Failure]]]

    @property
    def token(self) -> str:
        """The function's token, ``whatsapp:index:<name>``."""
        return f"{PACKAGE}:{MODULE}:{self.name}"

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """Input names, in the ``Args`` order."""
        return tuple(inspect.get_annotations(self.args))

    @cached_property
    def properties(self) -> tuple[str, ...]:
        """The result's property names, in the result class's order."""
        return tuple(inspect.get_annotations(self.result))

    def description(self) -> str:
        """What the function does, from the result class's docstring."""
        return inspect.cleandoc(self.result.__doc__ or "")

    def input_docs(self) -> dict[str, str]:
        """Input -> its ``#:`` comment in ``Args``."""
        return attribute_docs(self.args)

    def output_docs(self) -> dict[str, str]:
        """Result property -> its ``#:`` comment."""
        return attribute_docs(self.result)

    def check(self, args: Mapping[str, Any]) -> list[validation.Failure]:
        """Inputs the function does not take, then every input's failures, in wire names
        (`args` in Python names)."""
        failures = [validation.Failure(key, f"{key} is not an input of {self.name}; its inputs "
                                            f"are {', '.join(map(camel, self.inputs))}")
                    for key in args if key not in self.inputs]
        for name, check in self.checks.items():
            failures += check(self.wire_names[name], args.get(name))
        return failures
