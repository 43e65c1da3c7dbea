"""A step's CPU split by process role: the engine (the pulumi CLI and its language host), the
program, and the provider (the ``whatsapp`` plugin, the SDK's dynamic provider or a floor's);
"other" is what else they start (the language host's look at the installed packages). Sampled
from /proc while the step runs.

Each sample reads the user + system time of every process under this one; a process's last
reading before it ends is kept, so what it spends after that (at most one interval) is missed.
The split is therefore a little below the exact total (``RUSAGE_CHILDREN``), which the
benchmark keeps as its figure: the split says which process the cost is in, not how much.
"""

from __future__ import annotations

import os
from typing import Any

from .rss import PROC, Sampler, _cmdline, _stat

ROLES = ("engine", "program", "provider", "other")


def role(argv: list[str]) -> str:
    """Which part of a step a process is, from its command line."""
    words = " ".join(argv[:4])
    if "pulumi-language-python-exec" in words:
        return "program"
    if "pulumi-resource-" in words or "-m pulumi.dynamic" in words:
        return "provider"
    head = os.path.basename(argv[0]) if argv else ""
    if head == "pulumi" or head.startswith("pulumi-language-"):
        return "engine"
    return "other"


class CpuByRole(Sampler):
    """While running (a context manager), samples the CPU of every process under this one;
    `result()` sums it by `role`."""

    def __init__(self, interval_s: float = 0.1) -> None:
        super().__init__(interval_s, "cpu-by-role")
        self._cpu: dict[int, float] = {}
        self._roles: dict[int, str] = {}
        self._before: dict[int, float] = {}
        # Processes seen not to be under this one, never read again: a sample reads only the
        # tree's and the new ones' stat files (reading them all took 4 ms a sample).
        self._foreign: set[int] = set()
        self._parents: dict[int, int] = {}

    def _tree(self) -> dict[int, float]:
        """CPU seconds of every process under this one, now."""
        found: dict[int, float] = {}
        for name in os.listdir(PROC):
            if not name.isdigit() or int(name) in self._foreign:
                continue
            read = _stat(name)
            if read is not None:
                self._parents[int(name)] = read[0]
                found[int(name)] = read[1]
        mine: dict[int, float] = {}
        for pid, cpu in found.items():
            if pid == self._root:  # this process (the emulator, the receiver) is not the step's
                continue
            current, chain = pid, []
            while current not in (self._root, 0, 1) and current not in self._foreign:
                chain.append(current)
                current = self._parents.get(current, 0)
            if current == self._root:
                mine[pid] = cpu
            else:  # it ended at init or at a process known not to be under this one
                self._foreign.update(chain)
        return mine

    def sample(self) -> None:
        for pid, cpu in self._tree().items():
            self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
            # Read until the process has exec'd: after its fork it still shows its parent's.
            if self._roles.get(pid, "other") == "other":
                self._roles[pid] = role(_cmdline(str(pid)))

    def first(self) -> None:
        self._before = self._tree()  # processes already running, counted from here

    def result(self) -> dict[str, Any]:
        """Seconds of CPU per role during the run."""
        totals = dict.fromkeys(ROLES, 0.0)
        for pid, cpu in self._cpu.items():
            totals[self._roles.get(pid, "other")] += cpu - self._before.get(pid, 0.0)
        return {name: round(seconds, 3) for name, seconds in totals.items()}
