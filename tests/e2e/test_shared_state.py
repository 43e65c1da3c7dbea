"""Shared state: two people or CI runners start `pulumi up` of one stack at the same moment, from
two working copies of the project, with one PostgreSQL server as Pulumi's DIY backend.

Pulumi (v3.260.0, pkg/backend/diy/lock.go) locks a DIY-backend stack for every update, refresh and
destroy: each run writes a lock object of its own under `.pulumi/locks/` and checks for other
runs' locks before and after. A run that finds another run's lock fails at once, changing
nothing, with "the stack is currently locked"; it does not wait. Locking has been always on since
v3.20.0 (pulumi/pulumi#8565): `PULUMI_SELF_MANAGED_STATE_LOCKING`, once its opt-in, is ignored, so
setting it to 0 does not turn locking off. Run with -s to see each run's outcome and timings.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import E2EStack, changes, declare_all, live_overrides
from waba_webhooks.emulator import fixtures

LOCKED = "the stack is currently locked"  # Pulumi's refusal (pkg/backend/diy/lock.go)
OVERRIDE_TYPES = "pulumi-python:dynamic/waba-webhooks:"  # both resources' type prefix
ROUNDS = 3  # two runs that reach the lock in the same few milliseconds can both be refused


@dataclass
class Run:
    """One `pulumi up`: which working copy ran it, when (seconds), and its error text if any."""

    workdir: str
    started: float
    ended: float
    error: str | None

    @property
    def applied(self) -> bool:
        return self.error is None

    def describe(self, origin: float) -> str:
        outcome = "applied" if self.applied else (
            "refused: stack locked" if LOCKED in (self.error or "") else "failed")
        return (f"{self.workdir}: {self.started - origin:.2f}s -> {self.ended - origin:.2f}s "
                f"{outcome}")


def race(stacks: dict[str, E2EStack]) -> list[Run]:
    """`pulumi up` of every stack at the same moment: one thread each, released by a barrier."""
    barrier = threading.Barrier(len(stacks))

    def up(workdir: str) -> Run:
        barrier.wait()
        started = time.perf_counter()
        try:
            stacks[workdir].up()
        except CommandError as failure:
            return Run(workdir, started, time.perf_counter(), str(failure))
        return Run(workdir, started, time.perf_counter(), None)

    with ThreadPoolExecutor(len(stacks)) as pool:
        return list(pool.map(up, stacks))


@pytest.mark.parametrize("legacy_setting", [None, "0"],
                         ids=["default", "PULUMI_SELF_MANAGED_STATE_LOCKING=0"])
def test_two_concurrent_ups_of_one_stack_one_applies_the_other_is_refused(
        engine, tmp_path, emulator, callback_receiver, pulumi_home, postgres_server,
        postgres_backend, monkeypatch, legacy_setting):
    if legacy_setting is not None:
        monkeypatch.setenv("PULUMI_SELF_MANAGED_STATE_LOCKING", legacy_setting)
    fixture = fixtures.generate(wabas=2, phones_per_waba=5)
    emulator.admin.seed(fixture)
    token = callback_receiver.verify_token
    first = E2EStack(tmp_path / "a", emulator, pulumi_home, token, backend_url=postgres_backend)
    wanted = declare_all(first, fixture, callback_receiver)
    # The second working copy is a clone of the first: same project, same stack config file.
    shutil.copytree(tmp_path / "a" / "project", tmp_path / "b" / "project")
    second = E2EStack(tmp_path / "b", emulator, pulumi_home, token, backend_url=postgres_backend)
    stacks = {"a": first, "b": second}

    races = [race(stacks)]
    while len(races) < ROUNDS and not any(run.applied for run in races[-1]):
        races.append(race(stacks))  # both refused: nothing changed, so the runs start again
    runs = races[-1]
    origin = min(run.started for run in runs)
    report = "; ".join(run.describe(origin) for run in runs)
    print(f"\nPostgreSQL started in {postgres_server.start_seconds:.2f}s; "
          f"race {len(races)} of {ROUNDS}: {report}")

    winners = [run for run in runs if run.applied]
    losers = [run for run in runs if not run.applied]
    assert len(winners) == 1, f"expected exactly one run to apply: {report}"
    (winner,), (loser,) = winners, losers
    assert LOCKED in (loser.error or ""), loser.error
    assert loser.started < winner.ended, "the runs did not overlap: no race was tested"

    # The state holds every override once, as both working copies see it.
    deployment = first.deployment()
    assert not deployment.get("pending_operations")
    held = Counter(resource["id"] for resource in deployment["resources"]
                   if resource["type"].startswith(OVERRIDE_TYPES))
    assert held == Counter(wanted.keys()), "an override is missing from the state or held twice"
    assert second.deployment() == deployment
    # The emulator holds exactly the declared overrides.
    assert live_overrides(emulator, fixture) == wanted
    # The refused run, retried, has nothing left to do; neither working copy sees a change.
    retried = stacks[loser.workdir].up()
    assert changes(retried.summary.resource_changes) == {}
    for stack in stacks.values():
        assert changes(stack.preview().change_summary) == {}

    password = urlsplit(postgres_backend).password
    assert password
    for stack in stacks.values():
        stack.export()
        assert stack.leaked(emulator.token, token, password) == []
