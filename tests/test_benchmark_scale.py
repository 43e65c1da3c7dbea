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
