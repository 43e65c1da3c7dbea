"""What a benchmark run needs, checked before it starts (a run takes minutes; finding a missing
piece at the end loses them)."""

from __future__ import annotations

import importlib.util
import shutil

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
