"""``waba-webhooks shards``: run the stacks of a set that splits one routing table side by side.

    waba-webhooks shards preview|up|refresh|destroy (--stack NAME ... | --prefix P --count K)
        [--parallel N] [--set-shard] [--config-from STACK] [--routing FILE]
        [--door dynamic|native] [--expect-no-changes] [--cwd DIR]
    waba-webhooks shards reshard --prefix P --from K --to K2 [--parallel N] [--cwd DIR]

Run from a Pulumi project folder (or ``--cwd``). Each stack runs as its own ``pulumi``
operation through the Automation API, up to ``--parallel`` at once: one line per stack when it
ends, then a table of what each changed and how long it took, and every failed stack's error.
The exit status is 0 only when every stack succeeded; a failed stack never stops the others.

This is the command's arguments only: the stacks run in `waba_webhooks.commands.stack_set` (each
with its own lock, so two runs of a set never interleave on one stack), and ``reshard`` is in
`waba_webhooks.commands.reshard`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml
from pulumi import automation as auto

from ..tables import routing
from ..tables.shard import Shard
from . import reshard
from .stack_set import (
    DOOR_KEY,
    OPERATIONS,
    ROUTING_KEY,
    Prepare,
    SetError,
    run_set,
    set_shard,
    summary,
)


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


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """``shards ACTION``: the four operations on a set, and ``reshard``."""
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
        sub.add_argument("--door", choices=routing.DOORS,
                         help=f"first set each stack's {DOOR_KEY}: the resources the routing "
                              "program declares (dynamic -> native moves them with no Graph "
                              "call)")
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
        if not args.set_shard and table is None and args.door is None:
            return None

        def step(stack: auto.Stack) -> None:
            if table is not None:
                stack.set_config(ROUTING_KEY, auto.ConfigValue(table))
            if args.door is not None:
                stack.set_config(DOOR_KEY, auto.ConfigValue(args.door))
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
