"""``waba-webhooks shards``: run the stacks of a set that splits one routing table side by side.

    waba-webhooks shards preview|up|refresh|destroy (--stack NAME ... | --prefix P --count K)
        [--parallel N] [--set-shard] [--config-from STACK] [--routing FILE]
        [--expect-no-changes] [--cwd DIR]
    waba-webhooks shards reshard --prefix P --from K --to K2 [--parallel N] [--cwd DIR]

Run from a Pulumi project folder (or ``--cwd``). Each stack runs as its own ``pulumi``
operation through the Automation API, up to ``--parallel`` at once: one line per stack when it
ends, then a table of what each changed and how long it took, and every failed stack's error.
The exit status is 0 only when every stack succeeded; a failed stack never stops the others.

This is thin on purpose: the stacks do the work, and each keeps its own lock in the backend, so
two runs of a set never interleave on one stack (the second is refused on that stack, and the
command says so in that stack's error). ``reshard`` is in `waba_webhooks.commands.reshard`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from pulumi import automation as auto

from ..resources import routing
from ..resources.shard import CONFIG_KEY as SHARD_KEY
from ..resources.shard import Shard

OPERATIONS = ("preview", "up", "refresh", "destroy")
#: Config keys a stack of a set never copies from another (`copy_config`).
PER_STACK_KEYS = (SHARD_KEY, "waba-webhooks:reshardTo")
ROUTING_KEY = "waba-webhooks:routing"
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


def stack_names(stacks: Sequence[str] | None, prefix: str | None,
                count: int | None) -> list[str]:
    """The set's stacks: ``stacks`` as given, or ``<prefix>-1`` ... ``<prefix>-<count>``."""
    if stacks and (prefix or count is not None):
        raise SetError("give either --stack (repeated) or --prefix with --count, not both")
    if stacks:
        if len(set(stacks)) != len(stacks):
            raise SetError("--stack: a stack is named twice")
        return list(stacks)
    if not prefix or count is None:
        raise SetError("name the stacks: --stack NAME (repeated), or --prefix P and --count K")
    if count < 1:
        raise SetError(f"--count must be at least 1, got {count}")
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


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


def read_table(path: Path) -> str:
    """The routing table in `path` (YAML or JSON: the table itself, or a stack config file with
    a ``waba-webhooks:routing`` key), checked, as the JSON text to put in each stack's config."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SetError(f"--routing: cannot read {path}: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("config"), dict):
        document = document["config"].get(ROUTING_KEY)
    try:
        routing.plan(document)
    except routing.RoutingTableError as error:
        raise SetError(f"--routing {path}: {error}") from None
    return json.dumps(document)


def set_shard(stack: auto.Stack, shard: Shard) -> None:
    """Write ``waba-webhooks:shard: "I/K"`` in the stack's config."""
    stack.set_config(SHARD_KEY, auto.ConfigValue(str(shard)))


def _changes(summary: dict[Any, int] | None) -> tuple[dict[str, int], int]:
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
            result = stack.preview(**options)
            run.changes, run.unchanged = _changes(result.change_summary)
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


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """``shards ACTION``: the four operations on a set, and ``reshard``."""
    from . import reshard

    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for operation in OPERATIONS:
        sub = actions.add_parser(operation, help=f"`pulumi {operation}` of every stack of a set")
        sub.add_argument("--stack", action="append", default=[], metavar="NAME",
                         help="a stack of the set (repeat for each)")
        sub.add_argument("--prefix", help="the set is PREFIX-1 ... PREFIX-COUNT")
        sub.add_argument("--count", type=int, help="how many stacks the set has (with --prefix)")
        sub.add_argument("--set-shard", action="store_true",
                         help="with --prefix: first set each stack's waba-webhooks:shard to "
                              "I/COUNT")
        sub.add_argument("--config-from", metavar="STACK",
                         help="create the stacks that do not exist yet with this stack's config "
                              "(its shard keys excepted)")
        sub.add_argument("--routing", type=Path, metavar="FILE",
                         help="first set each stack's waba-webhooks:routing to this table (YAML "
                              "or JSON: the table, or a stack config file holding it)")
        sub.add_argument("--expect-no-changes", action="store_true",
                         help="a stack whose operation would change something fails")
        _common(sub)
    sub = actions.add_parser("reshard", help="move a set from K to K2 shards with no Graph write")
    reshard.configure_parser(sub)
    _common(sub)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parallel", type=int, default=None, metavar="N",
                        help="stacks run at once (default: all of them)")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(),
                        help="the Pulumi project folder (default: the current one)")


def run(args: argparse.Namespace) -> int:
    """Run the operation on the set (or ``reshard``); 0 only when every stack succeeded, 2 for
    bad arguments."""
    if args.action == "reshard":
        from . import reshard

        return reshard.run(args)
    try:
        names = stack_names(args.stack, args.prefix, args.count)
        if args.set_shard and not args.prefix:
            raise SetError("--set-shard needs --prefix and --count (the shard is I/COUNT)")
        if args.parallel is not None and args.parallel < 1:
            raise SetError(f"--parallel must be at least 1, got {args.parallel}")
        table = read_table(args.routing) if args.routing else None
    except SetError as error:
        print(f"waba-webhooks shards: {error}", file=sys.stderr)
        return 2

    def prepare(name: str) -> Prepare | None:
        if not args.set_shard and table is None:
            return None

        def step(stack: auto.Stack) -> None:
            if table is not None:
                stack.set_config(ROUTING_KEY, auto.ConfigValue(table))
            if args.set_shard:
                set_shard(stack, Shard(names.index(name) + 1, len(names)))

        return step

    print(f"{args.action} of {len(names)} stacks, {args.parallel or len(names)} at once, in "
          f"{args.cwd}", flush=True)
    started = time.perf_counter()
    runs = run_set(names, args.action, args.cwd, parallel=args.parallel, prepare=prepare,
                   create_from=args.config_from, expect_no_changes=args.expect_no_changes)
    print(summary(runs, time.perf_counter() - started), flush=True)
    return 0 if all(run.ok for run in runs) else 1
