"""Meta's hourly call budget in the emulator, without HTTP: the rolling hour, the 80007 refusal,
the usage figures, the clock, and which budget a WABA gets."""

from __future__ import annotations

import pytest

from waba_webhooks.emulator import fixtures
from waba_webhooks.emulator.budget import CallBudgets, Clock
from waba_webhooks.emulator.exceptions import (
    GraphAPIError,
    InvalidFixtureError,
    WabaRateLimitError,
)
from waba_webhooks.emulator.models import GraphBackend

APP = "670843887433847"
OTHER_APP = "880011223344556"
WABA = "200000000000000"
WABA_2 = "200000000000001"


def never_verify(url: str, token: str) -> None:
    raise AssertionError("no verification expected")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def budgets(clock: Clock) -> CallBudgets:
    return CallBudgets(clock)


# --------------------------------------------------------------------------- the rolling hour


def test_calls_are_counted_until_the_budget_then_refused_with_80007(budgets):
    for n in range(1, 4):
        assert budgets.charge(APP, WABA, 3).calls == n
    with pytest.raises(WabaRateLimitError) as refused:
        budgets.charge(APP, WABA, 3)
    assert (refused.value.code, refused.value.http_status) == (80007, 400)
    assert refused.value.regain_minutes == 60
    # A refused call is not counted.
    assert budgets.usage(APP, WABA, 3).calls == 3


def test_usage_figures_are_percentages_and_minutes(budgets):
    assert budgets.usage(APP, WABA, 200).header_entry() == {
        "type": "whatsapp_business_management", "call_count": 0, "total_cputime": 0,
        "total_time": 0, "estimated_time_to_regain_access": 0}
    budgets.spend(APP, WABA, 199)
    usage = budgets.usage(APP, WABA, 200)
    assert (usage.call_count, usage.regain_minutes, usage.exhausted) == (99, 0, False)
    usage = budgets.charge(APP, WABA, 200)
    assert (usage.call_count, usage.regain_minutes, usage.exhausted) == (100, 60, True)


def test_a_call_leaves_the_count_one_hour_after_it_was_made(budgets, clock):
    budgets.charge(APP, WABA, 2)
    clock.advance(600)
    budgets.charge(APP, WABA, 2)
    # Spent: access comes back when the first call (made 10 minutes ago) ages out.
    assert budgets.usage(APP, WABA, 2).regain_minutes == 50
    clock.advance(50 * 60)
    assert budgets.usage(APP, WABA, 2).calls == 1
    budgets.charge(APP, WABA, 2)  # accepted again
    clock.advance(3600)
    assert budgets.usage(APP, WABA, 2).calls == 0
    assert budgets.pairs() == []


def test_each_app_and_waba_has_its_own_budget(budgets):
    budgets.spend(APP, WABA, 5)
    budgets.charge(OTHER_APP, WABA, 5)
    budgets.charge(APP, WABA_2, 5)
    with pytest.raises(WabaRateLimitError):
        budgets.charge(APP, WABA, 5)
    assert sorted(budgets.pairs()) == sorted([(APP, WABA), (OTHER_APP, WABA), (APP, WABA_2)])


def test_a_budget_lowered_under_the_calls_made_reports_over_100(budgets, clock):
    budgets.spend(APP, WABA, 300)
    clock.advance(1800)
    usage = budgets.usage(APP, WABA, 200)
    assert usage.call_count == 150
    assert usage.regain_minutes == 30  # all 300 calls leave together, in half an hour


def test_the_clock_only_moves_forward(clock):
    start = clock.now()
    clock.advance(7200)
    assert clock.now() - start >= 7200 and clock.offset_seconds == 7200
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert clock.offset_seconds == 0


# --------------------------------------------------------------------------- budgets per WABA


def test_meta_default_budget_follows_registered_numbers():
    fixture = fixtures.generate(wabas=3, phones_per_waba=2)
    fixture["phone_numbers"][2]["registered"] = False  # WABA_2: one of two numbers registered
    fixture["phone_numbers"][4]["registered"] = False
    fixture["phone_numbers"][5]["registered"] = False  # third WABA: none registered
    fixture["wabas"].append({"id": "200000000000009", "name": "empty", "apps_with_access": [APP]})
    backend = GraphBackend(fixture, never_verify)
    assert [backend.hourly_budget(w["id"]) for w in fixture["wabas"]] == [5000, 5000, 200, 200]


def test_the_default_fixture_and_generated_ones_get_5000():
    assert GraphBackend(fixtures.load(), never_verify).hourly_budget("102290129340398") == 5000
    unregistered = GraphBackend(fixtures.generate(registered=False), never_verify)
    assert unregistered.hourly_budget(WABA) == 200


def test_a_fixture_or_an_admin_call_sets_the_budget_and_state_keeps_it():
    fixture = fixtures.generate(wabas=2, hourly_budget=1_000_000, registered=False)
    backend = GraphBackend(fixture, never_verify)
    assert backend.hourly_budget(WABA) == 1_000_000
    assert backend.to_fixture() == fixture
    backend.set_hourly_budget(WABA, 7)
    backend.set_hourly_budget(WABA_2, None)
    assert (backend.hourly_budget(WABA), backend.hourly_budget(WABA_2)) == (7, 200)
    state = backend.to_fixture()
    assert state["wabas"][0]["hourly_budget"] == 7 and "hourly_budget" not in state["wabas"][1]
    assert all(p["registered"] is False for p in state["phone_numbers"])


@pytest.mark.parametrize("budget", [0, -5, 2.5, "200", True])
def test_bad_budgets_are_refused(budget):
    fixture = fixtures.generate()
    fixture["wabas"][0]["hourly_budget"] = budget
    with pytest.raises(InvalidFixtureError, match="hourly_budget"):
        GraphBackend(fixture, never_verify)
    backend = GraphBackend(fixtures.generate(), never_verify)
    with pytest.raises(GraphAPIError, match="hourly_budget"):
        backend.set_hourly_budget(WABA, budget)


def test_registered_must_be_a_boolean():
    fixture = fixtures.generate()
    fixture["phone_numbers"][0]["registered"] = "yes"
    with pytest.raises(InvalidFixtureError, match="registered"):
        GraphBackend(fixture, never_verify)


def test_calls_are_charged_to_the_waba_or_the_numbers_waba():
    fixture = fixtures.generate(wabas=2, phones_per_waba=1)
    fixture["wabas"][1]["apps_with_access"] = [OTHER_APP]
    fixture["apps"].append({"id": OTHER_APP, "name": "Other", "callback_url": "https://o.example",
                            "app_secret": "s", "access_tokens": ["t"]})
    backend = GraphBackend(fixture, never_verify)
    assert backend.charged_waba(APP, WABA) == WABA
    assert backend.charged_waba(APP, "300000000000000") == WABA  # a number of WABA
    assert backend.charged_waba(APP, WABA_2) is None  # no access: refused before any budget
    assert backend.charged_waba(APP, "300000000000001") is None
    assert backend.charged_waba(APP, "999") is None
    assert backend.charged_waba(None, WABA) is None
