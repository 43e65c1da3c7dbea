"""Meta's hourly call budget as the client sees it: the usage header on every answer, pacing as
a WABA's usage nears 100 %, and when to give up at once.

Meta allows each app about 200 calls per hour per WABA (5,000 once the WABA has a registered
number), over a rolling hour, and reports on every answer (success or error)::

    X-Business-Use-Case-Usage: {"<WABA_ID>": [{"type": "whatsapp_business_management",
        "call_count": 42, "total_cputime": 3, "total_time": 5,
        "estimated_time_to_regain_access": 0}]}

(percentages, and a wait in minutes once the budget is spent; docs/meta-rules.md). What
`BudgetPacer` does with it, for every thread of one `GraphClient`:

* **Usage per WABA.** The highest of the three percentages of the latest answer about the WABA.
  Calls on a phone number are charged to its WABA, which the client learns from the header of
  the first answer about that number; a call whose WABA is not known yet is paced as if it were
  for the busiest WABA known (a bounded slowdown at worst).
* **Pacing.** Above `Settings.budget_pacing_percent` (80 % by default) calls to the WABA go out
  one at a time, across threads, spaced by a gap that grows from 0 at the threshold to the time
  the rolling hour takes to give one call back (3,600 s / budget: 18 s for 200 calls an hour,
  0.72 s for 5,000) at 100 %. The budget is not in the header; it is estimated from how far
  ``call_count`` rises per call this client makes (200 until known). In steady use that spacing
  holds usage under 100 %; it cannot create budget that a burst has already spent, so a run
  that starts near the wall still reaches it, only later. No call waits longer than the retry
  budget: the gap is at most an eighth of it (`QUEUE` calls may wait in line). And pacing
  never costs one WABA more than the retry budget in all per client (one provider process, so
  one `pulumi` run): past that its calls go at full speed, so a run that cannot fit in what is
  left reaches Meta's wait and fails at once, instead of crawling for minutes first.
* **Giving up.** When Meta says to wait (a refused call, or usage at 100 %, with
  ``estimated_time_to_regain_access``) longer than the retry budget, calls for that WABA fail at
  once with `errors.BudgetExhaustedError` naming the WABA and the wait; shorter waits are
  waited out. Nothing here waits without a bound.

The lock is never held while sleeping or on the network.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

HEADER = "X-Business-Use-Case-Usage"
#: The usage type of the endpoints this package calls; the header may carry others (for
#: example ``whatsapp``, the messaging use case), which do not pace these calls.
MANAGEMENT = "whatsapp_business_management"
WINDOW_SECONDS = 3600.0
#: Share of the budget one call takes, in %, on the smallest budget Meta gives (200 an hour).
LARGEST_CALL_SHARE = 100 / 200
#: Calls that may queue for one WABA's slots at once: the provider process's worker threads, or 8
#: writes run in parallel inside one provider call. The gap is at most the retry budget divided
#: by this, so the last of them still waits less than the retry budget.
QUEUE = 8


@dataclass(frozen=True)
class UsageEntry:
    """One entry of the header: which WABA, which use case, how much of it is used."""

    waba_id: str
    type: str | None
    #: The highest of ``call_count``, ``total_cputime`` and ``total_time`` (%).
    percent: float
    #: ``estimated_time_to_regain_access`` in seconds (0: no wait).
    regain_seconds: float

    @property
    def paces(self) -> bool:
        """True for the use case our calls are charged to (or an entry without a type)."""
        return self.type in (None, MANAGEMENT)


@dataclass(frozen=True)
class Blocked:
    """Meta's wait for a WABA is longer than the caller may wait."""

    waba_id: str
    wait_seconds: float


def parse(raw: str | None) -> list[UsageEntry]:
    """The entries of an ``X-Business-Use-Case-Usage`` value; [] when absent or malformed."""
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    entries = []
    for waba_id, items in data.items():
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict):
                entries.append(UsageEntry(
                    waba_id=str(waba_id),
                    type=item["type"] if isinstance(item.get("type"), str) else None,
                    percent=max((_number(item.get(key)) for key in
                                 ("call_count", "total_cputime", "total_time")), default=0.0),
                    regain_seconds=60 * _number(item.get("estimated_time_to_regain_access")),
                ))
    return entries


def longest_wait(entries: Iterable[UsageEntry]) -> UsageEntry | None:
    """The entry with the longest wait, of any use case (what a refused call waits for)."""
    waiting = [entry for entry in entries if entry.regain_seconds > 0]
    return max(waiting, key=lambda entry: entry.regain_seconds) if waiting else None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(0.0, float(value))


class _WabaState:
    """What the client knows of one WABA's budget (guarded by the pacer's lock)."""

    def __init__(self) -> None:
        self.percent = 0.0
        self.blocked_until = 0.0
        self.next_slot = 0.0
        self.charged_answers = 0
        self.first: tuple[float, int] | None = None  # (percent, charged_answers) at first sight
        self.paced = False
        #: Seconds of gaps handed out for this WABA so far (bounded by the retry budget).
        self.paced_seconds = 0.0

    def call_share(self) -> float:
        """Estimated share of the budget one call takes (%): how far usage rose per charged
        answer since the first, counting at least one point, at most the share on a 200 budget."""
        if self.first is None:
            return LARGEST_CALL_SHARE
        first_percent, first_answers = self.first
        calls = self.charged_answers - first_answers
        if calls < 1:
            return LARGEST_CALL_SHARE
        return min(LARGEST_CALL_SHARE, max(self.percent - first_percent, 1.0) / calls)


class BudgetPacer:
    """Per-WABA usage read from every answer, and the wait before each call (thread-safe)."""

    def __init__(self, pacing_percent: float, max_wait_seconds: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.pacing_percent = pacing_percent
        self.max_wait_seconds = max_wait_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._wabas: dict[str, _WabaState] = {}
        self._owners: dict[str, str] = {}  # object id (WABA or phone number) -> WABA id

    def wait_for_turn(self, object_id: str | None) -> Blocked | None:
        """Before a call on ``object_id`` (None: a call no WABA pays for): sleep through
        Meta's wait or the pacing gap, or return `Blocked` when Meta's wait is longer than
        ``max_wait_seconds`` (the caller fails at once), also when that became known while
        this call waited for its turn."""
        if object_id is None:
            return None
        with self._lock:
            now = self._clock()
            blocked = self._blocked(object_id, now)
            if blocked is not None:
                return blocked
            waba_id = self._owners.get(object_id)
            if waba_id is None:  # a number not seen yet: paced as the busiest open WABA
                waba_id, state = self._busiest(now)
            else:
                state = self._wabas[waba_id]
            wait = 0.0
            if state is not None:  # Meta's wait (shorter than the retry budget), else a slot
                wait = max(state.blocked_until - now, self._reserve(waba_id, state, now))
        if wait <= 0:
            return None
        self._sleep(wait)
        with self._lock:
            return self._blocked(object_id, self._clock())

    def note_waba(self, waba_id: str) -> None:
        """``waba_id`` is known to be a WABA (the call is on one of its edges): from its first
        call it is paced by its own usage, not as an unknown object (the busiest open WABA's),
        so that reading a business's many WABAs is not slowed by one near its budget."""
        with self._lock:
            if waba_id not in self._owners:
                self._owners[waba_id] = waba_id
                self._wabas.setdefault(waba_id, _WabaState())

    def observe(self, object_id: str | None, entries: list[UsageEntry], *, refused: bool) -> None:
        """Record an answer's usage entries; ``refused`` when Meta refused the call for a rate
        limit (not charged, and its wait holds whatever the use case)."""
        if not entries:
            return
        with self._lock:
            now = self._clock()
            ids = {entry.waba_id for entry in entries}
            if object_id is not None and len(ids) == 1:
                self._owners[object_id] = next(iter(ids))
            for waba_id in ids:
                self._owners[waba_id] = waba_id
                state = self._wabas.setdefault(waba_id, _WabaState())
                mine = [e for e in entries if e.waba_id == waba_id and e.paces]
                if mine:
                    state.percent = max(e.percent for e in mine)
                    if not refused:
                        state.charged_answers += 1
                        if state.first is None:
                            state.first = (state.percent, state.charged_answers)
                waits = [e.regain_seconds for e in entries if e.waba_id == waba_id
                         and (refused or e.paces)]
                wait = max(waits, default=0.0)
                if wait > 0:
                    state.blocked_until = now + wait
                elif not refused:  # an accepted call with no wait: the WABA is open again
                    state.blocked_until = 0.0

    def usage_percent(self, waba_id: str) -> float | None:
        """The latest usage seen for the WABA (%), or None if none was seen."""
        with self._lock:
            state = self._wabas.get(waba_id)
            return state.percent if state else None

    # ----------------------------------------------------------------- lock held

    def _blocked(self, object_id: str, now: float) -> Blocked | None:
        waba_id = self._owners.get(object_id)
        if waba_id is None:
            return None
        blocked_for = self._wabas[waba_id].blocked_until - now
        return Blocked(waba_id, blocked_for) if blocked_for > self.max_wait_seconds else None

    def _busiest(self, now: float) -> tuple[str | None, _WabaState | None]:
        open_wabas = [(i, s) for i, s in self._wabas.items() if s.blocked_until <= now]
        if not open_wabas:
            return None, None
        return max(open_wabas, key=lambda pair: pair[1].percent)

    def _reserve(self, waba_id: str | None, state: _WabaState, now: float) -> float:
        """Take the WABA's next call slot; the wait until it."""
        gap = self._gap(state)
        if gap <= 0 or state.paced_seconds >= self.max_wait_seconds:
            return 0.0
        state.paced_seconds += gap
        if state.paced_seconds >= self.max_wait_seconds:
            log.warning("WABA %s: pacing has slowed this run by the retry budget (%.0f s); its "
                        "calls now go at full speed until Meta says to wait", waba_id,
                        self.max_wait_seconds)
        if not state.paced:
            state.paced = True
            log.warning("WABA %s is at %.0f%% of this app's hourly budget of Graph API calls: "
                        "spacing its calls out (up to %.1f s apart)", waba_id, state.percent,
                        min(self.max_wait_seconds / QUEUE,
                            WINDOW_SECONDS * LARGEST_CALL_SHARE / 100))
        wait = min(max(0.0, state.next_slot - now), self.max_wait_seconds)
        state.next_slot = now + wait + gap
        return wait

    def _gap(self, state: _WabaState) -> float:
        threshold = self.pacing_percent
        if threshold >= 100 or state.percent <= threshold:
            return 0.0
        ramp = min(1.0, (state.percent - threshold) / (100 - threshold))
        refill = WINDOW_SECONDS * state.call_share() / 100  # seconds the window takes per call
        return min(ramp * refill, self.max_wait_seconds / QUEUE)
