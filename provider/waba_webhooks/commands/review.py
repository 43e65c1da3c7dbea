"""``waba-webhooks review``: a pull request's ``pulumi preview --json`` as a Markdown report of
where each phone number's messages webhooks go before and after.

The report is built in `waba_webhooks.commands.report` (Graph read, the preview's steps applied,
each number's route before and after) and written as Markdown in
`waba_webhooks.commands.render` (cut to fit a GitHub comment, secrets masked); this module is the
command. It also keeps the names earlier releases had here (this module was
``waba_webhooks.review``), so programs that import them keep working.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import GraphError, WabaWebhooksError
from ..graph import GraphClient
from . import preview as pv
from .apps import Apps
from .render import (
    FOLDED,
    MIN_MASKED_SECRET,
    add_full_report_argument,
    blocks,
    number_table,
    render,
    write_reports,
)
from .report import (
    APP,
    MESSAGES,
    NO_MESSAGES_FIELD,
    NONE,
    OVERRIDE_FIELDS,
    PHONE,
    STACKS_SEPARATOR,
    WABA,
    AppChange,
    Fields,
    NumberRoute,
    OverrideChange,
    Report,
    Route,
    Target,
    build,
    build_for_stacks,
    declared_twice,
    merge,
)

#: What this module offers: the command, and the report's names it has always offered.
__all__ = [
    "APP",
    "FOLDED",
    "MESSAGES",
    "MIN_MASKED_SECRET",
    "NONE",
    "NO_MESSAGES_FIELD",
    "OVERRIDE_FIELDS",
    "PHONE",
    "STACKS_SEPARATOR",
    "WABA",
    "AppChange",
    "Fields",
    "NumberRoute",
    "OverrideChange",
    "Report",
    "Route",
    "Target",
    "add_full_report_argument",
    "blocks",
    "build",
    "build_for_stacks",
    "configure_parser",
    "declared_twice",
    "merge",
    "number_table",
    "render",
    "report_for",
    "report_for_stacks",
    "run",
    "write_reports",
]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``waba-webhooks review``."""
    parser.description = (
        "Turn `pulumi preview --json` into a Markdown report of each phone number's webhook "
        "route before and after, for a pull request. Reads the affected WABAs and numbers "
        "from Graph (read-only) with settings from the environment (WHATSAPP_ACCESS_TOKEN, "
        "WHATSAPP_GRAPH_URL, ...); with WHATSAPP_APP_SECRET it reads the app's "
        "subscription too, for app-level changes. Resources of an explicit provider "
        "(pulumi:providers:whatsapp) NAME are read with its app's token, "
        "WHATSAPP_ACCESS_TOKEN_<NAME> (NAME in capitals, other characters as _). Exit status: "
        "0 report printed, 1 error (also a resource it cannot read, a missing app token), "
        "2 input that is not preview JSON."
    )
    parser.add_argument("preview", nargs="*", default=["-"], metavar="PREVIEW_JSON",
                        help="the file `pulumi preview --json` wrote (default: stdin); several: "
                             "the stacks of a set, one report for the whole table")
    add_full_report_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print the report on stdout."""
    from .. import config, graph

    documents: list[object] = []
    for name in args.preview or ["-"]:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as error:
            print(f"review: cannot read {name}: {error.strerror}", file=sys.stderr)
            return 2
        try:
            document = json.loads(text)
            pv.parse(document)
        except pv.UnreadableError as error:
            print(f"review: {name}: {error}", file=sys.stderr)
            return 1
        except (ValueError, pv.PreviewFormatError) as error:
            print(f"review: {name} is not `pulumi preview --json` output: {error}",
                  file=sys.stderr)
            return 2
        documents.append(document)
    try:
        settings = config.load()
        apps = Apps(graph.client_for(settings))
        report, secrets = build_for_stacks(documents, apps)
    except (GraphError, WabaWebhooksError) as error:
        print(f"review: {error}", file=sys.stderr)
        return 1
    secrets |= apps.secrets()
    if settings.access_token:
        secrets.add(settings.access_token)
    if settings.app_secret:  # and so the app access token, {app-id}|{app-secret}
        secrets.add(settings.app_secret)
    try:
        write_reports(lambda folded: blocks(report, folded), secrets, args.full_report, "review")
    except OSError as error:
        print(f"review: cannot write {args.full_report}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def report_for_stacks(documents: list[object], client: GraphClient | Apps,
                      secrets: Iterable[str] = ()) -> str:
    """One Markdown report for the decoded previews of several stacks (one for one)."""
    report, found = build_for_stacks(documents, client)
    return render(report, found | set(secrets))


def report_for(document: Mapping[str, object], client: GraphClient | Apps,
               secrets: Iterable[str] = ()) -> str:
    """The Markdown report of a decoded preview document (for programs and tests)."""
    report, found = build_for_stacks([document], client)
    return render(report, found | set(secrets))
