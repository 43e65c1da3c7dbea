"""Benchmark program: ``benchmarks/program``'s numbers as one native `PhoneCallbackOverride` per
number (`waba_webhooks.native`, served by the ``pulumi-resource-whatsapp`` plugin)."""

from benchmarks.programs import per_number

from waba_webhooks import native as whatsapp

for name, inputs in per_number():
    whatsapp.PhoneCallbackOverride(name, **inputs)
