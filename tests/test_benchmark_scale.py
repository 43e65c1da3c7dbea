"""`python -m benchmarks scale`'s own measures: the plugin's peak RSS read from /proc, Meta's
hourly budget read from the emulator's usage, and issue 27's targets read from a step table
(no pulumi run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from benchmarks import scale
from benchmarks.rss import PeakRss


def test_peak_rss_finds_a_console_script_by_its_name(tmp_path):
    script = tmp_path / "pulumi-resource-fake"
    script.write_text("import sys, time\nblock = bytearray(40 * 1024 * 1024)\n"
                      "sys.stdout.write('up\\n'); sys.stdout.flush(); time.sleep(30)\n")
    with PeakRss("pulumi-resource-fake", interval_s=0.05) as rss:
        child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
        try:
            assert child.stdout is not None and child.stdout.readline() == b"up\n"
            time.sleep(0.2)
        finally:
            child.kill()
            child.wait()
    found = rss.result()
    assert found["processes"] == 1
    assert 40 <= found["peak_mib"] < 200


def test_peak_rss_leaves_out_other_peoples_plugins(tmp_path):
    """A plugin this process did not start (here: its parent shell exited, so it is nobody's
    child of ours) is not counted, as other runs' plugins on a shared machine are not."""
    script = tmp_path / "pulumi-resource-other"
    script.write_text("import sys, time\nsys.stdout.write('up\\n'); sys.stdout.flush()\n"
                      "time.sleep(30)\n")
    shell = subprocess.run(["sh", "-c", f'"{sys.executable}" "{script}" >/dev/null 2>&1 & echo $!'],
                           capture_output=True, text=True, check=True)
    orphan = int(shell.stdout.strip())
    try:
        time.sleep(0.3)
        with PeakRss("pulumi-resource-other", interval_s=0.05) as rss:
            time.sleep(0.2)
        assert rss.result()["processes"] == 0
    finally:
        os.kill(orphan, signal.SIGKILL)


class _Admin:
    def __init__(self, rows):
        self.rows = rows

    def usage(self):
        return self.rows


def test_the_busiest_waba_decides_whether_the_budget_held():
    held = scale.budget(_Admin([{"calls": 30, "hourly_budget": 5000},
                                {"calls": 150, "hourly_budget": 200}]))
    assert held == {"max_calls": 150, "hourly_budget": 200, "max_percent": 75.0,
                    "respected": True}
    assert scale.budget(_Admin([{"calls": 200, "hourly_budget": 200}]))["respected"] is False
    assert scale.budget(_Admin([]))["respected"] is True


def test_targets_of_a_configuration():
    def row(wall, rss=80.0, percent=1.0, failed=0):
        return {"wall_s": wall, "plugin_rss": {"peak_mib": rss},
                "budget": {"max_calls": 12, "hourly_budget": 5000, "max_percent": percent,
                           "respected": percent < 100},
                "failed": failed}
    config = {"steps": {"create": row(200.0, rss=600.0), "preview": row(9.0),
                        "refresh": row(61.0), "destroy": row(100.0, failed=1)}}
    met = {what: ok for what, _target, _value, ok in scale.verdicts(config)}
    assert met == {"preview (no change) wall time": True, "refresh wall time": False,
                   "the plugin's peak RSS": False,
                   "Graph's hourly budget, busiest WABA": True,
                   "stacks that failed a step": False}


def test_the_floor_is_shown_beside_the_stacks_and_judged_by_no_target():
    def row(wall):
        return {"wall_s": wall, "stack_wall_s": {"a": wall}, "graph_calls": 0,
                "in_flight_max": 0, "cpu": {"stacks_s": 1.0},
                "plugin_rss": {"peak_mib": 50.0, "sum_peak_mib": 50.0},
                "state_bytes_max": 1000,
                "budget": {"max_calls": 0, "hourly_budget": 5000, "max_percent": 0,
                           "respected": True},
                "failed": 0}
    steps = {step: row(12.0) for step in scale.STEPS}
    results = {"wabas": 10, "shards": 2, "latency_ms": 150, "command": "python -m benchmarks "
               "scale", "started": "now",
               "machine": {"loadavg_start": [0.1], "nproc": 2, "pulumi_cli": "v3"},
               "configs": [{"k": 1, "label": "one stack", "floor": False, "steps": steps},
                           {"k": 1, "label": "native floor, one stack", "floor": True,
                            "steps": steps}]}
    text = scale.render(results)
    assert "| native floor, one stack | preview (no change) | 12.0 |" in text
    assert "targets, one stack" in text
    assert "targets, native floor" not in text
