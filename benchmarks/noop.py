"""The floor: a dynamic resource with the same inputs as `PhoneCallbackOverride` and no HTTP.

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

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({name: news[name] for name in INPUTS if name in news}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [name for name in INPUTS if olds.get(name) != news.get(name)]
        replaces = ["phone_number_id"] if "phone_number_id" in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["phone_number_id"], {name: props.get(name) for name in INPUTS})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = {name: props.get(name) for name in INPUTS}
        return ReadResult(id_, outs, dict(outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({name: news.get(name) for name in INPUTS})

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
