"""What every resource's rules share: settings and the Graph client from ``configure()``,
``check()`` plumbing, the per-property diff of an input, and the rules for taking over and
clearing an override.

`Rules` is the base of every resource's rules (`WabaCallbackOverrideRules`,
`WabaRoutingRules`...): to Pulumi's dynamic door they are its ``ResourceProvider``, and the
native door (`waba_webhooks.plugin.adapter`) calls the same methods. The single-override
resources subclass `OverrideRules`, which adds their common ``check()`` and ``diff()``. The
rules are plain functions over plain values so that a resource owning many overrides
(`WabaRouting`) applies them to each one exactly as the single resources do:

- `takeover`: may a create write where an override may already be set?
- `ours_to_clear` (and `clear_allowed`, which says why not): may a delete clear what it finds?
- `input_changes`: how did one input change (none recorded, an unknown, a map per key)?

Rules keep no state when the program pickles them (``configure()`` runs later, in the provider
process), so their pickled form in state is a reference to the class: a few dozen bytes, nothing
secret, and new rules apply to old resources.
"""

from __future__ import annotations

import enum
import inspect
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    ReadResult,
    ResourceProvider,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from ..errors import OverrideConflictError, VerifyTokenRequiredError
from .diff import ChangeKind, Diff, PropertyChange

if TYPE_CHECKING:
    from ..config import Settings
    from ..graph import GraphClient
    from ..validation import Failure

# config, graph and validation (and with them requests, tenacity, rfc3986) are imported where
# they are used: only the provider process needs them, and every `pulumi` run starts a program
# process that imports this module just to declare resources.

CALLBACK_URI = "callback_uri"
VERIFY_TOKEN = "verify_token"
ADOPT_EXISTING = "adopt_existing"

#: Whether this pulumi SDK's ``ReadResult`` takes ``inputs`` (newer SDKs do; 3.200.0 does not).
#: With it, a refresh that finds drift records the drifted values as the resource's inputs too;
#: without it the inputs of the last ``up`` stay in state. Drift is reported and the next ``up``
#: restores the declared override either way: diffs compare the program with the outputs.
READ_RESULT_TAKES_INPUTS = "inputs" in inspect.signature(ReadResult.__init__).parameters

#: A property check: (property name, value) -> failures naming the property.
Check = Callable[[str, Any], "list[Failure]"]


def read_result(object_id: str, outs: dict[str, Any], inputs: dict[str, Any]) -> ReadResult:
    """A read's result with the inputs the outputs imply. The dynamic door passes them on
    where the SDK takes them (`READ_RESULT_TAKES_INPUTS`); the native door reads them on every
    SDK (an import records them)."""
    if READ_RESULT_TAKES_INPUTS:
        return ReadResult(object_id, outs, inputs)  # type: ignore[call-arg, unused-ignore]  # SDK 3.200.0's has no inputs
    result = ReadResult(object_id, outs)
    result.inputs = inputs  # type: ignore[attr-defined, unused-ignore]  # SDK 3.200.0's has no inputs
    return result


class Takeover(enum.Enum):
    """What a create does about the override it finds where it wants one."""

    WRITE = "write"  # nothing set, or another URI the resource asked to replace
    ADOPT = "adopt"  # the wanted URI is already set: take it over without a write
    CONFLICT = "conflict"  # another URI is set and the resource did not ask to replace it


def takeover(current: str | None, wanted: str, adopt_existing: bool) -> Takeover:
    """The no-takeover rule: a create never silently replaces another override of our app."""
    if current is None:
        return Takeover.WRITE
    if current == wanted:
        return Takeover.ADOPT
    return Takeover.WRITE if adopt_existing else Takeover.CONFLICT


@dataclass(frozen=True)
class Conflict:
    """An override of our app, set outside this stack, where a resource wants another URI."""

    noun: str  # "WABA" or "phone number"
    object_id: str
    current: str
    wanted: str
    #: Where the resource declares this URI (to adopt the current one, declare it there).
    input: str = CALLBACK_URI

    def describe(self) -> str:
        return (f"{self.noun} {self.object_id} already has an override callback URI for this "
                f"app: {self.current} (set outside this stack)")


def conflict_error(conflicts: Iterable[Conflict]) -> OverrideConflictError:
    """One error for every conflict found, saying how to adopt or replace."""
    found = list(conflicts)
    if len(found) == 1:
        [one] = found
        return OverrideConflictError(
            f"{one.describe()}. Nothing was changed. To adopt it as it is, declare "
            f"{one.input}={one.current!r} (create then takes it over without a write); to "
            f"replace it with {one.wanted}, set {ADOPT_EXISTING}=True"
        )
    lines = "\n".join(f"  - {c.describe()}; this stack wants {c.wanted}" for c in found)
    return OverrideConflictError(
        f"{len(found)} overrides of this app are already set outside this stack:\n{lines}\n"
        f"Nothing was changed. To adopt them as they are, declare their current URIs "
        f"(they are then taken over without a write); to replace them, set "
        f"{ADOPT_EXISTING}=True"
    )


def imported(olds: Mapping[str, Any]) -> bool:
    """Whether the recorded inputs are those of an import: the object is recorded without a
    verify token. Meta never returns a token, so `pulumi import` cannot record one; such a
    resource may go without it until a write needs it (`check_token`, `require_token`), and
    declaring one later is not a change by itself (`input_changes`)."""
    return bool(olds) and olds.get(VERIFY_TOKEN) is None


def check_token(olds: Mapping[str, Any]) -> Check:
    """`validation.check_verify_token`, except that an imported resource may have none."""
    from .. import validation

    def check(prop: str, value: Any) -> list[Failure]:
        if value is None and imported(olds):
            return []
        return validation.check_verify_token(prop, value)

    return check


def require_token(token: str | None, where: str) -> str:
    """The verify token a write sends, or an error that says why there is none."""
    if not token:
        raise VerifyTokenRequiredError(
            f"{where}: {VERIFY_TOKEN} is needed for this write (Meta verifies the URL with it) "
            "and this resource has none: it was imported, and Meta never returns a verify "
            f"token. Declare {VERIFY_TOKEN}. Nothing was changed")
    return token


def ours_to_clear(current: str | None, ours: str | None) -> bool:
    """The delete rule: an override is cleared only while it is what this stack set (someone
    who changed it since owns it now)."""
    return current is not None and current == ours


def clear_allowed(noun: str, object_id: str, current: str | None, ours: str | None) -> bool:
    """Clear only what this stack set (`ours_to_clear`): if someone changed the override
    since, leave it and say so (`warn_left_as_is`)."""
    if current is not None and not ours_to_clear(current, ours):
        warn_left_as_is(noun, object_id, ours, current)
    return ours_to_clear(current, ours)


def warn_left_as_is(noun: str, object_id: str, ours: str | None, current: str) -> None:
    """The warning of a delete that found the override changed outside this stack."""
    pulumi.log.warn(
        f"{noun} {object_id}: left the override callback URI as it is, because it "
        f"was changed outside this stack (this stack set {ours}, it is now {current})"
    )


class Rules(ResourceProvider):
    """The base of a resource's rules: settings and the Graph client handed over at configure
    time, and ``check()`` plumbing."""

    # Nothing secret is captured, so the pickled provider need not be an encrypted secret.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        """The dynamic door's configure: the stack's ``whatsapp:*`` settings and their client."""
        from .. import config

        self.use(config.load(req.config.get))

    @classmethod
    def configured(cls, settings: Settings, client: GraphClient | None = None) -> Self:
        """Rules with these settings and this client (the native door's configure, one client
        per provider instance)."""
        rules = cls()
        rules.use(settings, client)
        return rules

    def use(self, settings: Settings, client: GraphClient | None = None) -> None:
        """Take the settings and the Graph client (`client`, else the process's one for these
        settings) every call of these rules uses. In a provider process started by the engine,
        the process then ends with its engine (`lifeline`)."""
        from .. import graph, lifeline

        self._settings = settings
        self._client = client or graph.client_for(settings)
        lifeline.watch_engine()

    @property
    def settings(self) -> Settings:
        """The settings handed over at configure time (before it, the environment's)."""
        if "_settings" not in self.__dict__:
            self._use_environment()
        return self._settings

    @property
    def client(self) -> GraphClient:
        """The Graph client handed over at configure time (before it, the environment's)."""
        if "_client" not in self.__dict__:
            self._use_environment()
        return self._client

    def _use_environment(self) -> None:
        """Rules called before any configure (a check of a preview): the environment's
        settings."""
        from .. import config

        self.use(config.load())

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:
        """The changes from the old state (the last outputs) to the new inputs, per property;
        every resource has its own."""
        raise NotImplementedError

    def callback_uri_check(self, where: str) -> Check:
        """`validation.check_callback_uri` with this provider's ``allowHttpLoopback`` setting.
        A URI it accepts that Meta may still refuse (`validation.callback_uri_warnings`) gets a
        warning in the preview, prefixed with `where` (e.g. ``"WABA 1023..."``): `CheckResult`
        has no warnings, so a provider-process log line is what the engine shows."""
        from .. import validation

        allow = self.settings.allow_http_loopback

        def check(prop: str, value: Any) -> list[Failure]:
            failures = validation.check_callback_uri(prop, value, allow_http_loopback=allow)
            if not failures:
                for warning in validation.callback_uri_warnings(prop, value):
                    pulumi.log.warn(f"{where}: {warning}")
            return failures

        return check

    @staticmethod
    def checked(news: Mapping[str, Any], input_names: Iterable[str],
                checks: Iterable[tuple[str, Check]],
                extra: Iterable[Failure] = ()) -> CheckResult:
        """Run each property's check on the values known now (unknown ones are checked again at
        `up`), reject properties the resource does not have, and keep only its inputs."""
        from .. import validation

        names = tuple(input_names)
        failures: list[Failure] = validation.check_known(news, set(names))
        for prop, check in checks:
            value = news.get(prop)
            if not is_unknown(value):
                failures.extend(check(prop, value))
        failures.extend(extra)
        inputs = {name: news[name] for name in names if name in news}
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])


class OverrideRules(Rules):
    """What the rules of the two single-override resources share; `id_property` names the input
    that is the resource id."""

    #: Name of the id input (``waba_id`` or ``phone_number_id``).
    id_property: ClassVar[str]
    #: Words for messages: "WABA" or "phone number".
    noun: ClassVar[str]

    @property
    def input_names(self) -> tuple[str, ...]:
        return (self.id_property, CALLBACK_URI, VERIFY_TOKEN, ADOPT_EXISTING)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without any API call; every failure names its property. What only
        may be refused (`validation.callback_uri_warnings`) is a warning in the preview."""
        from .. import validation

        return self.checked(news, self.input_names, (
            (self.id_property, validation.check_id),
            (CALLBACK_URI, self.callback_uri_check(f"{self.noun} {news.get(self.id_property)}")),
            (VERIFY_TOKEN, check_token(olds)),
            (ADOPT_EXISTING, validation.check_bool),
        ))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:
        """A new id replaces the resource; a new URI or token updates it in place."""
        return Diff(change for name in self.input_names
                    for change in input_changes(olds, news, name,
                                                replace=name == self.id_property))

    # ---- helpers for subclasses ---------------------------------------------------------------

    def base_outputs(self, object_id: str, callback_uri: str,
                     props: Mapping[str, Any]) -> dict[str, Any]:
        """The outputs every override has: its id, the live URI, and the inputs kept as set."""
        return {
            self.id_property: object_id,
            CALLBACK_URI: callback_uri,
            VERIFY_TOKEN: props.get(VERIFY_TOKEN),
            ADOPT_EXISTING: bool(props.get(ADOPT_EXISTING)),
        }

    @staticmethod
    def write_needed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """An update writes only when what Meta holds changes: the URI or the verify token (a
        new `adopt_existing` alone changes nothing remotely)."""
        return (olds.get(CALLBACK_URI), olds.get(VERIFY_TOKEN)) != (
            news[CALLBACK_URI], news.get(VERIFY_TOKEN))

    def found(self, object_id: str, outs: dict[str, Any]) -> ReadResult:
        """A read that found the override: its outputs and (`read_result`) the inputs they
        imply, so that a refresh records drift in the inputs too and an id-only read still
        yields usable inputs."""
        inputs = {k: outs[k] for k in self.input_names if outs.get(k) is not None}
        return read_result(object_id, outs, inputs)

    def ensure_no_takeover(self, object_id: str, current: str | None,
                           props: Mapping[str, Any]) -> bool:
        """Decide whether create must write. Raise if another override is already set and the
        resource did not ask to adopt it; return False when the same URI is already set."""
        wanted = props[CALLBACK_URI]
        decision = takeover(current, wanted, bool(props.get(ADOPT_EXISTING)))
        if decision is Takeover.CONFLICT:
            assert current is not None
            raise conflict_error([Conflict(self.noun, object_id, current, wanted)])
        return decision is Takeover.WRITE

    def delete_allowed(self, object_id: str, current: str | None,
                       props: Mapping[str, Any]) -> bool:
        """Clear only what this stack set: if someone changed the override since, leave it."""
        return clear_allowed(self.noun, object_id, current, props.get(CALLBACK_URI))


def input_changes(olds: Mapping[str, Any], news: Mapping[str, Any], name: str,
                  empty: Any = None, *, same: Callable[[Any, Any], bool] | None = None,
                  replace: bool = False) -> list[PropertyChange]:
    """How input `name` changed from the old state to the new inputs: not at all, as a whole,
    or per key of a map (``phone_numbers["<id>"]``). An absent value equals `empty`
    (``adopt_existing``: absent and False are the same); an unknown one (known only at `up`)
    is a change; `same` says when two values are equal (default ``==``)."""
    old, new = olds.get(name), news.get(name)
    old = empty if old is None else old
    if is_unknown(new):
        return _change(name, old, new, replace)
    if name == VERIFY_TOKEN and old is None:
        return []  # none recorded (an import): declaring one changes nothing at Meta
    new = empty if new is None else new
    if name == ADOPT_EXISTING:
        old, new = bool(old), bool(new)
    if isinstance(old, Mapping) or isinstance(new, Mapping):
        old_map = old if isinstance(old, Mapping) else {}
        new_map = new if isinstance(new, Mapping) else {}
        return [change for key in dict.fromkeys([*old_map, *new_map])
                for change in _change(name, old_map.get(key), new_map.get(key), replace, key)]
    if (same or operator.eq)(old, new):
        return []
    return _change(name, old, new, replace)


def _change(name: str, old: Any, new: Any, replace: bool,
            key: str | None = None) -> list[PropertyChange]:
    """The change from `old` to `new` (none, an add, an update or a delete); a value recorded
    as absent equals an empty one."""
    if _empty(old) and _empty(new):
        return []
    if _empty(old):
        kind = ChangeKind.ADD
    elif _empty(new):
        kind = ChangeKind.DELETE
    elif old != new or is_unknown(new):
        kind = ChangeKind.UPDATE
    else:
        return []
    return [PropertyChange(name, kind, key=key, replace=replace)]


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def is_unknown(value: Any) -> bool:
    """A value known only at `up` time: the provider process hands it over as an `Unknown`
    object (the wire sentinel string in older paths)."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)
