"""The dynamic door's floor: dynamic resources with the inputs of `PhoneCallbackOverride`
(`NoopPhoneOverride`) and of `WabaRouting` (`NoopWabaRouting`), and no HTTP.

It lives in an importable module so dill pickles the provider by reference, like ours, and sets
``serialize_as_secret_always = False`` like ours, so the floor pays exactly what the engine and
the Pulumi Python SDK cost for this stack shape and nothing of our own.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

INPUTS = ("phone_number_id", "callback_uri", "verify_token")


class NoopPhoneProvider(ResourceProvider):
    """Accepts the inputs as they are and stores them as outputs; never calls anything."""

    serialize_as_secret_always = False
    #: The inputs, and the one that is the id (a change of it replaces).
    inputs: tuple[str, ...] = INPUTS
    key = "phone_number_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({name: news[name] for name in self.inputs if name in news}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [name for name in self.inputs if olds.get(name) != news.get(name)]
        replaces = [self.key] if self.key in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props[self.key], {name: props.get(name) for name in self.inputs})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = {name: props.get(name) for name in self.inputs}
        return ReadResult(id_, outs, dict(outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({name: news.get(name) for name in self.inputs})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        return None


class NoopPhoneOverride(pulumi.dynamic.Resource, module="bench", name="NoopPhoneOverride"):
    """Same inputs as `PhoneCallbackOverride`; the verify token is a secret in state too."""

    phone_number_id: pulumi.Output[str]
    callback_uri: pulumi.Output[str]
    verify_token: pulumi.Output[str]

    def __init__(self, resource_name: str, *, phone_number_id: pulumi.Input[str],
                 callback_uri: pulumi.Input[str], verify_token: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "phone_number_id": phone_number_id,
            "callback_uri": callback_uri,
            "verify_token": pulumi.Output.secret(verify_token),
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["verify_token"])
        )
        super().__init__(NoopPhoneProvider(), resource_name, props, opts)


class NoopWabaRoutingProvider(NoopPhoneProvider):
    """`NoopPhoneProvider` with `WabaRouting`'s inputs."""

    inputs = ("waba_id", "phone_numbers", "verify_token")
    key = "waba_id"


class NoopWabaRouting(pulumi.dynamic.Resource, module="bench", name="NoopWabaRouting"):
    """Same inputs as `WabaRouting`; the verify token is a secret in state too."""

    waba_id: pulumi.Output[str]
    phone_numbers: pulumi.Output[dict[str, str]]
    verify_token: pulumi.Output[str]

    def __init__(self, resource_name: str, *, waba_id: pulumi.Input[str],
                 phone_numbers: pulumi.Input[dict[str, str]], verify_token: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "waba_id": waba_id,
            "phone_numbers": phone_numbers,
            "verify_token": pulumi.Output.secret(verify_token),
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["verify_token"])
        )
        super().__init__(NoopWabaRoutingProvider(), resource_name, props, opts)
