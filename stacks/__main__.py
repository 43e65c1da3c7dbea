"""The routing table of one environment, from stack config, as override resources.

Stack config (see Pulumi.dev.yaml):
- ``waba-webhooks:routing``: the table (plain, reviewable): see `waba_webhooks.routing`.
- ``waba-webhooks:verifyTokens``: a secret map, name -> verify token, that the table points into.
- ``whatsapp:*``: provider settings (``whatsapp:accessToken`` as a secret, ``graphUrl``...).

Exports ``routing``: phone number id -> where its messages webhooks go, and which rule sends
them there.
"""

import pulumi

from waba_webhooks import routing

config = pulumi.Config()
applied = routing.apply(config.require_object("routing"),
                        config.require_secret_object("verifyTokens"))

pulumi.export("routing", applied.effective)
pulumi.export("wabaOverrides", {waba_id: r.callback_uri for waba_id, r in applied.wabas.items()})
pulumi.export("phoneOverrides", {
    phone_id: r.callback_uri for phone_id, r in applied.phones.items()})
