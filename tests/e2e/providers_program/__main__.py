"""An e2e program with explicit providers: two Meta apps' routing in one program.

``e2e:providers``: JSON list of provider names; each is a `waba_webhooks.native.Provider` of
its own app, with the access token of secret config ``e2e:<name>Token`` and the Graph URL of
``e2e:graphUrl`` (an explicit provider reads no ``whatsapp:*`` config). ``e2e:overrides``: JSON
list of {"name", "kind" ("waba" or "phone"), "id", "callbackUri", and optionally "provider" (a
name of ``e2e:providers``; without it the resource uses the default provider, which the
``whatsapp:*`` stack config configures)}. ``e2e:verifyToken`` (secret) is every override's
verify token.
"""

import pulumi

from waba_webhooks import native as whatsapp

config = pulumi.Config("e2e")
verify_token = config.require_secret("verifyToken")

providers = {
    name: whatsapp.Provider(
        name,
        access_token=config.require_secret(f"{name}Token"),
        graph_url=config.require("graphUrl"),
        allow_http_loopback=True,
    )
    for name in config.get_object("providers") or []
}

for spec in config.get_object("overrides") or []:
    opts = pulumi.ResourceOptions(provider=providers[spec["provider"]]) \
        if spec.get("provider") else None
    if spec["kind"] == "waba":
        whatsapp.WabaCallbackOverride(spec["name"], waba_id=spec["id"],
                                      callback_uri=spec["callbackUri"],
                                      verify_token=verify_token, opts=opts)
    else:
        phone = whatsapp.PhoneCallbackOverride(spec["name"], phone_number_id=spec["id"],
                                               callback_uri=spec["callbackUri"],
                                               verify_token=verify_token, opts=opts)
        pulumi.export(f"{spec['name']}.effective", phone.effective_callback_uri)
