"""The native resource classes (`waba_webhooks.native`), program side."""

from __future__ import annotations

import pulumi
from pulumi.runtime.resource import collapse_alias_to_urn

from tests.test_routing import run_mocked
from waba_webhooks import native
from waba_webhooks.resources import KINDS


def test_the_alias_to_the_dynamic_type_is_the_urn_the_sdk_would_compute() -> None:
    """Without a parent, a native resource's alias to its dynamic type (what moves a dynamic
    stack without a replacement) is a URN string, cheaper for the SDK than an `Alias`: the very
    URN the SDK computes from ``Alias(type_=...)``. With a parent it stays an `Alias`, whose URN
    the SDK computes from the parents' types."""
    pairs: list[tuple[str, str]] = []

    def program() -> pulumi.Output[list[str]]:
        urns = []
        for kind in KINDS:
            alias = native._dynamic_alias(kind, "east", pulumi.ResourceOptions())
            assert isinstance(alias, str)
            urns.append(collapse_alias_to_urn(pulumi.Alias(type_=kind.dynamic_type), "east",
                                              kind.token, None)
                        .apply(lambda urn, alias=alias: pairs.append((alias, urn)) or urn))
        parent = native.AppWebhookSubscription("app")
        assert isinstance(native._dynamic_alias(KINDS[0], "east",
                                                pulumi.ResourceOptions(parent=parent)),
                          pulumi.Alias)
        return pulumi.Output.all(*urns)

    run_mocked(program)
    assert len(pairs) == len(KINDS)
    for alias, urn in pairs:
        assert alias == urn
        assert urn.startswith("urn:pulumi:stack::project::pulumi-python:dynamic/waba-webhooks:")


def test_every_property_is_an_attribute_whichever_way_the_inputs_come() -> None:
    """A resource built from keywords has every property of its ``Outputs`` class, as one
    built from an ``Args``, through both doors: ``routing.unlisted`` is an `Output` (None when
    left out), never an AttributeError."""
    import waba_webhooks

    missing: dict[str, list[str]] = {}

    def program() -> pulumi.Output[list[str]]:
        urns = []
        for kind in KINDS:
            for door in (waba_webhooks, native):
                resource = getattr(door, kind.name)(f"{door.__name__}-{kind.name}")
                missing[f"{door.__name__}.{kind.name}"] = [
                    name for name in kind.properties
                    if not isinstance(getattr(resource, name, None), pulumi.Output)]
                urns.append(resource.urn)
        return pulumi.Output.all(*urns)

    run_mocked(program)
    assert len(missing) == 2 * len(KINDS)
    assert missing == {name: [] for name in missing}
