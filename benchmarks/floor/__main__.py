"""Floor program: the per-number stack shape on the no-op `benchmarks.noop` resource: the same
inputs as ``benchmarks/program`` (`benchmarks.programs.per_number`), no HTTP at all."""

from benchmarks.noop import NoopPhoneOverride
from benchmarks.programs import per_number

for name, inputs in per_number():
    NoopPhoneOverride(name, **inputs)
