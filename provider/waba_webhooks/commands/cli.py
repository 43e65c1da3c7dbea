"""``waba-webhooks``: the jobs around ``pulumi up`` on the command line.

    waba-webhooks discover [--business ID [--owned|--client]] [--waba ID ...] [--stack-config FILE]
    waba-webhooks review [PREVIEW_JSON] [--full-report FILE]
    waba-webhooks drift [REFRESH_JSON ...] [--business ID] [--full-report FILE]
    waba-webhooks shards preview|up|refresh|destroy|reshard ...
    waba-webhooks emulator [--port N] [--fixture FILE]
    waba-webhooks live-check --waba-id ID --phone-number-id ID [--write URL]
    waba-webhooks --version

Each subcommand is a module with ``configure_parser(parser)`` and ``run(args) -> int`` (the exit
status); `COMMANDS` lists them. Graph settings come from the environment, as the provider reads
them when stack config does not set them (``WHATSAPP_ACCESS_TOKEN``, ``WHATSAPP_GRAPH_URL``, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from .._version import __version__
from ..emulator import __main__ as emulator
from . import discover, drift, live_check, review, shards

#: name -> (module, one-line help).
COMMANDS: dict[str, tuple[ModuleType, str]] = {
    "discover": (discover, "live routing of a business's WABAs (or those named) -> a routing "
                           "table that `pulumi up` adopts"),
    "review": (review, "`pulumi preview --json` -> a Markdown report of route changes per number"),
    "drift": (drift, "refresh preview JSON of one or more stacks -> a Markdown report of what "
                     "moved outside them (exit 0 none, 2 drift, 1 error)"),
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary)
        module.configure_parser(sub)
        # The subcommand's own error: its usage, and its exit status (drift's is 1, not 2).
        sub.set_defaults(run=module.run, usage_error=sub.error)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns its exit status."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        args.usage_error(f"unrecognized arguments: {' '.join(unknown)}")
    # Retries and other warnings of the Graph client go to stderr; stdout holds only results.
    logging.basicConfig(level=logging.WARNING, format="waba-webhooks: %(message)s",
                        stream=sys.stderr)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
