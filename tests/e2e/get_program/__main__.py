"""The e2e program of `get`: each native resource kind read by its id from what is live
(`waba_webhooks.native.<Kind>.get`), its outputs exported; and the function
``getEffectiveRouting`` of the WABA, in its output and plain forms.

``get:wabaId`` (a `WabaCallbackOverride` and a `WabaRouting` of that WABA), ``get:phoneId`` (a
`PhoneCallbackOverride`), ``get:appId`` (the `AppWebhookSubscription`; the default provider's
``whatsapp:appSecret`` forms the app token); ``get:only``: one of those keys, to read only that
resource.
"""

import pulumi

from waba_webhooks import native

config = pulumi.Config("get")
only = config.get("only")


def wanted(key: str) -> str | None:
    return config.get(key) if only in (None, key) else None


if waba_id := wanted("wabaId"):
    waba = native.WabaCallbackOverride.get("waba", waba_id)
    pulumi.export("waba", {"callbackUri": waba.callback_uri, "appId": waba.app_id})
    routing = native.WabaRouting.get("routing", waba_id)
    pulumi.export("routing", {"effective": routing.effective,
                              "phoneNumbers": routing.phone_numbers})
    # The function, in both forms: read live, not from the resource's outputs.
    pulumi.export("function", {
        "output": native.get_effective_routing_output(routing.waba_id).apply(
            lambda found: found.effective),
        "plain": native.get_effective_routing(waba_id).effective})
if phone_id := wanted("phoneId"):
    phone = native.PhoneCallbackOverride.get("phone", phone_id)
    pulumi.export("phone", {"callbackUri": phone.callback_uri,
                            "effective": phone.effective_callback_uri})
if app_id := wanted("appId"):
    app = native.AppWebhookSubscription.get("app", app_id)
    pulumi.export("app", {"callbackUrl": app.callback_url, "fields": app.fields})
