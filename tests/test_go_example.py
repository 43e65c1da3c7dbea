"""examples/go's unit tests (main_test.go): the routing program run with pulumi.WithMocks, no
engine, plugin or Graph API, as a Go infra repo tests its routing. `go test` runs them in place
(the example's `replace` points at this checkout's sdk/go), against the checked-in go.sum.
Missing Go is a failure, never a skip."""

from __future__ import annotations

from tests.golang import EXAMPLE_DIR, go

#: The tests main_test.go holds: each must run and pass (none skipped or left out).
TESTS = ("TestRoutingDeclaresTheThreeRules", "TestVerifyTokenStaysSecret",
         "TestAppSubscriptionTakesOverTheDashboardSetting")


def test_example_unit_tests_pass_with_mocks():
    done = go(["test", "-count=1", "-v", "./..."], EXAMPLE_DIR)
    for name in TESTS:
        assert f"--- PASS: {name} " in done.stdout, done.stdout
    assert "--- FAIL" not in done.stdout and "--- SKIP" not in done.stdout, done.stdout
