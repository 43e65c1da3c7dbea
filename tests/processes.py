"""The processes a test run started: finding them, killing them, and proving none is left.

Every process the test session starts inherits ``WABA_WEBHOOKS_TEST_RUN=<id>`` (set by
``tests/conftest.py`` when the session starts; the Automation API, ``subprocess`` and the
``pulumi`` engine all pass their environment on). A process of this run is then one that
descends from the pytest process, or one that carries this run's id even after its parent died
and it was re-parented (an orphaned dynamic provider, a daemonized PostgreSQL server). Other
pytest runs on the same machine carry other ids and are never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterable

import psutil

RUN_ENV = "WABA_WEBHOOKS_TEST_RUN"


def mark_run() -> str:
    """Give this process (and so everything it starts from now on) a fresh run id."""
    run_id = uuid.uuid4().hex
    os.environ[RUN_ENV] = run_id
    return run_id


def _carries(process: psutil.Process, run_id: str) -> bool:
    try:
        return process.environ().get(RUN_ENV) == run_id
    except (psutil.Error, OSError):  # gone, a zombie, or not ours to read
        return False


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def started_by_this_run() -> list[psutil.Process]:
    """Running processes of this run (see the module docstring), without pytest itself. A zombie
    (exited, not yet waited for) is not running and not listed."""
    me = psutil.Process()
    run_id = os.environ.get(RUN_ENV, "")
    found = {p.pid: p for p in me.children(recursive=True)}
    if run_id:  # and orphans that carry this run's id
        for process in psutil.process_iter():
            if process.pid != me.pid and process.pid not in found and _carries(process, run_id):
                found[process.pid] = process
    return [p for p in found.values() if _running(p)]


def still_running(processes: Iterable[psutil.Process], grace: float) -> list[psutil.Process]:
    """Those of ``processes`` still running after waiting up to ``grace`` seconds for them to
    exit (a process that was just told to stop may need a moment)."""
    left = [p for p in processes if _running(p)]
    deadline = time.monotonic() + grace
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [p for p in left if _running(p)]
    return left


def describe(process: psutil.Process) -> str:
    """``pid <n>: <command line>`` (shortened), for a failure message."""
    try:
        command = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        command = "?"
    return f"pid {process.pid}: {command[:200]}"


def kill(processes: Iterable[psutil.Process]) -> None:
    """SIGKILL each of ``processes`` that still runs (a pid reused since is left alone)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running():
                process.send_signal(signal.SIGKILL)


def session_members(session_id: int) -> list[psutil.Process]:
    """Running processes of the session ``session_id`` (a process keeps its session when its
    parent dies, so this finds a killed run's orphans too)."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session_id and _running(process):
                members.append(process)
        except (ProcessLookupError, PermissionError, psutil.Error):
            pass
    return members


def kill_session(session_id: int, timeout: float = 60) -> list[str]:
    """Kill every process of the session ``session_id`` at once, as a machine that loses a CI
    job does: stop them all first (so none can start another or finish a write while the others
    die), then SIGKILL them, until none is left. Returns what was killed (see describe())."""
    killed: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    while members := session_members(session_id):
        if time.monotonic() > deadline:
            raise TimeoutError("still running after SIGKILL: "
                               + "; ".join(describe(p) for p in members))
        for process in members:
            with contextlib.suppress(psutil.Error):
                process.send_signal(signal.SIGSTOP)
        for process in members:
            killed.setdefault(process.pid, describe(process))
        kill(members)
        still_running(members, grace=5)
    return list(killed.values())
