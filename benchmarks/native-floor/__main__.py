"""Floor program of the native door: ``benchmarks/native-ours``'s numbers as no-op resources of
the ``benchfloor`` plugin (`benchmarks.noop_plugin`), no HTTP."""

from benchmarks.noop_native import NoopPhoneOverride
from benchmarks.programs import per_number

for name, inputs in per_number():
    NoopPhoneOverride(name, **inputs)
