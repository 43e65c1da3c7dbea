"""The provider process ends with the Pulumi engine that started it.

The engine starts a dynamic provider as ``python -m pulumi.dynamic <engine address>`` and stops it
at the end of a run. When the engine itself dies (a CI runner lost, ``kill -9``), the SDK's
provider process does not notice: it finishes the Graph writes it had started and then waits
forever, and a write made after the engine is gone is recorded nowhere. Upstream's language hosts
health-check their engine and exit; this does the same for our provider process: once the first
Graph client is made, a daemon thread connects to the engine's address every `INTERVAL` seconds,
and after `MISSES` refused connections in a row it says so on stderr and ends the process.

Nothing is watched when the process was not started with an engine address (the provider called
in-process, as unit tests do) or when the address does not answer at the start.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from collections.abc import Sequence

INTERVAL = 2.0
MISSES = 3
_ADDRESS = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$")
_started = threading.Lock()
_watching = False


def engine_address(argv: Sequence[str]) -> tuple[str, int] | None:
    """The engine's loopback address among the provider process's arguments, if any."""
    for arg in argv[1:]:
        match = _ADDRESS.match(arg)
        if match:
            return match.group(1).strip("[]"), int(match.group(2))
    return None


def answers(address: tuple[str, int]) -> bool:
    """Whether something accepts connections at `address`."""
    try:
        with socket.create_connection(address, timeout=INTERVAL):
            return True
    except OSError:
        return False


def watch_engine(argv: Sequence[str] | None = None) -> bool:
    """Start watching the engine (once per process); whether a watch runs."""
    global _watching
    with _started:
        if _watching:
            return True
        address = engine_address(sys.argv if argv is None else argv)
        if address is None or not answers(address):
            return False
        threading.Thread(target=_watch, args=(address,), name="engine-lifeline",
                         daemon=True).start()
        _watching = True
        return True


def _watch(address: tuple[str, int]) -> None:
    missed = 0
    while True:
        time.sleep(INTERVAL)
        missed = 0 if answers(address) else missed + 1
        if missed >= MISSES:
            try:  # stderr was a pipe to the engine: with the engine gone it may be broken
                sys.stderr.write(
                    f"waba-webhooks: the Pulumi engine at {address[0]}:{address[1]} is gone; "
                    "the provider process stops so that it makes no Graph write nobody records. "
                    "Run `pulumi refresh` on the stack before the next `pulumi up`.\n")
                sys.stderr.flush()
            except OSError:
                pass
            os._exit(70)
