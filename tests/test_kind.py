"""What the rules read (`waba_webhooks.rules.kind.typed`): each kind's typed inputs, where its
rules take them, have the kind's inputs, with the types of its ``Args`` unwrapped, so that the
program's ``Args``, the schema and the rules cannot drift apart."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from waba_webhooks.plugin import schema
from waba_webhooks.resources import APP_SUBSCRIPTION, WABA_ROUTING
from waba_webhooks.resources.app_subscription import Subscription
from waba_webhooks.resources.waba_routing import Routing
from waba_webhooks.rules.kind import Kind, typed


@pytest.mark.parametrize(("kind", "typed_inputs"), [(WABA_ROUTING, Routing),
                                                   (APP_SUBSCRIPTION, Subscription)])
def test_the_typed_inputs_are_the_kinds_inputs(kind: Kind, typed_inputs: type) -> None:
    assert tuple(f.name for f in dataclasses.fields(typed_inputs)) == kind.inputs
    args = schema._hints(kind.args)
    plain = typing.get_type_hints(typed_inputs)
    assert {name: schema._type(plain[name]) for name in kind.inputs} == {
        name: schema._type(args[name]) for name in kind.inputs}
    # An input the kind gives a default means the same absent in the typed inputs.
    defaults = {f.name: f.default for f in dataclasses.fields(typed_inputs)}
    assert {name: defaults[name] for name in kind.defaults} == dict(kind.defaults)


def test_typed_takes_absent_and_none_values_as_their_defaults() -> None:
    routing = typed(Routing, {"waba_id": "1", "phone_numbers": None, "unlisted": None,
                              "app_id": "an output, not an input"})
    assert routing == Routing("1")
    assert routing.phone_numbers == {} and routing.unlisted == "keep"
