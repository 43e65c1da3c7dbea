"""``waba-webhooks discover``: the live routing of some WABAs, as a routing table to adopt.

For each WABA it reads (never writes) our app's subscription and override
(``GET /{WABA_ID}/subscribed_apps``) and every phone number with its ``webhook_configuration``
(``GET /{WABA_ID}/phone_numbers`` with field expansion, one call per page of 100). It prints the
``waba-webhooks:routing`` block of a stack config file (`waba_webhooks.routing` reads it), with a
comment per number saying where its messages webhooks go now; ``--stack-config FILE`` writes the
block into that file instead, every other line of it untouched. A ``pulumi up`` of that table then
adopts what is live without a single write: each create finds its URL already set.

With the app secret (``WHATSAPP_APP_SECRET``), it also reads the app's own webhook subscription
(``GET /{APP_ID}/subscriptions``, one call: it needs an app access token) and prints it as the
table's ``app`` block: the callback URL every number without an override falls back to, and the
webhook fields Meta delivers. Without it the table says only ``appCallbackUri`` (informational,
from the numbers' ``webhook_configuration``), as before, and the summary says how to get the
block.

Meta never returns verify tokens, so the table names one per callback URL host and the summary
(stderr) lists the ``pulumi config set --secret --path`` commands that fill them in.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from .. import validation
from ..errors import WabaWebhooksError
from ..graph import GraphClient, PhoneNumberRouting
from . import stack_config

if TYPE_CHECKING:
    from ..graph.client import AppSubscription

#: The namespace of the routing program's config (``stacks/__main__.py``: the project name).
DEFAULT_NAMESPACE = "waba-webhooks"

PHONE, WABA, APP = "phone number override", "WABA override", "app callback URL"
NOT_DELIVERED = "not delivered"
#: `WebhookConfiguration.effective_rule` -> how the summary and comments say it.
_RULES = {"phone_number": PHONE, "whatsapp_business_account": WABA, "application": APP}


@dataclass(frozen=True)
class LiveWaba:
    """One WABA as Graph reports it for our app."""

    waba_id: str
    #: Whether our app is subscribed to the WABA's webhooks (else none of them reach us).
    subscribed: bool
    #: Our app's override callback URI on the WABA, if any.
    override: str | None
    numbers: list[PhoneNumberRouting]


def read_live(client: GraphClient, waba_ids: Iterable[str]) -> list[LiveWaba]:
    """Read each WABA's subscription, override and numbers (reads only)."""
    wabas = []
    for waba_id in dict.fromkeys(waba_ids):  # in the order given, once each
        subscribed, override = client.waba_override(waba_id)
        wabas.append(LiveWaba(waba_id, subscribed, override, client.phone_numbers(waba_id)))
    return wabas


def effective(waba: LiveWaba, number: PhoneNumberRouting) -> tuple[str | None, str]:
    """Where a number's messages webhooks go now, and the rule that sends them there."""
    if not waba.subscribed:
        return None, f"none: our app is not subscribed to WABA {waba.waba_id}"
    routing = number.webhook_configuration
    if routing.effective is None:
        return None, "none: the app has no callback URL"
    return routing.effective, _RULES[routing.effective_rule]


def declared_override(waba: LiveWaba, number: PhoneNumberRouting) -> str | None:
    """The number's override as the table declares it: ours as it is live, except on a WABA our
    app is not subscribed to. There nothing reaches the app, and declaring a route would make
    `pulumi up` subscribe it (a write that starts deliveries): the table leaves such overrides
    unlisted, so adopting changes nothing, and says so in the number's comment."""
    return number.webhook_configuration.phone_number if waba.subscribed else None


def token_names(uris: Iterable[str], existing: Mapping[str, str] | None = None) -> dict[str, str]:
    """One verify token name per distinct URL host: ``existing`` (host -> name, from a table
    being updated) where it has one, else the host as a config-path-safe slug
    (``hooks.example.com`` -> ``hooks-example-com``)."""
    existing = dict(existing or {})
    names: dict[str, str] = {}
    taken = set(existing.values())
    for host in sorted({_host(uri) for uri in uris}):
        if host in existing:
            names[host] = existing[host]
            continue
        base = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-") or "callback"
        if not base[0].isalpha():
            base = f"host-{base}"  # a path segment such as "127-0-0-1" reads oddly; keep it a word
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        names[host] = name
        taken.add(name)
    return names


def routing_table(wabas: list[LiveWaba], names: Mapping[str, str],
                  app_callback_uri: str | None,
                  app: AppSubscription | None = None) -> dict[str, Any]:
    """The routing table (plain data, as `waba_webhooks.routing.plan` reads it); with the app's
    live subscription `app`, its ``app`` block instead of ``appCallbackUri``."""
    table: dict[str, Any] = {}
    if app:
        table["app"] = {"callbackUrl": app.callback_url,
                        "verifyToken": names[_host(app.callback_url)],
                        "fields": list(app.fields)}
    elif app_callback_uri:
        table["appCallbackUri"] = app_callback_uri
    table["wabas"] = [_entry({"wabaId": w.waba_id}, w.override, names) for w in wabas]
    table["phoneNumbers"] = [
        _entry({"phoneNumberId": n.phone_number_id, "wabaId": w.waba_id},
               declared_override(w, n), names)
        for w in wabas for n in w.numbers
    ]
    return table


def render_block(key: str, wabas: list[LiveWaba], names: Mapping[str, str],
                 app_callback_uri: str | None, indent: int,
                 app: AppSubscription | None = None) -> str:
    """The ``<key>:`` block of a stack config file at `indent`, with a comment per WABA and per
    number; it parses to `routing_table`."""
    pad, inner = " " * indent, " " * (indent + 2)
    item, field = inner + "  - ", inner + "    "
    out = [f"{pad}{key}:"]
    if app:
        key_pad = inner + "  "
        out.append(f"{inner}app:  # {_comment(_app_note(app))}")
        out.append(f"{key_pad}callbackUrl: {_scalar(app.callback_url)}")
        out.append(f"{key_pad}verifyToken: {names[_host(app.callback_url)]}")
        out.append(f"{key_pad}fields:")
        out += [f"{key_pad}  - {_scalar(name)}" for name in app.fields]
    elif app_callback_uri:
        out.append(f"{inner}appCallbackUri: {_scalar(app_callback_uri)}"
                   "  # informational: the App Dashboard's callback URL")
    out.append(f"{inner}wabas:")
    for waba in wabas:
        out.append(f"{item}wabaId: {_quoted(waba.waba_id)}  # {_comment(_waba_note(waba))}")
        if waba.override:
            out.append(f"{field}callbackUri: {_scalar(waba.override)}")
            out.append(f"{field}verifyToken: {names[_host(waba.override)]}")
    out.append(f"{inner}phoneNumbers:" + ("" if any(w.numbers for w in wabas) else " []"))
    for waba in wabas:
        for number in waba.numbers:
            uri, rule = effective(waba, number)
            shown = number.display_phone_number or "(no display number)"
            where = f"{uri} ({rule})" if uri else rule
            live = number.webhook_configuration.phone_number
            own = declared_override(waba, number)
            if live and not own:
                where += f"; our override {live} is set but not listed"
            out.append(f"{item}phoneNumberId: {_quoted(number.phone_number_id)}"
                       f"  # {_comment(f'{shown} -> {where}')}")
            out.append(f"{field}wabaId: {_quoted(waba.waba_id)}")
            if own:
                out.append(f"{field}callbackUri: {_scalar(own)}")
                out.append(f"{field}verifyToken: {names[_host(own)]}")
    return "\n".join(out) + "\n"


# ---- the command ------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``waba-webhooks discover``."""
    parser.description = (
        "Read the live routing of WABAs for our app (read-only) and print it as the routing "
        "table of a stack config file, ready for `pulumi up` to adopt without writing. "
        "Settings come from the environment as the provider reads them (WHATSAPP_ACCESS_TOKEN, "
        "WHATSAPP_GRAPH_URL, ...); with WHATSAPP_APP_SECRET it also prints the app's "
        "subscription as the table's app block."
    )
    parser.add_argument("--waba", dest="wabas", action="append", required=True, metavar="ID",
                        help="a WABA id to read (repeat for several)")
    parser.add_argument("--stack-config", type=Path, metavar="FILE",
                        help="write the table into this Pulumi.<stack>.yaml (its other keys, "
                             "comments and secrets untouched) instead of printing it")
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE,
                        help="config namespace of the routing program (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Discover, print or merge the table, and summarise on stderr."""
    from .. import config, graph

    for waba_id in args.wabas:
        if not waba_id.isdigit():
            print(f"discover: --waba must be a WABA id (digits), got {waba_id!r}", file=sys.stderr)
            return 2
    app: AppSubscription | None = None
    try:
        settings = config.load()
        client = graph.client_for(settings)
        wabas = read_live(client, args.wabas)
        if settings.app_secret:
            app = client.app_subscription(client.app_id())
    except WabaWebhooksError as error:
        print(f"discover: {error}", file=sys.stderr)
        return 1
    key, tokens_key = f"{args.namespace}:routing", f"{args.namespace}:verifyTokens"
    current = stack_config.read(args.stack_config) if args.stack_config else {}
    uris = _live_uris(wabas) | ({app.callback_url} if app else set())
    names = token_names(uris, _names_in(current.get(key)))
    app_uri = _app_callback(wabas)

    def render(indent: int) -> str:
        return render_block(key, wabas, names, app_uri, indent, app)

    if args.stack_config:
        try:
            stack_config.set_config_block(args.stack_config, key, render)
        except (stack_config.StackConfigError, yaml.YAMLError) as error:
            print(f"discover: {error}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write("config:\n" + render(2))
    have = current.get(tokens_key)
    _app_summary(app, bool(settings.app_secret))
    _summary(wabas, names, tokens_key, set(have) if isinstance(have, Mapping) else set(),
             args.stack_config, settings.allow_http_loopback, uris)
    return 0


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
        say(f"app: {_app_note(app)}")
        say("  the stack needs the app secret too (the app block declares the subscription): "
            "pulumi config set --secret whatsapp:appSecret")
        if "messages" not in app.fields:
            say("  the app does NOT subscribe to the messages field: Meta delivers no messages "
                "webhook anywhere, overrides included.")


def _app_note(app: AppSubscription) -> str:
    active = "" if app.active else "NOT active; "
    return (f"{active}the app's subscription: {app.callback_url} gets every number without an "
            f"override and all template and account webhooks; {len(app.fields)} fields")


def _summary(wabas: list[LiveWaba], names: Mapping[str, str], tokens_key: str,
             have: set[str], stack_file: Path | None, allow_http_loopback: bool,
             uris: set[str]) -> None:
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
        say(f"WABA {waba.waba_id}: {_waba_note(waba)}; {len(waba.numbers)} numbers: "
            + _counts(counts))
        if not waba.subscribed:
            say(f"  our app is not subscribed to WABA {waba.waba_id}: none of its messages "
                "webhooks reach the app, whatever the overrides say, so the table lists none "
                "of its overrides. A routing table entry with a callbackUri subscribes it on "
                "`pulumi up`.")
    numbers = sum(len(w.numbers) for w in wabas)
    say(f"{numbers} phone numbers in {len(wabas)} WABAs: {_counts(totals)}.")
    for uri in sorted(uris):
        for failure in validation.check_callback_uri(
                "callbackUri", uri, allow_http_loopback=allow_http_loopback):
            say(f"warning: {uri}: {failure.reason}; the provider's check will refuse it")
    where = f"written to {stack_file}" if stack_file else "printed on stdout"
    say(f"Routing table {where}.")
    missing = sorted(set(names.values()) - have)
    if missing:
        stack = _stack_name(stack_file)
        say("Meta never returns verify tokens. Set each one to the token its endpoint expects "
            "(each command prompts for the value):")
        hosts = {name: host for host, name in names.items()}
        for name in missing:
            say(f"  pulumi config set{stack} --secret --path '{tokens_key}.{name}'"
                f"   # {hosts[name]}")
    say("Then `pulumi preview` shows one create per override; `pulumi up` adopts each one "
        "without a write (its URL is already set).")


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {rule}" for rule, n in counts.items() if n) or "none"


def _waba_note(waba: LiveWaba) -> str:
    if not waba.subscribed:
        return "our app is NOT subscribed: no messages webhooks reach it"
    if waba.override:
        return f"WABA override {waba.override}"
    return "no WABA override: numbers without their own go to the app's callback URL"


def _live_uris(wabas: list[LiveWaba]) -> set[str]:
    uris = {w.override for w in wabas if w.override}
    uris |= {uri for w in wabas for n in w.numbers if (uri := declared_override(w, n))}
    return uris


def _app_callback(wabas: list[LiveWaba]) -> str | None:
    return next((n.webhook_configuration.application for w in wabas for n in w.numbers
                 if n.webhook_configuration.application), None)


def _names_in(table: Any) -> dict[str, str]:
    """host -> verify token name, as an existing routing table assigns them."""
    found: dict[str, str] = {}
    if not isinstance(table, Mapping):
        return found
    for group in ("wabas", "phoneNumbers"):
        entries = table.get(group)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and entry.get("callbackUri") and isinstance(
                    entry.get("verifyToken"), str):
                found.setdefault(_host(str(entry["callbackUri"])), entry["verifyToken"])
    app = table.get("app")
    if isinstance(app, Mapping) and app.get("callbackUrl") and isinstance(
            app.get("verifyToken"), str):
        found.setdefault(_host(str(app["callbackUrl"])), app["verifyToken"])
    return found


def _entry(entry: dict[str, Any], uri: str | None, names: Mapping[str, str]) -> dict[str, Any]:
    if uri:
        entry.update(callbackUri=uri, verifyToken=names[_host(uri)])
    return entry


def _host(uri: str) -> str:
    try:
        return urlsplit(uri).hostname or "callback"
    except ValueError:
        return "callback"


def _stack_name(stack_file: Path | None) -> str:
    """`` --stack <name>`` for a ``Pulumi.<name>.yaml`` file, else nothing."""
    if stack_file is None:
        return ""
    found = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", stack_file.name)
    return f" --stack {found.group(1)}" if found else ""


def _quoted(text: str) -> str:
    return json.dumps(text)


def _scalar(text: str) -> str:
    """A YAML scalar for `text`: plain when it reads back the same, else double-quoted."""
    try:
        plain_ok = text == text.strip() and yaml.safe_load(f"k: {text}") == {"k": text}
    except yaml.YAMLError:
        plain_ok = False
    return text if plain_ok and " #" not in text else json.dumps(text)


def _comment(text: str) -> str:
    """Text safe on one YAML comment line (no line breaks or control characters)."""
    return "".join(c if c.isprintable() else "?" for c in text)
