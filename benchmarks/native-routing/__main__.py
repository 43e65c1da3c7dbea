"""Benchmark program: ``benchmarks/routing``'s WABAs as one native `WabaRouting` per WABA
(`waba_webhooks.native`, served by the ``pulumi-resource-whatsapp`` plugin)."""

from benchmarks.programs import per_waba

from waba_webhooks import native as whatsapp

for name, inputs in per_waba():
    whatsapp.WabaRouting(name, **inputs)
