"""The routing table of one environment, from stack config, as resources.

Stack config (see Pulumi.dev.yaml):
- ``waba-webhooks:routing``: the table (plain, reviewable): see `waba_webhooks.resources.routing`.
  Its ``app`` block declares the app's webhook subscription (callback URL and fields).
- ``waba-webhooks:verifyTokens``: a secret map, name -> verify token, that the table points into.
- ``waba-webhooks:resources``: how the table is declared: ``per-waba`` (default: one
  `WabaRouting` per WABA), ``per-override`` (one resource per override, the earlier form) or
  ``per-override-retained`` (the step that moves a per-override stack to ``per-waba``; see the
  README).
- ``whatsapp:*``: provider settings (``whatsapp:accessToken`` as a secret, ``graphUrl``...;
  ``whatsapp:appSecret``, a secret, for the app's subscription).

Exports ``routing``: phone number id -> where its messages webhooks go, and which rule sends
them there; ``wabaOverrides`` and ``phoneOverrides``: the overrides as set; ``app``: the app's
subscription as set (callback URL, active, fields), when the table has an ``app`` block.
"""

import pulumi

from waba_webhooks.resources import routing

config = pulumi.Config()
applied = routing.apply(config.require_object("routing"),
                        config.require_secret_object("verifyTokens"),
                        form=config.get("resources") or routing.PER_WABA)

pulumi.export("routing", applied.effective)
pulumi.export("wabaOverrides", applied.waba_overrides)
pulumi.export("phoneOverrides", applied.phone_overrides)
if applied.app is not None:
    pulumi.export("app", {"callbackUrl": applied.app.callback_url, "active": applied.app.active,
                          "fields": applied.app.live_fields})
