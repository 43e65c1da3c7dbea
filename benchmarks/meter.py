"""A WSGI wrapper around the emulator that measures what its counters do not: how many Graph
calls were in flight at once (the effective concurrency), how many TCP connections carried
them (connection reuse), and when in a step they ran (the timeline). Admin calls
(``/_emulator/...``) are not counted."""

from __future__ import annotations

import threading
import time
from typing import Any

from waba_webhooks.emulator.urls import ADMIN_PREFIX

#: Points of the in-flight curve kept per step.
CURVE_POINTS = 200


class ConcurrencyMeter:
    """Wraps the emulator's WSGI app; `reset()` when a step starts, `snapshot()` when it ends."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._t0 = time.perf_counter()
            self._in_flight = 0
            self._max_in_flight = 0
            self._calls = 0
            self._connections: set[tuple[str, str]] = set()
            self._spans: list[tuple[float, float]] = []

    def snapshot(self) -> dict[str, Any]:
        """Counts since `reset`, and the timeline: seconds from the reset to the first call and
        from the last call's end to now, the seconds with a call in flight, and the mean number
        in flight over ``CURVE_POINTS`` equal slices of the step (``curve``)."""
        now = time.perf_counter() - self._t0
        with self._lock:
            spans = sorted(self._spans)
            result: dict[str, Any] = {
                "calls": self._calls,
                "max_in_flight": self._max_in_flight,
                "connections": len(self._connections),
            }
        if not spans:
            return result
        busy, end = 0.0, spans[0][0]
        for start, stop in spans:  # the union of the calls' intervals
            busy += max(0.0, stop - max(start, end))
            end = max(end, stop)
        width = now / CURVE_POINTS
        curve = [0.0] * CURVE_POINTS
        for start, stop in spans:
            first, last = int(start / width), min(CURVE_POINTS - 1, int(stop / width))
            for i in range(first, last + 1):
                overlap = min(stop, (i + 1) * width) - max(start, i * width)
                curve[i] += max(0.0, overlap) / width
        result["timeline"] = {
            "step_s": round(now, 3),
            "first_call_s": round(spans[0][0], 3),
            "after_last_call_s": round(now - end, 3),
            "busy_s": round(busy, 3),
            "call_s": round(sum(stop - start for start, stop in spans), 3),
            "curve_slice_s": round(width, 4),
            "curve": [round(v, 2) for v in curve],
        }
        return result

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
        started = time.perf_counter() - self._t0
        try:
            # The emulator builds its whole answer (latency included) inside this call.
            return self._app(environ, start_response)
        finally:
            stopped = time.perf_counter() - self._t0
            with self._lock:
                self._in_flight -= 1
                self._spans.append((started, stopped))
