"""``waba-webhooks shards reshard --prefix P --from K --to K2``: move a set of shard stacks from
K to K2 stacks with no Graph write and no moment at which a number is without its override.

The same retain-then-adopt idea as the move to `WabaRouting` (docs/routing-tables.md, "Resharding"):

1. **mark** -- every stack ``P-I`` of the K sets ``waba-webhooks:reshardTo: K2`` and runs
   ``up``: the WABAs it will not own under K2 are declared with ``retainOnDelete``. No diff, no
   Graph call.
2. **move** -- every stack ``P-I`` of the K2 (created with ``P-1``'s config if new) gets
   ``waba-webhooks:shard: I/K2``, loses ``reshardTo``, and runs ``up``: a WABA that arrives is
   created by adopting the equal live URLs (reads only); one that leaves is retained, so it
   leaves the state without a call. Either may run first: the override is set throughout.
3. **retire** (K2 < K) -- the stacks ``P-(K2+1)`` ... ``P-K`` now hold only retained resources:
   ``destroy`` drops them from state without a call, and the stacks are removed.

Each step runs its stacks side by side (`stack_set.run_set`) and starts only once the previous one
succeeded on every stack. Run the command again after a failure: a stack already at ``I/K2`` is
not marked again, and each step converges. After step 2 the command reads the K2 stacks' states
(`stack_state`, either door) and checks that each WABA's routing is in one stack, its shard's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pulumi import automation as auto

from ..resources import PHONE, WABA, WABA_ROUTING
from ..tables import routing
from ..tables.shard import CONFIG_KEY as SHARD_KEY
from ..tables.shard import RESHARD_KEY, Shard, shard_of
from . import stack_state
from .stack_set import (
    ROUTING_KEY,
    Prepare,
    SetError,
    StackRun,
    open_stack,
    run_set,
    set_shard,
    summary,
)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """``--prefix P --from K --to K2``."""
    parser.add_argument("--prefix", required=True, help="the set is PREFIX-1 ... PREFIX-K")
    parser.add_argument("--from", dest="count_from", type=int, required=True, metavar="K",
                        help="stacks the set has now")
    parser.add_argument("--to", dest="count_to", type=int, required=True, metavar="K2",
                        help="stacks the set will have")


def moves(table: object, count_from: int, count_to: int) -> Counter[tuple[int, int]]:
    """(from shard, to shard) -> WABAs of the table that move so, for the WABAs that move."""
    waba_ids = routing.plan(table).waba_ids
    found: Counter[tuple[int, int]] = Counter()
    for waba_id in waba_ids:
        before, after = shard_of(waba_id, count_from), shard_of(waba_id, count_to)
        if before != after:
            found[(before, after)] += 1
    return found


def owners(table: object, states: dict[str, list[stack_state.Recorded]]) -> dict[str, list[str]]:
    """WABA id -> the stacks (names of `states`, stack -> its recorded resources) whose state
    holds its routing: its `WabaRouting` or `WabaCallbackOverride`, or the
    `PhoneCallbackOverride` of one of its numbers (the table says which WABA a number is of)."""
    waba_of = routing.plan(table).waba_of
    found: dict[str, list[str]] = {}
    for name, resources in states.items():
        for resource in resources:
            if resource.kind in (WABA_ROUTING, WABA):
                waba_id: str | None = resource.id
            elif resource.kind == PHONE:
                waba_id = waba_of.get(resource.id)
            else:
                continue
            if waba_id is not None and name not in found.setdefault(waba_id, []):
                found[waba_id].append(name)
    return found


def misplaced(found: dict[str, list[str]], prefix: str, count: int) -> list[str]:
    """What is wrong with `found` (`owners`) for the set ``prefix-1..count``: a WABA in more
    than one stack, or in another stack than its shard's; empty when all is well."""
    problems = []
    for waba_id, stacks in sorted(found.items()):
        want = f"{prefix}-{shard_of(waba_id, count)}"
        if stacks != [want]:
            problems.append(f"WABA {waba_id} is in {', '.join(stacks)}, not only in {want}")
    return problems


MISSING = object()


def _shard_of_stack(name: str, work_dir: Path) -> object:
    """The stack's ``waba-webhooks:shard``; None when it has none, `MISSING` when the stack
    does not exist."""
    try:
        stack = open_stack(name, work_dir)
    except auto.StackNotFoundError:
        return MISSING
    try:
        return stack.get_config(SHARD_KEY).value
    except auto.CommandError:
        return None


def stacks_to_mark(old: list[str], k: int, k2: int, work_dir: Path) -> list[str]:
    """The stacks of the K that step 1 marks: those still at ``I/K`` (a lone stack without a
    shard key is ``1/1``). A stack already at ``I/K2`` (step 2 ran on it) or retired is skipped;
    any other shard key stops the reshard before anything runs: marking would be wrong there."""
    marked = []
    for i, name in enumerate(old, start=1):
        found = _shard_of_stack(name, work_dir)
        if found == str(Shard(i, k)) or (k == 1 and found is None):
            marked.append(name)
        elif found is MISSING and i > k2:
            continue  # retired by an earlier run of this reshard
        elif found is MISSING:
            raise SetError(f"stack {name} does not exist (--prefix and --from name the set)")
        elif i > k2 or found != str(Shard(i, k2)):
            raise SetError(f"stack {name} has {SHARD_KEY} {found!r}, not {str(Shard(i, k))!r}: "
                           "is --from right?")
    return marked


def _step(title: str, names: list[str], operation: str, work_dir: Path, parallel: int | None,
          prepare: Callable[[str], Prepare | None] | None = None,
          create_from: str | None = None) -> list[StackRun]:
    print(f"\n{title}", flush=True)
    started = time.perf_counter()
    runs = run_set(names, operation, work_dir, parallel=parallel, prepare=prepare,
                   create_from=create_from)
    print(summary(runs, time.perf_counter() - started), flush=True)
    return runs


def run(args: argparse.Namespace) -> int:
    """The three steps, in order; 0 when the set is at K2 shards, 1 when a step failed (run the
    command again), 2 for bad arguments."""
    prefix, k, k2, work_dir = args.prefix, args.count_from, args.count_to, args.cwd
    try:
        if k < 1 or k2 < 1:
            raise SetError("--from and --to must be at least 1")
        if k == k2:
            raise SetError(f"--from and --to are both {k}: nothing to move")
        if args.parallel is not None and args.parallel < 1:
            raise SetError(f"--parallel must be at least 1, got {args.parallel}")
        first = open_stack(f"{prefix}-1", work_dir)
        table = json.loads(first.get_config(ROUTING_KEY).value)
        moving = moves(table, k, k2)
    except (SetError, auto.CommandError, ValueError) as error:
        text = str(error).strip().splitlines()
        print(f"waba-webhooks shards reshard: {text[-1] if text else error}", file=sys.stderr)
        return 2
    print(f"resharding {prefix}-1..{prefix}-{k} to {prefix}-1..{prefix}-{k2}: "
          f"{sum(moving.values())} WABAs move", flush=True)
    for (a, b), n in sorted(moving.items()):
        print(f"  {prefix}-{a} -> {prefix}-{b}: {n} WABAs", flush=True)

    old = [f"{prefix}-{i}" for i in range(1, k + 1)]
    new = [f"{prefix}-{i}" for i in range(1, k2 + 1)]
    try:
        to_mark = stacks_to_mark(old, k, k2, work_dir)
    except SetError as error:
        print(f"waba-webhooks shards reshard: {error}", file=sys.stderr)
        return 2

    def mark(_name: str) -> Prepare:
        return lambda stack: stack.set_config(RESHARD_KEY, auto.ConfigValue(str(k2)))

    if to_mark:
        runs = _step(f"step 1 of 3, mark: the WABAs that leave each stack are retained on delete "
                     f"({RESHARD_KEY}: {k2})", to_mark, "up", work_dir, args.parallel, mark)
        if not all(r.ok for r in runs):
            print("\nstep 1 failed: nothing moved. Fix the cause and run the command again.")
            return 1

    def move(name: str) -> Prepare:
        shard = Shard(new.index(name) + 1, k2)

        def prepare(stack: auto.Stack) -> None:
            set_shard(stack, shard)
            if RESHARD_KEY in stack.get_all_config():
                stack.remove_config(RESHARD_KEY)

        return prepare

    runs = _step(f"step 2 of 3, move: each stack takes shard I/{k2}: arriving WABAs are adopted "
                 "(reads only), leaving ones are released (no call)", new, "up", work_dir,
                 args.parallel, move, create_from=f"{prefix}-1")
    if not all(r.ok for r in runs):
        print("\nstep 2 failed on some stacks: every override is still set. Fix the cause and "
              "run the command again.")
        return 1
    try:
        problems = misplaced(owners(table, {name: stack_state.read(open_stack(name, work_dir))
                                            for name in new}), prefix, k2)
    except (stack_state.StateError, auto.CommandError) as error:
        problems = [str(error).strip()]
    if problems:
        print("\nafter step 2 the stacks' states do not split the table as shards of "
              f"{k2}:", flush=True)
        for problem in problems:
            print(f"  {problem}", flush=True)
        return 1
    print(f"\nchecked: each WABA's routing is in one stack of the {k2}, its shard's", flush=True)
    retired = [name for name in old[k2:] if _shard_of_stack(name, work_dir) is not MISSING]
    if retired:
        runs = _step(f"step 3 of 3, retire {', '.join(retired)}: only retained resources are "
                     "left; destroy drops them from state without a call", retired, "destroy",
                     work_dir, args.parallel)
        if not all(r.ok for r in runs):
            print("\nstep 3 failed: run the command again.")
            return 1
        for name in retired:
            open_stack(name, work_dir).workspace.remove_stack(name)
            print(f"removed stack {name}", flush=True)
    else:
        print("\nstep 3 of 3: no stack to retire")
    print(f"\n{prefix} is {k2} shard stacks.")
    return 0
