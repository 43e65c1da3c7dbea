"""Floor program: the benchmark program's stack shape on the no-op `benchmarks.noop` resource.

Same config and inputs as ``benchmarks/program``; no HTTP at all.
"""

import pulumi
from benchmarks.noop import NoopPhoneOverride

config = pulumi.Config("bench")
count = config.require_int("count")
id_start = config.require_int("idStart")
base = config.require("callbackBase").rstrip("/")
token = config.require_secret("verifyToken")

for i in range(count):
    NoopPhoneOverride(
        f"phone-{i:05d}",
        phone_number_id=str(id_start + i),
        callback_uri=f"{base}/phone-{i:05d}",
        verify_token=token,
    )
