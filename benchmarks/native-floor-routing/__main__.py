"""Floor program of the native door, `WabaRouting` shape: ``benchmarks/native-routing``'s WABAs
as no-op resources of the ``benchfloor`` plugin (`benchmarks.noop_plugin`), no HTTP."""

from benchmarks.noop_native import NoopWabaRouting
from benchmarks.programs import per_waba

for name, inputs in per_waba():
    NoopWabaRouting(name, **inputs)
