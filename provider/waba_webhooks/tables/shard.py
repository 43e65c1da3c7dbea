"""Which stack of a set owns which WABA: ``waba-webhooks:shard: "I/K"`` (shard I of K).

A WABA belongs to the shard that ranks it highest by rendezvous (highest-random-weight) hashing:
every shard ``i`` gives the WABA a score, ``sha256("<WABA id>/<i>")``, and the highest score
wins. The function is stable (the same on every machine and Python version, unlike ``hash()``)
and moves as few WABAs as possible when K changes: going from K to K + 1 shards, a WABA moves
only if the new shard outranks its current one (about 1 in K + 1 do), and only to the new shard;
going from K to K - 1, only the WABAs of the shard that goes move.

What is not per WABA (the app's own webhook subscription) belongs to shard 1 (`owns_app_wide`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: The stack config key, as users write it.
CONFIG_KEY = "waba-webhooks:shard"
#: While a set moves to K' shards: K' (``waba-webhooks shards reshard`` sets and clears it).
RESHARD_KEY = "waba-webhooks:reshardTo"

_FORM = re.compile(r"(\d+)/(\d+)")


class ShardError(ValueError):
    """A shard value is malformed; the message names the config key."""


def score(waba_id: str, index: int) -> int:
    """Shard ``index``'s rendezvous score for the WABA (a stable 64-bit number)."""
    digest = hashlib.sha256(f"{waba_id}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def shard_of(waba_id: str, count: int) -> int:
    """The shard (1..count) that owns the WABA among ``count`` shards."""
    if count < 1:
        raise ShardError(f"{CONFIG_KEY}: the number of shards must be at least 1, got {count}")
    # Scores never tie in practice (64 bits); max() keeps the lowest index if they did.
    return max(range(1, count + 1), key=lambda i: score(waba_id, i))


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based)."""

    index: int
    count: int

    def owns(self, waba_id: str) -> bool:
        """Whether this shard declares the WABA."""
        return shard_of(waba_id, self.count) == self.index

    @property
    def owns_app_wide(self) -> bool:
        """Whether this shard declares what is not per WABA (the app's own subscription, the
        numbers the table names without a WABA): shard 1 of any set."""
        return self.index == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(value: object, key: str = CONFIG_KEY) -> Shard:
    """``"I/K"`` with 1 <= I <= K as a `Shard`; anything else fails naming ``key``."""
    match = _FORM.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ShardError(f"{key} must be \"I/K\" (shard I of K, e.g. \"3/8\"), got {value!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"{key} must be \"I/K\" with 1 <= I <= K, got {value!r}")
    return Shard(index, count)


def parse_count(value: object, key: str) -> int:
    """A number of shards (an integer >= 1, or its decimal text); anything else fails naming
    ``key``."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not text.isdigit() or int(text) < 1:
        raise ShardError(f"{key} must be a number of shards (1 or more), got {value!r}")
    return int(text)
