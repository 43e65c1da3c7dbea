"""The resources of the native ``whatsapp`` plugin, for Python programs.

The same four kinds as the dynamic resources (`waba_webhooks.WabaRouting`...), with the same
``Args`` types and outputs, served by the ``pulumi-resource-whatsapp`` plugin instead of the
SDK's dynamic provider. What that gives a Python program:

- ``pulumi import`` and the ``import_`` resource option;
- ``get``: a resource read by its id from what is live, recorded and never written;
- explicit providers, one per Meta app (`Provider`), so that several apps' routing lives in one
  program;
- the plugin's functions: `get_effective_routing` (and `get_effective_routing_output`), where
  each number of a WABA sends its messages webhooks, read live;
- no pickled provider in state, and more than 4 resource operations at once.

Each class carries an alias to its dynamic type, so a stack made with the dynamic resources moves
to these by changing the import alone: the next ``pulumi up`` shows every resource unchanged,
with no write and no replace::

    from waba_webhooks import native as whatsapp

    sandbox = whatsapp.Provider("sandbox", access_token=cfg.require_secret("sandboxToken"),
                                app_id="1234567890")
    whatsapp.WabaRouting("support", whatsapp.WabaRoutingArgs(waba_id="1022...", ...),
                         opts=pulumi.ResourceOptions(provider=sandbox))
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

import pulumi

from . import config
from .resources import APP_SUBSCRIPTION, GET_EFFECTIVE_ROUTING, PHONE, WABA, WABA_ROUTING
from .resources.app_subscription import AppWebhookSubscriptionArgs, AppWebhookSubscriptionOutputs
from .resources.phone import PhoneCallbackOverrideArgs, PhoneCallbackOverrideOutputs
from .resources.waba import WabaCallbackOverrideArgs, WabaCallbackOverrideOutputs
from .resources.waba_routing import EffectiveRouting, WabaRoutingArgs, WabaRoutingOutputs
from .rules.kind import PACKAGE, Kind
from .rules.props import build_props

__all__ = [
    "AppWebhookSubscription",
    "AppWebhookSubscriptionArgs",
    "EffectiveRouting",
    "PhoneCallbackOverride",
    "PhoneCallbackOverrideArgs",
    "Provider",
    "WabaCallbackOverride",
    "WabaCallbackOverrideArgs",
    "WabaRouting",
    "WabaRoutingArgs",
    "get_effective_routing",
    "get_effective_routing_output",
]


class Provider(pulumi.ProviderResource):
    """A ``whatsapp`` provider instance: one Meta app's settings. Pass it as
    ``ResourceOptions(provider=...)``. Keywords are the settings of `waba_webhooks.config`
    (``access_token``, ``app_id``, ``app_secret``, ``graph_url``, ``allow_http_loopback``...);
    a setting left out falls back to its ``WHATSAPP_*`` environment variable, never to the
    ``whatsapp:*`` stack config (that is the default provider's)."""

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None,
                 **settings: pulumi.Input[Any]) -> None:
        unknown = sorted(set(settings) - set(config.KEYS))
        if unknown:
            raise TypeError(f"Provider got unknown settings {', '.join(unknown)}; the settings "
                            f"are {', '.join(config.KEYS)}")
        props = {
            config.KEYS[name][0]: pulumi.Output.secret(value)
            if name in config.SECRET_SETTINGS else value
            for name, value in settings.items() if value is not None
        }
        super().__init__(PACKAGE, resource_name, props, opts)


A = TypeVar("A")


class _NativeResource(pulumi.CustomResource, Generic[A]):
    """A resource of the ``whatsapp`` plugin: inputs from its ``Args`` (`A`) and keywords, as
    the dynamic resources take them, with camelCase names on the wire."""

    _kind: ClassVar[Kind]

    def __init__(self, resource_name: str, args: A | None = None,
                 opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        kind = self._kind
        unknown = sorted(set(inputs) - set(kind.inputs))
        if unknown:
            raise TypeError(f"{kind.name} got unknown inputs {', '.join(unknown)}; its inputs "
                            f"are {', '.join(kind.inputs)}")
        props, opts = build_props(args, opts, inputs, outputs=kind.properties,
                                  secrets=kind.secrets, importable=True)
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[_dynamic_alias(kind, resource_name, opts)]))
        super().__init__(kind.token, resource_name, props, opts)

    @classmethod
    def get(cls, resource_name: str, id: pulumi.Input[str],
            opts: pulumi.ResourceOptions | None = None) -> Self:
        """The resource whose id is `id` (what the kind's id is: a WABA id, a phone number id,
        the app id), read from what is live through the plugin, as Pulumi's ``get`` of a
        generated SDK: the stack records it, never writes it, and a destroy leaves it as it
        is. Finding nothing of this provider's app there fails the run."""
        return cls(resource_name, opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(id=id)))

    def translate_input_property(self, prop: str) -> str:
        return self._kind.wire_names.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return self._kind.python_names.get(prop, prop)


def _dynamic_alias(kind: Kind, resource_name: str,
                   opts: pulumi.ResourceOptions) -> str | pulumi.Alias:
    """The alias to the dynamic resource this one replaces: the same name and parent, the
    kind's dynamic type. Without a parent (nearly every routing resource) it is the URN itself,
    which the SDK passes on as it is; an `Alias` costs it about ten `Output`s more per resource
    (issue 27), and is kept for a child resource, whose URN holds its parents' types."""
    if opts.parent is not None:
        return pulumi.Alias(type_=kind.dynamic_type)
    return (f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{kind.dynamic_type}"
            f"::{resource_name}")


class WabaCallbackOverride(WabaCallbackOverrideOutputs,
                           _NativeResource[WabaCallbackOverrideArgs]):
    """`WabaCallbackOverrideOutputs` as a ``whatsapp`` plugin resource; its inputs are
    `WabaCallbackOverrideArgs`, as an ``Args`` or keywords."""

    _kind = WABA


class PhoneCallbackOverride(PhoneCallbackOverrideOutputs,
                            _NativeResource[PhoneCallbackOverrideArgs]):
    """`PhoneCallbackOverrideOutputs` as a ``whatsapp`` plugin resource; its inputs are
    `PhoneCallbackOverrideArgs`, as an ``Args`` or keywords."""

    _kind = PHONE


class WabaRouting(WabaRoutingOutputs, _NativeResource[WabaRoutingArgs]):
    """`WabaRoutingOutputs` as a ``whatsapp`` plugin resource; its inputs are
    `WabaRoutingArgs`, as an ``Args`` or keywords."""

    _kind = WABA_ROUTING


class AppWebhookSubscription(AppWebhookSubscriptionOutputs,
                             _NativeResource[AppWebhookSubscriptionArgs]):
    """`AppWebhookSubscriptionOutputs` as a ``whatsapp`` plugin resource; its inputs are
    `AppWebhookSubscriptionArgs`, as an ``Args`` or keywords."""

    _kind = APP_SUBSCRIPTION


# ---- functions ----------------------------------------------------------------------------------


def get_effective_routing(waba_id: str,
                          opts: pulumi.InvokeOptions | None = None) -> EffectiveRouting:
    """`EffectiveRouting` of the WABA `waba_id`, read live now (``opts.provider``: which app's).
    A Python program also has a `WabaRouting`'s ``effective``, computed from its outputs
    without a Graph call."""
    function = GET_EFFECTIVE_ROUTING
    result = pulumi.runtime.invoke(function.token, function.to_wire({"waba_id": waba_id}), opts)
    return EffectiveRouting(**function.from_wire(result.value))


def get_effective_routing_output(
        waba_id: pulumi.Input[str],
        opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[EffectiveRouting]:
    """`get_effective_routing` once `waba_id` is known: given a `WabaRouting`'s ``waba_id``, an
    ``up`` reads after that resource is applied."""
    function = GET_EFFECTIVE_ROUTING
    args = function.to_wire({"waba_id": waba_id})
    return pulumi.runtime.invoke_output(function.token, args, opts).apply(
        lambda value: EffectiveRouting(**function.from_wire(value)))
