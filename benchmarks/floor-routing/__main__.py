"""Floor program of the `WabaRouting` shape: ``benchmarks/routing``'s WABAs
(`benchmarks.programs.per_waba`) as no-op dynamic resources (`benchmarks.noop`), no HTTP."""

from benchmarks.noop import NoopWabaRouting
from benchmarks.programs import per_waba

for name, inputs in per_waba():
    NoopWabaRouting(name, **inputs)
