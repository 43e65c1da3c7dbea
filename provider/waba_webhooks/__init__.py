"""waba-webhooks: WhatsApp Cloud API webhook overrides as Pulumi resources.

``WabaCallbackOverride`` sets our app's alternate callback URL on a WhatsApp Business Account;
``PhoneCallbackOverride`` sets it on one business phone number. Meta delivers a number's
messages webhooks to the phone override, else the WABA override, else the app's callback URL.
``WabaRouting`` owns both kinds on one WABA as one resource: the form for many numbers.
``AppWebhookSubscription`` is the third rule: the app's own callback URL and the webhook fields
Meta delivers at all (``/{app-id}/subscriptions``).

Settings come from stack config (``whatsapp:accessToken`` as a secret, ``whatsapp:appId``,
``whatsapp:apiVersion``, ``whatsapp:graphUrl``) or ``WHATSAPP_*`` environment variables; see
`waba_webhooks.config`.

The package: ``resources/`` (one resource per file, with its provider), ``graph/`` (the Graph API
client and Meta's usage header), ``commands/`` (the ``waba-webhooks`` command), ``emulator/``
(the local Graph API), and ``config``, ``errors``, ``validation`` that all of them share.
"""

from . import _compat
from ._version import __version__
from .errors import (
    AppSubscriptionConflictError,
    AppSubscriptionRefusedError,
    AppTokenRequiredError,
    BudgetExhaustedError,
    CallbackVerificationError,
    ConfigurationError,
    GraphConnectionError,
    GraphError,
    ImportNotSupportedError,
    InvalidParameterError,
    InvalidTokenError,
    NotFoundError,
    OverrideConflictError,
    PermissionDeniedError,
    RateLimitError,
    RetryableError,
    RoutingError,
    TransientError,
    WabaWebhooksError,
)
from .resources.app_subscription import AppWebhookSubscription, AppWebhookSubscriptionArgs
from .resources.phone import PhoneCallbackOverride, PhoneCallbackOverrideArgs
from .resources.waba import WabaCallbackOverride, WabaCallbackOverrideArgs
from .resources.waba_routing import WabaRouting, WabaRoutingArgs

_compat.install()

__all__ = [
    "AppSubscriptionConflictError",
    "AppSubscriptionRefusedError",
    "AppTokenRequiredError",
    "AppWebhookSubscription",
    "AppWebhookSubscriptionArgs",
    "BudgetExhaustedError",
    "CallbackVerificationError",
    "ConfigurationError",
    "GraphConnectionError",
    "GraphError",
    "ImportNotSupportedError",
    "InvalidParameterError",
    "InvalidTokenError",
    "NotFoundError",
    "OverrideConflictError",
    "PermissionDeniedError",
    "PhoneCallbackOverride",
    "PhoneCallbackOverrideArgs",
    "RateLimitError",
    "RetryableError",
    "RoutingError",
    "TransientError",
    "WabaCallbackOverride",
    "WabaCallbackOverrideArgs",
    "WabaRouting",
    "WabaRoutingArgs",
    "WabaWebhooksError",
    "__version__",
]
