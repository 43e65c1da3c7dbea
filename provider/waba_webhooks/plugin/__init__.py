"""The ``whatsapp`` provider plugin: the same resources as the dynamic ones, for every Pulumi
program (YAML, TypeScript, Python), `pulumi import` and explicit provider instances.

``schema`` builds ``schema.json`` from the resource kinds (`waba_webhooks.resources.KINDS`)
and the settings (`waba_webhooks.config`); ``adapter`` answers the engine by calling the same
rule classes the dynamic resources use; ``main`` is the ``pulumi-resource-whatsapp``
executable. The Python program side of this door is `waba_webhooks.native`.
"""
