"""The native floor's resources for the benchmark's programs: ``benchfloor`` resources
(`benchmarks.noop_plugin` serves them) with the inputs of `PhoneCallbackOverride` and
`WabaRouting`, declared as `waba_webhooks.native` declares ours: camelCase on the wire, the
verify token secret, through one ``__init__`` of a class over `pulumi.CustomResource` (the same
stack depth, kept in state)."""

from __future__ import annotations

from typing import Any

import pulumi

from .noop_plugin import PACKAGE


class _NoopResource(pulumi.CustomResource):
    _type = ""

    def __init__(self, resource_name: str, **inputs: Any) -> None:
        props = {("verifyToken" if name == "verify_token" else _camel(name)):
                 pulumi.Output.secret(value) if name == "verify_token" else value
                 for name, value in inputs.items()}
        super().__init__(self._type, resource_name, props,
                         pulumi.ResourceOptions(additional_secret_outputs=["verifyToken"]))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class NoopPhoneOverride(_NoopResource):
    """`PhoneCallbackOverride`'s inputs, no call."""

    _type = f"{PACKAGE}:index:NoopPhoneOverride"


class NoopWabaRouting(_NoopResource):
    """`WabaRouting`'s inputs, no call."""

    _type = f"{PACKAGE}:index:NoopWabaRouting"
