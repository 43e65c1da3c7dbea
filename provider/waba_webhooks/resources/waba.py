"""`WabaCallbackOverride`: our app's alternate callback URL on a WhatsApp Business Account.

Meta sends a phone number's messages webhooks here when the number has no alternate callback of
its own. Graph API: ``POST /{WABA_ID}/subscribed_apps`` with ``override_callback_uri`` and
``verify_token`` sets it, for an app already subscribed to the WABA (a create on a WABA our app
never subscribed to subscribes it first, with the same POST and no body); the same POST with no
body removes it (the app stays subscribed); ``GET /{WABA_ID}/subscribed_apps`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from ..rules.base import (
    ADOPT_EXISTING,
    CALLBACK_URI,
    VERIFY_TOKEN,
    OverrideRules,
    require_token,
)
from ..rules.kind import Kind
from ..rules.props import build_props

WABA_ID = "waba_id"


class WabaCallbackOverrideRules(OverrideRules):
    """Create/read/update/delete of a WABA override callback URI for the token's app."""

    id_property = WABA_ID
    noun = "WABA"

    def create(self, props: dict[str, Any]) -> CreateResult:
        waba_id = props[WABA_ID]
        subscribed, current = self.client.waba_override(waba_id)
        if self.ensure_no_takeover(waba_id, current, props):
            self._set(waba_id, subscribed, props)
        return CreateResult(waba_id, self._outputs(waba_id, props[CALLBACK_URI], props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        _, current = self.client.waba_override(id_)
        if current is None:
            # Gone (or never ours): an empty id drops it from state; the next `up` recreates it.
            return ReadResult("", {})
        return self.found(id_, self._outputs(id_, current, props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if self.write_needed(olds, news):
            # Read first: someone may have unsubscribed the app (DELETE) since the last refresh.
            subscribed, _ = self.client.waba_override(id_)
            self._set(id_, subscribed, news)
        return UpdateResult(self._outputs(id_, news[CALLBACK_URI], news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _, current = self.client.waba_override(id_)
        if self.delete_allowed(id_, current, props):
            self.client.clear_waba_override(id_)

    def _set(self, waba_id: str, subscribed: bool, props: dict[str, Any]) -> None:
        """Set the override, subscribing the app first (a plain POST) if it is not subscribed
        yet: Meta refuses an override from an unsubscribed app. Never that POST on a
        subscribed WABA: there it clears our override."""
        token = require_token(props.get(VERIFY_TOKEN), f"WABA {waba_id}")
        if not subscribed:
            self.client.subscribe_app(waba_id)
            pulumi.log.info(
                f"WABA {waba_id}: app {self.client.app_id()} was not subscribed to the WABA's "
                "webhooks; subscribed it first (POST subscribed_apps with no body), as Meta "
                "requires before an override callback URI"
            )
        self.client.set_waba_override(waba_id, props[CALLBACK_URI], token)

    def _outputs(self, waba_id: str, callback_uri: str, props: dict[str, Any]) -> dict[str, Any]:
        return {**self.base_outputs(waba_id, callback_uri, props),
                "app_id": self.client.app_id()}


@dataclass
class WabaCallbackOverrideArgs:
    """Inputs of a `WabaCallbackOverride`."""

    #: The WhatsApp Business Account id, as a string of digits.
    waba_id: pulumi.Input[str]
    #: Where Meta sends messages webhooks for this WABA's numbers: ``https://``, at most 200
    #: characters. Meta calls it with the verify token before accepting it.
    callback_uri: pulumi.Input[str]
    #: The token Meta sends in the verification call; kept as a secret in state.
    verify_token: pulumi.Input[str]
    #: Take over an override that is already set to another URL (default: fail instead).
    adopt_existing: pulumi.Input[bool] | None = None


class WabaCallbackOverrideOutputs:
    """Our app's alternate callback URL on a WhatsApp Business Account (`override_callback_uri`).

    The resource id is the WABA id; changing it moves the override (replace), changing the URL
    or verify token updates it in place. On a WABA the app is not subscribed to yet (a new
    customer's), it subscribes the app first, as Meta requires. Deleting it removes the override
    but never unsubscribes the app from the WABA. Adopt an override that is already set by
    declaring its current URL (create then writes nothing), or take it over with
    `adopt_existing`.
    """

    waba_id: pulumi.Output[str]
    callback_uri: pulumi.Output[str]
    verify_token: pulumi.Output[str]
    adopt_existing: pulumi.Output[bool]
    #: The app the access token belongs to: the override is this app's.
    app_id: pulumi.Output[str]


class WabaCallbackOverride(WabaCallbackOverrideOutputs, pulumi.dynamic.Resource,
                           module="waba-webhooks", name="WabaCallbackOverride"):
    """`WabaCallbackOverrideOutputs` as a Pulumi dynamic resource, for Python programs.

    (``import_`` cannot work for dynamic resources, pulumi/pulumi#16175: adopt an override by
    declaring its current URL, or use the native ``whatsapp`` provider,
    `waba_webhooks.native.WabaCallbackOverride`.)
    """

    def __init__(
        self,
        resource_name: str,
        args: WabaCallbackOverrideArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        waba_id: pulumi.Input[str] | None = None,
        callback_uri: pulumi.Input[str] | None = None,
        verify_token: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
    ) -> None:
        props, opts = build_props(
            args,
            opts,
            {WABA_ID: waba_id, CALLBACK_URI: callback_uri, VERIFY_TOKEN: verify_token,
             ADOPT_EXISTING: adopt_existing},
            outputs=KIND.properties,
            secrets=KIND.secrets,
        )
        super().__init__(WabaCallbackOverrideRules(), resource_name, props, opts)


KIND = Kind("WabaCallbackOverride", WabaCallbackOverrideArgs, WabaCallbackOverrideOutputs,
            WabaCallbackOverrideRules, id_is="the WABA id",
            secrets=(VERIFY_TOKEN,), replaces=(WabaCallbackOverrideRules.id_property,),
            defaults={ADOPT_EXISTING: False})

#: The name states made before the rules were called rules pickle (by module and name).
WabaCallbackOverrideProvider = WabaCallbackOverrideRules
