"""Never lose a webhook: faults, interruption, competing stacks and secrets, with the real
engine against the emulator. Figures a reader may want (faults survived, retries, wall-time cost)
are printed; run with ``-s`` to see them."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation.errors import CommandError

from tests import processes
from tests.e2e.conftest import (
    REPO,
    ROUTING_PROGRAM,
    E2EStack,
    changes,
    declare_all,
    live_overrides,
)
from waba_webhooks.emulator import fixtures

SCALE = 20  # 20 WABAs with one phone number each: 40 overrides


def seed_scale(emulator) -> dict:
    fixture = fixtures.generate(wabas=SCALE, phones_per_waba=1)
    emulator.admin.seed(fixture)
    return fixture


def good_writes(emulator) -> int:
    """Writes the emulator accepted (a slow answer is a fault that still succeeds)."""
    return sum(1 for c in emulator.admin.calls() if c["method"] == "POST" and c["status"] == 200)


RETRYABLE_FAULTS = {
    "rate limit 4 (X-App-Usage)": {
        "status": 400, "error": {"code": 4, "message": "(#4) Application request limit reached"},
        "headers": {"X-App-Usage": '{"call_count": 100, "total_time": 20, "total_cputime": 10}'}},
    "rate limit 80007 (X-Business-Use-Case-Usage)": {
        "status": 400, "error": {"code": 80007, "message": "WABA rate limit hit"},
        "headers": {"X-Business-Use-Case-Usage": '{"1": [{"type": "whatsapp", "call_count": '
                    '100, "estimated_time_to_regain_access": 0}]}'}},
    "throughput 130429": {
        "status": 400, "error": {"code": 130429, "message": "Rate limit hit"}},
    "transient code 1": {
        "status": 500, "error": {"code": 1, "message": "An unknown error occurred",
                                 "is_transient": True}},
    "transient code 2": {
        "status": 503, "error": {"code": 2, "message": "Service temporarily unavailable",
                                 "is_transient": True}},
    "is_transient flag": {
        "status": 400, "error": {"code": 131000, "message": "Something went wrong",
                                 "is_transient": True}},
    "HTTP 500": {"status": 500},
    "HTTP 503": {"status": 503},
    "dropped connection": {"drop_connection": True},
}
SLOW = {"latency_ms": 1500}
PER_KIND = 3


def test_up_of_40_overrides_survives_injected_faults(e2e_stack, emulator, callback_receiver):
    fixture = seed_scale(emulator)
    wanted = declare_all(e2e_stack, fixture, callback_receiver)

    started = time.perf_counter()
    e2e_stack.up()
    clean_seconds = time.perf_counter() - started
    assert live_overrides(emulator, fixture) == wanted
    e2e_stack.destroy()
    assert live_overrides(emulator, fixture) == {}

    emulator.admin.reset()  # same fixture, fresh counters
    # Each kind hits the calls of one WABA or phone number, PER_KIND times in a row.
    targets = [obj["id"] for pair in zip(fixture["wabas"], fixture["phone_numbers"],
                                         strict=True) for obj in pair]
    for target, spec in zip(targets, RETRYABLE_FAULTS.values(), strict=False):
        emulator.admin.add_fault(count=PER_KIND, path=f"/{target}(/|$)", **spec)
    # A slow answer is not retried: it slows both calls (read, write) of its override.
    emulator.admin.add_fault(count=2, path=f"/{targets[len(RETRYABLE_FAULTS)]}(/|$)", **SLOW)
    started = time.perf_counter()
    e2e_stack.up()
    faulty_seconds = time.perf_counter() - started

    assert live_overrides(emulator, fixture) == wanted, "an override is missing or wrong"
    counts = emulator.admin.counts()
    injected = len(RETRYABLE_FAULTS) * PER_KIND + 2
    assert counts["faults_injected"] == injected, "not every injected fault was hit"
    assert emulator.admin.faults() == []
    faulted = [c for c in emulator.admin.calls() if c["fault"]]
    retries = sum(1 for c in faulted if c["status"] != 200)
    assert good_writes(emulator) == 2 * SCALE, "writes beyond one per override"
    print(f"\nfaults injected and survived: {injected} ({PER_KIND} of each of "
          f"{len(RETRYABLE_FAULTS)} retryable kinds + 2 slow answers); "
          f"retried calls: {retries}; Graph calls: {counts['total']} "
          f"({counts['reads']} reads, {counts['writes']} writes); "
          f"up without faults {clean_seconds:.1f}s, with faults {faulty_seconds:.1f}s")


NON_RETRYABLE = {
    "invalid token": ({"status": 401, "error": {"code": 190, "type": "OAuthException",
                                                "message": "Error validating access token"}},
                      "whatsapp:accessToken"),
    "permission": ({"status": 403, "error": {"code": 200, "message": "(#200) Permissions error"}},
                   "whatsapp_business_management"),
    "invalid parameter": ({"status": 400, "error": {"code": 100, "message": "(#100) Bad value"}},
                          "(#100) Bad value"),
}


@pytest.mark.parametrize("kind", NON_RETRYABLE)
def test_non_retryable_error_fails_fast_with_metas_message(e2e_stack, emulator,
                                                           callback_receiver, kind):
    fault, hint = NON_RETRYABLE[kind]
    phone = emulator.phone_ids[0]
    e2e_stack.declare(phones=[{"name": "main", "id": phone, "callbackUri": callback_receiver.url}])
    emulator.admin.add_fault(count=5, method="GET", **fault)
    with pytest.raises(CommandError) as caught:
        e2e_stack.up()
    text = str(caught.value)
    assert fault["error"]["message"] in text
    assert "fbtrace_id" in text and hint in text
    assert emulator.admin.counts()["faults_injected"] == 1, "a non-retryable error was retried"
    assert emulator.admin.counts()["writes"] == 0


KILLED_WABAS, KILLED_NUMBERS = 10, 4  # 10 WabaRoutings: 10 WABA and 40 number overrides


def readme_recovery_recipe() -> list[list[str]]:
    """The commands of the documented recipe for an interrupted `pulumi up`
    (docs/operations.md), exactly as printed there (comments dropped)."""
    text = (REPO / "docs" / "operations.md").read_text()
    lines = text[text.index("- **An interrupted `pulumi up`**"):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "```sh") + 1
    end = next(i for i, line in enumerate(lines) if i > start and line.strip() == "```")
    commands = [shlex.split(line, comments=True) for line in lines[start:end]]
    return [command for command in commands if command]


def routing_table(fixture: dict, receiver) -> dict:
    """Each WABA of the fixture with an override of its own, and each of its numbers with
    another."""
    return {
        "wabas": [{"wabaId": w["id"], "callbackUri": receiver.url_for(f"w/{w['id']}"),
                   "verifyToken": "main"} for w in fixture["wabas"]],
        "phoneNumbers": [{"phoneNumberId": p["id"], "wabaId": p["waba_id"],
                          "callbackUri": receiver.url_for(f"p/{p['id']}"), "verifyToken": "main"}
                         for p in fixture["phone_numbers"]],
    }


def routing_stack(tmp_path: Path, emulator, receiver, pulumi_home: Path,
                  fixture: dict) -> tuple[E2EStack, dict[str, str]]:
    """A stack of the routing program (one `WabaRouting` per WABA) declaring
    routing_table(fixture); returns it and the overrides it declares (object id -> URL)."""
    emulator.admin.seed(fixture)
    table = routing_table(fixture, receiver)
    stack = E2EStack(tmp_path, emulator, pulumi_home, receiver.verify_token,
                     program=ROUTING_PROGRAM, project_name="waba-webhooks")
    stack.stack.set_all_config({
        "waba-webhooks:routing": auto.ConfigValue(json.dumps(table)),
        "waba-webhooks:verifyTokens": auto.ConfigValue(
            json.dumps({"main": receiver.verify_token}), secret=True),
    })
    wanted = {entry.get("phoneNumberId") or entry["wabaId"]: entry["callbackUri"]
              for entry in table["wabas"] + table["phoneNumbers"]}
    return stack, wanted


def start_up(stack: E2EStack) -> subprocess.Popen:
    """`pulumi up --yes --skip-preview` of the stack, in a session of its own: every process of
    the run (the CLI, the language host and the program, the provider) keeps that session id
    (the pid of the CLI), even once orphaned."""
    return subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview"],
                            cwd=stack.stack.workspace.work_dir, env={**os.environ, **stack.env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_killed_up_of_waba_routings_converges_by_the_readme_recipe(
        engine, tmp_path: Path, emulator, callback_receiver, pulumi_home):
    """A `pulumi up` of the routing program (one `WabaRouting` per WABA) whose whole process tree
    is killed part-way, as when a CI runner is lost: nothing of the run survives, and the
    documented recovery recipe, run word for word, converges to exactly the declared routing."""
    fixture = fixtures.generate(wabas=KILLED_WABAS, phones_per_waba=KILLED_NUMBERS)
    stack, wanted = routing_stack(tmp_path, emulator, callback_receiver, pulumi_home, fixture)
    env = {**os.environ, **stack.env}
    workdir = stack.stack.workspace.work_dir
    emulator.admin.set_latency(150)  # slow enough to kill part-way
    up = start_up(stack)
    try:
        deadline = time.monotonic() + 180
        while good_writes(emulator) < 8 and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.05)
        killed = processes.kill_session(up.pid)
    finally:
        processes.kill_session(up.pid)
        up.wait(timeout=60)
    assert processes.session_members(up.pid) == [], "a process of the killed run is alive"
    assert any("pulumi.dynamic" in k for k in killed), killed
    assert any("pulumi-language-python" in k for k in killed), killed
    # Nothing of the run is left to write: this count is final.
    written_before_kill = len(live_overrides(emulator, fixture))
    assert 0 < written_before_kill < len(wanted), "the kill did not land part-way"

    emulator.admin.set_latency(0)
    # What a user meets first: the killed run's lock, named, refuses the next run.
    locked = subprocess.run(["pulumi", "refresh", "--clear-pending-creates", "--yes"], cwd=workdir,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert locked.returncode != 0 and "the stack is currently locked by 1 lock(s)" in locked.stderr
    assert f"(pid {up.pid})" in locked.stderr, locked.stderr
    recipe = readme_recovery_recipe()
    assert [c[:2] for c in recipe] == [["pulumi", "cancel"], ["pulumi", "refresh"],
                                       ["pulumi", "up"]], recipe
    try:
        for command in recipe:
            done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                                  timeout=600, check=False)
            if done.returncode != 0 and "failed to load checkpoint: EOF" in done.stderr:
                # The documented step for a kill between the state file and its sidecar.
                for sidecar in stack.state_dir.rglob("*.json.attrs"):
                    if sidecar.stat().st_size == 0:
                        sidecar.unlink()
                done = subprocess.run(command, cwd=workdir, env=env, capture_output=True,
                                      text=True, timeout=600, check=False)
            stack.outputs.extend([done.stdout, done.stderr])
            assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout}{done.stderr}"

        assert live_overrides(emulator, fixture) == wanted, "orphaned or missing overrides"
        state = stack.deployment()
        assert not state.get("pending_operations")
        routings = [r for r in state["resources"] if r["type"].endswith(":WabaRouting")]
        assert len(routings) == KILLED_WABAS
        assert changes(stack.preview().change_summary) == {}
    finally:
        stack.export()
        stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, callback_receiver.verify_token) == []
    print(f"\nkilled the whole `pulumi up` ({len(killed)} processes) after {written_before_kill} "
          f"of {len(wanted)} overrides; the documented recipe ({len(recipe)} commands) converged "
          f"to exactly the {len(wanted)} declared overrides")


def test_language_host_exits_when_its_engine_is_killed(
        engine, tmp_path: Path, emulator, callback_receiver, pulumi_home):
    """Only the `pulumi` process of a running `up` is killed (its machine lives on): the
    language host (tools/engine/langhost) sees its engine stop answering and exits, taking the
    program with it, and our provider process (`resources/lifeline.py`) ends too instead of
    waiting for its dead engine forever, as the SDK's own provider process would."""
    fixture = fixtures.generate(wabas=KILLED_WABAS, phones_per_waba=KILLED_NUMBERS)
    stack, _ = routing_stack(tmp_path, emulator, callback_receiver, pulumi_home, fixture)
    emulator.admin.set_latency(150)
    up = start_up(stack)
    try:
        deadline = time.monotonic() + 180
        while good_writes(emulator) < 1 and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.05)
        run = {p.pid: processes.describe(p) for p in processes.session_members(up.pid)}
        hosts = [pid for pid, what in run.items() if "pulumi-language-python " in what]
        programs = [pid for pid, what in run.items() if "pulumi-language-python-exec" in what]
        providers = [pid for pid, what in run.items() if "-m pulumi.dynamic" in what]
        assert len(hosts) == len(programs) == len(providers) == 1, run
        up.kill()
        up.wait(timeout=60)

        # Bounded, not timed: the host checks its engine every 5 s, the provider every 2 s.
        left = processes.still_running(
            [p for p in processes.session_members(up.pid)
             if p.pid in hosts + programs + providers],
            grace=120)
        assert left == [], ("outlived its engine: "
                            + "; ".join(processes.describe(p) for p in left))
    finally:
        processes.kill_session(up.pid)
        up.wait(timeout=60)
        subprocess.run(["pulumi", "cancel", "--yes"], cwd=stack.stack.workspace.work_dir,
                       env={**os.environ, **stack.env}, capture_output=True, timeout=300,
                       check=False)  # the killed run's lock
        stack.stack.workspace.remove_stack("test", force=True)


def test_second_stack_on_the_same_number_fails_instead_of_flapping(
        engine, tmp_path: Path, emulator, callback_receiver, pulumi_home):
    phone = emulator.phone_ids[0]
    first = E2EStack(tmp_path / "a", emulator, pulumi_home, callback_receiver.verify_token,
                     name="first")
    second = E2EStack(tmp_path / "b", emulator, pulumi_home, callback_receiver.verify_token,
                      name="second")
    first.declare(phones=[{"name": "line", "id": phone, "callbackUri": callback_receiver.url}])
    second.declare(phones=[{"name": "line", "id": phone,
                            "callbackUri": callback_receiver.url_for("other-team")}])
    first.up()
    with pytest.raises(CommandError) as caught:
        second.up()
    assert callback_receiver.url in str(caught.value)
    assert "adopt_existing" in str(caught.value)
    assert emulator.phone_override(phone) == callback_receiver.url
    # The first stack's next run sees no drift: nothing flapped.
    assert changes(first.preview().change_summary) == {}


def test_destroy_leaves_an_override_changed_by_hand_and_warns(e2e_stack, emulator,
                                                             callback_receiver):
    phone = emulator.phone_ids[0]
    e2e_stack.declare(phones=[{"name": "main", "id": phone, "callbackUri": callback_receiver.url}])
    e2e_stack.up()
    emulator.admin.set_phone_override(phone, emulator.app_id, "https://hand-made.example/hook")
    result = e2e_stack.destroy()
    assert emulator.phone_override(phone) == "https://hand-made.example/hook"
    output = result.stdout + result.stderr
    assert "https://hand-made.example/hook" in output and callback_receiver.url in output
