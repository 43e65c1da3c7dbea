"""Meta's hourly call budget with the real engine: 150 phone overrides on one WABA, refreshed at
200 calls an hour. The emulator is the reference for what Meta does (emulator/budget.py); this
shows what a user sees. Figures are printed; run with ``-s`` to see them."""

from __future__ import annotations

import re
import time

from pulumi import automation as auto
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import E2EStack, changes
from waba_webhooks.emulator import fixtures

NUMBERS = 150
WABA = "200000000000000"
HOURLY_BUDGET = 200
#: Kept short so the paced part of the test takes seconds: the pacing gap is at most an eighth
#: of it (0.5 s here, 7.5 s with the default 60 s), and Meta's hour is far longer either way.
RETRY_BUDGET_SECONDS = 4


def timed(run) -> tuple[float, object]:
    """(wall seconds, the run's result or the CommandError it failed with)."""
    started = time.perf_counter()
    try:
        result = run()
    except CommandError as error:
        result = error
    return time.perf_counter() - started, result


def test_refresh_of_150_numbers_on_one_waba_at_200_calls_an_hour(
        e2e_stack: E2EStack, emulator, callback_receiver):
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=NUMBERS))  # 5,000 an hour
    e2e_stack.stack.set_config("whatsapp:retryBudgetSeconds",
                               auto.ConfigValue(str(RETRY_BUDGET_SECONDS)))
    phones = [{"name": f"phone-{p}", "id": p, "callbackUri": callback_receiver.url_for(f"p/{p}")}
              for p in emulator.phone_ids]
    e2e_stack.declare(phones=phones)
    figures: list[str] = []

    create_s, _ = timed(e2e_stack.up)
    created = emulator.admin.waba_usage(WABA)
    assert created["calls"] == 2 * NUMBERS  # a read and a write per override
    assert all(emulator.phone_override(p["id"]) == p["callbackUri"] for p in phones)
    figures.append(f"create: {created['calls']} calls charged ({created['call_count']} % of "
                   f"{created['hourly_budget']}), {create_s:.1f} s")

    # An hour later, on a budget of 200 calls an hour (a WABA with no registered number).
    emulator.admin.advance_clock(3600)
    assert emulator.admin.set_hourly_budget(WABA, HOURLY_BUDGET) == HOURLY_BUDGET

    # 1. A refresh reads each number once: 150 of 200, below the pacing threshold (80 %).
    first_s, first = timed(e2e_stack.refresh)
    assert not isinstance(first, CommandError), first
    after_first = emulator.admin.waba_usage(WABA)
    assert after_first["calls"] == NUMBERS and after_first["call_count"] == 75
    figures.append(f"refresh 1: {after_first['calls']} calls charged, usage "
                   f"{after_first['call_count']} %, completed in {first_s:.1f} s")

    # 2. The same refresh again, at once: paced from 80 %, it reaches the wall at 200, and the
    #    reads past it fail at once with the WABA and Meta's wait: no hang, no retry.
    log_start = len(emulator.admin.calls())
    second_s, second = timed(e2e_stack.refresh)
    assert isinstance(second, CommandError), "the refresh went past the budget"
    text = str(second)
    said = next(line.strip() for line in text.splitlines() if "has spent" in line)
    wait = int(re.search(r"about (\d+) minutes", said).group(1))
    after_second = emulator.admin.waba_usage(WABA)
    assert f"WABA {WABA} has spent this app's hourly budget" in said
    assert abs(wait - after_second["estimated_time_to_regain_access"]) <= 1 and wait >= 55
    assert "registered phone number" in text  # what to do about it
    assert after_second["calls"] == HOURLY_BUDGET  # nothing over the budget was charged
    second_calls = emulator.admin.calls()[log_start:]
    reads = [c for c in second_calls if c["operation"] == "GET phone_number"]
    refused = [c for c in reads if c["status"] == 400]
    paced = after_second["calls"] - after_first["calls"]
    # The engine still reads every resource: each number makes one call, and those after the
    # wall are refused and fail at once; none is retried or waited for.
    assert len(reads) == len({c["path"] for c in reads}) == NUMBERS
    assert paced == HOURLY_BUDGET - NUMBERS and len(refused) == NUMBERS - paced
    errored = re.search(r"(\d+) errored", text)
    # 40 calls were paced (80 % to 100 %), at most RETRY_BUDGET_SECONDS / 8 apart: no hang.
    assert second_s < 120
    figures.append(f"refresh 2: {paced} reads charged (from 75 %, paced from 80 %), then "
                   f"{len(refused)} refused at once (code 80007, not charged); "
                   f"{errored.group(1) if errored else '?'} resources errored; failed after "
                   f"{second_s:.1f} s; Meta's wait: "
                   f"{after_second['estimated_time_to_regain_access']} min")
    figures.append(f"the user saw, per refused resource: {said}")

    # 3. Once the hour has passed, the same refresh completes, and nothing drifted.
    emulator.admin.advance_clock(3600)
    third_s, third = timed(e2e_stack.refresh)
    assert not isinstance(third, CommandError), third
    assert changes(e2e_stack.preview().change_summary) == {}
    assert all(emulator.phone_override(p["id"]) == p["callbackUri"] for p in phones)
    figures.append(f"refresh 3, an hour later: completed in {third_s:.1f} s, usage "
                   f"{emulator.admin.waba_usage(WABA)['call_count']} %")
    print("\n" + "\n".join(figures))
