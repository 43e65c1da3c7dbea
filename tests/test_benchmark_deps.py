"""`python -m benchmarks` (and `python -m benchmarks.shards`) check what they need before they
start: without matplotlib (the `bench` extra) they fail at once saying what to install, or, with
--no-plot, write the tables and skip the plot with a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Runs a module with matplotlib made unimportable, as in an environment without the extra.
WITHOUT_MATPLOTLIB = ("import runpy, sys; sys.modules['matplotlib'] = None; "
                      "sys.argv = [sys.argv[1], *sys.argv[2:]]; "
                      "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_MATPLOTLIB, module, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("module", "args"), [
    ("benchmarks", ["--sizes", "10"]),
    ("benchmarks.shards", ["--numbers", "100", "--configs", "1"]),
])
def test_without_matplotlib_the_run_fails_at_once_saying_what_to_install(module, args, tmp_path):
    done = run(module, *args, "--json", str(tmp_path / "r.json"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "matplotlib" in done.stderr and "pip install -e '.[bench]'" in done.stderr
    assert "--no-plot" in done.stderr
    assert "machine:" not in done.stdout  # nothing started
    assert not (tmp_path / "r.json").exists()


def test_with_no_plot_the_tables_are_written_and_the_plot_skipped(tmp_path):
    out, plot = tmp_path / "BENCHMARKS.md", tmp_path / "results.png"
    done = run("benchmarks", "--render-only", "--no-plot", "--json",
               str(REPO / "benchmarks" / "results.json"), "--out", str(out), "--plot", str(plot))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning: --no-plot" in done.stderr
    assert out.read_text().startswith("# Benchmarks")
    assert not plot.exists()


@pytest.mark.parametrize("mode", ["doors", "scale", "profile"])
def test_a_mode_without_the_pulumi_cli_stops_before_its_first_step_naming_it(mode, tmp_path):
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "benchmarks", mode], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the pulumi CLI is not on PATH" in done.stderr and "tools/install-engine" in done.stderr
    assert "machine:" not in done.stdout  # nothing started


def test_a_mode_starts_with_its_command_the_machine_and_its_own_fields(monkeypatch, capsys):
    from benchmarks import deps

    monkeypatch.setattr(deps, "missing", lambda **_: None)
    monkeypatch.setattr(deps, "warm_bytecode", lambda: [])
    results = deps.begin("doors", ["--sizes", "5,10"], sizes=[5, 10], passes={})
    assert results is not None
    assert results["command"] == "python -m benchmarks doors --sizes 5,10"
    assert results["sizes"] == [5, 10] and results["passes"] == {}
    assert len(results["machine"]["loadavg_start"]) == 3
    assert capsys.readouterr().out.startswith("machine: ")
