"""What the benchmark programs declare, from the stack config that `BenchStack.configure` sets:
the same phone numbers and callback URIs for every stack, whichever door (dynamic or native) and
shape (one resource per number or per WABA) declares them. Each program folder under
benchmarks/ calls one of these and constructs its resources itself, so that the SDK's stack
trace (kept in state) has the same depth in every stack.

Config: ``bench:count`` numbers from ``bench:idStart``, ``bench:perWaba`` to a WABA (number
``idStart + w * perWaba + p`` is number ``p`` of WABA ``wabaIdStart + w``, as in the emulator's
fixture), callback URIs under ``bench:callbackBase``, ``bench:verifyToken`` (secret) every
resource's verify token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi


def _config() -> tuple[pulumi.Config, int, int, str, pulumi.Output[str]]:
    config = pulumi.Config("bench")
    return (config, config.require_int("count"), config.require_int("idStart"),
            config.require("callbackBase").rstrip("/"), config.require_secret("verifyToken"))


def per_number() -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, inputs) of one `PhoneCallbackOverride` per number."""
    _unused, count, id_start, base, token = _config()
    for i in range(count):
        yield f"phone-{i:05d}", {"phone_number_id": str(id_start + i),
                                 "callback_uri": f"{base}/phone-{i:05d}", "verify_token": token}


def per_waba() -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, inputs) of one `WabaRouting` per WABA, with no WABA override: every number gets its
    own, as in the per-number stacks. With ``waba-webhooks:shard: "I/K"``, only the WABAs of
    shard I of K, as ``stacks/`` declares a shard stack (`waba_webhooks.tables.shard`)."""
    from waba_webhooks.tables import shard

    config, count, id_start, base, token = _config()
    numbers = config.require_int("perWaba")
    waba_id_start = config.require_int("wabaIdStart")
    shard_value = pulumi.Config("waba-webhooks").get("shard")
    mine = shard.parse(shard_value) if shard_value is not None else None
    for w in range(-(-count // numbers)):
        if mine is not None and not mine.owns(str(waba_id_start + w)):
            continue
        first, last = w * numbers, min(count, (w + 1) * numbers)
        yield f"waba-{w:04d}", {
            "waba_id": str(waba_id_start + w),
            "phone_numbers": {str(id_start + i): f"{base}/phone-{i:05d}"
                              for i in range(first, last)},
            "verify_token": token,
        }
