"""Benchmark program: one dynamic `PhoneCallbackOverride` per number
(`benchmarks.programs.per_number`)."""

from benchmarks.programs import per_number

from waba_webhooks import PhoneCallbackOverride

for name, inputs in per_number():
    PhoneCallbackOverride(name, **inputs)
