"""Meta's hourly call budget per app and WABA, and the emulator's clock. No HTTP in here.

What is known (docs/meta-rules.md, "The hourly call budget"):

* The WhatsApp Business Management API allows each app about **200 calls per hour per WABA**,
  **5,000** once the WABA has a registered phone number (heltar.com, "Error Code 80007"; the
  same figures in dualhook.com's "Capacity, Quality & Limits"). ``subscribed_apps``,
  ``phone_numbers`` and phone number reads and writes count against the WABA's budget.
* The window is a **rolling hour** ("calculated on a rolling basis", help.chakrahq.com; "over a
  rolling one-hour window", dualhook.com), so it is modelled as a log of call times: a call
  leaves the count exactly one hour after it was made. A fixed window (a reset on the hour)
  would let a client spend twice the budget across a boundary and would make
  ``estimated_time_to_regain_access`` jump; the rolling one gives the wait as "until the oldest
  call that must go has aged out".
* Every answer carries ``X-Business-Use-Case-Usage: {"<WABA_ID>": [{"type":
  "whatsapp_business_management", "call_count", "total_cputime", "total_time",
  "estimated_time_to_regain_access"}]}`` (the shape of the example in Meta's OpenAPI
  description, components/headers/x-business-use-case-usage): percentages, and a wait in
  minutes. CPU and time shares are not modelled here and are reported as 0.
* At 100 % the call is refused with code 80007, HTTP 400 (Meta's error code table, as quoted by
  docs.innopaas.com and developers.aivo.co: "Rate limit issues - The WhatsApp Business Account
  has reached its rate limit").

A refused call is not charged (what Meta does is not documented): counting it would keep a
polling client blocked for ever, and our client never polls a WABA that Meta said is spent.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .exceptions import WabaRateLimitError

WINDOW_SECONDS = 3600.0
#: Calls per hour per app for a WABA with no registered phone number.
DEFAULT_HOURLY_BUDGET = 200
#: Calls per hour per app for a WABA with at least one registered phone number.
REGISTERED_HOURLY_BUDGET = 5000
USAGE_TYPE = "whatsapp_business_management"


def default_hourly_budget(has_registered_number: bool) -> int:
    """Meta's budget for a WABA that has (or has not) a registered phone number."""
    return REGISTERED_HOURLY_BUDGET if has_registered_number else DEFAULT_HOURLY_BUDGET


class Clock:
    """The emulator's time: the machine's monotonic clock plus an offset that tests move
    forward (``POST /_emulator/clock``), so an hour of budget passes in no time."""

    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._offset = 0.0

    def now(self) -> float:
        """Seconds on the emulator's clock (only differences mean anything)."""
        with self._lock:
            return self._source() + self._offset

    @property
    def offset_seconds(self) -> float:
        """How far the clock has been moved ahead of the machine's."""
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward; time never goes back."""
        if not seconds >= 0:  # also refuses NaN
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        """Back to the machine's time."""
        with self._lock:
            self._offset = 0.0


@dataclass(frozen=True)
class Usage:
    """One app's use of one WABA's hourly budget at one moment."""

    app_id: str
    waba_id: str
    calls: int
    hourly_budget: int
    #: Seconds until a call would be accepted again; 0 while calls are accepted.
    regain_seconds: float

    @property
    def exhausted(self) -> bool:
        """True when the next call would be refused."""
        return self.calls >= self.hourly_budget

    @property
    def call_count(self) -> int:
        """Calls in the window as a whole percentage of the budget (floored, so 100 means
        spent; above 100 when the budget was lowered under the calls already made)."""
        return self.calls * 100 // self.hourly_budget

    @property
    def regain_minutes(self) -> int:
        """``estimated_time_to_regain_access``: whole minutes, rounded up; 0 when not needed."""
        return math.ceil(self.regain_seconds / 60) if self.regain_seconds > 0 else 0

    def header_entry(self) -> dict[str, int | str]:
        """This usage as one entry of the ``X-Business-Use-Case-Usage`` header."""
        return {
            "type": USAGE_TYPE,
            "call_count": self.call_count,
            "total_cputime": 0,
            "total_time": 0,
            "estimated_time_to_regain_access": self.regain_minutes,
        }

    def to_json(self) -> dict[str, int | str | float]:
        """The admin view: raw counts next to what the header says."""
        return {
            "app_id": self.app_id,
            "waba_id": self.waba_id,
            "calls": self.calls,
            "hourly_budget": self.hourly_budget,
            "call_count": self.call_count,
            "estimated_time_to_regain_access": self.regain_minutes,
            "regain_seconds": round(self.regain_seconds, 3),
        }


class CallBudgets:
    """Calls made by each (app, WABA) pair in the last hour, checked against a budget.

    Thread-safe. The budget is passed in on each call (it lives with the WABA in the model and
    can change at any time); this class only keeps the times of the calls.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], deque[float]] = {}

    def charge(self, app_id: str, waba_id: str, hourly_budget: int) -> Usage:
        """Count one call, or raise `WabaRateLimitError` (code 80007) without counting it when
        the budget is spent. Returns the usage after the call."""
        with self._lock:
            now = self.clock.now()
            log = self._calls.setdefault((app_id, waba_id), deque())
            usage = self._usage(app_id, waba_id, log, hourly_budget, now)
            if usage.exhausted:
                raise WabaRateLimitError(usage.regain_minutes)
            log.append(now)
            return self._usage(app_id, waba_id, log, hourly_budget, now)

    def spend(self, app_id: str, waba_id: str, calls: int) -> None:
        """Record ``calls`` calls made now, budget or not (a test's way to start from a given
        usage)."""
        if calls < 0:
            raise ValueError("calls must not be negative")
        with self._lock:
            now = self.clock.now()
            self._calls.setdefault((app_id, waba_id), deque()).extend([now] * calls)

    def usage(self, app_id: str, waba_id: str, hourly_budget: int) -> Usage:
        """The pair's usage now, without counting a call."""
        with self._lock:
            log = self._calls.get((app_id, waba_id), deque())
            return self._usage(app_id, waba_id, log, hourly_budget, self.clock.now())

    def pairs(self) -> list[tuple[str, str]]:
        """Every (app id, WABA id) pair with a call in the window."""
        now = self.clock.now()
        with self._lock:
            return [pair for pair, log in self._calls.items()
                    if log and log[-1] > now - WINDOW_SECONDS]

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()

    @staticmethod
    def _usage(app_id: str, waba_id: str, log: deque[float], hourly_budget: int,
               now: float) -> Usage:
        """Drop calls older than the window, then measure (lock held)."""
        while log and log[0] <= now - WINDOW_SECONDS:
            log.popleft()
        regain = 0.0
        if len(log) >= hourly_budget:
            # Calls are accepted again once enough of the oldest ones have aged out to leave
            # one call of room: the (calls - budget + 1)-th oldest must go.
            leaving = log[len(log) - hourly_budget]
            regain = leaving + WINDOW_SECONDS - now
        return Usage(app_id, waba_id, len(log), hourly_budget, regain)
