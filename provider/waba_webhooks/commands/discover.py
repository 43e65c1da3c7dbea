"""``waba-webhooks discover``: the live routing of some WABAs -- a business's whole estate, or the
ones named -- as a routing table to adopt.

WABAs come from ``--business ID`` (its owned and client WABAs, ``GET /{BUSINESS_ID}/owned_
whatsapp_business_accounts`` and ``.../client_whatsapp_business_accounts``; ``--owned`` /
``--client`` narrow) and from ``--waba ID``; `estate` reads each one's routing (never writes), in
parallel. The ``waba-webhooks:routing`` block of a stack config file is printed
(`waba_webhooks.routing` reads it), with a comment per WABA and per number saying where its
messages webhooks go now; ``--stack-config FILE`` merges it into that file's table instead
(`routing_table`: entries already there are kept, new ones added, vanished ones flagged). A
``pulumi up`` of that table then adopts what is live without a single write: each create finds
its URL already set.

Meta never returns verify tokens, so the table names one per callback URL host and the summary
(stderr) lists the ``pulumi config set --secret --path`` commands that fill them in.

``--import-file FILE`` writes, instead of the table, a document for ``pulumi import --file``
(`import_document`): one native ``WabaRouting`` per WABA read, and with ``--app-subscription``
the app's ``AppWebhookSubscription``; any language's program adopts them with the code
``pulumi import`` generates.

Exit status: 0 every WABA read; 3 the table was printed or written, but some WABAs could not be
read (each named with Meta's reason); 1 nothing printed or written: bad input (an id that is not
digits, an unreadable stack config) or Graph refused the whole run (a token without access to the
business, an invalid token, no WABA readable).

With the app secret (``WHATSAPP_APP_SECRET``), it also reads the app's own webhook subscription
(``GET /{APP_ID}/subscriptions``, one call: it needs an app access token) and puts it in the
table's ``app`` block: the callback URL every number without an override falls back to, and the
webhook fields Meta delivers. Without it the table says only ``appCallbackUri`` (informational),
and the summary says how to get the block.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import validation
from ..errors import GraphError, WabaWebhooksError
from . import estate, import_document, routing_table, stack_config
from .estate import LiveWaba, Target, Unreadable
from .routing_table import (
    APP,
    NOT_DELIVERED,
    PHONE,
    WABA,
    MergeReport,
    RoutingTableError,
    Scope,
    declared_override,
    effective,
    token_names,
    waba_note,
)

if TYPE_CHECKING:
    from ..graph.client import AppSubscription

__all__ = ["LiveWaba", "configure_parser", "declared_override", "effective", "read_live", "run",
           "token_names"]

#: The namespace of the routing program's config (``stacks/__main__.py``: the project name).
DEFAULT_NAMESPACE = "waba-webhooks"

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 3


def read_live(client: Any, waba_ids: Iterable[str]) -> list[LiveWaba]:
    """Read each WABA's subscription, override and numbers, one after the other, in the order
    given (reads only; a Graph error is raised). `estate.read_all` reads many in parallel."""
    return [estate.read_one(client, Target(waba_id)) for waba_id in dict.fromkeys(waba_ids)]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``waba-webhooks discover``."""
    parser.description = (
        "Read the live routing of WABAs for our app (read-only): a business's owned and client "
        "WABAs (--business) and/or the ones named (--waba). Print it as the routing table of a "
        "stack config file, or merge it into one (--stack-config), ready for `pulumi up` to "
        "adopt without writing. Settings come from the environment as the provider reads them "
        "(WHATSAPP_ACCESS_TOKEN, WHATSAPP_GRAPH_URL, ...). Exit status: 0 all read, 3 partial "
        "(some WABAs could not be read; named on stderr and in the table), 1 error (nothing "
        "written)."
    )
    parser.add_argument("--business", metavar="ID",
                        help="a business (portfolio) id: read every WABA it owns and every "
                             "client WABA shared with it")
    relation = parser.add_mutually_exclusive_group()
    relation.add_argument("--owned", action="store_true",
                          help="with --business: only the WABAs it owns")
    relation.add_argument("--client", action="store_true",
                          help="with --business: only its client WABAs")
    parser.add_argument("--waba", dest="wabas", action="append", default=[], metavar="ID",
                        help="a WABA id to read (repeat for several; combines with --business)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--stack-config", type=Path, metavar="FILE",
                        help="merge the table into this Pulumi.<stack>.yaml (entries already "
                             "there kept; its other keys, comments and secrets untouched) "
                             "instead of printing it")
    output.add_argument("--import-file", type=Path, metavar="FILE",
                        help="instead of the table, write a `pulumi import --file` document "
                             "(- for stdout): one native whatsapp:index:WabaRouting per WABA, "
                             "for a TypeScript, YAML or Python program to adopt")
    parser.add_argument("--app-subscription", action="store_true",
                        help="with --import-file: the app's AppWebhookSubscription too (id: "
                             "the app id; reading it needs WHATSAPP_APP_SECRET)")
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE,
                        help="config namespace of the routing program (default: %(default)s)")
    parser.add_argument("--parallel", type=int, default=estate.DEFAULT_PARALLEL, metavar="N",
                        help="WABAs read at once (default: %(default)s); each WABA's own hourly "
                             "budget paces its calls whatever N is")


def run(args: argparse.Namespace) -> int:
    """Discover, print or merge the table, and summarise on stderr; the exit status."""
    from .. import config, graph

    problem = _check_args(args)
    if problem:
        return _fail(problem)
    key, tokens_key = f"{args.namespace}:routing", f"{args.namespace}:verifyTokens"
    try:
        current = stack_config.read(args.stack_config) if args.stack_config else {}
        settings = config.load()
        if args.app_subscription and not settings.app_secret:
            return _fail("--app-subscription: reading the app's subscription takes an app "
                         "access token: set WHATSAPP_APP_SECRET to the app secret (App Dashboard "
                         "> App settings > Basic)")
        client = graph.client_for(settings)
        targets, listed = _targets(client, args)
    except GraphError as error:
        return _fail(_listing_failure(args.business, error))
    except (WabaWebhooksError, stack_config.StackConfigError) as error:
        return _fail(str(error))
    progress = estate.Progress(len(targets))
    try:
        wabas, unreadable = estate.read_all(client, targets, parallel=args.parallel,
                                            progress=progress)
    except WabaWebhooksError as error:
        return _fail(str(error))
    finally:
        progress.close()
    app: AppSubscription | None = None
    if settings.app_secret:
        try:
            app = client.app_subscription(client.app_id())
        except WabaWebhooksError as error:
            return _fail(f"the app's webhook subscription could not be read: {error}")
    if targets and not wabas:
        for failed in unreadable:
            print(f"discover: {failed.target.label()}: {failed.error}", file=sys.stderr)
        return _fail("no WABA could be read; nothing written")
    if args.import_file is not None:
        return _write_import(args, client, wabas, unreadable, app)

    existing = current.get(key)
    uris = routing_table.live_uris(wabas) | ({app.callback_url} if app else set())
    names = token_names(uris, routing_table.names_in(existing))
    app_uri = _app_callback(wabas)
    scope = Scope(missing={u.target.waba_id: u.reason for u in unreadable if u.missing},
                  business_id=args.business, listed=listed)

    def build(value: Any) -> Any:
        table, report = routing_table.merge(value, wabas, names, app_uri, unreadable, scope,
                                             app)
        reports.append(report)
        return table

    reports: list[MergeReport] = []
    try:
        if args.stack_config:
            stack_config.update(args.stack_config, key, build)
        else:
            text, _ = stack_config.updated_text("", key, build)
            sys.stdout.write(text)
    except (stack_config.StackConfigError, RoutingTableError) as error:
        return _fail(f"{args.stack_config}: {error}")
    have = current.get(tokens_key)
    _app_summary(app, bool(settings.app_secret))
    _summary(wabas, unreadable, reports[-1], names, tokens_key,
             set(have) if isinstance(have, Mapping) else set(), args.stack_config,
             settings.allow_http_loopback, key, uris)
    return EXIT_PARTIAL if unreadable else EXIT_OK


def _write_import(args: argparse.Namespace, client: Any, wabas: list[LiveWaba],
                  unreadable: Sequence[Unreadable], app: AppSubscription | None) -> int:
    """``--import-file``: the `pulumi import --file` document of what was read, and what to do
    next (stderr)."""
    app_id: str | None = None
    if args.app_subscription:
        if app is None:
            return _fail("--app-subscription: the app has no webhook subscription for WhatsApp "
                         "Business Accounts, so there is none to import; nothing written")
        app_id = client.app_id()
    document = import_document.build(wabas, app_id)
    text = document.to_json()
    to_stdout = str(args.import_file) == "-"
    try:
        if to_stdout:
            sys.stdout.write(text)
        else:
            args.import_file.write_text(text, encoding="utf-8")
    except OSError as error:
        return _fail(f"{args.import_file}: {error.strerror or error}; nothing written")

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    _live_summary(wabas, unreadable, "import document")
    for waba_id, why in document.skipped.items():
        say(f"not in the import document: WABA {waba_id}: {why}.")
    where = "printed on stdout" if to_stdout else f"written to {args.import_file}"
    kinds = f"{len(document.resources) - (app_id is not None)} WabaRouting" + (
        " and the app's AppWebhookSubscription" if app_id is not None else "")
    say(f"Import document {where}: {kinds}.")
    shown = "FILE" if to_stdout else str(args.import_file)
    say(f"Next, in the program's project: `pulumi import --file {shown} --out imported.ts` "
        "(imported.yaml for YAML; --generate-code=false for Python) records each one as it is "
        "live (reads only, no Graph write) and writes the code that declares it; paste that "
        "code into the program and `pulumi preview` shows no change. Meta never returns verify "
        "tokens, so nothing imported records one: declare verifyToken (a secret) before "
        "`pulumi up` changes a route; adding it is no change.")
    if app_id is not None:
        say("  the app's subscription is read and written with the app secret: pulumi config "
            "set --secret whatsapp:appSecret")
    return EXIT_PARTIAL if unreadable else EXIT_OK


def _check_args(args: argparse.Namespace) -> str | None:
    if (args.owned or args.client) and args.business is None:
        return "--owned and --client narrow --business; give --business ID"
    if args.business is None and not args.wabas:
        return "give --business ID and/or --waba ID"
    if args.business is not None and not args.business.isdigit():
        return f"--business must be a business id (digits), got {args.business!r}"
    for waba_id in args.wabas:
        if not waba_id.isdigit():
            return f"--waba must be a WABA id (digits), got {waba_id!r}"
    if args.parallel < 1:
        return f"--parallel must be at least 1, got {args.parallel}"
    if args.app_subscription and args.import_file is None:
        return "--app-subscription goes with --import-file"
    return None


def _fail(message: str) -> int:
    print(f"discover: {message}", file=sys.stderr)
    return EXIT_ERROR


def _targets(client: Any, args: argparse.Namespace) -> tuple[list[Target], frozenset[str] | None]:
    """The WABAs to read (the business's first, then --waba ones), and, when the business's
    whole list was read, the ids it lists."""
    targets: list[Target] = []
    listed: frozenset[str] | None = None
    if args.business is not None:
        relations = ("owned",) if args.owned else ("client",) if args.client else estate.RELATIONS
        targets = estate.list_business(client, args.business, relations)
        if len(relations) == len(estate.RELATIONS):
            listed = frozenset(t.waba_id for t in targets)
        print(f"discover: business {args.business}: "
              + ", ".join(f"{sum(t.relation == r for t in targets)} {r}" for r in relations)
              + " WABAs", file=sys.stderr)
    known = {t.waba_id for t in targets}
    targets += [Target(w) for w in dict.fromkeys(args.wabas) if w not in known]
    return targets, listed


def _listing_failure(business: str | None, error: GraphError) -> str:
    text = f"business {business}: Meta refused to list its WABAs: {error.describe(hint=False)}"
    if error.code == 200:
        text += (". The token's system user needs access to the business (Business Settings > "
                 "System users > Assign assets) and the business_management permission besides "
                 "whatsapp_business_management")
    elif error.hint:
        text += f". {error.hint}"
    return text


def _app_summary(app: AppSubscription | None, read: bool) -> None:
    """What the summary says of the app's own subscription (the third rule)."""
    def say(line: str) -> None:
        print(line, file=sys.stderr)

    if not read:
        say("note: the app's webhook subscription (its callback URL and the fields Meta "
            "delivers) was not read: that takes an app access token. Set WHATSAPP_APP_SECRET "
            "to the app secret (App Dashboard > App settings > Basic) and run discover again "
            "to get the table's app block; this table only names the app's callback URL "
            "(appCallbackUri, informational).")
    elif app is None:
        say("the app has NO webhook subscription for WhatsApp Business Accounts: Meta delivers "
            "none of its webhooks. Add an app block (callbackUrl, verifyToken, fields) to the "
            "table to declare one.")
    else:
        say(f"app: {routing_table.app_note(app)}")
        say("  the stack needs the app secret too (the app block declares the subscription): "
            "pulumi config set --secret whatsapp:appSecret")
        if "messages" not in app.fields:
            say("  the app does NOT subscribe to the messages field: Meta delivers no messages "
                "webhook anywhere, overrides included.")


def _summary(wabas: list[LiveWaba], unreadable: Sequence[Unreadable], report: MergeReport,
             names: Mapping[str, str], tokens_key: str, have: set[str],
             stack_file: Path | None, allow_http_loopback: bool, key: str,
             uris: set[str]) -> None:
    def say(line: str = "") -> None:
        print(line, file=sys.stderr)

    _live_summary(wabas, unreadable)
    for entry, why in report.gone:
        say(f"kept, but no longer live: {entry}: {why}. Remove it from the table if it is gone "
            "for good (`pulumi up` fails on it until then).")
    for line in report.differs:
        say(f"kept as the table has it: {line} (`pulumi up` makes it so)")
    if stack_file is not None:
        say(f"Merged: kept {len(report.kept_wabas)} WABAs and {len(report.kept_numbers)} numbers "
            f"already in the table; added {len(report.added_wabas)} WABAs and "
            f"{len(report.added_numbers)} numbers.")
    for uri in sorted(uris):
        for failure in validation.check_callback_uri(
                "callbackUri", uri, allow_http_loopback=allow_http_loopback):
            say(f"warning: {uri}: {failure.reason}; the provider's check will refuse it")
    where = f"written to {stack_file}" if stack_file else "printed on stdout"
    say(f"Routing table {where}.")
    used = _token_names_used(stack_file, key, names)
    missing = sorted(used - have)
    if missing:
        stack = _stack_name(stack_file)
        say("Meta never returns verify tokens. Set each one to the token its endpoint expects "
            "(each command prompts for the value):")
        hosts = {name: host for host, name in names.items()}
        for name in missing:
            shown = f"   # {hosts[name]}" if name in hosts else ""
            say(f"  pulumi config set{stack} --secret --path '{tokens_key}.{name}'{shown}")
    say("Then `pulumi preview` shows one create per override; `pulumi up` adopts each one "
        "without a write (its URL is already set).")


def _live_summary(wabas: list[LiveWaba], unreadable: Sequence[Unreadable],
                  written: str = "table") -> None:
    """What is live, on stderr: each WABA's routing (totals only for more than 50), the WABAs
    not read (which the `written` table or document lacks)."""
    def say(line: str = "") -> None:
        print(line, file=sys.stderr)

    totals = {PHONE: 0, WABA: 0, APP: 0, NOT_DELIVERED: 0}
    for waba in wabas:
        counts = {PHONE: 0, WABA: 0, APP: 0, NOT_DELIVERED: 0}
        for number in waba.numbers:
            _, rule = effective(waba, number)
            counts[rule if rule in counts else NOT_DELIVERED] += 1
        for rule, n in counts.items():
            totals[rule] += n
        if len(wabas) <= 50 or not waba.subscribed:  # an estate of hundreds: totals only
            say(f"WABA {waba.waba_id}: {waba_note(waba)}; {len(waba.numbers)} numbers: "
                + _counts(counts))
        if not waba.subscribed and written == "table":
            say(f"  our app is not subscribed to WABA {waba.waba_id}: none of its messages "
                "webhooks reach the app, whatever the overrides say, so the table lists none "
                "of its overrides. A routing table entry with a callbackUri subscribes it on "
                "`pulumi up`.")
    numbers = sum(len(w.numbers) for w in wabas)
    say(f"{numbers} phone numbers in {len(wabas)} WABAs: {_counts(totals)}.")
    for failed in unreadable:
        say(f"not read: {failed.target.label()}: {failed.reason}")
    if unreadable:
        say(f"{len(unreadable)} WABA(s) could not be read: the {written} lacks them (exit status "
            f"{EXIT_PARTIAL}). Run discover again once they can be.")


def _token_names_used(stack_file: Path | None, key: str, names: Mapping[str, str]) -> set[str]:
    """Verify token names the table refers to: those of the live URIs, and, in a merged file,
    those its kept entries name."""
    used = set(names.values())
    if stack_file is not None and stack_file.exists():
        used |= set(routing_table.names_in(stack_config.read(stack_file).get(key)).values())
    return used


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {rule}" for rule, n in counts.items() if n) or "none"


def _app_callback(wabas: list[LiveWaba]) -> str | None:
    return next((n.webhook_configuration.application for w in wabas for n in w.numbers
                 if n.webhook_configuration.application), None)


def _stack_name(stack_file: Path | None) -> str:
    """`` --stack <name>`` for a ``Pulumi.<name>.yaml`` file, else nothing."""
    if stack_file is None:
        return ""
    found = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", stack_file.name)
    return f" --stack {found.group(1)}" if found else ""

