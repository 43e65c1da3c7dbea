"""`WabaRouting`: our app's whole webhook routing on one WhatsApp Business Account, as one
resource: the WABA's alternate callback and every listed phone number's, read in a few Graph
calls and written in parallel inside one provider call.

It is *authoritative* for what it lists, like Terraform's ``google_project_iam_policy`` or
``github_repository_collaborators``: one resource per WABA, never beside a
`WabaCallbackOverride` / `PhoneCallbackOverride` on the same WABA or numbers.

Inputs (state holds them as declared; ``verify_token`` and ``verify_tokens`` are secrets):

- ``waba_id``: the WABA id (digits). A new one replaces the resource.
- ``callback_uri``: our app's override on the WABA, or None for none.
- ``phone_numbers``: phone number id -> override callback URI, for the numbers that have their
  own. A number listed here must be a number of the WABA.
- ``verify_token``: the token Meta sends when it verifies the WABA's URI and every number's
  (required when anything is routed).
- ``verify_tokens``: optional, phone number id -> token, for listed numbers whose endpoint
  expects another token than ``verify_token``.
- ``unlisted``: ``"keep"`` (default) leaves overrides of our app on numbers not in
  ``phone_numbers`` (and on the WABA when ``callback_uri`` is None) and reports them;
  ``"clear"`` removes them.
- ``adopt_existing``: replace overrides set outside this stack on objects this resource starts
  listing (default: the step fails and changes nothing).

Outputs, as last read from Graph (besides the inputs above):

- ``callback_uri``: our WABA override (None unless declared).
- ``phone_numbers``: the listed numbers that have our override, with its URI. A number missing
  here, or with another URI, is what the next `up` writes.
- ``waba_callback_uri``: our app's override on the WABA, whoever set it.
- ``app_callback_uri``: our app's callback URL (App Dashboard); ``app_id``: our app.
- ``subscribed``: whether our app is subscribed to the WABA's webhooks.
- ``unlisted_overrides``: phone number id -> URI: our overrides on numbers not listed.
- ``numbers_without_override``: the WABA's other numbers (no override of ours): they follow
  ``waba_callback_uri``, else ``app_callback_uri``. With the keys of ``phone_numbers`` and
  ``unlisted_overrides`` they are every number of the WABA (each number once: state stays
  small). `effective_routing` turns the outputs into phone number id ->
  ``{"callbackUri", "rule"}``: a Python program has it as ``effective``, computed where it runs.

The function ``getEffectiveRouting`` (`GET_EFFECTIVE_ROUTING`) gives every language the same map
for any WABA the app reaches, read live: the read below, nothing written, nothing recorded.

Graph calls per operation: a read is ``GET /{WABA_ID}/subscribed_apps`` plus
``GET /{WABA_ID}/phone_numbers`` with ``webhook_configuration`` (one call per 100 numbers;
``whatsapp:batchReads=false`` reads each number instead); create, update and delete read first,
then subscribe the app if it is not subscribed (a plain POST, only then), then make only the
writes that differ, ``whatsapp:writeConcurrency`` (default 8) at a time. Diff (and so a
no-change preview) makes no Graph call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from .. import validation
from ..errors import GraphError, NotFoundError, RoutingError
from ..rules.base import (
    ADOPT_EXISTING,
    CALLBACK_URI,
    VERIFY_TOKEN,
    Conflict,
    Rules,
    Takeover,
    check_token,
    conflict_error,
    input_changes,
    is_unknown,
    read_result,
    require_token,
    takeover,
    warn_left_as_is,
)
from ..rules.diff import ChangeKind, Diff, PropertyChange
from ..rules.function import Function
from ..rules.kind import Kind, typed
from ..rules.props import build_props

if TYPE_CHECKING:
    from pulumi.dynamic import CheckResult

    from ..validation import Failure

WABA_ID = "waba_id"
PHONE_NUMBERS = "phone_numbers"
VERIFY_TOKENS = "verify_tokens"
UNLISTED = "unlisted"
KEEP, CLEAR = "keep", "clear"
INPUTS = (WABA_ID, CALLBACK_URI, PHONE_NUMBERS, VERIFY_TOKEN, VERIFY_TOKENS, UNLISTED,
          ADOPT_EXISTING)
#: What an absent input means.
EMPTY: dict[str, Any] = {PHONE_NUMBERS: {}, VERIFY_TOKENS: {}, UNLISTED: KEEP}
NUMBERS_WITHOUT_OVERRIDE = "numbers_without_override"

#: The rules Meta applies, in its words: phone override > WABA override > the app's URL.
PHONE_RULE = "phone_number"
WABA_RULE = "whatsapp_business_account"
APPLICATION_RULE = "application"

#: The two kinds of object a `Write` names, in the words of messages.
WABA_NOUN = "WABA"
PHONE_NOUN = "phone number"


# ---- what Graph says, what the resource wants, and the writes in between ----------------------


@dataclass(frozen=True)
class LiveRouting:
    """Our app on one WABA as Graph reports it."""

    subscribed: bool
    #: Our app's override on the WABA.
    waba_override: str | None
    #: Every number of the WABA -> our app's override on it (None: none), in Graph's order.
    numbers: dict[str, str | None]
    #: Our app's callback URL (None when the WABA has no number to report it).
    app_callback_uri: str | None

    def after(self, writes: Iterable[Write], subscribed: bool) -> LiveRouting:
        """The routing once `writes` are made."""
        waba, numbers = self.waba_override, dict(self.numbers)
        for write in writes:
            if write.noun == WABA_NOUN:
                waba = write.callback_uri
            else:
                numbers[write.object_id] = write.callback_uri
        return LiveRouting(subscribed, waba, numbers, self.app_callback_uri)


@dataclass(frozen=True)
class Write:
    """One Graph write: set (`callback_uri`) or clear (None) our override on one object."""

    noun: str
    object_id: str
    callback_uri: str | None
    verify_token: str | None = field(default=None, repr=False)


@dataclass
class RoutingWrites:
    """What an operation does, decided before any write."""

    subscribe: bool = False
    writes: list[Write] = field(default_factory=list)
    #: Overrides set outside this stack where this resource starts listing another URI.
    conflicts: list[Conflict] = field(default_factory=list)
    #: Listed phone number ids that are not numbers of the WABA.
    strangers: list[str] = field(default_factory=list)
    #: (noun, id, what this stack set, what is there now): changed outside, so left as is.
    left: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Routing:
    """What a `WabaRouting` declares, as its rules read it where every value is known (create,
    update, delete): `WabaRoutingArgs`' inputs as plain values, an absent one as what it
    means."""

    waba_id: str
    verify_token: str | None = None
    callback_uri: str | None = None
    phone_numbers: Mapping[str, str] = field(default_factory=dict)
    verify_tokens: Mapping[str, str] = field(default_factory=dict)
    unlisted: str = KEEP
    adopt_existing: bool = False

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> Routing:
        """The routing that inputs or recorded outputs (by property name) declare."""
        return typed(cls, props)

    def token_for(self, phone_id: str | None) -> str | None:
        """The verify token of a route: the number's own in `verify_tokens`, else
        `verify_token`."""
        own = self.verify_tokens.get(phone_id) if phone_id else None
        return own or self.verify_token


def routing_writes(live: LiveRouting, news: Routing, olds: Routing | None) -> RoutingWrites:
    """The writes that take `live` to what `news` declares. `olds` is what this resource set
    before (its last outputs; None for a create): objects in it are ours to change or clear;
    objects new to it follow the no-takeover rule. Pure: no Graph call, no log."""
    result = RoutingWrites()
    before = olds or Routing(news.waba_id)

    def decide(noun: str, object_id: str, current: str | None, want: str | None,
               set_before: str | None, phone_id: str | None) -> None:
        token, recorded = news.token_for(phone_id), before.token_for(phone_id)
        if want is not None and set_before is not None:
            # Ours: restore drift, apply a new URI, re-verify with a new token (none recorded,
            # after an import: nothing to re-verify).
            if current != want or (recorded is not None and token != recorded):
                result.writes.append(Write(noun, object_id, want, token))
        elif want is not None:
            decision = takeover(current, want, news.adopt_existing)
            if decision is Takeover.WRITE:
                result.writes.append(Write(noun, object_id, want, token))
            elif decision is Takeover.CONFLICT:
                assert current is not None
                where = CALLBACK_URI if phone_id is None else f"{PHONE_NUMBERS}[{phone_id!r}]"
                result.conflicts.append(Conflict(noun, object_id, current, want, input=where))
        elif current is not None and news.unlisted == CLEAR:
            result.writes.append(Write(noun, object_id, None))
        elif current is not None and set_before is not None:
            # No longer listed: clear it if it is still what this stack set.
            if current == set_before:
                result.writes.append(Write(noun, object_id, None))
            else:
                result.left.append((noun, object_id, set_before, current))

    decide(WABA_NOUN, news.waba_id, live.waba_override, news.callback_uri, before.callback_uri,
           None)
    for phone_id, current in live.numbers.items():
        decide(PHONE_NOUN, phone_id, current, news.phone_numbers.get(phone_id),
               before.phone_numbers.get(phone_id), phone_id)
    result.strangers = [phone_id for phone_id in news.phone_numbers
                        if phone_id not in live.numbers]
    result.subscribe = not live.subscribed and routed(news.callback_uri, news.phone_numbers)
    return result


def clears_unlisted(props: Mapping[str, Any]) -> bool:
    """Under ``unlisted="clear"`` the resource owns every override of our app on its WABA:
    those on numbers it does not list go, and the WABA's when it declares none."""
    return props.get(UNLISTED) == CLEAR


def routed(callback_uri: Any, phone_numbers: Any) -> bool:
    """Whether a routing with this WABA URI and these numbers routes anything (unknown values
    count as not known to)."""
    return (callback_uri is not None and not is_unknown(callback_uri)) or (
        isinstance(phone_numbers, Mapping) and bool(phone_numbers))


def outputs(live: LiveRouting, declared: Routing, app_id: str) -> dict[str, Any]:
    """The resource's outputs for `live` routing and what it `declared` (see the module)."""
    listed = declared.phone_numbers
    return {
        WABA_ID: declared.waba_id,
        CALLBACK_URI: live.waba_override if declared.callback_uri is not None else None,
        PHONE_NUMBERS: {phone_id: live.numbers[phone_id] for phone_id in listed
                        if live.numbers.get(phone_id) is not None},
        VERIFY_TOKEN: declared.verify_token,
        VERIFY_TOKENS: dict(declared.verify_tokens) or None,
        UNLISTED: declared.unlisted,
        ADOPT_EXISTING: declared.adopt_existing,
        "app_id": app_id,
        "app_callback_uri": live.app_callback_uri,
        "waba_callback_uri": live.waba_override,
        "subscribed": live.subscribed,
        "unlisted_overrides": {phone_id: uri for phone_id, uri in live.numbers.items()
                               if uri is not None and phone_id not in listed},
        NUMBERS_WITHOUT_OVERRIDE: [phone_id for phone_id, uri in live.numbers.items()
                                   if uri is None],
    }


def effective_routing(outs: Mapping[str, Any]) -> dict[str, dict[str, str | None]]:
    """Phone number id -> ``{"callbackUri", "rule"}``: where Meta sends each number's messages
    webhooks, from a `WabaRouting`'s outputs (state, or the resource's Outputs)."""
    overrides = {**(outs.get("unlisted_overrides") or {}), **(outs.get(PHONE_NUMBERS) or {})}
    result = {phone_id: {"callbackUri": uri, "rule": PHONE_RULE}
              for phone_id, uri in overrides.items()}
    waba_uri = outs.get("waba_callback_uri")
    fallback = ({"callbackUri": waba_uri, "rule": WABA_RULE} if waba_uri else
                {"callbackUri": outs.get("app_callback_uri"), "rule": APPLICATION_RULE})
    for phone_id in outs.get(NUMBERS_WITHOUT_OVERRIDE) or []:
        result[phone_id] = dict(fallback)
    return result


def pending(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[PropertyChange]:
    """Work the last read found for an `up` that the inputs do not show, as changes of the
    outputs that carry it: overrides to clear under ``unlisted="clear"`` (on numbers, on the
    WABA), or our app no longer subscribed to a routed WABA."""
    found = []
    if clears_unlisted(news):
        if olds.get("unlisted_overrides"):
            found.append(PropertyChange("unlisted_overrides", ChangeKind.DELETE, input=False))
        if news.get(CALLBACK_URI) is None and olds.get("waba_callback_uri"):
            found.append(PropertyChange("waba_callback_uri", ChangeKind.DELETE, input=False))
    if olds.get("subscribed") is False and routed(news.get(CALLBACK_URI), news.get(PHONE_NUMBERS)):
        found.append(PropertyChange("subscribed", ChangeKind.UPDATE, input=False))
    return found


# ---- the provider -------------------------------------------------------------------------------


class WabaRoutingRules(Rules):
    """Check, diff, create, read, update and delete of our app's routing on one WABA."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without any API call; every failure names its property (a map entry
        as ``phone_numbers['<id>']``)."""
        callback_uri = self.callback_uri_check(f"WABA {news.get(WABA_ID)}")

        def optional_uri(prop: str, value: Any) -> list[Failure]:
            return [] if value is None else callback_uri(prop, value)

        def optional_token(prop: str, value: Any) -> list[Failure]:
            # Required when anything is routed (checked again at `up` if unknown now), except
            # after an import until a write needs it.
            routed_now = routed(news.get(CALLBACK_URI), news.get(PHONE_NUMBERS))
            return check_token(olds)(prop, value) if (routed_now or value is not None) else []

        def uri_map(prop: str, value: Any) -> list[Failure]:
            return validation.check_id_map(prop, value, callback_uri, skip=is_unknown)

        def token_map(prop: str, value: Any) -> list[Failure]:
            failures = validation.check_id_map(prop, value, validation.check_verify_token,
                                               skip=is_unknown)
            listed = news.get(PHONE_NUMBERS)
            if not failures and isinstance(value, Mapping) and isinstance(listed, Mapping):
                failures.extend(
                    validation.Failure(f"{prop}[{key!r}]",
                                       f"{prop}[{key!r}]: {key} is not in {PHONE_NUMBERS}")
                    for key in value if key not in listed)
            return failures

        return self.checked(news, INPUTS, (
            (WABA_ID, validation.check_id),
            (CALLBACK_URI, optional_uri),
            (PHONE_NUMBERS, uri_map),
            (VERIFY_TOKEN, optional_token),
            (VERIFY_TOKENS, token_map),
            (UNLISTED, lambda prop, value: validation.check_choice(prop, value, (KEEP, CLEAR))),
            (ADOPT_EXISTING, validation.check_bool),
        ))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:
        """From state alone (no Graph call), per number for the maps: a new WABA id replaces;
        any other input change, drift recorded by a refresh, or work the last read found
        (`pending`) updates."""
        return Diff([*(change for name in INPUTS
                       for change in input_changes(olds, news, name, EMPTY.get(name),
                                                   replace=name == WABA_ID)),
                     *pending(olds, news)])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props[WABA_ID], self._converge(Routing.of(props), None))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(Routing.of({**news, WABA_ID: id_}),
                                           Routing.of({**olds, WABA_ID: id_})))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._pool() as pool:
            try:
                live = self._read(id_, pool)
            except NotFoundError:
                # The WABA is gone or out of our app's reach: drop it from state.
                return ReadResult("", {})
        if not props:
            # `pulumi import`: the resource takes over our app's routing as it is live.
            props = {CALLBACK_URI: live.waba_override,
                     PHONE_NUMBERS: {phone_id: uri for phone_id, uri in live.numbers.items()
                                     if uri is not None}}
        outs = outputs(live, Routing.of({**props, WABA_ID: id_}), self.client.app_id())
        return read_result(id_, outs, _implied_inputs(outs))

    def effective_now(self, waba_id: str) -> dict[str, Any]:
        """``getEffectiveRouting``: where each number of the WABA sends its messages webhooks
        now, from the read a refresh makes (`EffectiveRouting`). Writes nothing."""
        with self._pool() as pool:
            live = self._read(waba_id, pool)
        return {WABA_ID: waba_id,
                "effective": effective_routing(outputs(live, Routing(waba_id),
                                                       self.client.app_id()))}

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Clear what this resource set and is still as it set it (else warn and leave it);
        keep unlisted overrides; never unsubscribe the app."""
        with self._pool() as pool:
            try:
                live = self._read(id_, pool)
            except NotFoundError:
                return
            todo = routing_writes(live, Routing(id_), Routing.of({**props, WABA_ID: id_}))
            self._warn(todo)
            self._write(id_, todo, pool)

    # ---- the steps ------------------------------------------------------------------------------

    def _converge(self, news: Routing, olds: Routing | None) -> dict[str, Any]:
        """Read, decide the writes, refuse conflicts before any write, write, and return the
        outputs."""
        waba_id = news.waba_id
        with self._pool() as pool:
            live = self._read(waba_id, pool)
            todo = routing_writes(live, news, olds)
            if todo.strangers:
                raise RoutingError(
                    f"{PHONE_NUMBERS} lists {', '.join(todo.strangers)}, which our app does not "
                    f"see among the phone numbers of WABA {waba_id}. Nothing was changed. Check "
                    f"the ids (phone number ids, not phone numbers) and the WABA", [])
            if todo.conflicts:
                raise conflict_error(todo.conflicts)
            for write in todo.writes:
                if write.callback_uri is not None:
                    require_token(write.verify_token, f"{write.noun} {write.object_id}")
            self._warn(todo)
            self._write(waba_id, todo, pool)
        return outputs(live.after(todo.writes, live.subscribed or todo.subscribe), news,
                       self.client.app_id())

    def _read(self, waba_id: str, pool: ThreadPoolExecutor) -> LiveRouting:
        """Our app's routing on the WABA: ``subscribed_apps`` and the ``phone_numbers`` edge at
        the same time (with the per-number fallback when batch reads are off)."""
        client = self.client
        batch = self.settings.batch_reads
        ours = pool.submit(client.waba_override, waba_id)
        numbers = pool.submit(client.phone_numbers, waba_id, routing=batch).result()
        configs = {n.phone_number_id: n.webhook_configuration for n in numbers}
        if not batch:
            configs = dict(zip(configs, pool.map(client.webhook_configuration, configs),
                               strict=True))
        subscribed, waba_override = ours.result()
        return LiveRouting(
            subscribed=subscribed,
            waba_override=waba_override,
            numbers={phone_id: config.phone_number for phone_id, config in configs.items()},
            app_callback_uri=next(
                (c.application for c in configs.values() if c.application), None),
        )

    def _write(self, waba_id: str, todo: RoutingWrites, pool: ThreadPoolExecutor) -> None:
        """Subscribe first when needed, then every write on the pool; raise one `RoutingError`
        listing every failed write once all have been tried."""
        client = self.client
        if todo.subscribe:
            client.subscribe_app(waba_id)  # a failure here stops everything: nothing else lands

        def send(write: Write) -> None:
            if write.noun == WABA_NOUN:
                if write.callback_uri is None:
                    client.clear_waba_override(waba_id)
                else:
                    client.set_waba_override(waba_id, write.callback_uri, write.verify_token or "")
            elif write.callback_uri is None:
                client.clear_phone_override(write.object_id)
            else:
                client.set_phone_override(write.object_id, write.callback_uri,
                                          write.verify_token or "")

        sent = [(write, pool.submit(send, write)) for write in todo.writes]
        failures: list[tuple[Write, GraphError]] = []
        for write, future in sent:
            error = future.exception()
            if isinstance(error, GraphError):
                failures.append((write, error))
            elif error is not None:
                raise error
        if failures:
            raise _failed(waba_id, failures, len(sent))

    @staticmethod
    def _warn(todo: RoutingWrites) -> None:
        for noun, object_id, ours, current in todo.left:
            warn_left_as_is(noun, object_id, ours, current)

    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.settings.write_concurrency,
                                  thread_name_prefix="waba-routing")


def _implied_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a read's outputs imply: the listed overrides as they are live, so that a
    refresh records drift and the next preview shows, per number, what `up` writes back. Under
    ``unlisted="clear"`` the unlisted overrides are included too: the preview then shows them
    going."""
    inputs = {name: outs[name] for name in INPUTS if outs.get(name) is not None}
    if clears_unlisted(outs):
        inputs[PHONE_NUMBERS] = {**outs.get("unlisted_overrides", {}), **outs[PHONE_NUMBERS]}
        if outs.get(CALLBACK_URI) is None and outs.get("waba_callback_uri") is not None:
            inputs[CALLBACK_URI] = outs["waba_callback_uri"]
    return inputs


def _failed(waba_id: str, failures: list[tuple[Write, GraphError]], total: int) -> RoutingError:
    lines = "\n".join(f"  - {write.noun} {write.object_id}: {error.describe(hint=False)}"
                      for write, error in failures)
    hints = "".join(f"\n{hint}." for hint in dict.fromkeys(e.hint for _, e in failures) if hint)
    return RoutingError(
        f"{len(failures)} of {total} writes on WABA {waba_id} failed; the others were made, and "
        f"the next `pulumi up` makes only the writes still missing:\n{lines}{hints}",
        [(write.noun, write.object_id, error) for write, error in failures],
    )


# ---- the resource ------------------------------------------------------------------------------


@dataclass
class WabaRoutingArgs:
    """Inputs of a `WabaRouting`."""

    #: The WhatsApp Business Account id, as a string of digits.
    waba_id: pulumi.Input[str]
    #: The token Meta sends when it verifies each URI below; kept as a secret in state. Required
    #: when anything is routed.
    verify_token: pulumi.Input[str] | None = None
    #: Our app's override on the WABA (``https://``, at most 200 characters), or None for none.
    callback_uri: pulumi.Input[str] | None = None
    #: Phone number id -> override callback URI, for the numbers that have their own.
    phone_numbers: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    #: Phone number id -> verify token, for listed numbers whose endpoint expects another token.
    verify_tokens: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    #: ``"keep"`` (default): leave and report overrides of ours on numbers not listed (and on
    #: the WABA when `callback_uri` is None); ``"clear"``: remove them.
    unlisted: pulumi.Input[str] | None = None
    #: Replace overrides set outside this stack where it starts listing one (default: fail).
    adopt_existing: pulumi.Input[bool] | None = None


class WabaRoutingOutputs:
    """Our app's whole webhook routing on one WABA: its override and its numbers' overrides.

    One resource per WABA, for stacks with many numbers: reads cost a few Graph calls per WABA
    whatever its number count, writes run in parallel inside one provider call, and overrides
    of ours on numbers it does not list are reported (`unlisted` `keep`) or removed (`unlisted`
    `clear`). Declaring it for a WABA makes it the owner of our app's routing there: do not
    also declare `WabaCallbackOverride` / `PhoneCallbackOverride` for that WABA or its numbers,
    nor a second `WabaRouting` (each would undo the other's changes). The resource id is the
    WABA id.
    """

    waba_id: pulumi.Output[str]
    callback_uri: pulumi.Output[str | None]
    #: Listed numbers that have our override, with its URI as last read.
    phone_numbers: pulumi.Output[dict[str, str]]
    verify_token: pulumi.Output[str | None]
    # Optional[...], not `... | None`: SDK 3.200.0 (the oldest supported) checks a dict output
    # against its annotation and knows only typing.Union; `X | None` failed the program there.
    verify_tokens: pulumi.Output[Optional[dict[str, str]]]  # noqa: UP045
    unlisted: pulumi.Output[str]
    adopt_existing: pulumi.Output[bool]
    #: The app the access token belongs to: the overrides are this app's.
    app_id: pulumi.Output[str]
    #: Our app's callback URL from the App Dashboard, when last read.
    app_callback_uri: pulumi.Output[str | None]
    #: Our app's override on the WABA, whoever set it, when last read.
    waba_callback_uri: pulumi.Output[str | None]
    #: Whether our app is subscribed to the WABA's webhooks.
    subscribed: pulumi.Output[bool]
    #: Phone number id -> URI: overrides of ours on numbers that are not listed.
    unlisted_overrides: pulumi.Output[dict[str, str]]
    #: The WABA's numbers without an override of ours (they follow the WABA's, else the app's).
    numbers_without_override: pulumi.Output[list[str]]

    @property
    def effective(self) -> pulumi.Output[dict[str, dict[str, str | None]]]:
        """Phone number id -> ``{"callbackUri", "rule"}`` for every number of the WABA, as last
        read, computed in the Python program from the other outputs (no Graph call, nothing
        more in state). Other languages call the function ``getEffectiveRouting``."""
        return pulumi.Output.all(**{name: getattr(self, name) for name in (
            PHONE_NUMBERS, "unlisted_overrides", "waba_callback_uri", "app_callback_uri",
            NUMBERS_WITHOUT_OVERRIDE)}).apply(effective_routing)



class WabaRouting(WabaRoutingOutputs, pulumi.dynamic.Resource, module="waba-webhooks",
                  name="WabaRouting"):
    """`WabaRoutingOutputs` as a Pulumi dynamic resource, for Python programs. See the module
    for inputs, outputs and Graph calls."""

    def __init__(
        self,
        resource_name: str,
        args: WabaRoutingArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        waba_id: pulumi.Input[str] | None = None,
        verify_token: pulumi.Input[str] | None = None,
        callback_uri: pulumi.Input[str] | None = None,
        phone_numbers: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        verify_tokens: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        unlisted: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
    ) -> None:
        props, opts = build_props(
            args,
            opts,
            {WABA_ID: waba_id, VERIFY_TOKEN: verify_token, CALLBACK_URI: callback_uri,
             PHONE_NUMBERS: phone_numbers, VERIFY_TOKENS: verify_tokens, UNLISTED: unlisted,
             ADOPT_EXISTING: adopt_existing},
            outputs=KIND.properties,
            secrets=KIND.secrets,
        )
        super().__init__(WabaRoutingRules(), resource_name, props, opts)


KIND = Kind("WabaRouting", WabaRoutingArgs, WabaRoutingOutputs, WabaRoutingRules,
            id_is="the WABA id", secrets=(VERIFY_TOKEN, VERIFY_TOKENS), replaces=(WABA_ID,),
            defaults={UNLISTED: KEEP, ADOPT_EXISTING: False})

#: The name states made before the rules were called rules pickle (by module and name).
WabaRoutingProvider = WabaRoutingRules


# ---- the function -------------------------------------------------------------------------------


@dataclass
class GetEffectiveRoutingArgs:
    """Inputs of ``getEffectiveRouting``."""

    #: The WhatsApp Business Account id, as a string of digits.
    waba_id: pulumi.Input[str]


@dataclass(frozen=True)
class EffectiveRouting:
    """Where Meta sends the messages webhooks of each phone number of a WABA, for this
    provider's app, read live from Graph: the number's override, else the WABA's, else the
    app's callback URL. It writes nothing and records nothing. It makes the Graph reads of a
    `WabaRouting` refresh each time it runs, in a preview too. Given a `WabaRouting`'s
    `waba_id` output, it runs in an `up` once that resource is applied."""

    #: The WABA id.
    waba_id: str
    #: Phone number id -> ``{"callbackUri", "rule"}`` for every number of the WABA: `rule` is
    #: ``phone_number``, ``whatsapp_business_account`` or ``application``, the override that
    #: Meta follows (``application``: the app's callback URL, None when the app has none).
    effective: dict[str, dict[str, str | None]]

GET_EFFECTIVE_ROUTING = Function("getEffectiveRouting", GetEffectiveRoutingArgs, EffectiveRouting,
                                 KIND, rule="effective_now",
                                 checks={WABA_ID: validation.check_id})
