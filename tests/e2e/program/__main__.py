"""The e2e tests' Pulumi program: overrides declared by the `e2e:` stack config.

``e2e:wabas`` / ``e2e:phones``: JSON lists of {"name", "id", "callbackUri", and optionally
"adopt", "import", "verifyToken" (a literal, to test bad input)}; ``e2e:verifyToken`` (secret)
is the verify token of every other resource.
"""

import pulumi

from waba_webhooks import PhoneCallbackOverride, WabaCallbackOverride

config = pulumi.Config("e2e")
secret_token = config.require_secret("verifyToken")


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
