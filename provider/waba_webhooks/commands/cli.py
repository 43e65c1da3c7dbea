"""``waba-webhooks``: the jobs around ``pulumi up`` on the command line.

    waba-webhooks discover --waba ID [--waba ID ...] [--stack-config FILE]
    waba-webhooks review [PREVIEW_JSON]
    waba-webhooks shards preview|up|refresh|destroy|reshard ...
    waba-webhooks emulator [--port N] [--fixture FILE]
    waba-webhooks live-check --waba-id ID --phone-number-id ID [--write URL]

Each subcommand is a module with ``configure_parser(parser)`` and ``run(args) -> int`` (the exit
status); `COMMANDS` lists them. Graph settings come from the environment, as the provider reads
them when stack config does not set them (``WHATSAPP_ACCESS_TOKEN``, ``WHATSAPP_GRAPH_URL``, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from ..emulator import __main__ as emulator
from . import discover, live_check, review, shards

#: name -> (module, one-line help).
COMMANDS: dict[str, tuple[ModuleType, str]] = {
    "discover": (discover, "live routing of WABAs -> a routing table that `pulumi up` adopts"),
    "review": (review, "`pulumi preview --json` -> a Markdown report of route changes per number"),
    "shards": (shards, "run the stacks of a set that splits one routing table side by side; "
                       "reshard the set"),
    "emulator": (emulator, "serve the local Graph API emulator"),
    "live-check": (live_check, "before a release: read (and with --write, set and restore) a "
                               "test number's routing on the live Graph API"),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``waba-webhooks`` parser with one subparser per entry of `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="waba-webhooks",
        description="WhatsApp webhook routing: the jobs around `pulumi up`.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary)
        module.configure_parser(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns its exit status."""
    args = build_parser().parse_args(argv)
    # Retries and other warnings of the Graph client go to stderr; stdout holds only results.
    logging.basicConfig(level=logging.WARNING, format="waba-webhooks: %(message)s",
                        stream=sys.stderr)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
