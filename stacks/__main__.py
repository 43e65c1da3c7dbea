"""The routing table of one environment, from stack config, as resources.

Stack config (see Pulumi.dev.yaml):
- ``waba-webhooks:routing``: the table (plain, reviewable): see `waba_webhooks.tables.routing`.
  Its ``app`` block declares the app's webhook subscription (callback URL and fields).
- ``waba-webhooks:verifyTokens``: a secret map, name -> verify token, that the table points into.
- ``waba-webhooks:resources``: how the table is declared: ``per-waba`` (default: one
  `WabaRouting` per WABA), ``per-override`` (one resource per override, the earlier form) or
  ``per-override-retained`` (the step that moves a per-override stack to ``per-waba``; see the
  docs/routing-tables.md).
- ``waba-webhooks:door``: which resources declare it: ``dynamic`` (default: the dynamic
  resources) or ``native`` (the ``whatsapp`` plugin's, `waba_webhooks.native`; the engine must
  find ``pulumi-resource-whatsapp``, see docs/installation.md). Switching a stack from
  ``dynamic`` to ``native`` moves every resource with no Graph call.
- ``waba-webhooks:shard``: ``"I/K"`` to declare only the WABAs of shard I of K (a stack of a
  set that splits the table, see `waba_webhooks.tables.shard`); absent: every WABA.
- ``waba-webhooks:reshardTo``: K' while the set moves to K' shards (set and cleared by
  ``waba-webhooks shards reshard``): the WABAs that will leave this stack are declared with
  ``retainOnDelete``.
- ``whatsapp:*``: provider settings (``whatsapp:accessToken`` as a secret, ``graphUrl``...;
  ``whatsapp:appSecret``, a secret, for the app's subscription).

Exports ``routing``: phone number id -> where its messages webhooks go, and which rule sends
them there; ``wabaOverrides`` and ``phoneOverrides``: the overrides as set; ``app``: the app's
subscription as set (callback URL, active, fields), when the table has an ``app`` block.
"""

import pulumi

from waba_webhooks.tables import routing, shard

config = pulumi.Config()
shard_value = config.get("shard")
reshard_to = config.get("reshardTo")
this_shard = shard.parse(shard_value) if shard_value is not None else None
applied = routing.apply(config.require_object("routing"),
                        config.require_secret_object("verifyTokens"),
                        form=config.get("resources") or routing.PER_WABA,
                        door=config.get("door") or routing.DYNAMIC,
                        # What is not per WABA (the app's own subscription) belongs to exactly
                        # one stack of a set: shard 1.
                        declare_app=this_shard is None or this_shard.owns_app_wide,
                        shard=this_shard,
                        reshard_to=shard.parse_count(reshard_to, "waba-webhooks:reshardTo")
                        if reshard_to is not None else None)

pulumi.export("routing", applied.effective)
pulumi.export("wabaOverrides", applied.waba_overrides)
pulumi.export("phoneOverrides", applied.phone_overrides)
if applied.app is not None:
    pulumi.export("app", {"callbackUrl": applied.app.callback_url, "active": applied.app.active,
                          "fields": applied.app.live_fields})
