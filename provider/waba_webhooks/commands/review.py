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

An app-level change (an `AppWebhookSubscription` step) is shown as what it is. Its *before* is
the app's live subscription (``GET /{APP_ID}/subscriptions``, with the app secret; without it
the numbers' ``application`` URL and the fields in the stack's state, with a warning). Every
number of the stack's WABAs (its routing table's, from the preview's config) is read, so each one
that falls back to the app's callback URL is listed when that URL moves; the report also says
that template and account webhooks move with it, and, first and loudly, when the ``messages``
field goes: Meta then delivers no messages webhook anywhere, overrides included.

The report never contains a secret: verify tokens are never read from the preview, and every
plaintext secret the input holds (and the access token) is masked if it shows up anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..errors import (
    ConfigurationError,
    GraphError,
    NotFoundError,
    PermissionDeniedError,
    WabaWebhooksError,
)
from ..graph import GraphClient, PhoneNumberRouting
from . import fit
from . import preview as pv
from .preview import KNOWN_AFTER_APPLY, Opaque, OverrideStep, Preview, Uri

if TYPE_CHECKING:
    from ..graph.client import AppSubscription

PHONE, WABA, APP, NONE = "phone", "WABA", "app", "none"
MESSAGES = "messages"
#: Why a number gets no messages webhook when the app does not subscribe to the field.
NO_MESSAGES_FIELD = "the app does not subscribe to the messages field"
#: Webhook fields that, like ``messages``, follow a number's overrides ("Webhook overrides",
#: 2026); every other field (templates, account, ...) goes only to the app's callback URL.
OVERRIDE_FIELDS = frozenset({
    "messages", "message_echoes", "calls", "consumer_profile", "messaging_handovers", "standby",
    "group_lifecycle_update", "group_participants_update", "group_settings_update",
    "group_status_update", "account_settings_update"})
#: A list of fields as the report shows it: a tuple, `Opaque`, or None (not known).
Fields = tuple[str, ...] | Opaque | None
#: Shortest secret the final masking pass replaces (shorter ones would garble ids and URLs; the
#: report never takes text from the properties that hold secrets in the first place).
MIN_MASKED_SECRET = 4

Target = tuple[str, str]  # ("waba" | "phone", object id)
_T = TypeVar("_T")


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


@dataclass(frozen=True)
class AppChange:
    """What one step does to the app's own subscription (callback URL and fields)."""

    step: OverrideStep
    before_url: Uri
    after_url: Uri
    before_fields: Fields
    after_fields: Fields
    #: ``set``, ``adopt``, ``conflict``, ``keep`` (a delete that leaves it), ``remove``.
    effect: str
    note: str = ""

    @property
    def applies(self) -> bool:
        """Whether `pulumi up` changes the subscription here."""
        return self.effect in ("set", "remove")

    @property
    def url_changes(self) -> bool:
        return self.applies and self.before_url != self.after_url

    def _known(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        if isinstance(self.before_fields, tuple) and isinstance(self.after_fields, tuple):
            return self.before_fields, self.after_fields
        return None

    @property
    def added(self) -> tuple[str, ...]:
        known = self._known() if self.applies else None
        return tuple(f for f in known[1] if f not in known[0]) if known else ()

    @property
    def dropped(self) -> tuple[str, ...]:
        known = self._known() if self.applies else None
        return tuple(f for f in known[0] if f not in known[1]) if known else ()

    @property
    def stops_messages(self) -> bool:
        """Whether every messages webhook of the app stops."""
        return MESSAGES in self.dropped or (
            self.effect == "remove" and self.before_fields != () and (
                not isinstance(self.before_fields, tuple) or MESSAGES in self.before_fields))


@dataclass
class Report:
    """Everything the Markdown report shows."""

    preview: Preview
    numbers: list[NumberRoute] = field(default_factory=list)
    overrides: list[OverrideChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wabas_read: list[str] = field(default_factory=list)
    phones_read: list[str] = field(default_factory=list)
    app_changes: list[AppChange] = field(default_factory=list)


# ---- what is live -----------------------------------------------------------------------------


@dataclass
class _Live:
    numbers: dict[str, PhoneNumberRouting] = field(default_factory=dict)
    number_waba: dict[str, str] = field(default_factory=dict)
    waba_override: dict[str, str | None] = field(default_factory=dict)
    subscribed: dict[str, bool] = field(default_factory=dict)
    unreadable: dict[Target, str] = field(default_factory=dict)
    #: The unreadable objects Meta refused to show (a permissions error), not unknown ones.
    refused: set[Target] = field(default_factory=set)
    #: Whether the app's subscription was read, and what it is (None: there is none).
    app_read: bool = False
    app: AppSubscription | None = None


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


class _ReadLog(Protocol):
    wabas_read: list[str]
    phones_read: list[str]


#: WABAs (or numbers) read at once: each WABA still has one call in flight at a time, paced by
#: the client against its own hourly budget.
READ_CONCURRENCY = 16


def _attempt(read: Callable[[str], _T]) -> Callable[[str], _T | GraphError]:
    """`read`, with an unknown or refused object's error returned instead of raised."""
    def attempt(object_id: str) -> _T | GraphError:
        try:
            return read(object_id)
        except (NotFoundError, PermissionDeniedError) as error:
            return error
    return attempt


def _read(client: GraphClient, waba_ids: list[str], phone_ids: list[str],
          report: _ReadLog) -> _Live:
    live = _Live()

    def unreadable(target: Target, error: GraphError) -> None:
        live.unreadable[target] = error.describe(hint=False)
        if isinstance(error, PermissionDeniedError):
            live.refused.add(target)

    def read_waba(waba_id: str) -> tuple[tuple[bool, str | None], list[PhoneNumberRouting]]:
        return client.waba_override(waba_id), client.phone_numbers(waba_id)

    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
        for waba_id, found in zip(waba_ids, pool.map(_attempt(read_waba), waba_ids),
                                  strict=True):
            if isinstance(found, GraphError):
                unreadable(("waba", waba_id), found)
                continue
            (subscribed, override), numbers = found
            report.wabas_read.append(waba_id)
            live.subscribed[waba_id], live.waba_override[waba_id] = subscribed, override
            for number in numbers:
                live.numbers[number.phone_number_id] = number
                live.number_waba[number.phone_number_id] = waba_id
        alone = [p for p in dict.fromkeys(phone_ids) if p not in live.numbers]
        for phone_id, number in zip(alone, pool.map(_attempt(client.phone_number), alone),
                                    strict=True):
            if isinstance(number, GraphError):
                unreadable(("phone", phone_id), number)
                continue
            live.numbers[phone_id] = number
            report.phones_read.append(phone_id)
    return live


def _read_app(client: GraphClient, live: _Live, report: Report) -> None:
    """The app's own subscription; without the app secret (or if Meta refuses), a warning."""
    try:
        live.app = client.app_subscription(client.app_id())
        live.app_read = True
    except ConfigurationError:
        report.warnings.append(
            "the app's live webhook subscription was not read (that takes the app secret: set "
            "WHATSAPP_APP_SECRET): *before* takes the app's callback URL from the numbers' "
            "webhook_configuration and its fields from the stack's state")
    except GraphError as error:
        report.warnings.append(f"the app's webhook subscription could not be read from Graph: "
                               f"{error.describe(hint=False)}")


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
        #: The app's callback URL once known (the live subscription or a step); until then
        #: each number's ``application`` level says it.
        self.app_known = live.app_read
        self.app_url: Uri = live.app.callback_url if live.app else None
        self.app_fields: Fields = (tuple(live.app.fields) if live.app else ()) if (
            live.app_read) else None
        self.app_note = ("the app's subscription is not active" if live.app and not
                         live.app.active else "the app has no webhook subscription")

    def current(self, target: Target) -> Uri:
        return self.overrides.get(target)

    def app_callback(self, number: PhoneNumberRouting) -> Uri:
        """Where the app's callback URL sends a number's webhooks now."""
        return self.app_url if self.app_known else number.webhook_configuration.application

    def route(self, phone_id: str) -> Route:
        number = self.live.numbers[phone_id]
        waba_id = self.live.number_waba.get(phone_id)
        if waba_id is not None and not self.subscribed.get(waba_id, True):
            return Route(None, NONE, f"our app is not subscribed to WABA {waba_id}")
        if self.app_known and self.app_url is None:
            return Route(None, NONE, self.app_note)
        if isinstance(self.app_fields, tuple) and MESSAGES not in self.app_fields:
            return Route(None, NONE, NO_MESSAGES_FIELD)
        own = self.current(("phone", phone_id))
        if own is not None:
            return Route(own, PHONE)
        waba_uri: Uri = (self.current(("waba", waba_id)) if waba_id is not None
                         else number.webhook_configuration.whatsapp_business_account)
        if waba_uri is not None:
            return Route(waba_uri, WABA)
        app = self.app_callback(number)
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
        if step.new.app is not None:
            _apply_app(step, step.new.app, world, report, failed)
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
        if step.old.app is not None and step.op == "delete":
            _delete_app(step, step.old.app, world, report)
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


def _app_now(world: _World) -> Uri:
    """The app's callback URL as known now (else as the first number read says it)."""
    if world.app_known:
        return world.app_url
    return next((n.webhook_configuration.application for n in world.live.numbers.values()
                 if n.webhook_configuration.application), None)


def _apply_app(step: OverrideStep, app: pv.AppDeclared, world: _World, report: Report,
               failed: set[str]) -> None:
    """A create or update of the app's subscription: after it, the URL and exactly the declared
    fields (an update adds fields before it removes dropped ones)."""
    before_url, before_fields = _app_now(world), world.app_fields
    if before_fields is None and step.old is not None and step.old.app is not None:
        before_fields = step.old.app.fields  # not read: what the stack set, per its state
        world.app_fields = before_fields
    effect, note = "set", ""
    live = world.live.app
    if step.op == "create" and world.live.app_read and live is not None:
        same = (live.callback_url == app.callback_url and isinstance(app.fields, tuple)
                and set(live.fields) == set(app.fields))
        if same:
            effect, note = "adopt", "already set: taken over without a write"
        elif not app.adopt_existing and not isinstance(app.callback_url, Opaque):
            effect = "conflict"
            note = (f"`pulumi up` will fail here: the app's subscription is set to "
                    f"{live.callback_url} with fields {', '.join(live.fields) or '(none)'}; "
                    "declare it as it is to adopt it (`waba-webhooks discover` prints it), "
                    "or set adoptExisting")
            failed.add(step.urn)
    if effect != "conflict":
        world.app_known, world.app_url, world.app_fields = True, app.callback_url, app.fields
    report.app_changes.append(AppChange(step, before_url, world.app_url if world.app_known
                                        else before_url, before_fields, world.app_fields,
                                        effect, note))


def _delete_app(step: OverrideStep, app: pv.AppDeclared, world: _World, report: Report) -> None:
    before_url, before_fields = _app_now(world), world.app_fields
    if before_fields is None:
        before_fields = app.fields
    if app.remove_on_destroy:
        world.app_known, world.app_url, world.app_fields = True, None, ()
        report.app_changes.append(AppChange(
            step, before_url, None, before_fields, (), "remove",
            "removeOnDestroy: the app's subscription goes, and with it every webhook of the app"))
    else:
        report.app_changes.append(AppChange(
            step, before_url, before_url, before_fields, before_fields, "keep",
            "left as it is (removeOnDestroy is false): the stack no longer manages the app's "
            "callback URL and fields"))


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
        table_wabas=tuple(dict.fromkeys(w for p in previews for w in p.table_wabas)),
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
    app_steps = any(d is not None and d.app is not None for s in changing for d in (s.old, s.new))
    if app_steps:
        # Every number of the stack's WABAs may fall back to the app's callback URL.
        waba_ids = sorted(set(waba_ids) | set(preview.table_wabas))
    live = _read(client, waba_ids, phone_ids, report)
    if app_steps:
        _read_app(client, live, report)
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
                   before[phone_id], after, report.app_changes)
        report.numbers.append(NumberRoute(phone_id, number.display_phone_number, waba_id,
                                          before[phone_id], after, why))
    for (kind, object_id), message in sorted(live.unreadable.items()):
        noun = "WABA" if kind == "waba" else "phone number"
        report.warnings.append(f"{noun} {object_id} could not be read from Graph: {message}")
    for step in changing:
        for declared in (step.old, step.new):
            for what in declared.unresolved if declared else ():
                report.warnings.append(f"`{step.name}`: {what}; its numbers cannot be shown")
    for change in [*report.overrides, *report.app_changes]:
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
         after: Route, app: Iterable[AppChange] = ()) -> tuple[str, ...]:
    reasons: dict[str, None] = {}
    if any(change.applies for change in app):
        if after.note == NO_MESSAGES_FIELD != before.note:
            reasons["messages field dropped"] = None
        elif before.note == NO_MESSAGES_FIELD != after.note:
            reasons["messages field added"] = None
        elif after.rule == NONE and before.rule != NONE:
            reasons["app subscription removed"] = None
        elif APP in (before.rule, after.rule):
            reasons["via app callback URL"] = None
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


#: Numbers a shared row of a report that must fit lists in its fold (the full report: all).
FOLDED = 100


def render(report: Report, secrets: Iterable[str] = (), *, limit: int | None = fit.GITHUB_LIMIT,
           where: str = "") -> str:
    """The report as Markdown (summary, changed numbers, overrides, warnings, folded steps),
    with any secret in `secrets` masked. Numbers that move the same way share a row. With a
    `limit` (GitHub's, by default) rows are left out as needed to stay within it, saying how
    many and that the full report is `where`; None: everything."""
    return _mask(_fitted(blocks(report, folded=None if limit is None else FOLDED), limit, where),
                 secrets)


def _fitted(parts: list[fit.Block], limit: int | None, where: str) -> str:
    return fit.full(parts) if limit is None else fit.fit(parts, limit, where)


def blocks(report: Report, folded: int | None = FOLDED) -> list[fit.Block]:
    """The report's Markdown blocks, tables as `fit.Table`s; a shared row lists at most
    `folded` of its numbers (None: all)."""
    preview = report.preview
    out: list[fit.Block] = []
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
    out += _app_alerts(report, changed)
    app_changes = any(c.applies and (c.url_changes or c.added or c.dropped)
                      for c in report.app_changes)
    if not changed and app_changes:
        out.append(f"**No phone number changes route** ({_n(len(report.numbers), 'number')} "
                   "read); the app's subscription changes: see below.")
    elif not changed:
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
                f"({_ids(report.wabas_read)})"] if report.wabas_read else []
        if report.phones_read:
            read.append(_n(len(report.phones_read), "phone number") + " read one by one")
        out.append("")
        out.append(f"*Before*: live from Graph (read-only): {' and '.join(read)}. *After*: "
                   "with this preview applied.")
    if changed:
        out += ["", number_table(changed, folded)]
    out += _app_section(report)
    if report.overrides:
        # Sorted: Pulumi prints steps in the order they finish, which varies between runs.
        rows = []
        for change in sorted(report.overrides, key=lambda c: (c.target, c.step.name)):
            kind, object_id = change.target
            noun = "WABA" if kind == "waba" else "phone number"
            rows.append(f"| {noun} {object_id} | `{_plain(change.step.name)}` | {change.step.op}"
                        f" | {_code(_uri(change.before))} | {_code(_uri(change.after))} | "
                        f"{_cell(_effect_note(change))} |")
        out += ["", fit.Table(["### Overrides", "",
                               "| override | resource | step | now | after | note |",
                               "| --- | --- | --- | --- | --- | --- |"], rows, "override rows")]
    if unknown:
        out += ["", fit.Table(["### Known after apply", ""],
                              [f"- {n.phone_number_id}: {n.after.rule} route {KNOWN_AFTER_APPLY}"
                               for n in unknown], "numbers known after apply")]
    if report.warnings:
        out += ["", fit.Table(["### Warnings", ""], [f"- {_cell(w)}" for w in report.warnings],
                              "warnings")]
    out += ["", *_steps_details(preview), ""]
    return out


def number_table(numbers: list[NumberRoute], folded: int | None = FOLDED,
                 columns: tuple[str, str] = ("before", "after")) -> fit.Table:
    """One row per way of moving: numbers with the same before, after, rule and why share a
    row, with their count and the numbers folded in a ``<details>`` (at most `folded`).
    `columns` names the before and after columns."""
    groups: dict[tuple[str, str, str, tuple[str, ...]], list[NumberRoute]] = {}
    for n in numbers:
        groups.setdefault((n.before.shown(), n.after.shown(), _rule(n), n.why), []).append(n)
    rows = []
    for (before, after, rule, why), members in groups.items():
        rows.append(f"| {_numbers_cell(members, folded)} | {_code(before)} | {_code(after)} | "
                    f"{rule} | {', '.join(why) or '—'} |")
    return fit.Table([f"| phone number | {columns[0]} | {columns[1]} | rule | why |",
                      "| --- | --- | --- | --- | --- |"], rows, "phone number rows")


def _rule(n: NumberRoute) -> str:
    return n.before.rule if n.before.rule == n.after.rule else f"{n.before.rule} → {n.after.rule}"


def _number(n: NumberRoute) -> str:
    return f"{n.phone_number_id} ({_cell(n.display)})" if n.display else n.phone_number_id


def _numbers_cell(members: list[NumberRoute], folded: int | None) -> str:
    if len(members) == 1:
        return _number(members[0])
    shown = members if folded is None else members[:folded]
    listed = "<br>".join(_number(n) for n in shown)
    if len(shown) < len(members):
        listed += f"<br>… and {len(members) - len(shown)} more (in the full report)"
    wabas = {n.waba_id for n in members}
    of = f" of WABA {next(iter(wabas))}" if len(wabas) == 1 and None not in wabas else ""
    return f"<details><summary>{len(members)} numbers{of}</summary>{listed}</details>"


def _ids(ids: list[str], shown: int = 10) -> str:
    listed = ", ".join(ids[:shown])
    return listed if len(ids) <= shown else f"{listed} and {len(ids) - shown} more"


def _app_alerts(report: Report, changed: list[NumberRoute]) -> list[str]:
    """What an app-level change does, first and in words a reviewer cannot miss."""
    out: list[str] = []
    unnamed = ("numbers of WABAs this stack does not name" if report.preview.table_wabas
               else "numbers of WABAs this preview does not touch")
    for change in report.app_changes:
        name = f"`{_plain(change.step.name)}`"
        if change.stops_messages:
            cause = ("removes the app's webhook subscription" if change.effect == "remove"
                     else "drops the app's `messages` field")
            stopped = sum(1 for n in changed if n.after.uri is None and n.before.uri is not None)
            out += ["> [!CAUTION]",
                    f"> **EVERY MESSAGES WEBHOOK OF THE APP STOPS.** {name} {cause}: once "
                    "applied, Meta delivers no messages webhook for any phone number of any "
                    "WABA of the app, not to the app's callback URL and not to any WABA or "
                    f"phone number override ({_n(stopped, 'number')} read below, and the "
                    f"{unnamed}).", ""]
        elif change.effect == "remove":
            out += ["> [!CAUTION]",
                    f"> **Every webhook of the app stops.** {name} removes the app's webhook "
                    "subscription.", ""]
        if change.url_changes and change.after_url is not None:
            moving = [n for n in changed if APP in (n.before.rule, n.after.rule)
                      and "via app callback URL" in n.why]
            template = [f for f in change.after_fields or () if f not in OVERRIDE_FIELDS] if (
                isinstance(change.after_fields, tuple)) else []
            which = (f" ({', '.join(f'`{f}`' for f in template)})" if template else "")
            out += ["> [!WARNING]",
                    f"> **The app's callback URL changes**: {_code(_uri(change.before_url))} → "
                    f"{_code(_uri(change.after_url))} ({name}). Every phone number without an "
                    f"override moves with it: {_n(len(moving), 'number')} read below "
                    f"(*via app callback URL*), and the {unnamed}. All template and account "
                    f"webhooks{which} move to it too: they go nowhere else.", ""]
        dropped = [f for f in change.dropped if f != MESSAGES]
        if dropped:
            out += ["> [!WARNING]",
                    f"> **Meta stops delivering {', '.join(f'`{f}`' for f in dropped)}** "
                    f"({name} drops {'them' if len(dropped) > 1 else 'it'}): a field the app "
                    "does not subscribe to reaches no callback at all.", ""]
    return out


def _app_section(report: Report) -> list[str]:
    """The app's subscription before and after, per step."""
    if not report.app_changes:
        return []
    out = ["", "### App subscription", "",
           "| resource | step | callback URL now | after | fields added | fields dropped | note |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for change in report.app_changes:
        fields = [", ".join(f"`{f}`" for f in names) or "—"
                  for names in (change.added, change.dropped)]
        if change.applies and change._known() is None:
            fields = [f"{_fields(change.after_fields)} (now: {_fields(change.before_fields)})",
                      "?"]
        out.append(f"| `{_plain(change.step.name)}` | {change.step.op} | "
                   f"{_code(_uri(change.before_url))} | {_code(_uri(change.after_url))} | "
                   f"{fields[0]} | {fields[1]} | {_cell(_app_note(change))} |")
    for change in report.app_changes:
        if isinstance(change.after_fields, tuple) and change.after_fields:
            out += ["", f"Fields after `{_plain(change.step.name)}`: "
                    + ", ".join(f"`{f}`" for f in change.after_fields) + "."]
    return out


def _app_note(change: AppChange) -> str:
    words = {"set": "", "adopt": "adopts", "conflict": "fails", "keep": "kept",
             "remove": "REMOVED"}[change.effect]
    if change.effect == "set" and not (change.url_changes or change.added or change.dropped):
        words = "same URL and fields (verify token or options change)"
    if change.added and change.dropped:
        words = "; ".join(p for p in (words, "adds fields before it drops the others") if p)
    return "; ".join(part for part in (words, change.note) if part)


def _fields(fields: Fields) -> str:
    if fields is None:
        return "(not read)"
    if isinstance(fields, Opaque):
        return str(fields)
    return ", ".join(fields) or "(none)"


def _effect_note(change: OverrideChange) -> str:
    words = {"set": "", "adopt": "adopts", "conflict": "fails", "delete": "removed",
             "keep": "kept", "clear": "removed"}[change.effect]
    if change.effect == "set" and change.before == change.after:
        words = "same URL (verify token or options change)"
    return "; ".join(part for part in (words, change.note) if part)


def _steps_details(preview: Preview) -> list[fit.Block]:
    ours = sorted((s for s in preview.steps if s.op != "same"), key=lambda s: s.name)
    others = sorted((op, urn) for op, urn in preview.other_steps if op not in ("same", ""))
    counts: dict[str, int] = {}
    for step in ours:
        counts[step.op] = counts.get(step.op, 0) + 1
    summary = ", ".join(f"{n} {op}" for op, n in sorted(counts.items())) or "no change"
    lines: list[fit.Block] = [
        f"<details><summary>Resource steps: {summary} on webhook overrides, "
        f"{len(others)} on other resources; {preview.unchanged} resources unchanged"
        "</summary>", ""]
    if ours or others:
        rows = [f"| {step.op} | `{_plain(step.name)}` | {step.kind.name} | "
                f"{_cell(_declared_ids(step))} | {_cell(_declared_uris(step))} |"
                for step in ours]
        for op, urn in others:
            name = urn.rsplit("::", 1)[-1]
            kind = urn.split("::")[-2] if urn.count("::") >= 3 else ""
            rows.append(f"| {_plain(op)} | `{_plain(name)}` | {_cell(kind)} | | |")
        lines += [fit.Table(["| step | resource | type | target | callback URI |",
                             "| --- | --- | --- | --- | --- |"], rows, "resource steps"), ""]
    lines.append("</details>")
    return lines


#: Objects a resource step lists by id before it only counts them (a `WabaRouting` of 450
#: numbers would otherwise fill a row with 450 ids and their URIs).
LISTED_TARGETS = 6


def _declared_ids(step: OverrideStep) -> str:
    def ids(declared: pv.Declared | None) -> str:
        if declared is None:
            return ""
        if declared.app is not None:
            return "the app"
        if len(declared.wabas) + len(declared.phones) > LISTED_TARGETS:
            return ", ".join([f"WABA {i}" for i in declared.wabas]
                             + [_n(len(declared.phones), "phone number")])
        return ", ".join([f"WABA {i}" for i in declared.wabas]
                         + [f"phone {i}" for i in declared.phones]) or "—"
    old, new = ids(step.old), ids(step.new)
    return old if not new else new if not old or old == new else f"{old} → {new}"


def _declared_uris(step: OverrideStep) -> str:
    def uris(declared: pv.Declared | None) -> str:
        if declared is None:
            return ""
        if declared.app is not None:
            return f"{_uri(declared.app.callback_url)} ({_fields(declared.app.fields)})"
        uris = [_uri(u) for u in [*declared.wabas.values(), *declared.phones.values()]]
        if len(uris) > LISTED_TARGETS:
            return _n(len(set(uris)), "callback URI")
        return ", ".join(uris)
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


# ---- shared with the drift report (commands/drift.py) ------------------------------------------

#: What Graph says now about the objects read; `read_live` reads it.
Live = _Live
#: Overrides and subscriptions as a world that gives each number its `Route`.
World = _World
read_live = _read
mask = _mask
plain, cell, code, plural = _plain, _cell, _code, _n


# ---- the command ------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``waba-webhooks review``."""
    parser.description = (
        "Turn `pulumi preview --json` into a Markdown report of each phone number's webhook "
        "route before and after, for a pull request. Reads the affected WABAs and numbers "
        "from Graph (read-only) with settings from the environment (WHATSAPP_ACCESS_TOKEN, "
        "WHATSAPP_GRAPH_URL, ...); with WHATSAPP_APP_SECRET it reads the app's "
        "subscription too, for app-level changes."
    )
    parser.add_argument("preview", nargs="*", default=["-"], metavar="PREVIEW_JSON",
                        help="the file `pulumi preview --json` wrote (default: stdin); several: "
                             "the stacks of a set, one report for the whole table")
    add_full_report_argument(parser)


def add_full_report_argument(parser: argparse.ArgumentParser) -> None:
    """``--full-report FILE``: where a report that had to be cut is written whole."""
    parser.add_argument(
        "--full-report", metavar="FILE", type=Path,
        help="also write the whole report, nothing left out, to FILE (e.g. for a CI artifact); "
             "the printed report stays within GitHub's 65,536 characters and, when it leaves "
             "rows out, names FILE")


def write_reports(blocks_of: Callable[[int | None], list[fit.Block]], secrets: Iterable[str],
                  full_report: Path | None, command: str) -> None:
    """Print the report cut to fit a GitHub comment, and write it whole to `full_report` if
    given. `blocks_of(folded)` builds the report's blocks."""
    secrets = list(secrets)
    if full_report is not None:
        full_report.write_text(_mask(fit.full(blocks_of(None)), secrets), encoding="utf-8")
        where = f"in `{_plain(str(full_report))}`"
    else:
        where = f"printed by `waba-webhooks {command} --full-report FILE`"
    sys.stdout.write(_mask(fit.fit(blocks_of(FOLDED), fit.GITHUB_LIMIT, where), secrets))


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
        report, secrets = build_for_stacks(documents, client)
    except (GraphError, WabaWebhooksError) as error:
        print(f"review: {error}", file=sys.stderr)
        return 1
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


def build_for_stacks(documents: list[object], client: GraphClient) -> tuple[Report, set[str]]:
    """The report of the decoded previews of several stacks (one for one) as one table, and the
    plaintext secrets the documents hold (to mask)."""
    found: set[str] = set()
    previews = []
    for document in documents:
        found |= pv.plaintext_secrets(document)
        previews.append(pv.parse(document))
    report = build(merge(previews), client)
    report.warnings.extend(declared_twice(previews))
    return report, found


def report_for_stacks(documents: list[object], client: GraphClient,
                      secrets: Iterable[str] = ()) -> str:
    """One Markdown report for the decoded previews of several stacks (one for one)."""
    report, found = build_for_stacks(documents, client)
    return render(report, found | set(secrets))


def report_for(document: Mapping[str, object], client: GraphClient,
               secrets: Iterable[str] = ()) -> str:
    """The Markdown report of a decoded preview document (for programs and tests)."""
    found = pv.plaintext_secrets(document) | set(secrets)
    return render(build(pv.parse(document), client), found)
