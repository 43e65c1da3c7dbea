"""``waba-webhooks drift``: how the live routing differs from what one or more stacks recorded,
as a Markdown report and a ``terraform plan -detailed-exitcode`` exit status (0 no drift, 2
drift, 1 error), for a scheduled CI job.

*Recorded* comes from the stacks' own JSON: ``pulumi refresh --preview-only --json`` or
``pulumi preview --refresh --json`` both print, for every resource of the stack, a ``refresh``
step whose ``oldState`` is the state the stack holds (a vanished object's is a ``delete`` step in
the first), read by `waba_webhooks.commands.states` whichever door made it (dynamic or native,
a mixed stack too). What the read found is not taken from them (CLI versions differ: v3.260.0's
``refresh --preview-only`` repeats ``oldState`` as ``newState``, v3.277.0's carries the read),
so *live* is read from Graph here, read-only, as ``review`` reads it, with each app's own token
(`waba_webhooks.commands.apps`): our app's subscription and override per WABA and every
number's ``webhook_configuration`` (the ``phone_numbers`` edge), other numbers one by one. Each
number's route (Meta's precedence: phone override, WABA override, the app's callback URL) is
worked out in both worlds; the report lists the numbers whose route differs, why
(`waba_webhooks.commands.report.why`, shared with ``review``), and the overrides that moved.

Only what the stacks own counts: a `WabaRouting` records every number of its WABA (listed,
unlisted overrides, numbers without one) and the app's subscription to the WABA; a
`WabaCallbackOverride` its WABA's override; a `PhoneCallbackOverride` its number's; an
`AppWebhookSubscription` the app's callback URL and fields (read with the app token, so the app
secret is needed). A record it cannot read is an error naming the resource, never "no drift".
With ``--business ID`` the report
also lists the business's WABAs (owned and client) that our app is subscribed to and no
resource covers (*unmanaged*): a new client's WABA, whose messages go to the app's callback
URL until someone adds it to the table. Unmanaged WABAs alone exit 2 as well: noticing them is
why the option exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ..errors import GraphError, NotFoundError, PermissionDeniedError, WabaWebhooksError
from ..graph import GraphClient
from ..resources import APP_SUBSCRIPTION, WABA_ROUTING, Kind
from ..resources import app_subscription as app_rules
from ..resources import waba_routing as routing_rules
from . import fit
from . import preview as pv
from .apps import Apps
from .preview import Declared, Uri
from .render import (
    FOLDED,
    add_full_report_argument,
    cell,
    code,
    mask,
    number_table,
    plain,
    plural,
    write_reports,
)
from .report import Live, NumberRoute, Target, World, by_app, read_live, why
from .states import Resource, UnreadableError, properties_of, read

#: Exit statuses, as ``terraform plan -detailed-exitcode``.
NO_DRIFT, ERROR, DRIFT = 0, 1, 2

EXPECTED = "`pulumi refresh --preview-only --json` or `pulumi preview --refresh --json`"


class DriftInputError(ValueError):
    """The input is not the JSON of a refresh preview (or holds no record of the stack)."""


@dataclass(frozen=True)
class Recorded:
    """One of our resources as its stack's state records it."""

    stack: str | None
    urn: str
    kind: Kind
    #: What the state says is set: WABA id / phone number id -> URI (None: recorded as none).
    declared: Declared
    #: WABA id -> whether the state says our app is subscribed to it.
    subscribed: Mapping[str, bool] = field(default_factory=dict)
    #: The app's webhook subscription it records (an `AppWebhookSubscription`), else None.
    app: AppRecord | None = None
    #: Its explicit provider's URN (`waba_webhooks.commands.apps`), None for a default one.
    provider: str | None = None

    @property
    def name(self) -> str:
        """The resource's name (the URN's last segment)."""
        return self.urn.rsplit("::", 1)[-1]

    def targets(self) -> list[tuple[Target, Uri]]:
        """Every override the record speaks for, with the URI it records."""
        return ([(("waba", i), uri) for i, uri in self.declared.wabas.items()]
                + [(("phone", i), uri) for i, uri in self.declared.phones.items()])


@dataclass(frozen=True)
class AppRecord:
    """The app's webhook subscription (object ``whatsapp_business_account``) as recorded."""

    app_id: str | None
    callback_url: str | None
    fields: tuple[str, ...]
    active: bool | None


#: The outputs of a `WabaRouting` that record what its last read found.
WABA_OVERRIDE, UNLISTED_OVERRIDES, SUBSCRIBED = properties_of(
    WABA_ROUTING, "waba_callback_uri", "unlisted_overrides", "subscribed")
#: The outputs of an `AppWebhookSubscription` that record what its last read found.
LIVE_FIELDS, APP_ID, ACTIVE = properties_of(APP_SUBSCRIPTION, "live_fields", "app_id", "active")


def _app_record(resource: Resource, outputs: Mapping[str, Any]) -> AppRecord:
    # live_fields: what Meta held at the last read or write; fields: what was declared.
    live = resource.names(LIVE_FIELDS, outputs) if outputs.get(LIVE_FIELDS) else ()
    fields = live or resource.names(app_rules.FIELDS, outputs)
    app_id = outputs.get(APP_ID)
    url = resource.uri(app_rules.CALLBACK_URL, outputs)
    active = outputs.get(ACTIVE)
    return AppRecord(app_id if isinstance(app_id, str) else None,
                     url if isinstance(url, str) else None,
                     fields if isinstance(fields, tuple) else (),
                     active if isinstance(active, bool) else None)


def _routing_record(resource: Resource) -> tuple[Declared, dict[str, bool]]:
    """A `WabaRouting`'s outputs (as last read from Graph): the WABA's override of ours
    (``waba_callback_uri``, whoever set it), every number of the WABA (``phone_numbers``,
    ``unlisted_overrides``, ``numbers_without_override``) and the subscription."""
    outputs = resource.outputs
    waba_id = resource.object_id(routing_rules.WABA_ID, outputs)
    if not isinstance(waba_id, str) or routing_rules.NUMBERS_WITHOUT_OVERRIDE not in outputs:
        raise UnreadableError(
            f"resource `{resource.name}` ({resource.urn}) records no "
            f"{resource.spelled(routing_rules.NUMBERS_WITHOUT_OVERRIDE)} for WABA {waba_id}: "
            "it has not been read from Graph since it was created; run `pulumi refresh` once")
    phones: dict[str, Uri] = dict.fromkeys(
        resource.id_list(routing_rules.NUMBERS_WITHOUT_OVERRIDE, outputs), None)
    for key in (UNLISTED_OVERRIDES, routing_rules.PHONE_NUMBERS):
        found = resource.uri_map(key, outputs)
        if not isinstance(found, dict):  # a secret map: nothing to compare with
            raise resource.unreadable(key, str(found), "a map of phone number id to URL")
        phones.update(found)
    subscribed = outputs.get(SUBSCRIBED)
    return (Declared(wabas={waba_id: resource.uri(WABA_OVERRIDE, outputs)},
                     phones=phones, whole_wabas=frozenset({waba_id})),
            {waba_id: subscribed} if isinstance(subscribed, bool) else {})


def _record(stack: str | None, resource: Resource) -> Recorded:
    outputs = resource.outputs or resource.inputs
    if resource.kind is WABA_ROUTING:
        return Recorded(stack, resource.urn, resource.kind, *_routing_record(resource),
                        provider=resource.provider)
    if resource.kind is APP_SUBSCRIPTION:
        return Recorded(stack, resource.urn, resource.kind, Declared(),
                        app=_app_record(resource, outputs), provider=resource.provider)
    declared = pv.declared(Resource(resource.urn, resource.kind, resource.door, outputs,
                                    outputs, resource.provider))
    if declared.unresolved:
        raise UnreadableError(f"resource `{resource.name}` ({resource.urn}): "
                              + "; ".join(declared.unresolved) + " in the stack's record")
    # A WABA override needs the app subscribed: a record of one says it was.
    subscribed = {w: True for w, uri in declared.wabas.items() if uri is not None}
    return Recorded(stack, resource.urn, resource.kind, declared, subscribed,
                    provider=resource.provider)


def recorded(document: Any) -> list[Recorded]:
    """Our resources as the stack recorded them, from a decoded refresh preview document: per
    resource the ``oldState`` of its ``refresh`` step (else of its first step that has one).
    Raises `DriftInputError` for another document, `UnreadableError` for a resource of ours it
    cannot read."""
    if not isinstance(document, Mapping) or not isinstance(document.get("steps"), list):
        raise DriftInputError(f"expected the JSON object {EXPECTED} prints (with `steps`)")
    steps = [s for s in document["steps"] if isinstance(s, Mapping)]
    if steps and not any(s.get("op") == "refresh" for s in steps):
        raise DriftInputError(
            "it holds no `refresh` step, so it does not list what the stack recorded: a plain "
            f"`pulumi preview --json` leaves unchanged resources out; use {EXPECTED}")
    if not steps and "changeSummary" not in document:
        raise DriftInputError(f"expected the JSON object {EXPECTED} prints")
    states: dict[str, tuple[Mapping[str, Any], str | None]] = {}
    # The refresh steps first: in `preview --refresh` output a later step's oldState is live.
    for step in sorted(steps, key=lambda s: s.get("op") != "refresh"):
        if state := _mapping(step.get("oldState")):
            reference = step.get("provider")
            states.setdefault(str(step.get("urn", "")),
                              (state, reference if isinstance(reference, str) else None))
    found = []
    for urn, (state, reference) in states.items():
        parts = urn.split("::")
        stack = parts[0][len("urn:pulumi:"):] if parts[0].startswith("urn:pulumi:") else None
        resource = read(urn, state, reference)
        if resource is not None:
            found.append(_record(stack, resource))
    return found


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


# ---- comparing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """One override (or a WABA's subscription) that is not what a resource recorded."""

    target: Target
    resource: Recorded
    recorded: Uri
    live: Uri
    note: str
    #: The app whose override this is, where the report covers more than one app.
    app: str | None = None

    @property
    def change(self) -> str:
        """``removed``, ``set`` or ``changed`` (by hand: outside the stack)."""
        return ("removed" if self.live is None else "set" if self.recorded is None
                else "changed")


@dataclass(frozen=True)
class Unmanaged:
    """A WABA of the business that no resource covers."""

    waba_id: str
    name: str | None
    relation: str
    subscribed: bool | None
    override: str | None
    #: Why it could not be read (Meta's message), else empty.
    unreadable: str = ""


@dataclass
class DriftReport:
    """Everything the drift report shows."""

    stacks: list[str]
    resources: list[Recorded]
    numbers: list[NumberRoute] = field(default_factory=list)
    numbers_read: int = 0
    moved: list[Moved] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    business: str | None = None
    warnings: list[str] = field(default_factory=list)
    wabas_read: list[str] = field(default_factory=list)
    phones_read: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        """Whether anything differs from the record (routes, overrides, subscriptions)."""
        return bool(self.numbers or self.moved)

    @property
    def exit_status(self) -> int:
        """2 when anything drifted or a WABA is unmanaged, else 0."""
        unmanaged = [u for u in self.unmanaged if not u.unreadable]
        return DRIFT if self.drifted or unmanaged else NO_DRIFT


def _note(recorded: Uri, live: Uri) -> str:
    if live is None:
        return "removed outside the stack"
    if recorded is None:
        return "set outside the stack"
    return "changed outside the stack"


def build(resources: Sequence[Recorded], client: GraphClient | Apps,
          business: str | None = None) -> DriftReport:
    """Read what the records cover from Graph (reads only) and compare it with them, per app:
    `client` reads for the default provider's app, `Apps` also for explicit providers'. Raises
    `PermissionDeniedError` when a token may not read a recorded object (no drift can be told
    there), `AppTokenMissingError` for an app whose token it lacks."""
    apps = client if isinstance(client, Apps) else Apps(client)
    stacks = sorted({r.stack for r in resources if r.stack})
    report = DriftReport(stacks, list(resources), business=business)
    ours: tuple[dict[Target, Recorded], list[str], Live] = ({}, [], Live())
    for app_id, (reader, records) in by_app(list(resources), apps).items():
        compared = _compare(reader, records, app_id, report)
        if reader is apps.default:
            ours = compared
    if business is not None:
        report.unmanaged = _unmanaged(apps.default, business, *ours)
    return report


def _compare(client: GraphClient, resources: Sequence[Recorded], app_id: str | None,
             report: DriftReport) -> tuple[dict[Target, Recorded], list[str], Live]:
    """The records of one app against what Graph says, into `report`; what they cover."""
    owner: dict[Target, Recorded] = {}
    for resource in resources:
        for target, _uri in resource.targets():
            if target in owner and owner[target].urn != resource.urn:
                report.warnings.append(
                    f"{'WABA' if target[0] == 'waba' else 'phone number'} {target[1]} is "
                    f"recorded by both `{plain(owner[target].name)}` and "
                    f"`{plain(resource.name)}`: each would undo the other's writes")
            owner[target] = resource
    waba_ids = sorted({t[1] for t in owner if t[0] == "waba"}
                      | {w for r in resources for w in r.declared.whole_wabas})
    phone_ids = sorted(t[1] for t in owner if t[0] == "phone")
    live = read_live(client, waba_ids, phone_ids, report)
    refused = sorted(live.refused)
    if refused:
        kind, object_id = refused[0]
        raise PermissionDeniedError(
            f"the token {f'of app {app_id} ' if app_id else ''}may not read "
            f"{'WABA' if kind == 'waba' else 'phone number'} "
            f"{object_id}, which the stack records ({live.unreadable[refused[0]]}); "
            f"{len(refused)} recorded object(s) refused in all: no drift can be told there",
            code=200)
    now, then = World(live), World(live)
    moved: list[Moved] = []
    for resource in resources:
        for target, uri in resource.targets():
            if target in live.unreadable:
                moved.append(Moved(target, resource, uri, None,
                                   f"not found live: {live.unreadable[target]}", app_id))
                continue
            then.overrides[target] = uri
            if now.current(target) != uri:
                moved.append(Moved(target, resource, uri, now.current(target),
                                   _note(uri, now.current(target)), app_id))
        for waba_id, subscribed in resource.subscribed.items():
            if waba_id in live.subscribed and live.subscribed[waba_id] != subscribed:
                then.subscribed[waba_id] = subscribed
                moved.append(Moved(
                    ("subscription", waba_id), resource, "subscribed" if subscribed else None,
                    "subscribed" if live.subscribed[waba_id] else None,
                    "our app was unsubscribed outside the stack" if subscribed
                    else "our app was subscribed outside the stack", app_id))
    for resource in resources:
        if resource.app is not None:
            moved += _compare_app(client, resource, then, now, app_id)
    report.moved += moved
    causes = {m.target: m for m in moved}
    app = next((m for m in moved if m.target[0] in ("app", "app fields")), None)
    report.numbers_read += len(live.numbers)
    for phone_id in sorted(live.numbers):
        before, after = then.route(phone_id), now.route(phone_id)
        if before == after:
            continue
        owner_waba = live.number_waba.get(phone_id)
        phone = causes.get(("phone", phone_id))
        subscription = causes.get(("subscription", owner_waba)) if owner_waba else None
        waba = causes.get(("waba", owner_waba)) if owner_waba else None
        reasons = why(
            before, after,
            phone=[f"phone override {phone.change} by hand"] if phone else [],
            subscription=[f"app {'un' if subscription.live is None else ''}subscribed by hand"]
            if subscription else [],
            waba=[f"via WABA override ({waba.change} by hand)"] if waba else [],
            app=f"via the app's subscription ({app.change} by hand)" if app else None)
        number = live.numbers[phone_id]
        report.numbers.append(NumberRoute(phone_id, number.display_phone_number, owner_waba,
                                          before, after, reasons, app_id))
    return owner, waba_ids, live


def _compare_app(client: GraphClient, resource: Recorded, then: World,
                 now: World, app: str | None) -> list[Moved]:
    """The app's subscription: its callback URL (where numbers without an override send their
    messages webhooks) and its fields (no ``messages``: none is delivered anywhere). Reading it
    takes the app token (``whatsapp:appSecret`` / ``WHATSAPP_APP_SECRET``)."""
    record = resource.app
    assert record is not None
    app_id = record.app_id or client.app_id()
    live = client.app_subscription(app_id)
    live_url = live.callback_url if live is not None else None
    live_fields = tuple(live.fields) if live is not None else ()
    # Both worlds know the app's URL and fields: numbers without an override follow the URL.
    then.app_known, then.app_url, then.app_fields = True, record.callback_url, record.fields
    now.app_known, now.app_url, now.app_fields = True, live_url, live_fields
    moved = []
    if live_url != record.callback_url:
        moved.append(Moved(("app", app_id), resource, record.callback_url, live_url,
                           _note(record.callback_url, live_url), app))
    if not app_rules.same_fields(live_fields, record.fields):
        gone = sorted(set(record.fields) - set(live_fields))
        added = sorted(set(live_fields) - set(record.fields))
        note = "; ".join(part for part in (
            f"dropped outside the stack: {', '.join(gone)}" if gone else "",
            f"added outside the stack: {', '.join(added)}" if added else "") if part)
        moved.append(Moved(("app fields", app_id), resource, ", ".join(record.fields) or None,
                           ", ".join(live_fields) or None, note, app))
    return moved


def _unmanaged(client: GraphClient, business: str, owner: Mapping[Target, Recorded],
               covered: Iterable[str], live: Live) -> list[Unmanaged]:
    """The business's WABAs our app is subscribed to that no record covers (a WABA holding a
    recorded phone number is covered), and those that could not be read, with Meta's reason."""
    covered = set(covered)
    loose_phones = {t[1] for t in owner if t[0] == "phone"} - set(live.number_waba)
    found = []
    for relation in ("owned", "client"):
        for waba in client.business_wabas(business, relation):
            if waba.id in covered:
                continue
            try:
                subscribed, override = client.waba_override(waba.id)
                if subscribed and loose_phones and loose_phones & {
                        n.phone_number_id for n in client.phone_numbers(waba.id, routing=False)}:
                    continue
            except (NotFoundError, PermissionDeniedError) as error:
                found.append(Unmanaged(waba.id, waba.name, relation, None, None,
                                       error.describe(hint=False)))
                continue
            if subscribed:
                found.append(Unmanaged(waba.id, waba.name, relation, True, override))
    return found


# ---- the report ---------------------------------------------------------------------------------


def blocks(report: DriftReport, folded: int | None = FOLDED) -> list[fit.Block]:
    """The report's Markdown blocks (see `fit`)."""
    title = "## Webhook routing drift"
    if report.stacks:
        names = ", ".join(f"`{plain(s)}`" for s in report.stacks)
        title += f" — {'stacks' if len(report.stacks) > 1 else 'stack'} {names}"
    out: list[fit.Block] = [title, ""]
    scope = (f"{plural(len(report.resources), 'resource')}"
             + (f" in {len(report.stacks)} stacks" if len(report.stacks) > 1 else "")
             + f", {plural(report.numbers_read, 'phone number')} read")
    unmanaged = [u for u in report.unmanaged if not u.unreadable]
    if not report.drifted:
        out.append(f"**No drift.** Every route is as recorded ({scope}).")
    else:
        parts = [f"**Drift: {plural(len(report.numbers), 'phone number')} route "
                 "otherwise than recorded**"]
        parts.append(f"{plural(len(report.moved), 'override')} moved outside the stack")
        out.append(", ".join(parts) + f" ({scope}).")
    if unmanaged:
        out += ["", f"**{plural(len(unmanaged), 'WABA')} of business "
                    f"{report.business} unmanaged**: our app is subscribed, no resource covers "
                    f"{'it' if len(unmanaged) == 1 else 'them'}."]
    out += ["", "*Recorded*: the stack's state, from the JSON given. *Live*: read from Graph "
                "now (read-only). `pulumi up --refresh` puts back what the stack declares; "
                "`pulumi refresh` records what is live instead."]
    if report.numbers:
        out += ["", number_table(report.numbers, folded, ("recorded", "live"))]
    if report.moved:
        rows = []
        for moved in sorted(report.moved, key=lambda m: (m.target, m.resource.urn)):
            kind, object_id = moved.target
            noun = {"waba": "WABA", "phone": "phone number",
                    "subscription": "subscription to WABA", "app": "callback URL of app",
                    "app fields": "fields of app"}[kind]
            resource = f"`{plain(moved.resource.name)}`"
            if len(report.stacks) > 1 and moved.resource.stack:
                resource += f" ({plain(moved.resource.stack)})"
            of_app = f" (app {moved.app})" if moved.app and kind not in ("app", "app fields") \
                else ""
            rows.append(f"| {noun} {object_id}{of_app} | {resource} | "
                        f"{code(_uri(moved.recorded))} | {code(_uri(moved.live))} "
                        f"| {cell(moved.note)} |")
        out += ["", fit.Table(["### Overrides", "",
                               "| override | resource | recorded | live | note |",
                               "| --- | --- | --- | --- | --- |"], rows, "override rows")]
    if report.unmanaged:
        rows = [f"| {u.waba_id} | {cell(u.name or '')} | {u.relation} | "
                f"{_unmanaged_state(u)} |" for u in report.unmanaged]
        out += ["", fit.Table(["### Unmanaged", "",
                               f"WABAs of business {report.business} that no resource of the "
                               "stack(s) covers. Add them to the routing table "
                               "(`waba-webhooks discover --business`) or leave them to the "
                               "app's callback URL.", "",
                               "| WABA | name | relation | our app |",
                               "| --- | --- | --- | --- |"], rows, "unmanaged WABAs")]
    if report.warnings:
        out += ["", fit.Table(["### Warnings", ""],
                              [f"- {cell(w)}" for w in report.warnings], "warnings")]
    out.append("")
    return out


def _uri(uri: Uri) -> str:
    return "(none)" if uri is None else str(uri)


def _unmanaged_state(u: Unmanaged) -> str:
    if u.unreadable:
        return cell(f"could not be read: {u.unreadable}")
    if u.override:
        return f"subscribed, WABA override {code(u.override)}"
    return "subscribed, no WABA override (the app's callback URL)"


# ---- the command --------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``waba-webhooks drift``."""
    parser.description = (
        f"Compare what one or more stacks recorded ({EXPECTED}, one file per stack, or stdin) "
        "with the live routing read from Graph (read-only; settings from the environment: "
        "WHATSAPP_ACCESS_TOKEN, WHATSAPP_GRAPH_URL, ...; for the resources of an explicit "
        "provider NAME, its app's token in WHATSAPP_ACCESS_TOKEN_<NAME>), and print a "
        "Markdown report. "
        "Exit status: 0 no drift, 2 drift (or unmanaged WABAs), 1 error.")
    parser.add_argument("files", nargs="*", metavar="REFRESH_JSON",
                        help="files of refresh preview JSON, one per stack (default: stdin)")
    parser.add_argument("--business", metavar="ID",
                        help="also list the business's WABAs (owned and client) that our app is "
                             "subscribed to and no resource covers")
    add_full_report_argument(parser)

    def usage_error(message: str) -> NoReturn:
        # argparse exits 2 on a usage error, which a scheduler would read as "drift".
        parser.print_usage(sys.stderr)
        parser.exit(ERROR, f"{parser.prog}: error: {message}\n")

    parser.error = usage_error  # type: ignore[method-assign]  # exit ERROR, not argparse's 2


def _load(name: str) -> tuple[Any, list[Recorded]]:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise DriftInputError(f"cannot read {name}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise DriftInputError(f"{name} is not text: expected {EXPECTED}") from None
    shown = "stdin" if name == "-" else name
    try:
        document = json.loads(text)
    except ValueError as error:
        raise DriftInputError(f"{shown} is not JSON ({error}): expected {EXPECTED}") from None
    try:
        return document, recorded(document)
    except (DriftInputError, UnreadableError) as error:
        raise DriftInputError(f"{shown}: {error}") from None


def run(args: argparse.Namespace) -> int:
    """Print the report on stdout; the exit status says whether anything drifted."""
    from .. import config, graph

    if args.business is not None and not args.business.isdigit():
        print(f"drift: --business must be a business id (digits), got {args.business!r}",
              file=sys.stderr)
        return ERROR
    documents, resources = [], []
    try:
        for name in args.files or ["-"]:
            document, found = _load(name)
            documents.append(document)
            resources += found
    except DriftInputError as error:
        print(f"drift: {error}", file=sys.stderr)
        return ERROR
    try:
        settings = config.load()
        apps = Apps(graph.client_for(settings))
        apps.learn(documents)
        report = build(resources, apps, args.business)
    except (GraphError, WabaWebhooksError) as error:
        print(f"drift: {error}", file=sys.stderr)
        return ERROR
    secrets = set().union(*(pv.plaintext_secrets(d) for d in documents)) | apps.secrets()
    if settings.access_token:
        secrets.add(settings.access_token)
    try:
        write_reports(lambda folded: blocks(report, folded), secrets, args.full_report, "drift")
    except OSError as error:
        print(f"drift: cannot write {args.full_report}: {error.strerror}", file=sys.stderr)
        return ERROR
    return report.exit_status


def report_for(documents: Sequence[Mapping[str, Any]], client: GraphClient | Apps,
               business: str | None = None) -> tuple[str, int]:
    """The Markdown report (cut to fit) and the exit status for decoded refresh preview
    documents, one per stack (for programs and tests)."""
    resources = [r for d in documents for r in recorded(d)]
    apps = client if isinstance(client, Apps) else Apps(client)
    apps.learn(documents)
    report = build(resources, apps, business)
    secrets = set().union(*(pv.plaintext_secrets(d) for d in documents))
    return mask(fit.fit(blocks(report)), secrets), report.exit_status
