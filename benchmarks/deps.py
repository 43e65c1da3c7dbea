"""What a benchmark run needs, checked before it starts (a run takes minutes; finding a missing
piece at the end loses them)."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

INSTALL_BENCH = ".venv/bin/pip install -e '.[bench]'"
ENGINE_PATH = ('export PATH="$(tools/install-engine | tail -n1):$PWD/.venv/bin:$PATH" '
               "PULUMI_SKIP_UPDATE_CHECK=true")


def has_matplotlib() -> bool:
    """Whether matplotlib (the ``bench`` extra) can be imported."""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


def missing(*, plot: bool, engine: bool) -> str | None:
    """None when everything asked for is there, else what is missing and how to get it."""
    problems = []
    if engine and shutil.which("pulumi") is None:
        problems.append(f"the pulumi CLI is not on PATH: {ENGINE_PATH}")
    if plot and not has_matplotlib():
        problems.append("matplotlib (the plot) is not installed: "
                        f"{INSTALL_BENCH}, or pass --no-plot to write the tables only")
    if not problems:
        return None
    return "cannot start the benchmark:\n" + "\n".join(f"- {p}" for p in problems)


def warm_bytecode() -> list[str]:
    """Compile this package's and the benchmark's modules to bytecode now, and return their
    folders. A wheel installed by pip has its bytecode; a source checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` (as some CI and sandboxes set) would otherwise compile every
    module again in every process a step starts (the plugin, the dynamic provider, the
    program): about 70 ms of CPU per process on a quiet machine, more than the plugin's own
    imports, counted against us and not against the floor. `compileall` writes the bytecode
    whatever that variable says; the processes then read it."""
    import compileall
    from pathlib import Path

    import waba_webhooks

    folders = [Path(waba_webhooks.__file__).parent, Path(__file__).parent]
    for folder in folders:
        compileall.compile_dir(str(folder), quiet=1)
    return [str(folder) for folder in folders]


def begin(mode: str, argv: list[str], *, go: bool = False, **fields: Any) -> dict[str, Any] | None:
    """What the doors, scale and profile modes do before their first step: check what the run
    needs (the pulumi CLI; with ``go``, ``go`` for pprof), compile the bytecode, and return the
    results' header (the command, the start, the machine, then ``fields``), printing the
    machine. None, after saying what is missing, when the run cannot start."""
    from .__main__ import machine

    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    problem = missing(plot=False, engine=True)
    if problem is None and go and shutil.which("go") is None:
        problem = "cannot start: `go` (for go tool pprof) is not on PATH"
    if problem:
        print(problem, file=sys.stderr)
        return None
    warm_bytecode()
    results: dict[str, Any] = {
        "command": " ".join([f"python -m benchmarks {mode}", *argv]),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(), **fields,
    }
    print(f"machine: {results['machine']}", flush=True)
    return results


def finish(results: dict[str, Any], json_path: Path, md_path: Path,
           render: Callable[[dict[str, Any]], str]) -> int:
    """How the doors and scale modes end: the load average at the end into the results, the
    results to ``json_path``, their rendering to ``md_path`` and the terminal; 0."""
    results["machine"]["loadavg_end"] = os.getloadavg()
    json_path.write_text(json.dumps(results, indent=2))
    text = render(results)
    md_path.write_text(text)
    print("\n" + text + f"\nwrote {json_path} and {md_path}", flush=True)
    return 0
