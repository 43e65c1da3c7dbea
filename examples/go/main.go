// One WABA's routing, one number's override and the app's webhook subscription, through the
// native `whatsapp` plugin and its generated Go SDK (examples/README.md lists the stack config).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/waba-webhooks/waba-webhooks/sdk/go/whatsapp"
)

func main() {
	pulumi.Run(routing)
}

// routing declares the resources; main_test.go runs it with mocks.
func routing(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	verifyToken := cfg.RequireSecret("verifyToken")

	support, err := whatsapp.NewWabaRouting(ctx, "support", &whatsapp.WabaRoutingArgs{
		WabaId:       pulumi.String("102290129340398"),
		CallbackUri:  pulumi.String(cfg.Require("supportUrl")),
		PhoneNumbers: pulumi.StringMap{"106540352242922": pulumi.String(cfg.Require("vipUrl"))},
		VerifyToken:  verifyToken,
	})
	if err != nil {
		return err
	}

	sales, err := whatsapp.NewPhoneCallbackOverride(ctx, "sales", &whatsapp.PhoneCallbackOverrideArgs{
		PhoneNumberId: pulumi.String("106540352242924"),
		CallbackUri:   pulumi.String(cfg.Require("salesUrl")),
		VerifyToken:   verifyToken,
	})
	if err != nil {
		return err
	}

	app, err := whatsapp.NewAppWebhookSubscription(ctx, "app", &whatsapp.AppWebhookSubscriptionArgs{
		CallbackUrl:   pulumi.String(cfg.Require("appUrl")),
		VerifyToken:   verifyToken,
		Fields:        pulumi.StringArray{pulumi.String("messages"), pulumi.String("account_update")},
		AdoptExisting: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}

	// Where each number of the WABA sends its messages webhooks, read live once support is
	// applied (Graph reads at every preview and up): phone number id -> {callbackUri, rule}.
	routing := whatsapp.GetEffectiveRoutingOutput(ctx, whatsapp.GetEffectiveRoutingOutputArgs{
		WabaId: support.WabaId,
	})
	ctx.Export("effective", routing.Effective())
	ctx.Export("salesEffective", sales.EffectiveCallbackUri)
	ctx.Export("appFields", app.LiveFields)
	return nil
}
