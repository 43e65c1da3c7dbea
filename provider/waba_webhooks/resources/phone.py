"""`PhoneCallbackOverride`: our app's alternate callback URL on one business phone number.

It wins over the WABA's alternate callback and the app's callback URL. Graph API:
``POST /{PHONE_NUMBER_ID}`` with ``{"webhook_configuration": {"override_callback_uri",
"verify_token"}}`` sets it; ``override_callback_uri: ""`` removes it;
``GET /{PHONE_NUMBER_ID}?fields=webhook_configuration`` reads it with the fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ..graph import WebhookConfiguration

PHONE_NUMBER_ID = "phone_number_id"


class PhoneCallbackOverrideRules(OverrideRules):
    """Create/read/update/delete of a phone number override callback URI for the token's app."""

    id_property = PHONE_NUMBER_ID
    noun = "phone number"

    def create(self, props: dict[str, Any]) -> CreateResult:
        phone_id = props[PHONE_NUMBER_ID]
        live = self.client.webhook_configuration(phone_id)
        if self.ensure_no_takeover(phone_id, live.phone_number, props):
            self.client.set_phone_override(phone_id, props[CALLBACK_URI], props[VERIFY_TOKEN])
        return CreateResult(phone_id, self._outputs(phone_id, props[CALLBACK_URI], live, props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = self.client.webhook_configuration(id_)
        if live.phone_number is None:
            # Gone (or never ours): an empty id drops it from state; the next `up` recreates it.
            return ReadResult("", {})
        return self.found(id_, self._outputs(id_, live.phone_number, live, props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if self.write_needed(olds, news):
            token = require_token(news.get(VERIFY_TOKEN), f"phone number {id_}")
            self.client.set_phone_override(id_, news[CALLBACK_URI], token)
        live = self.client.webhook_configuration(id_)
        return UpdateResult(self._outputs(id_, news[CALLBACK_URI], live, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        live = self.client.webhook_configuration(id_)
        if self.delete_allowed(id_, live.phone_number, props):
            self.client.clear_phone_override(id_)

    def _outputs(self, phone_id: str, callback_uri: str, live: WebhookConfiguration,
                 props: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.base_outputs(phone_id, callback_uri, props),
            "waba_callback_uri": live.whatsapp_business_account,
            "app_callback_uri": live.application,
            # Our override is set, so it is where messages for this number go.
            "effective_callback_uri": callback_uri,
        }


@dataclass
class PhoneCallbackOverrideArgs:
    """Inputs of a `PhoneCallbackOverride`."""

    #: The business phone number id (not the phone number itself), as a string of digits.
    phone_number_id: pulumi.Input[str]
    #: Where Meta sends messages webhooks for this number: ``https://``, at most 200 characters.
    #: Meta calls it with the verify token before accepting it.
    callback_uri: pulumi.Input[str]
    #: The token Meta sends in the verification call; kept as a secret in state.
    verify_token: pulumi.Input[str]
    #: Take over an override that is already set to another URL (default: fail instead).
    adopt_existing: pulumi.Input[bool] | None = None


class PhoneCallbackOverrideOutputs:
    """Our app's alternate callback URL on a business phone number (`webhook_configuration`).

    The resource id is the phone number id; changing it moves the override (replace), changing
    the URL or verify token updates it in place. Outputs also report the fallbacks Meta would use
    without it (`waba_callback_uri`, `app_callback_uri`) and `effective_callback_uri`. Adopt an
    override that is already set by declaring its current URL (create then writes nothing), or
    take it over with `adopt_existing`. Our app must be subscribed to the number's WABA: declare
    a `WabaCallbackOverride` or `WabaRouting` for that WABA (it subscribes the app) or subscribe
    the app yourself.
    """

    phone_number_id: pulumi.Output[str]
    callback_uri: pulumi.Output[str]
    verify_token: pulumi.Output[str]
    adopt_existing: pulumi.Output[bool]
    #: Our app's override on the number's WABA, if any, when last read.
    waba_callback_uri: pulumi.Output[str | None]
    #: Our app's callback URL from the App Dashboard, when last read.
    app_callback_uri: pulumi.Output[str | None]
    #: Where messages webhooks for this number go (phone > WABA > app): this override's URI.
    effective_callback_uri: pulumi.Output[str]


class PhoneCallbackOverride(PhoneCallbackOverrideOutputs, pulumi.dynamic.Resource,
                            module="waba-webhooks", name="PhoneCallbackOverride"):
    """`PhoneCallbackOverrideOutputs` as a Pulumi dynamic resource, for Python programs.

    (``import_`` cannot work for dynamic resources, pulumi/pulumi#16175: adopt an override by
    declaring its current URL, or use the native ``whatsapp`` provider,
    `waba_webhooks.native.PhoneCallbackOverride`.)
    """

    def __init__(
        self,
        resource_name: str,
        args: PhoneCallbackOverrideArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        phone_number_id: pulumi.Input[str] | None = None,
        callback_uri: pulumi.Input[str] | None = None,
        verify_token: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
    ) -> None:
        props, opts = build_props(
            args,
            opts,
            {PHONE_NUMBER_ID: phone_number_id, CALLBACK_URI: callback_uri,
             VERIFY_TOKEN: verify_token, ADOPT_EXISTING: adopt_existing},
            outputs=KIND.properties,
            secrets=KIND.secrets,
        )
        super().__init__(PhoneCallbackOverrideRules(), resource_name, props, opts)


KIND = Kind("PhoneCallbackOverride", PhoneCallbackOverrideArgs, PhoneCallbackOverrideOutputs,
            PhoneCallbackOverrideRules, id_is="the phone number id",
            secrets=(VERIFY_TOKEN,), replaces=(PhoneCallbackOverrideRules.id_property,),
            defaults={ADOPT_EXISTING: False})

#: The name states made before the rules were called rules pickle (by module and name).
PhoneCallbackOverrideProvider = PhoneCallbackOverrideRules
