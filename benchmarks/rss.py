"""Peak resident memory of the processes a step starts, by executable (the ``whatsapp`` plugin:
``pulumi-resource-whatsapp``), sampled from /proc while the step runs.

Each sample reads the kernel's high-water mark of every matching process (``VmHWM`` in
/proc/<pid>/status), so a peak between two samples is not missed as long as the process lives
at a later sample; a process that starts and ends between two samples is (0.5 s apart: the
plugin lives for the whole step)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Self

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")


def _cmdline(pid: str) -> list[str]:
    try:
        return (PROC / pid / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _hwm_kib(pid: str) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a process in KiB; (0, 0) when it is gone."""
    peak = now = 0
    try:
        for line in (PROC / pid / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                now = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return peak, now


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds: user + system) of a process; None when it is gone."""
    try:
        stat = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ... utime stime ...": comm may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _descends_from(pid: str, root: int) -> bool:
    """Whether process ``pid`` is ``root`` or one of its descendants (on a shared machine,
    other people's runs start the same plugin)."""
    current = int(pid)
    for _ in range(32):
        if current == root:
            return True
        if current <= 1:
            return False
        read = _stat(str(current))
        if read is None:
            return False
        current = read[0]
    return False


class Sampler:
    """A context manager that calls `sample` every ``interval_s`` on a thread while it runs,
    `first` when it starts and `sample` once more when it ends."""

    def __init__(self, interval_s: float, name: str) -> None:
        self._root = os.getpid()
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=name)

    def sample(self) -> None:
        raise NotImplementedError

    def first(self) -> None:
        self.sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> Self:
        self.first()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class PeakRss(Sampler):
    """While running (a context manager), samples every process of this one's tree whose
    command's first or second word ends with ``executable`` (a console script runs as
    ``python <script>``)."""

    def __init__(self, executable: str, interval_s: float = 0.5) -> None:
        super().__init__(interval_s, "peak-rss")
        self.executable = executable
        self._seen: dict[str, bool] = {}
        self._peak_kib: dict[str, int] = {}
        self._sum_kib = 0

    def _matches(self, pid: str) -> bool:
        # Only a match is remembered: between its fork and its exec a new process still shows
        # its parent's command line.
        if not self._seen.get(pid):
            argv = _cmdline(pid)[:2]
            self._seen[pid] = (any(arg.endswith(self.executable) for arg in argv)
                               and _descends_from(pid, self._root))
        return self._seen[pid]

    def sample(self) -> None:
        total = 0
        for pid in (name for name in os.listdir(PROC) if name.isdigit()):
            if self._matches(pid):
                peak, now = _hwm_kib(pid)
                if peak:
                    self._peak_kib[pid] = max(self._peak_kib.get(pid, 0), peak)
                total += now
        self._sum_kib = max(self._sum_kib, total)

    def result(self) -> dict[str, Any]:
        """The largest peak of one process, the largest sum of all at one sample (MiB), and
        how many processes were seen."""
        return {"peak_mib": round(max(self._peak_kib.values(), default=0) / 1024, 1),
                "sum_peak_mib": round(self._sum_kib / 1024, 1),
                "processes": len(self._peak_kib)}
