"""The usage header and the pacing rule (`waba_webhooks.graph.usage`), on a clock the test moves.

The client against the emulator (pacing across threads, failing at once) is in test_graph.py;
here are the numbers: gaps, the budget estimate, which entries count.
"""

from __future__ import annotations

import json

import pytest

from waba_webhooks.graph import usage
from waba_webhooks.graph.usage import Blocked, BudgetPacer

WABA = "102290129340398"
WABA_2 = "102290129340399"
PHONE = "106540352242922"


class FakeTime:
    """A clock that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def pacer(fake: FakeTime, percent: float = 80, max_wait: float = 400) -> BudgetPacer:
    return BudgetPacer(percent, max_wait, clock=fake.clock, sleep=fake.sleep)


def header(call_count: float, regain_minutes: float = 0, waba_id: str = WABA,
           type: str = usage.MANAGEMENT, **more: float) -> list[usage.UsageEntry]:
    return usage.parse(json.dumps({waba_id: [{
        "type": type, "call_count": call_count, "estimated_time_to_regain_access": regain_minutes,
        **more}]}))


def test_the_header_is_read_whatever_its_shape():
    (entry,) = header(40, 3, total_cputime=55, total_time=12)
    assert (entry.waba_id, entry.percent, entry.regain_seconds) == (WABA, 55, 180)
    assert entry.paces
    assert usage.parse(None) == usage.parse("") == usage.parse("not json") == []
    assert usage.parse('["a list"]') == usage.parse('{"1": ["x", 3]}') == []
    (odd,) = usage.parse('{"1": {"call_count": "lots", "estimated_time_to_regain_access": -4}}')
    assert (odd.percent, odd.regain_seconds, odd.paces) == (0, 0, True)  # no type: ours


def test_below_the_threshold_nothing_waits(fake):
    paced = pacer(fake)
    paced.observe(PHONE, header(80), refused=False)
    for _ in range(10):
        assert paced.wait_for_turn(PHONE) is None
    assert fake.sleeps == []


def test_on_a_200_call_budget_the_gap_grows_to_18_seconds(fake):
    paced = pacer(fake)
    paced.observe(PHONE, header(90), refused=False)
    paced.wait_for_turn(PHONE)
    paced.wait_for_turn(PHONE)
    # Half way from 80 % to 100 %: half of 3,600 s / 200 calls.
    assert fake.sleeps == [pytest.approx(9)]
    paced.observe(PHONE, header(100), refused=False)  # full, but Meta gave no wait
    paced.wait_for_turn(PHONE)
    paced.wait_for_turn(PHONE)
    assert fake.sleeps[-1] == pytest.approx(18)


def test_the_budget_is_estimated_from_how_fast_usage_rises(fake):
    paced = pacer(fake)
    # 5,000 calls an hour: 100 calls move call_count by 2 points.
    for n in range(101):
        paced.observe(PHONE, header(90 + n // 50), refused=False)
    paced.wait_for_turn(PHONE)
    paced.wait_for_turn(PHONE)
    # At 92 %: (92 - 80) / 20 of the 0.72 s the window takes to give one call back.
    assert fake.sleeps == [pytest.approx(0.6 * 0.72)]


def test_no_gap_is_longer_than_an_eighth_of_the_retry_budget(fake):
    paced = pacer(fake, max_wait=16)
    paced.observe(PHONE, header(100), refused=False)
    for _ in range(9):
        paced.wait_for_turn(PHONE)
    assert max(fake.sleeps) == pytest.approx(2)


def test_queued_callers_never_wait_longer_than_the_retry_budget(fake):
    waits: list[float] = []  # each caller's wait; the clock does not move: all arrive at once
    paced = BudgetPacer(80, 16, clock=fake.clock, sleep=waits.append)
    paced.observe(PHONE, header(100), refused=False)
    for _ in range(12):
        paced.wait_for_turn(PHONE)
    assert waits[:7] == [pytest.approx(2 * i) for i in range(1, 8)]
    assert max(waits) <= 16


def test_pacing_never_slows_one_waba_by_more_than_the_retry_budget_in_all(fake):
    paced = pacer(fake, max_wait=60)
    paced.observe(PHONE, header(100), refused=False)
    for _ in range(50):
        assert paced.wait_for_turn(PHONE) is None
    # Gaps of 60 / 8 s until 60 s of gaps are handed out, then none: the run reaches Meta's
    # wait (and fails at once) instead of crawling.
    assert fake.sleeps == [pytest.approx(7.5)] * 7
    assert sum(fake.sleeps) <= 60


def test_messaging_usage_does_not_pace_management_calls(fake):
    paced = pacer(fake)
    paced.observe(PHONE, header(100, 30, type="whatsapp"), refused=False)
    paced.wait_for_turn(PHONE)
    paced.wait_for_turn(PHONE)
    assert fake.sleeps == []


def test_a_wait_longer_than_the_retry_budget_blocks_the_waba(fake):
    paced = pacer(fake, max_wait=60)
    paced.observe(PHONE, header(100, 40), refused=False)
    assert paced.wait_for_turn(PHONE) == Blocked(WABA, 2400)
    assert paced.wait_for_turn(WABA) == Blocked(WABA, 2400)  # the WABA's own calls too
    fake.now += 2340
    assert paced.wait_for_turn(PHONE) is None  # a minute left: waited out
    assert fake.sleeps[0] == pytest.approx(60)


def test_a_refusal_blocks_whatever_use_case_gives_the_wait(fake):
    paced = pacer(fake, max_wait=60)
    paced.observe(PHONE, header(100, 30, type="whatsapp"), refused=True)
    assert paced.wait_for_turn(PHONE) == Blocked(WABA, 1800)
    # An accepted call with no wait opens the WABA again.
    paced.observe(PHONE, header(10), refused=False)
    assert paced.wait_for_turn(PHONE) is None


def test_a_number_not_seen_yet_is_paced_as_the_busiest_open_waba(fake):
    paced = pacer(fake)
    paced.observe("1", header(90, waba_id=WABA), refused=False)
    paced.observe("2", header(50, waba_id=WABA_2), refused=False)
    paced.wait_for_turn("3")
    paced.wait_for_turn("4")
    assert fake.sleeps == [pytest.approx(9)]
    # A blocked WABA is not "open": its wait is not imposed on numbers that may not be its own.
    paced.observe("1", header(100, 50, waba_id=WABA), refused=False)
    before = len(fake.sleeps)
    paced.wait_for_turn("5")
    assert len(fake.sleeps) == before
    assert paced.usage_percent(WABA) == 100 and paced.usage_percent("9") is None


def test_a_waba_known_to_be_one_is_paced_by_its_own_usage_from_its_first_call(fake):
    """Reading a business's WABAs: a new WABA is not held up by another near its budget."""
    paced = pacer(fake)
    paced.observe("1", header(95, waba_id=WABA), refused=False)
    paced.note_waba(WABA_2)
    paced.wait_for_turn(WABA_2)
    paced.wait_for_turn(WABA_2)
    assert fake.sleeps == []
    paced.note_waba(WABA)  # already known: its usage stays
    paced.wait_for_turn(WABA)
    paced.wait_for_turn(WABA)
    assert len(fake.sleeps) == 1


def test_calls_no_waba_pays_for_are_never_paced(fake):
    paced = pacer(fake)
    paced.observe(PHONE, header(100, 90), refused=False)
    assert paced.wait_for_turn(None) is None
    assert fake.sleeps == []


def test_a_caller_in_line_fails_when_the_waba_is_spent_meanwhile(fake):
    paced = BudgetPacer(80, 60, clock=fake.clock,
                        sleep=lambda s: paced.observe(PHONE, header(100, 45), refused=True))
    paced.observe(PHONE, header(99), refused=False)
    assert paced.wait_for_turn(PHONE) is None  # first in line: no wait
    # The next caller waits for its slot; meanwhile another thread's call is refused.
    assert paced.wait_for_turn(PHONE) == Blocked(WABA, 2700)
