"""The routing report of a preview: where each phone number's messages webhooks go before and
after the preview's steps, and why: `Report`, built by `build` (`render` makes it Markdown).

*Before* is what Graph says now (read-only, `read_live`): for every WABA a step touches, our
app's subscription and override (``subscribed_apps``) and all its numbers with their
``webhook_configuration`` (the ``phone_numbers`` edge); numbers touched on their own are read one
by one. *After* applies the preview's steps to that, the way ``pulumi up`` would: creates and
updates first (a create that finds another URL set fails unless it adopts; one that finds the
same URL adopts it without a write), deletes last (a delete clears an override only if it still
holds the URL the stack set). Meta's precedence -- phone override, else WABA override, else the
app's callback URL, nothing when the app is not subscribed to the WABA -- then gives each number's
route (`World.route`). Numbers whose route changes only because their WABA's override changes
are listed like any other, with the reason.

An app-level change (an `AppWebhookSubscription` step) is an `AppChange`. Its *before* is the
app's live subscription (``GET /{APP_ID}/subscriptions``, with the app secret; without it the
numbers' ``application`` URL and the fields in the stack's state, with a warning). Every number
of the stack's WABAs (its routing table's, from the preview's config) is read, so each one that
falls back to the app's callback URL is listed when that URL moves.

The previews of several stacks of a set are `merge`d into one, so a WABA that moves between them
shows as one move. Verify tokens are never read from the preview.

Routes are per Meta app. Steps of resources of explicit providers are grouped by the app they
act for (`by_app`; `waba_webhooks.commands.apps` gives each its token), each app's part read and
applied on its own, and the report's rows name their app where there are several. The rules
a step follows are the resources' own (`waba_webhooks.rules.base.takeover`,
``ours_to_clear``, `waba_webhooks.resources.app_subscription.same_fields`), and `why` a number
moved is the attribution ``drift`` uses too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..errors import ConfigurationError, GraphError, NotFoundError, PermissionDeniedError
from ..graph import GraphClient, PhoneNumberRouting
from ..resources.app_subscription import same_fields
from ..rules.base import Takeover, ours_to_clear, takeover
from . import preview as pv
from .apps import Apps
from .preview import Opaque, OverrideStep, Preview, Uri

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
    #: The app whose route this is, where the report covers more than one app.
    app: str | None = None

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
    #: The app whose override this is, where the report covers more than one app.
    app: str | None = None


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

    def known_fields(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The fields before and after, when both are known."""
        if isinstance(self.before_fields, tuple) and isinstance(self.after_fields, tuple):
            return self.before_fields, self.after_fields
        return None

    @property
    def added(self) -> tuple[str, ...]:
        known = self.known_fields() if self.applies else None
        return tuple(f for f in known[1] if f not in known[0]) if known else ()

    @property
    def dropped(self) -> tuple[str, ...]:
        known = self.known_fields() if self.applies else None
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
class Live:
    """What Graph says now about the objects read (`read_live`)."""

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


def read_live(client: GraphClient, waba_ids: list[str], phone_ids: list[str],
              report: _ReadLog) -> Live:
    """Every number of each WABA of `waba_ids` with its WABA's subscription and override, and
    the numbers of `phone_ids` not among them one by one (`READ_CONCURRENCY` at once); what was
    read is logged in `report`, what could not be read is in `Live.unreadable`."""
    live = Live()

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
        for phone_id, read in zip(alone, pool.map(_attempt(client.phone_number), alone),
                                  strict=True):
            if isinstance(read, GraphError):
                unreadable(("phone", phone_id), read)
                continue
            live.numbers[phone_id] = read
            report.phones_read.append(phone_id)
    return live


def _read_app(client: GraphClient, live: Live, report: Report) -> None:
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


class World:
    """Overrides and subscriptions, changed step by step."""

    def __init__(self, live: Live) -> None:
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


def _apply(steps: list[OverrideStep], world: World, report: Report) -> None:
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
            if (creating and isinstance(before, str) and isinstance(uri, str)
                    and target not in world.live.unreadable):
                decision = takeover(before, uri, step.new.adopt_existing)
                if decision is Takeover.ADOPT:
                    effect, note = "adopt", "already set: taken over without a write"
                elif decision is Takeover.CONFLICT:
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
            elif (isinstance(ours, Opaque) or isinstance(before, Opaque)
                  or ours_to_clear(before, ours)):
                world.overrides[target] = None
                report.overrides.append(OverrideChange(target, step, before, None, "delete"))
            else:
                report.overrides.append(OverrideChange(
                    target, step, before, before, "keep",
                    f"left as it is: it was changed outside this stack (the stack set {ours})"))


def _app_now(world: World) -> Uri:
    """The app's callback URL as known now (else as the first number read says it)."""
    if world.app_known:
        return world.app_url
    return next((n.webhook_configuration.application for n in world.live.numbers.values()
                 if n.webhook_configuration.application), None)


def _apply_app(step: OverrideStep, app: pv.AppDeclared, world: World, report: Report,
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
                and same_fields(live.fields, app.fields))
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


def _delete_app(step: OverrideStep, app: pv.AppDeclared, world: World, report: Report) -> None:
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


def build(preview: Preview, client: GraphClient | Apps) -> Report:
    """Read what the preview's steps touch from Graph (reads only) and work out every number's
    route before and after, per app: `client` reads for the default provider's app, `Apps`
    also for explicit providers' (`waba_webhooks.commands.apps`). Raises
    `AppTokenMissingError` for an app whose token it lacks."""
    apps = client if isinstance(client, Apps) else Apps(client)
    changing = [s for s in preview.steps if s.op != "same"]
    groups = by_app(changing, apps)
    if not groups:
        return _build_one(preview, apps.default, changing, None)
    if list(groups) == [None]:
        return _build_one(preview, *groups[None], None)
    report = Report(preview)
    for app_id, (reader, steps) in groups.items():
        part = _build_one(preview, reader, steps, app_id)
        report.numbers += part.numbers
        report.overrides += part.overrides
        report.app_changes += part.app_changes
        report.warnings += [f"app {app_id}: {warning}" for warning in part.warnings]
        report.wabas_read = list(dict.fromkeys([*report.wabas_read, *part.wabas_read]))
        report.phones_read = list(dict.fromkeys([*report.phones_read, *part.phones_read]))
    return report


class _HasProvider(Protocol):
    @property
    def provider(self) -> str | None: ...


_Step = TypeVar("_Step", bound=_HasProvider)


def by_app(steps: list[_Step], apps: Apps) -> dict[str | None, tuple[GraphClient, list[_Step]]]:
    """The steps (or records) by the app they act for, each with a client of that app. Steps
    of the command's own app only (however many providers name it) are one group, under None:
    a report names apps only where some of its rows are another app's."""
    providers = list(dict.fromkeys(s.provider for s in steps))
    if not any(providers):
        return {None: (apps.default, steps)} if steps else {}
    groups: dict[str | None, tuple[GraphClient, list[_Step]]] = {}
    app_of = {p: apps.app_of(p) for p in providers}
    for provider in providers:
        app_id = app_of[provider]
        if app_id not in groups:
            groups[app_id] = (apps.client(provider), [])
    for step in steps:
        groups[app_of[step.provider]][1].append(step)
    if set(groups) == {apps.app_of(None)}:
        return {None: next(iter(groups.values()))}
    return groups


def _build_one(preview: Preview, client: GraphClient, changing: list[OverrideStep],
               app: str | None) -> Report:
    """The report of the steps of one app."""
    report = Report(preview)
    waba_ids, phone_ids = _targets(changing)
    app_steps = any(d is not None and d.app is not None for s in changing for d in (s.old, s.new))
    if app_steps:
        # Every number of the stack's WABAs may fall back to the app's callback URL.
        waba_ids = sorted(set(waba_ids) | set(preview.table_wabas))
    live = read_live(client, waba_ids, phone_ids, report)
    if app_steps:
        _read_app(client, live, report)
    world = World(live)
    before = {phone_id: world.route(phone_id) for phone_id in live.numbers}
    _apply(changing, world, report)
    causes: dict[Target, list[OverrideChange]] = {}
    for change in report.overrides:
        causes.setdefault(change.target, []).append(change)
    app_moved = any(change.applies for change in report.app_changes)
    for phone_id in sorted(live.numbers):
        number = live.numbers[phone_id]
        waba_id = live.number_waba.get(phone_id)
        after = world.route(phone_id)
        reasons = why(before[phone_id], after,
                      phone=_step_words(causes.get(("phone", phone_id), []), _PHONE_WHY),
                      waba=_step_words(causes.get(("waba", waba_id), []) if waba_id else [],
                                       _WABA_WHY),
                      app="via app callback URL" if app_moved else None)
        report.numbers.append(NumberRoute(phone_id, number.display_phone_number, waba_id,
                                          before[phone_id], after, reasons, app))
    report.overrides = [dataclasses.replace(c, app=app) for c in report.overrides]
    for (kind, object_id), message in sorted(live.unreadable.items()):
        noun = "WABA" if kind == "waba" else "phone number"
        report.warnings.append(f"{noun} {object_id} could not be read from Graph: {message}")
    for step in changing:
        for declared in (step.old, step.new):
            for what in declared.unresolved if declared else ():
                report.warnings.append(f"`{step.name}`: {what}; its numbers cannot be shown")
    conflicts: list[OverrideChange | AppChange] = [*report.overrides, *report.app_changes]
    for conflict in conflicts:
        if conflict.effect == "conflict":
            report.warnings.append(f"`{conflict.step.name}`: {conflict.note}")
    if preview.errors:
        report.warnings.append(f"the preview reported {preview.errors} error(s): see its log; "
                               "this report shows only the steps it printed")
    return report


_PHONE_WHY = {"create": "direct", "update": "direct", "replace": "via replace",
              "delete": "delete"}
_WABA_WHY = {"create": "via WABA override", "update": "via WABA override",
             "replace": "via replace (WABA override)", "delete": "delete (WABA override)"}


def _step_words(changes: list[OverrideChange], words: Mapping[str, str]) -> list[str]:
    """What each change that moved an override did, in the report's words."""
    return ["cleared (not listed)" if change.effect == "clear" else words[change.step.op]
            for change in changes if change.effect not in ("conflict", "keep")]


def why(before: Route, after: Route, *, phone: Iterable[str] = (), waba: Iterable[str] = (),
        subscription: Iterable[str] = (), app: str | None = None) -> tuple[str, ...]:
    """Why a number's route moved: the attribution `review` and `drift` share, each giving the
    words for its kind of change. `phone`: what changed the number's own override (always a
    cause); `subscription`: our app's subscription to its WABA (a cause before the WABA's
    override); `waba`: its WABA's override (a cause where the WABA rule is involved, or where
    nothing is delivered); `app`: the words for a move of the app's callback URL, when the
    app's own subscription changed (a cause where the app's rule is involved; a dropped or added
    ``messages`` field, or a removed subscription, says so instead)."""
    reasons: dict[str, None] = {}
    rules = (before.rule, after.rule)
    if app is not None:
        if after.note == NO_MESSAGES_FIELD != before.note:
            reasons["messages field dropped"] = None
        elif before.note == NO_MESSAGES_FIELD != after.note:
            reasons["messages field added"] = None
        elif after.rule == NONE and before.rule != NONE:
            reasons["app subscription removed"] = None
        elif APP in rules:
            reasons[app] = None
    reasons.update(dict.fromkeys(phone))
    subscription = list(subscription)
    if subscription:
        reasons.update(dict.fromkeys(subscription))
    elif WABA in rules or NONE in rules:
        reasons.update(dict.fromkeys(waba))
    return tuple(reasons)


def build_for_stacks(documents: list[object],
                     client: GraphClient | Apps) -> tuple[Report, set[str]]:
    """The report of the decoded previews of several stacks (one for one) as one table, and the
    plaintext secrets the documents hold (to mask)."""
    found: set[str] = set()
    previews = []
    apps = client if isinstance(client, Apps) else Apps(client)
    apps.learn(documents)
    for document in documents:
        found |= pv.plaintext_secrets(document)
        previews.append(pv.parse(document))
    report = build(merge(previews), apps)
    report.warnings.extend(declared_twice(previews))
    return report, found
