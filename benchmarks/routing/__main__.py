"""Benchmark program: the numbers of ``benchmarks/program`` as one `WabaRouting` per WABA.

Same config and callback URIs as ``benchmarks/program``; ``bench:perWaba`` numbers per WABA
(the emulator's fixture: number ``idStart + w * perWaba + p`` is number ``p`` of WABA
``wabaIdStart + w``). No WABA override: every number gets its own, as in the per-number program.
With ``waba-webhooks:shard: "I/K"``, only the WABAs of shard I of K, as ``stacks/`` declares a
shard stack (`waba_webhooks.resources.shard`).
"""

import pulumi

from waba_webhooks import WabaRouting
from waba_webhooks.resources import shard

config = pulumi.Config("bench")
count = config.require_int("count")
per_waba = config.require_int("perWaba")
id_start = config.require_int("idStart")
waba_id_start = config.require_int("wabaIdStart")
base = config.require("callbackBase").rstrip("/")
token = config.require_secret("verifyToken")
shard_value = pulumi.Config("waba-webhooks").get("shard")
mine = shard.parse(shard_value) if shard_value is not None else None

for w in range(-(-count // per_waba)):
    if mine is not None and not mine.owns(str(waba_id_start + w)):
        continue
    first, last = w * per_waba, min(count, (w + 1) * per_waba)
    WabaRouting(
        f"waba-{w:04d}",
        waba_id=str(waba_id_start + w),
        phone_numbers={str(id_start + i): f"{base}/phone-{i:05d}" for i in range(first, last)},
        verify_token=token,
    )
