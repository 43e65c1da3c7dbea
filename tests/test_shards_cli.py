"""`waba-webhooks shards`: its arguments, and how a set's runs are reported (the runs themselves
are in tests/e2e/test_shards.py)."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from waba_webhooks.commands import reshard, shards, stack_set
from waba_webhooks.commands.stack_set import SetError, StackRun


def test_the_set_is_named_stacks_or_a_prefix_and_count():
    assert shards.stack_names(["a", "b"], None, None) == ["a", "b"]
    assert shards.stack_names([], "prod", 3) == ["prod-1", "prod-2", "prod-3"]


@pytest.mark.parametrize(("stacks", "prefix", "count", "words"), [
    (["a"], "prod", 2, "not both"),
    ([], None, None, "name the stacks"),
    ([], "prod", None, "--count"),
    ([], "prod", 0, "--count must be at least 1"),
    (["a", "a"], None, None, "named twice"),
])
def test_a_bad_set_names_the_argument(stacks, prefix, count, words):
    with pytest.raises(SetError) as caught:
        shards.stack_names(stacks, prefix, count)
    assert words in str(caught.value)


@pytest.mark.parametrize(("args", "words"), [
    (["up"], "name the stacks"),
    (["up", "--stack", "a", "--set-shard"], "--set-shard needs --prefix"),
    (["preview", "--prefix", "p", "--count", "2", "--parallel", "0"], "--parallel"),
    (["up", "--stack", "a", "--routing", "/nonexistent/table.yaml"], "--routing"),
    (["reshard", "--prefix", "p", "--from", "4", "--to", "4"], "nothing to move"),
    (["reshard", "--prefix", "p", "--from", "0", "--to", "4"], "--from and --to"),
])
def test_bad_arguments_exit_2_before_any_stack_runs(emulator, tmp_path, args, words):
    done = run_cli(emulator, "shards", *args, "--cwd", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert "stacks succeeded" not in done.stdout


def test_a_routing_file_is_checked_before_any_stack_runs(emulator, tmp_path):
    table = tmp_path / "table.yaml"
    table.write_text("wabas:\n  - wabaId: 12\n")
    done = run_cli(emulator, "shards", "up", "--stack", "a", "--routing", str(table),
                   "--cwd", str(tmp_path))
    assert done.returncode == 2
    assert "wabas[0].wabaId must be a quoted string of digits" in done.stderr
    # A stack config file holding the table is read too.
    table.write_text('config:\n  waba-webhooks:routing:\n    wabas:\n      - wabaId: "12"\n')
    assert shards.read_table(table) == '{"wabas": [{"wabaId": "12"}]}'


def test_the_summary_has_a_row_per_stack_and_every_failure():
    runs = [StackRun("prod-1", "up", ok=True, changes={"create": 3}, unchanged=1, wall_s=2.04),
            StackRun("prod-2", "up", ok=False, wall_s=1.5,
                     error="error: the stack is currently locked by 1 lock(s)")]
    text = stack_set.summary(runs, 2.5)
    assert "| prod-1 | up | ok | 3 create | 1 | 2.0 s |" in text
    assert "| prod-2 | up | FAILED | - | 0 | 1.5 s |" in text
    assert "1 of 2 stacks succeeded in 2.5 s." in text
    assert "prod-2 failed:\n    error: the stack is currently locked" in text


def test_a_failed_operation_reports_its_diagnostics_and_errors():
    stdout = ("Updating (prod-3):\n  pulumi:pulumi:Stack ...\nDiagnostics:\n"
              "  pulumi-python:dynamic:WabaRouting (waba-routing-2):\n"
              "    error: 1 of 10 writes failed: 3000 (#2200) Callback verification failed\n"
              "\nResources:\n    + 3 created\n\nDuration: 3s\n")
    error = Exception(f"\n code: 255\n stdout: {stdout}\n stderr: error: update failed\n")
    assert stack_set.error_text(error).splitlines() == [
        "  pulumi-python:dynamic:WabaRouting (waba-routing-2):",
        "    error: 1 of 10 writes failed: 3000 (#2200) Callback verification failed",
        "error: update failed"]


def test_reshard_says_which_wabas_move_where():
    table = {"wabas": [{"wabaId": str(200_000_000_000_000 + i)} for i in range(1000)]}
    grow = reshard.moves(table, 4, 5)
    assert set(grow) == {(i, 5) for i in range(1, 5)}  # only to the new stack
    assert 150 < sum(grow.values()) < 250  # about 1 in 5
    shrink = reshard.moves(table, 5, 3)
    assert {a for a, _ in shrink} == {4, 5}  # only from the stacks that go
