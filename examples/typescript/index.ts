// One WABA's routing, one number's override and the app's webhook subscription, through the
// native `whatsapp` plugin and its generated SDK (examples/README.md lists the stack config).
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const config = new pulumi.Config();
const verifyToken = config.requireSecret("verifyToken");

const support = new whatsapp.WabaRouting("support", {
    wabaId: "102290129340398",
    callbackUri: config.require("supportUrl"),
    phoneNumbers: { "106540352242922": config.require("vipUrl") },
    verifyToken,
});

const sales = new whatsapp.PhoneCallbackOverride("sales", {
    phoneNumberId: "106540352242924",
    callbackUri: config.require("salesUrl"),
    verifyToken,
});

const app = new whatsapp.AppWebhookSubscription("app", {
    callbackUrl: config.require("appUrl"),
    verifyToken,
    fields: ["messages", "account_update"],
    adoptExisting: true,
});

// Where each number of the WABA sends its messages webhooks, read live once `support` is applied
// (Graph reads at every preview and up): phone number id -> {callbackUri, rule}.
export const effective = whatsapp.getEffectiveRoutingOutput({ wabaId: support.wabaId }).effective;
export const salesEffective = sales.effectiveCallbackUri;
export const appFields = app.liveFields;
