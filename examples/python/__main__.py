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

pulumi.export("effective", support.effective)
pulumi.export("salesEffective", sales.effective_callback_uri)
pulumi.export("appFields", app.live_fields)
