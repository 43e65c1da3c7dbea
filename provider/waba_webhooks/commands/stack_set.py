"""A set of stacks of one project run side by side: each stack's own ``pulumi`` operation through
the Automation API, up to ``parallel`` at once, and what each did (`StackRun`, `summary`).

One line per stack when it ends, then a table of what each changed and how long it took, and
every failed stack's error; a failed stack never stops the others. Thin on purpose: the stacks
do the work, and each keeps its own lock in the backend, so two runs of a set never interleave
on one stack (the second is refused on that stack, and its error says so). A stack that does not
exist yet can be created with another stack's config (`open_stack`, `create_missing`).

``waba-webhooks shards`` (`waba_webhooks.commands.shards`) and its ``reshard``
(`waba_webhooks.commands.reshard`) both run their stacks here.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pulumi import automation as auto

from ..tables.shard import CONFIG_KEY as SHARD_KEY
from ..tables.shard import RESHARD_KEY, Shard

OPERATIONS = ("preview", "up", "refresh", "destroy")
#: Config keys a stack of a set never copies from another (`copy_config`).
PER_STACK_KEYS = (SHARD_KEY, RESHARD_KEY)
ROUTING_KEY = "waba-webhooks:routing"
#: Which resources the routing program declares: ``dynamic`` (absent) or ``native``.
DOOR_KEY = "waba-webhooks:door"
#: Lines of a failed stack's error output kept in the report.
ERROR_LINES = 20

Prepare = Callable[[auto.Stack], None]


class SetError(ValueError):
    """The set of stacks cannot be run as asked; the message names the argument or stack."""


@dataclass
class StackRun:
    """What one stack's operation did."""

    stack: str
    operation: str
    ok: bool = False
    #: operation -> count, without ``same`` (a preview's planned changes).
    changes: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    wall_s: float = 0.0
    error: str = ""

    def changes_text(self) -> str:
        if not self.ok and not self.changes:
            return "-"
        return ", ".join(f"{n} {op}" for op, n in sorted(self.changes.items())) or "no change"


def open_stack(name: str, work_dir: Path, *, create_from: auto.Stack | None = None,
               secrets_provider: str | None = None) -> auto.Stack:
    """Select stack `name` of the project in `work_dir`; with `create_from`, a stack that does
    not exist yet is created with that stack's config (`copy_config`)."""
    opts = auto.LocalWorkspaceOptions(secrets_provider=secrets_provider)
    try:
        return auto.select_stack(name, work_dir=str(work_dir), opts=opts)
    except auto.StackNotFoundError:
        if create_from is None:
            raise
    stack = auto.create_stack(name, work_dir=str(work_dir), opts=opts)
    copy_config(create_from, stack)
    return stack


def copy_config(source: auto.Stack, target: auto.Stack) -> None:
    """Give `target` the config of `source` (secrets decrypted, then encrypted again with the
    target's own secrets provider), except the keys that say which shard a stack is."""
    config = {k: v for k, v in source.get_all_config().items() if k not in PER_STACK_KEYS}
    target.set_all_config(config)


def create_missing(names: Iterable[str], source: str, work_dir: Path, out: TextIO) -> None:
    """Create the stacks of `names` that do not exist yet, with `source`'s config, one after
    the other before any runs (so no stack's config is read while it is being written). A
    stack that cannot be created is left to fail, with its error, when its operation starts."""
    template: auto.Stack | None = None
    for name in names:
        if name == source:
            continue
        try:
            auto.select_stack(name, work_dir=str(work_dir))
            continue
        except auto.StackNotFoundError:
            pass
        except auto.CommandError:
            continue
        try:
            template = template or open_stack(source, work_dir)
            open_stack(name, work_dir, create_from=template)
            print(f"  {name}: created with the config of {source}", file=out, flush=True)
        except auto.CommandError as error:
            print(f"  {name}: could not be created from {source}: "
                  f"{error_text(error).splitlines()[-1]}", file=out, flush=True)


def set_shard(stack: auto.Stack, shard: Shard) -> None:
    """Write ``waba-webhooks:shard: "I/K"`` in the stack's config."""
    stack.set_config(SHARD_KEY, auto.ConfigValue(str(shard)))


def _changes(summary: Mapping[Any, int] | None) -> tuple[dict[str, int], int]:
    changed, same = {}, 0
    for op, n in (summary or {}).items():
        name = str(getattr(op, "value", op))
        if name == "same":
            same += n
        elif n:
            changed[name] = n
    return changed, same


def error_text(error: BaseException) -> str:
    """The part of a failed operation's output that says why: the diagnostics it printed (the
    resources' errors) and its error lines, at most `ERROR_LINES` of them."""
    text = str(error)
    stdout, _, rest = text.partition(" stderr: ")
    stderr = rest.split("\n err?: ", 1)[0]
    lines: list[str] = []
    in_diagnostics = False
    for line in stdout.splitlines():
        if line.strip() == "Diagnostics:":
            in_diagnostics = True
        elif in_diagnostics and line[:1].strip() and not line.startswith(" "):
            in_diagnostics = False  # the next section (Resources:, Outputs:, Duration:)
        elif in_diagnostics and line.strip():
            lines.append(line.rstrip())
    lines += [line.rstrip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if len(lines) > ERROR_LINES:
        lines = [*lines[:ERROR_LINES], f"... ({len(lines) - ERROR_LINES} more lines)"]
    return "\n".join(lines) or type(error).__name__


def run_stack(name: str, operation: str, work_dir: Path, *, parallel: int | None = None,
              prepare: Prepare | None = None, expect_no_changes: bool = False) -> StackRun:
    """Run `operation` on one stack and say what it did. Never raises for the stack's own
    failure (a missing stack, a program error, a lock held by another run): that is the run's
    ``error``."""
    run = StackRun(name, operation)
    started = time.perf_counter()
    try:
        stack = open_stack(name, work_dir)
        if prepare is not None:
            prepare(stack)
        options: dict[str, Any] = {"color": "never"}
        if expect_no_changes and operation != "destroy":
            options["expect_no_changes"] = True
        if operation == "preview":
            previewed = stack.preview(**options)
            run.changes, run.unchanged = _changes(previewed.change_summary)
        else:
            result = getattr(stack, operation)(**options)
            run.changes, run.unchanged = _changes(result.summary.resource_changes)
        run.ok = True
    except Exception as error:  # every failure of one stack is reported, not raised
        run.error = error_text(error)
    run.wall_s = time.perf_counter() - started
    return run


class Progress:
    """One line per stack, when it ends, numbered in the order they end (plain lines: a
    terminal and a CI log read alike)."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.out, self.done = total, out, 0
        self._lock = threading.Lock()

    def ended(self, run: StackRun) -> None:
        with self._lock:
            self.done += 1
            status = "ok" if run.ok else "FAILED"
            print(f"[{self.done}/{self.total}] {run.stack}: {run.operation} {status} in "
                  f"{run.wall_s:.1f} s ({run.changes_text()})", file=self.out, flush=True)


def run_set(names: Sequence[str], operation: str, work_dir: Path, *, parallel: int | None = None,
            prepare: Callable[[str], Prepare | None] | None = None,
            create_from: str | None = None, expect_no_changes: bool = False,
            out: TextIO = sys.stdout) -> list[StackRun]:
    """Run `operation` on every stack of `names`, `parallel` at once (default: all), and return
    what each did, in the order of `names`. `prepare(name)` gives a step to run on a stack
    before its operation (e.g. setting its shard key)."""
    if operation not in OPERATIONS:
        raise SetError(f"the operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
    if parallel is not None and parallel < 1:
        raise SetError(f"--parallel must be at least 1, got {parallel}")
    progress = Progress(len(names), out)
    if create_from is not None:
        create_missing(names, create_from, work_dir, out)

    def one(name: str) -> StackRun:
        run = run_stack(name, operation, work_dir, prepare=prepare(name) if prepare else None,
                        expect_no_changes=expect_no_changes)
        progress.ended(run)
        return run

    with ThreadPoolExecutor(max_workers=parallel or len(names) or 1) as pool:
        return list(pool.map(one, names))


def summary(runs: Iterable[StackRun], wall_s: float | None = None) -> str:
    """The table of the runs (changes and wall time per stack), then each failure's error."""
    runs = list(runs)
    lines = ["", "| stack | operation | result | changes | unchanged | wall |",
             "| --- | --- | --- | --- | ---: | ---: |"]
    for run in runs:
        lines.append(f"| {run.stack} | {run.operation} | {'ok' if run.ok else 'FAILED'} | "
                     f"{run.changes_text()} | {run.unchanged} | {run.wall_s:.1f} s |")
    failed = [run for run in runs if not run.ok]
    total = f" in {wall_s:.1f} s" if wall_s is not None else ""
    lines.append("")
    lines.append(f"{len(runs) - len(failed)} of {len(runs)} stacks succeeded{total}.")
    for run in failed:
        lines.append("")
        lines.append(f"{run.stack} failed:")
        lines.extend(f"    {line}" for line in run.error.splitlines())
    return "\n".join(lines)
