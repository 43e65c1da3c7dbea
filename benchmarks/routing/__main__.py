"""Benchmark program: the numbers of ``benchmarks/program`` as one dynamic `WabaRouting` per WABA
(`benchmarks.programs.per_waba`; with ``waba-webhooks:shard: "I/K"``, shard I of K's WABAs)."""

from benchmarks.programs import per_waba

from waba_webhooks import WabaRouting

for name, inputs in per_waba():
    WabaRouting(name, **inputs)
