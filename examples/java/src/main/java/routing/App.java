// One WABA's routing, one number's override and the app's webhook subscription, through the
// native `whatsapp` plugin and its generated Java SDK (examples/README.md lists the stack config).
package routing;

import com.pulumi.Context;
import com.pulumi.Pulumi;
import com.wabawebhooks.whatsapp.AppWebhookSubscription;
import com.wabawebhooks.whatsapp.AppWebhookSubscriptionArgs;
import com.wabawebhooks.whatsapp.PhoneCallbackOverride;
import com.wabawebhooks.whatsapp.PhoneCallbackOverrideArgs;
import com.wabawebhooks.whatsapp.WabaRouting;
import com.wabawebhooks.whatsapp.WabaRoutingArgs;
import com.wabawebhooks.whatsapp.WhatsappFunctions;
import com.wabawebhooks.whatsapp.inputs.GetEffectiveRoutingArgs;
import com.wabawebhooks.whatsapp.outputs.GetEffectiveRoutingResult;
import java.util.Map;

public class App {
    public static void main(String[] args) {
        Pulumi.run(App::routing);
    }

    static void routing(Context ctx) {
        var config = ctx.config();
        var verifyToken = config.requireSecret("verifyToken");

        var support = new WabaRouting("support", WabaRoutingArgs.builder()
            .wabaId("102290129340398")
            .callbackUri(config.require("supportUrl"))
            .phoneNumbers(Map.of("106540352242922", config.require("vipUrl")))
            .verifyToken(verifyToken)
            .build());

        var sales = new PhoneCallbackOverride("sales", PhoneCallbackOverrideArgs.builder()
            .phoneNumberId("106540352242924")
            .callbackUri(config.require("salesUrl"))
            .verifyToken(verifyToken)
            .build());

        var app = new AppWebhookSubscription("app", AppWebhookSubscriptionArgs.builder()
            .callbackUrl(config.require("appUrl"))
            .verifyToken(verifyToken)
            .fields("messages", "account_update")
            .adoptExisting(true)
            .build());

        // Where each number of the WABA sends its messages webhooks, read live once support is
        // applied (Graph reads at every preview and up): phone number id -> {callbackUri, rule}.
        var routing = WhatsappFunctions.getEffectiveRouting(GetEffectiveRoutingArgs.builder()
            .wabaId(support.wabaId())
            .build());
        ctx.export("effective", routing.applyValue(GetEffectiveRoutingResult::effective));
        ctx.export("salesEffective", sales.effectiveCallbackUri());
        ctx.export("appFields", app.liveFields());
    }
}
