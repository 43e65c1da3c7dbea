"""``waba-webhooks review``: a pull request's ``pulumi preview --json`` as a Markdown report of
where each phone number's messages webhooks go before and after.

*Before* is what Graph says now (read-only): for every WABA a step touches, our app's
subscription and override (``subscribed_apps``) and all its numbers with their
``webhook_configuration`` (the ``phone_numbers`` edge); numbers touched on their own are read one
by one. *After* applies the preview's steps to that, the way ``pulumi up`` would: creates and
updates first (a create that finds another URL set fails unless it adopts; one that finds the
same URL adopts it without a write), deletes last (a delete clears an override only if it still
holds the URL the stack set). Meta's precedence -- phone override, else WABA override, else the
app's callback URL, nothing when the app is not subscribed to the WABA -- then gives each number's
route. Numbers whose route changes only because their WABA's override changes are listed like
any other, with the reason.

The report never contains a secret: verify tokens are never read from the preview, and every
plaintext secret the input holds (and the access token) is masked if it shows up anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GraphError, NotFoundError, PermissionDeniedError, WabaWebhooksError
from ..graph import GraphClient, PhoneNumberRouting
from . import preview as pv
from .preview import KNOWN_AFTER_APPLY, Opaque, OverrideStep, Preview, Uri

PHONE, WABA, APP, NONE = "phone", "WABA", "app", "none"
#: Shortest secret the final masking pass replaces (shorter ones would garble ids and URLs; the
#: report never takes text from the properties that hold secrets in the first place).
MIN_MASKED_SECRET = 4

Target = tuple[str, str]  # ("waba" | "phone", object id)


@dataclass(frozen=True)
class Route:
    """Where a number's messages webhooks go, and which rule sends them there."""

    uri: Uri
    rule: str
    note: str = ""

    def shown(self) -> str:
        if self.uri is None:
            return f"(not delivered: {self.note})" if self.note else "(not delivered)"
        return str(self.uri)


@dataclass(frozen=True)
class NumberRoute:
    """One phone number, before and after the preview's steps."""

    phone_number_id: str
    display: str | None
    waba_id: str | None
    before: Route
    after: Route
    why: tuple[str, ...]

    @property
    def changes_route(self) -> bool:
        return self.before.uri != self.after.uri or (
            self.before.uri is None and self.before.note != self.after.note)

    @property
    def changes_rule_only(self) -> bool:
        return not self.changes_route and self.before.rule != self.after.rule

    @property
    def known_after_apply(self) -> bool:
        return isinstance(self.after.uri, Opaque)


@dataclass(frozen=True)
class OverrideChange:
    """What one step does to one override (a WABA's or a phone number's)."""

    target: Target
    step: OverrideStep
    before: Uri
    after: Uri
    #: ``set``, ``adopt``, ``conflict``, ``delete``, ``keep`` (a delete that leaves it), ``clear``.
    effect: str
    note: str = ""


@dataclass
class Report:
    """Everything the Markdown report shows."""

    preview: Preview
    numbers: list[NumberRoute] = field(default_factory=list)
    overrides: list[OverrideChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wabas_read: list[str] = field(default_factory=list)
    phones_read: list[str] = field(default_factory=list)


# ---- what is live -----------------------------------------------------------------------------


@dataclass
class _Live:
    numbers: dict[str, PhoneNumberRouting] = field(default_factory=dict)
    number_waba: dict[str, str] = field(default_factory=dict)
    waba_override: dict[str, str | None] = field(default_factory=dict)
    subscribed: dict[str, bool] = field(default_factory=dict)
    unreadable: dict[Target, str] = field(default_factory=dict)


def _targets(steps: Iterable[OverrideStep]) -> tuple[list[str], list[str]]:
    wabas: dict[str, None] = {}
    phones: dict[str, None] = {}
    for step in steps:
        for declared in (step.old, step.new):
            if declared is None:
                continue
            wabas.update(dict.fromkeys(declared.wabas))
            wabas.update(dict.fromkeys(sorted(declared.exclusive_wabas | declared.whole_wabas)))
            phones.update(dict.fromkeys(declared.phones))
    return sorted(wabas), sorted(phones)


def _read(client: GraphClient, waba_ids: list[str], phone_ids: list[str], report: Report) -> _Live:
    live = _Live()
    for waba_id in waba_ids:
        try:
            subscribed, override = client.waba_override(waba_id)
            numbers = client.phone_numbers(waba_id)
        except (NotFoundError, PermissionDeniedError) as error:
            live.unreadable[("waba", waba_id)] = error.describe(hint=False)
            continue
        report.wabas_read.append(waba_id)
        live.subscribed[waba_id], live.waba_override[waba_id] = subscribed, override
        for number in numbers:
            live.numbers[number.phone_number_id] = number
            live.number_waba[number.phone_number_id] = waba_id
    for phone_id in phone_ids:
        if phone_id in live.numbers:
            continue
        try:
            live.numbers[phone_id] = client.phone_number(phone_id)
        except (NotFoundError, PermissionDeniedError) as error:
            live.unreadable[("phone", phone_id)] = error.describe(hint=False)
            continue
        report.phones_read.append(phone_id)
    return live


# ---- applying the steps -----------------------------------------------------------------------


class _World:
    """Overrides and subscriptions, changed step by step."""

    def __init__(self, live: _Live) -> None:
        self.live = live
        self.overrides: dict[Target, Uri] = {("waba", w): uri
                                             for w, uri in live.waba_override.items()}
        for phone_id, number in live.numbers.items():
            self.overrides[("phone", phone_id)] = number.webhook_configuration.phone_number
        self.subscribed = dict(live.subscribed)

    def current(self, target: Target) -> Uri:
        return self.overrides.get(target)

    def route(self, phone_id: str) -> Route:
        number = self.live.numbers[phone_id]
        waba_id = self.live.number_waba.get(phone_id)
        if waba_id is not None and not self.subscribed.get(waba_id, True):
            return Route(None, NONE, f"our app is not subscribed to WABA {waba_id}")
        own = self.current(("phone", phone_id))
        if own is not None:
            return Route(own, PHONE)
        waba_uri: Uri = (self.current(("waba", waba_id)) if waba_id is not None
                         else number.webhook_configuration.whatsapp_business_account)
        if waba_uri is not None:
            return Route(waba_uri, WABA)
        app = number.webhook_configuration.application
        return Route(app, APP) if app else Route(None, NONE, "the app has no callback URL")


def _entries(declared: pv.Declared) -> list[tuple[Target, Uri]]:
    return ([(("waba", i), uri) for i, uri in declared.wabas.items()]
            + [(("phone", i), uri) for i, uri in declared.phones.items()])


def _apply(steps: list[OverrideStep], world: _World, report: Report) -> None:
    """Creates and updates first, then deletes, as `pulumi up` orders them."""
    failed: set[str] = set()
    for step in steps:
        if step.new is None or step.op == "same":
            continue
        old_entries = dict(_entries(step.old)) if step.old else {}
        old_targets = set(old_entries)
        for target, uri in _entries(step.new):
            before = world.current(target)
            if step.new.whole_wabas and target in old_entries and old_entries[target] == uri == (
                    before):
                continue  # a route of a whole-WABA resource that stays as it is
            creating = step.op == "create" or target not in old_targets
            effect, note = "set", ""
            if creating and before is not None and target not in world.live.unreadable:
                if before == uri:
                    effect, note = "adopt", "already set: taken over without a write"
                elif not step.new.adopt_existing and not isinstance(uri, Opaque):
                    effect = "conflict"
                    note = (f"`pulumi up` will fail here: another override ({before}) is set; "
                            "declare that URL to adopt it, or set adopt_existing")
                    failed.add(step.urn)
            if effect != "conflict":
                world.overrides[target] = uri
                if target[0] == "waba" and uri is not None:
                    world.subscribed[target[1]] = True  # setting a WABA override subscribes
            report.overrides.append(OverrideChange(target, step, before, world.current(target),
                                                   effect, note))
        for waba_id in sorted(step.new.exclusive_wabas):
            listed = set(step.new.phones)
            for phone_id, owner in world.live.number_waba.items():
                target = ("phone", phone_id)
                if owner == waba_id and phone_id not in listed and world.current(target):
                    report.overrides.append(OverrideChange(
                        target, step, world.current(target), None, "clear",
                        f"not listed by `{step.name}`"))
                    world.overrides[target] = None
            waba = ("waba", waba_id)
            if waba_id not in step.new.wabas and world.current(waba):
                report.overrides.append(OverrideChange(
                    waba, step, world.current(waba), None, "clear",
                    f"`{step.name}` declares no WABA override"))
                world.overrides[waba] = None
    for step in steps:
        # A replacement that cannot be created leaves the old override where it is.
        if step.old is None or step.op == "same" or step.urn in failed:
            continue
        kept = {t for t, _ in _entries(step.new)} if step.new else set()
        for target, ours in _entries(step.old):
            if target in kept:
                continue
            before = world.current(target)
            if before is None:
                continue
            if step.retained:
                report.overrides.append(OverrideChange(
                    target, step, before, before, "keep",
                    "left as it is: the resource is retained on delete (no Graph call)"))
            elif before == ours or isinstance(ours, Opaque):
                world.overrides[target] = None
                report.overrides.append(OverrideChange(target, step, before, None, "delete"))
            else:
                report.overrides.append(OverrideChange(
                    target, step, before, before, "keep",
                    f"left as it is: it was changed outside this stack (the stack set {ours})"))


# ---- several stacks, one table -----------------------------------------------------------------

#: Between the stack names of a merged preview's ``stack``.
STACKS_SEPARATOR = ", "


def merge(previews: list[Preview]) -> Preview:
    """The previews of the stacks of a set (one routing table split across them) as one
    preview: every stack's steps, applied together as their `up`s would be (creates and updates
    first, deletes last), so a WABA that moves from one stack to another shows as one move."""
    if len(previews) == 1:
        return previews[0]
    stacks = [p.stack for p in previews if p.stack]
    projects = {p.project for p in previews if p.project}
    return Preview(
        stack=STACKS_SEPARATOR.join(stacks) or None,
        project=projects.pop() if len(projects) == 1 else None,
        steps=[s for p in previews for s in p.steps],
        other_steps=[s for p in previews for s in p.other_steps],
        errors=sum(p.errors for p in previews),
        unchanged=sum(p.unchanged for p in previews),
    )


def declared_twice(previews: list[Preview]) -> list[str]:
    """Warnings for every override that more than one stack declares after its preview (two
    stacks of a set must never own the same WABA or number)."""
    owners: dict[Target, list[str]] = {}
    for preview in previews:
        for step in preview.steps:
            if step.new is None:
                continue
            for target, _uri in _entries(step.new):
                names = owners.setdefault(target, [])
                if preview.stack not in names:
                    names.append(preview.stack or "?")
    warnings = []
    for (kind, object_id), names in sorted(owners.items()):
        if len(names) > 1:
            noun = "WABA" if kind == "waba" else "phone number"
            warnings.append(f"{noun} {object_id} is declared by {len(names)} stacks "
                            f"({', '.join(names)}): each would undo the other's writes")
    return warnings


# ---- the report -------------------------------------------------------------------------------


def build(preview: Preview, client: GraphClient) -> Report:
    """Read what the preview's steps touch from Graph (reads only) and work out every number's
    route before and after."""
    report = Report(preview)
    changing = [s for s in preview.steps if s.op != "same"]
    waba_ids, phone_ids = _targets(changing)
    live = _read(client, waba_ids, phone_ids, report)
    world = _World(live)
    before = {phone_id: world.route(phone_id) for phone_id in live.numbers}
    _apply(changing, world, report)
    causes: dict[Target, list[OverrideChange]] = {}
    for change in report.overrides:
        causes.setdefault(change.target, []).append(change)
    for phone_id in sorted(live.numbers):
        number = live.numbers[phone_id]
        waba_id = live.number_waba.get(phone_id)
        after = world.route(phone_id)
        why = _why(causes.get(("phone", phone_id), []),
                   causes.get(("waba", waba_id), []) if waba_id else [],
                   before[phone_id], after)
        report.numbers.append(NumberRoute(phone_id, number.display_phone_number, waba_id,
                                          before[phone_id], after, why))
    for (kind, object_id), message in sorted(live.unreadable.items()):
        noun = "WABA" if kind == "waba" else "phone number"
        report.warnings.append(f"{noun} {object_id} could not be read from Graph: {message}")
    for step in changing:
        for declared in (step.old, step.new):
            for what in declared.unresolved if declared else ():
                report.warnings.append(f"`{step.name}`: {what}; its numbers cannot be shown")
    for change in report.overrides:
        if change.effect == "conflict":
            report.warnings.append(f"`{change.step.name}`: {change.note}")
    if preview.errors:
        report.warnings.append(f"the preview reported {preview.errors} error(s): see its log; "
                               "this report shows only the steps it printed")
    return report


_PHONE_WHY = {"create": "direct", "update": "direct", "replace": "via replace",
              "delete": "delete"}
_WABA_WHY = {"create": "via WABA override", "update": "via WABA override",
             "replace": "via replace (WABA override)", "delete": "delete (WABA override)"}


def _why(phone: list[OverrideChange], waba: list[OverrideChange], before: Route,
         after: Route) -> tuple[str, ...]:
    reasons: dict[str, None] = {}
    for change in phone:
        if change.effect == "clear":
            reasons["cleared (not listed)"] = None
        elif change.effect not in ("conflict", "keep"):
            reasons[_PHONE_WHY[change.step.op]] = None
    if WABA in (before.rule, after.rule) or before.rule == NONE or after.rule == NONE:
        for change in waba:
            if change.effect not in ("conflict", "keep"):
                reasons[_WABA_WHY[change.step.op]] = None
    return tuple(reasons)


def render(report: Report, secrets: Iterable[str] = ()) -> str:
    """The report as Markdown (summary, changed numbers, overrides, warnings, folded steps),
    with any secret in `secrets` masked."""
    preview = report.preview
    out: list[str] = []
    title = "## Webhook routing"
    if preview.stack:
        noun = "stacks" if STACKS_SEPARATOR in preview.stack else "stack"
        title += f" — {noun} `{_plain(preview.stack)}`"
    out += [title, ""]
    changed = [n for n in report.numbers if n.changes_route or n.changes_rule_only]
    moving = [n for n in changed if n.changes_route and not n.known_after_apply]
    unknown = [n for n in changed if n.known_after_apply]
    rule_only = [n for n in changed if n.changes_rule_only]
    same = len(report.numbers) - len(changed)
    ours = [s for s in preview.steps if s.op != "same"]
    if not changed:
        if ours:
            out.append(f"**No routing changes.** {_n(len(report.numbers), 'phone number')} read "
                       "from Graph keep their route.")
        else:
            out.append("**No routing changes.** The preview changes no webhook override.")
    else:
        parts = [f"**{_n(len(moving), 'phone number')} change route**"]
        if unknown:
            parts.append(f"{len(unknown)} known only after apply")
        if rule_only:
            parts.append(f"{len(rule_only)} keep their URL under another rule")
        parts.append(f"{same} unchanged")
        out.append(", ".join(parts) + f" (of {_n(len(report.numbers), 'number')} read).")
    if report.wabas_read or report.phones_read:
        read = [f"every number of {_n(len(report.wabas_read), 'WABA')} "
                f"({', '.join(report.wabas_read)})"] if report.wabas_read else []
        if report.phones_read:
            read.append(_n(len(report.phones_read), "phone number") + " read one by one")
        out.append("")
        out.append(f"*Before*: live from Graph (read-only): {' and '.join(read)}. *After*: "
                   "with this preview applied.")
    if changed:
        out += ["", "| phone number id | number | before | after | rule | why |",
                "| --- | --- | --- | --- | --- | --- |"]
        for n in changed:
            rule = n.before.rule if n.before.rule == n.after.rule else (
                f"{n.before.rule} → {n.after.rule}")
            out.append(f"| {n.phone_number_id} | {_cell(n.display or '')} | "
                       f"{_code(n.before.shown())} | {_code(n.after.shown())} | {rule} | "
                       f"{', '.join(n.why) or '—'} |")
    if report.overrides:
        out += ["", "### Overrides", "", "| override | resource | step | now | after | note |",
                "| --- | --- | --- | --- | --- | --- |"]
        # Sorted: Pulumi prints steps in the order they finish, which varies between runs.
        for change in sorted(report.overrides, key=lambda c: (c.target, c.step.name)):
            kind, object_id = change.target
            noun = "WABA" if kind == "waba" else "phone number"
            out.append(f"| {noun} {object_id} | `{_plain(change.step.name)}` | {change.step.op}"
                       f" | {_code(_uri(change.before))} | {_code(_uri(change.after))} | "
                       f"{_cell(_effect_note(change))} |")
    if unknown:
        out += ["", "### Known after apply", ""]
        out += [f"- {n.phone_number_id}: {n.after.rule} route {KNOWN_AFTER_APPLY}"
                for n in unknown]
    if report.warnings:
        out += ["", "### Warnings", ""]
        out += [f"- {_cell(w)}" for w in report.warnings]
    out += ["", _steps_details(preview), ""]
    return _mask("\n".join(out), secrets)


def _effect_note(change: OverrideChange) -> str:
    words = {"set": "", "adopt": "adopts", "conflict": "fails", "delete": "removed",
             "keep": "kept", "clear": "removed"}[change.effect]
    if change.effect == "set" and change.before == change.after:
        words = "same URL (verify token or options change)"
    return "; ".join(part for part in (words, change.note) if part)


def _steps_details(preview: Preview) -> str:
    ours = sorted((s for s in preview.steps if s.op != "same"), key=lambda s: s.name)
    others = sorted((op, urn) for op, urn in preview.other_steps if op not in ("same", ""))
    counts: dict[str, int] = {}
    for step in ours:
        counts[step.op] = counts.get(step.op, 0) + 1
    summary = ", ".join(f"{n} {op}" for op, n in sorted(counts.items())) or "no change"
    lines = [f"<details><summary>Resource steps: {summary} on webhook overrides, "
             f"{len(others)} on other resources; {preview.unchanged} resources unchanged"
             "</summary>", ""]
    if ours or others:
        lines += ["| step | resource | type | target | callback URI |",
                  "| --- | --- | --- | --- | --- |"]
        for step in ours:
            lines.append(f"| {step.op} | `{_plain(step.name)}` | {step.kind.name} | "
                         f"{_cell(_declared_ids(step))} | {_cell(_declared_uris(step))} |")
        for op, urn in others:
            name = urn.rsplit("::", 1)[-1]
            kind = urn.split("::")[-2] if urn.count("::") >= 3 else ""
            lines.append(f"| {_plain(op)} | `{_plain(name)}` | {_cell(kind)} | | |")
        lines.append("")
    lines.append("</details>")
    return "\n".join(lines)


def _declared_ids(step: OverrideStep) -> str:
    def ids(declared: pv.Declared | None) -> str:
        if declared is None:
            return ""
        return ", ".join([f"WABA {i}" for i in declared.wabas]
                         + [f"phone {i}" for i in declared.phones]) or "—"
    old, new = ids(step.old), ids(step.new)
    return old if not new else new if not old or old == new else f"{old} → {new}"


def _declared_uris(step: OverrideStep) -> str:
    def uris(declared: pv.Declared | None) -> str:
        if declared is None:
            return ""
        return ", ".join(_uri(u) for u in [*declared.wabas.values(), *declared.phones.values()])
    old, new = uris(step.old), uris(step.new)
    return old if not new else new if not old or old == new else f"{old} → {new}"


def _uri(uri: Uri) -> str:
    return "(none)" if uri is None else str(uri)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _plain(text: str) -> str:
    return text.replace("`", "'").replace("|", "\\|").replace("\n", " ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _code(text: str) -> str:
    if text.startswith("("):
        return _cell(text)  # a note, not a URL
    return f"`{_plain(text)}`"


def _mask(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if len(s) >= MIN_MASKED_SECRET}, key=len,
                         reverse=True):
        text = text.replace(secret, "[secret]")
    return text


# ---- the command ------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``waba-webhooks review``."""
    parser.description = (
        "Turn `pulumi preview --json` into a Markdown report of each phone number's webhook "
        "route before and after, for a pull request. Reads the affected WABAs and numbers "
        "from Graph (read-only) with settings from the environment (WHATSAPP_ACCESS_TOKEN, "
        "WHATSAPP_GRAPH_URL, ...)."
    )
    parser.add_argument("preview", nargs="*", default=["-"], metavar="PREVIEW_JSON",
                        help="the file `pulumi preview --json` wrote (default: stdin); several: "
                             "the stacks of a set, one report for the whole table")


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
        except (ValueError, pv.PreviewFormatError) as error:
            print(f"review: {name} is not `pulumi preview --json` output: {error}",
                  file=sys.stderr)
            return 2
        documents.append(document)
    try:
        settings = config.load()
        client = graph.client_for(settings)
        text = report_for_stacks(documents, client,
                                 [settings.access_token] if settings.access_token else [])
    except (GraphError, WabaWebhooksError) as error:
        print(f"review: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


def report_for_stacks(documents: list[object], client: GraphClient,
                      secrets: Iterable[str] = ()) -> str:
    """One Markdown report for the decoded previews of several stacks (one for one)."""
    found = set(secrets)
    previews = []
    for document in documents:
        found |= pv.plaintext_secrets(document)
        previews.append(pv.parse(document))
    report = build(merge(previews), client)
    report.warnings.extend(declared_twice(previews))
    return render(report, found)


def report_for(document: Mapping[str, object], client: GraphClient,
               secrets: Iterable[str] = ()) -> str:
    """The Markdown report of a decoded preview document (for programs and tests)."""
    found = pv.plaintext_secrets(document) | set(secrets)
    return render(build(pv.parse(document), client), found)
