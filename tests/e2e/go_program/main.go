// The Go program of tests/e2e/test_go.py: a WabaRouting, a PhoneCallbackOverride and the app's
// subscription on the default provider; with the config key importId, a PhoneCallbackOverride
// adopted with the import option; and a second app's explicit provider with its own override.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/waba-webhooks/waba-webhooks/sdk/go/whatsapp"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		verifyToken := cfg.RequireSecret("verifyToken")
		if _, err := whatsapp.NewWabaRouting(ctx, "support", &whatsapp.WabaRoutingArgs{
			WabaId:       pulumi.String("102290129340398"),
			CallbackUri:  pulumi.String(cfg.Require("supportUrl")),
			PhoneNumbers: pulumi.StringMap{"106540352242922": pulumi.String(cfg.Require("vipUrl"))},
			VerifyToken:  verifyToken,
		}); err != nil {
			return err
		}
		if _, err := whatsapp.NewPhoneCallbackOverride(ctx, "sales", &whatsapp.PhoneCallbackOverrideArgs{
			PhoneNumberId: pulumi.String("106540352242924"),
			CallbackUri:   pulumi.String(cfg.Require("salesUrl")),
			VerifyToken:   verifyToken,
		}); err != nil {
			return err
		}
		if _, err := whatsapp.NewAppWebhookSubscription(ctx, "app", &whatsapp.AppWebhookSubscriptionArgs{
			CallbackUrl:   pulumi.String(cfg.Require("appUrl")),
			VerifyToken:   verifyToken,
			Fields:        pulumi.StringArray{pulumi.String("messages"), pulumi.String("account_update")},
			AdoptExisting: pulumi.Bool(true),
		}); err != nil {
			return err
		}
		if id := cfg.Get("importId"); id != "" {
			if _, err := whatsapp.NewPhoneCallbackOverride(ctx, "adopted", &whatsapp.PhoneCallbackOverrideArgs{
				PhoneNumberId: pulumi.String(id),
				CallbackUri:   pulumi.String(cfg.Require("adoptedUrl")),
				VerifyToken:   verifyToken,
			}, pulumi.Import(pulumi.ID(id))); err != nil {
				return err
			}
		}
		other, err := whatsapp.NewProvider(ctx, "other", &whatsapp.ProviderArgs{
			AccessToken:       cfg.RequireSecret("otherToken"),
			GraphUrl:          pulumi.String(cfg.Require("graphUrl")),
			AllowHttpLoopback: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		_, err = whatsapp.NewWabaCallbackOverride(ctx, "other-app", &whatsapp.WabaCallbackOverrideArgs{
			WabaId:      pulumi.String("102290129340398"),
			CallbackUri: pulumi.String(cfg.Require("otherUrl")),
			VerifyToken: verifyToken,
		}, pulumi.Provider(other))
		return err
	})
}
