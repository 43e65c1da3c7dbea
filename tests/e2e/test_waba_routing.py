"""`WabaRouting` with the real engine where one provider call does many writes: a failed create
and a failed update on a 100-number WABA, then the `up` that completes them with exactly the
missing writes; and what the state holds per number."""

from __future__ import annotations

import json

import pytest
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import changes
from waba_webhooks.emulator import fixtures

NUMBERS = 100


@pytest.fixture
def numbers(emulator) -> list[str]:
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=NUMBERS))
    return emulator.phone_ids


def fail_posts(emulator, numbers: list[str]) -> None:
    """Each number's next write is refused (non-retryable), with a message naming it."""
    for number in numbers:
        emulator.admin.add_fault(method="POST", path=f"/{number}$", status=400,
                                 error={"code": 100, "message": f"(#100) refused {number}"})


def good_writes(emulator) -> int:
    return sum(1 for c in emulator.admin.calls() if c["method"] == "POST" and c["status"] == 200)


def live(emulator, numbers: list[str]) -> dict[str, str]:
    state = {p["id"]: p["overrides"].get(emulator.app_id)
             for p in emulator.admin.state()["phone_numbers"]}
    return {n: state[n] for n in numbers if state[n] is not None}


def test_failed_writes_are_listed_and_the_next_up_makes_exactly_those(
        e2e_stack, emulator, callback_receiver, numbers):
    waba = emulator.waba_ids[0]
    phases = [
        # (what the up does, the routing it declares, the numbers whose write Meta refuses)
        ("create", {n: callback_receiver.url_for(f"p/{n}") for n in numbers}, numbers[3::15]),
        ("update", {n: callback_receiver.url_for(f"moved/{n}") for n in numbers}, numbers[10::20]),
    ]
    for step, wanted, failing in phases:
        e2e_stack.declare(routings=[{"name": "main", "id": waba, "phones": wanted}])
        fail_posts(emulator, failing)
        with pytest.raises(CommandError) as caught:
            e2e_stack.up()
        text = str(caught.value)
        assert f"{len(failing)} of {NUMBERS} writes on WABA {waba} failed" in text, step
        assert all(f"phone number {n}: (#100) refused {n}" in text for n in failing), step
        done = {n for n, uri in live(emulator, numbers).items() if uri == wanted[n]}
        assert done == set(numbers) - set(failing), step
        # The engine keeps no state for a failed create, and the old state for a failed update.
        routings = [r for r in e2e_stack.deployment().get("resources", [])
                    if r["type"].endswith("WabaRouting")]
        assert len(routings) == (0 if step == "create" else 1), step

        before = good_writes(emulator)
        assert changes(e2e_stack.up().summary.resource_changes) == {step: 1}
        assert good_writes(emulator) - before == len(failing), f"{step}: beyond the missing"
        assert live(emulator, numbers) == wanted, step
    assert changes(e2e_stack.preview().change_summary) == {}


def test_state_per_number_and_no_secret_in_it(e2e_stack, emulator, callback_receiver, numbers):
    """Prints the state's bytes per number (compact JSON of the resource's entry, as the
    benchmarks count it); the verify token is only ever ciphertext."""
    waba = emulator.waba_ids[0]
    wanted = {n: callback_receiver.url_for(f"p/{n}") for n in numbers}
    e2e_stack.declare(routings=[{"name": "main", "id": waba, "callbackUri": callback_receiver.url,
                                 "phones": wanted}])
    e2e_stack.up()
    [entry] = [r for r in e2e_stack.deployment()["resources"]
               if r["type"].endswith("WabaRouting")]
    compact = len(json.dumps(entry, separators=(",", ":")))
    assert "ciphertext" in json.dumps(entry["outputs"]["verify_token"])
    assert callback_receiver.verify_token not in e2e_stack.export()
    print(f"\nWabaRouting state for {NUMBERS} numbers: {compact} B, {compact / NUMBERS:.0f} B per "
          f"number (callback URIs of {len(wanted[numbers[0]])} characters)")
