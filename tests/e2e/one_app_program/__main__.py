"""One Meta app's routing (an override on a WABA, one on a phone number, and the app's webhook
subscription), through either door, with the default provider or an explicit one: the program
of the token-rotation and environment-fallback tests.

``app:door``: ``dynamic`` (default) or ``native``. ``app:explicit``: true gives the native
resources a `waba_webhooks.native.Provider` whose settings are the config ``app:accessToken``,
``app:appSecret`` (secrets), ``app:graphUrl`` and ``app:allowHttpLoopback``, each left out when
unset (then the provider falls back to its ``WHATSAPP_*`` variable; an explicit provider reads
no ``whatsapp:*`` config); otherwise the default provider reads ``whatsapp:*``.
``app:wabaUrl``, ``app:phoneUrl``, ``app:appUrl``: the three callback URLs; ``app:verifyToken``
(secret) their verify token.
"""

import pulumi

import waba_webhooks
from waba_webhooks import native

WABA = "102290129340398"
PHONE = "106540352242922"

config = pulumi.Config("app")
door = native if config.get("door") == "native" else waba_webhooks
verify_token = config.require_secret("verifyToken")
opts = None
if config.get_bool("explicit"):
    provider = native.Provider("app", access_token=config.get_secret("accessToken"),
                               app_secret=config.get_secret("appSecret"),
                               graph_url=config.get("graphUrl"),
                               allow_http_loopback=config.get_bool("allowHttpLoopback"))
    opts = pulumi.ResourceOptions(provider=provider)

door.WabaCallbackOverride("waba", waba_id=WABA, callback_uri=config.require("wabaUrl"),
                          verify_token=verify_token, opts=opts)
phone = door.PhoneCallbackOverride("phone", phone_number_id=PHONE,
                                   callback_uri=config.require("phoneUrl"),
                                   verify_token=verify_token, opts=opts)
door.AppWebhookSubscription("app-subscription", callback_url=config.require("appUrl"),
                            verify_token=verify_token, fields=["messages"],
                            adopt_existing=True, remove_on_destroy=True, opts=opts)
pulumi.export("phoneEffective", phone.effective_callback_uri)
