"""The e2e tests' Pulumi program: resources declared by the `e2e:` stack config.

``e2e:wabas`` / ``e2e:phones``: JSON lists of {"name", "id", "callbackUri", and optionally
"adopt", "import", "verifyToken" (a literal, to test bad input)}; ``e2e:routings``: JSON list of
`WabaRouting`s, {"name", "id" (the WABA), and optionally "callbackUri", "phones" (phone number
id -> URI), "ownTokens" (phone number ids given the token in ``verify_tokens``), "unlisted",
"adopt", "import", "verifyToken"}; ``e2e:verifyToken`` (secret) is the verify token of every
resource that does not give its own. ``e2e:apps``: JSON list of `AppWebhookSubscription`s,
{"name", "callbackUrl", "fields", and optionally "includeValues", "adopt", "removeOnDestroy",
"verifyToken"}. ``e2e:door``: ``dynamic`` (default) declares the dynamic resources, ``native``
those of the ``whatsapp`` plugin (`waba_webhooks.native`), with the same arguments.
"""

import pulumi

import waba_webhooks
from waba_webhooks import native

config = pulumi.Config("e2e")
secret_token = config.require_secret("verifyToken")
door = native if config.get("door") == "native" else waba_webhooks
AppWebhookSubscription = door.AppWebhookSubscription
PhoneCallbackOverride = door.PhoneCallbackOverride
WabaCallbackOverride = door.WabaCallbackOverride
WabaRouting = door.WabaRouting


def options(spec: dict) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(import_=spec.get("import"))


for spec in config.get_object("wabas") or []:
    WabaCallbackOverride(
        spec["name"],
        waba_id=spec["id"],
        callback_uri=spec["callbackUri"],
        verify_token=spec.get("verifyToken", secret_token),
        adopt_existing=spec.get("adopt"),
        opts=options(spec),
    )

for spec in config.get_object("phones") or []:
    PhoneCallbackOverride(
        spec["name"],
        phone_number_id=spec["id"],
        callback_uri=spec["callbackUri"],
        verify_token=spec.get("verifyToken", secret_token),
        adopt_existing=spec.get("adopt"),
        opts=options(spec),
    )

for spec in config.get_object("routings") or []:
    routing = WabaRouting(
        spec["name"],
        waba_id=spec["id"],
        callback_uri=spec.get("callbackUri"),
        phone_numbers=spec.get("phones"),
        verify_token=spec.get("verifyToken", secret_token),
        verify_tokens={n: secret_token for n in spec.get("ownTokens", [])} or None,
        unlisted=spec.get("unlisted"),
        adopt_existing=spec.get("adopt"),
        opts=options(spec),
    )
    pulumi.export(f"{spec['name']}.effective", routing.effective)
    pulumi.export(f"{spec['name']}.unlisted", routing.unlisted_overrides)

for spec in config.get_object("apps") or []:
    subscription = AppWebhookSubscription(
        spec["name"],
        callback_url=spec["callbackUrl"],
        verify_token=spec.get("verifyToken", secret_token),
        fields=spec.get("fields"),
        include_values=spec.get("includeValues"),
        adopt_existing=spec.get("adopt"),
        remove_on_destroy=spec.get("removeOnDestroy"),
        opts=options(spec),
    )
    pulumi.export(f"{spec['name']}.liveFields", subscription.live_fields)
