"""One WABA's routing, one number's override and the app's webhook subscription, through the
native `whatsapp` plugin (examples/README.md lists the stack config it reads)."""

import pulumi

from waba_webhooks import native as whatsapp

config = pulumi.Config()
verify_token = config.require_secret("verifyToken")

support = whatsapp.WabaRouting(
    "support",
    whatsapp.WabaRoutingArgs(
        waba_id="102290129340398",
        callback_uri=config.require("supportUrl"),
        phone_numbers={"106540352242922": config.require("vipUrl")},
        verify_token=verify_token,
    ),
)

sales = whatsapp.PhoneCallbackOverride(
    "sales",
    phone_number_id="106540352242924",
    callback_uri=config.require("salesUrl"),
    verify_token=verify_token,
)

app = whatsapp.AppWebhookSubscription(
    "app",
    callback_url=config.require("appUrl"),
    verify_token=verify_token,
    fields=["messages", "account_update"],
    adopt_existing=True,
)

# Where each number of the WABA sends its messages webhooks, read live once `support` is applied
# (Graph reads at every preview and up): phone number id -> {callbackUri, rule}. (With
# `waba_webhooks.native`, `support.effective` computes the same map from the outputs, without
# a Graph read.)
pulumi.export("effective",
              whatsapp.get_effective_routing_output(waba_id=support.waba_id).effective)
pulumi.export("salesEffective", sales.effective_callback_uri)
pulumi.export("appFields", app.live_fields)
