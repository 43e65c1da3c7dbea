// The Java program of tests/e2e/test_java.py: a WabaRouting, a PhoneCallbackOverride and the
// app's subscription on the default provider, and a second app's explicit provider with its own
// override on the same WABA.
package routing;

import com.pulumi.Context;
import com.pulumi.Pulumi;
import com.pulumi.resources.CustomResourceOptions;
import com.wabawebhooks.whatsapp.AppWebhookSubscription;
import com.wabawebhooks.whatsapp.AppWebhookSubscriptionArgs;
import com.wabawebhooks.whatsapp.PhoneCallbackOverride;
import com.wabawebhooks.whatsapp.PhoneCallbackOverrideArgs;
import com.wabawebhooks.whatsapp.Provider;
import com.wabawebhooks.whatsapp.ProviderArgs;
import com.wabawebhooks.whatsapp.WabaCallbackOverride;
import com.wabawebhooks.whatsapp.WabaCallbackOverrideArgs;
import com.wabawebhooks.whatsapp.WabaRouting;
import com.wabawebhooks.whatsapp.WabaRoutingArgs;
import java.util.Map;

public class App {
    public static void main(String[] args) {
        Pulumi.run(App::routing);
    }

    static void routing(Context ctx) {
        var config = ctx.config();
        var verifyToken = config.requireSecret("verifyToken");
        new WabaRouting("support", WabaRoutingArgs.builder()
            .wabaId("102290129340398")
            .callbackUri(config.require("supportUrl"))
            .phoneNumbers(Map.of("106540352242922", config.require("vipUrl")))
            .verifyToken(verifyToken)
            .build());
        new PhoneCallbackOverride("sales", PhoneCallbackOverrideArgs.builder()
            .phoneNumberId("106540352242924")
            .callbackUri(config.require("salesUrl"))
            .verifyToken(verifyToken)
            .build());
        new AppWebhookSubscription("app", AppWebhookSubscriptionArgs.builder()
            .callbackUrl(config.require("appUrl"))
            .verifyToken(verifyToken)
            .fields("messages", "account_update")
            .adoptExisting(true)
            .build());

        var other = new Provider("other", ProviderArgs.builder()
            .accessToken(config.requireSecret("otherToken"))
            .graphUrl(config.require("graphUrl"))
            .allowHttpLoopback(true)
            .build());
        new WabaCallbackOverride("other-app", WabaCallbackOverrideArgs.builder()
            .wabaId("102290129340398")
            .callbackUri(config.require("otherUrl"))
            .verifyToken(verifyToken)
            .build(), CustomResourceOptions.builder().provider(other).build());
    }
}
