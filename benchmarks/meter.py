"""A WSGI wrapper around the emulator that measures what its counters do not: how many Graph
calls were in flight at once (the effective concurrency) and how many TCP connections carried
them (connection reuse). Admin calls (``/_emulator/...``) are not counted."""

from __future__ import annotations

import threading
from typing import Any

from waba_webhooks.emulator.urls import ADMIN_PREFIX


class ConcurrencyMeter:
    """Wraps the emulator's WSGI app; `snapshot()` and `reset()` between steps."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._in_flight = 0
            self._max_in_flight = 0
            self._calls = 0
            self._connections: set[tuple[str, str]] = set()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "calls": self._calls,
                "max_in_flight": self._max_in_flight,
                "connections": len(self._connections),
            }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(ADMIN_PREFIX):
            return self._app(environ, start_response)
        with self._lock:
            self._calls += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._connections.add(
                (str(environ.get("REMOTE_ADDR")), str(environ.get("REMOTE_PORT")))
            )
        try:
            # The emulator builds its whole answer (latency included) inside this call.
            return self._app(environ, start_response)
        finally:
            with self._lock:
                self._in_flight -= 1
