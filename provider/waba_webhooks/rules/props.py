"""Building a resource's property bag from its ``Args`` and keyword inputs (program side)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi

from ..errors import ImportNotSupportedError
from .base import VERIFY_TOKEN


def build_props(
    args: Any,
    opts: pulumi.ResourceOptions | None,
    keywords: Mapping[str, Any],
    outputs: Iterable[str] = (),
    secrets: Iterable[str] = (VERIFY_TOKEN,),
    importable: bool = False,
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """Inputs from an ``Args`` dataclass and keywords (keywords win), the `secrets` (verify
    tokens) wrapped as secrets and marked secret in outputs too, and every other name of
    `outputs` (a kind's properties) declared, so that each is an attribute of the resource
    however its inputs came. Only `importable` (native) resources take the ``import_``
    option."""
    if not importable and opts is not None and opts.import_ is not None:
        raise ImportNotSupportedError(
            "the import_ resource option cannot work for Pulumi dynamic resources: the engine "
            "reads the resource without its serialized provider (pulumi/pulumi#16175). To adopt "
            "an existing override, declare it with its current callback_uri (create then adopts "
            "it without writing), or set adopt_existing=True to replace whatever is there; or "
            "use the native resources of waba_webhooks.native, which can be imported"
        )
    # Not dataclasses.asdict: it deep-copies values, and Outputs must pass through untouched.
    props: dict[str, Any] = (
        {field.name: getattr(args, field.name) for field in dataclasses.fields(args)}
        if args is not None else {}
    )
    props.update({key: value for key, value in keywords.items() if value is not None})
    secrets = list(secrets)
    for name in secrets:
        if props.get(name) is not None:
            props[name] = pulumi.Output.secret(props[name])
    for name in outputs:
        props.setdefault(name, None)
    opts = pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=secrets)
    )
    return props, opts
