"""Bookkeeping shared by the property-based test modules: hypothesis settings, and a tally of
the examples each property ran, so that the figure can be checked and reported."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

#: Examples per property; ``WABA_MAX_EXAMPLES`` raises it for a longer search.
BASE_EXAMPLES = int(os.environ.get("WABA_MAX_EXAMPLES", "400"))


def property_settings(max_examples: int) -> settings:
    """No deadline (a shared machine is noisy), nothing written under .hypothesis/."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class ExampleTally:
    """Examples run per property in this session, and the properties that passed."""

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum
        self.counts: Counter[str] = Counter()
        self.passed: set[str] = set()

    def run(self, name: str, prop: Callable[[], None]) -> None:
        """Run a property; it passes only if it ran at least `minimum` examples."""
        before = self.counts[name]
        prop()
        assert self.counts[name] - before >= self.minimum
        self.passed.add(name)

    def check_and_report(self, capsys: pytest.CaptureFixture[str]) -> None:
        """For a module's last test: every passed property ran its examples; with
        ``WABA_REPORT_EXAMPLES=1`` the counts are printed."""
        if not self.passed:
            pytest.skip("no property of this module passed in this session")
        for name in self.passed:
            assert self.counts[name] >= self.minimum, (name, self.counts[name])
        if os.environ.get("WABA_REPORT_EXAMPLES") == "1":
            with capsys.disabled():
                for name in sorted(self.passed):
                    print(f"\n{name}: {self.counts[name]} examples", end="")
                print(f"\ntotal: {sum(self.counts[name] for name in self.passed)} examples")
