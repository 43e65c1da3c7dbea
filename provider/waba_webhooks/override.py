"""What both override resources share: settings from ``configure()``, ``check()`` and ``diff()``.

Each resource (`waba.py`, `phone.py`) subclasses `OverrideProvider` and adds create/read/update/
delete. Providers keep no state when the program pickles them (``configure()`` runs later, in the
provider process), so their pickled form in state is a reference to the class: a few dozen bytes,
nothing secret, and new provider code applies to old resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    DiffResult,
    ReadResult,
    ResourceProvider,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from .errors import OverrideConflictError

if TYPE_CHECKING:
    from .config import Settings
    from .graph import GraphClient

# config, graph and validation (and with them requests, tenacity, rfc3986) are imported where
# they are used: only the provider process needs them, and every `pulumi` run starts a program
# process that imports this module just to declare resources.

CALLBACK_URI = "callback_uri"
VERIFY_TOKEN = "verify_token"
ADOPT_EXISTING = "adopt_existing"


class OverrideProvider(ResourceProvider):
    """Shared provider behaviour; `id_property` names the input that is the resource id."""

    #: Name of the id input (``waba_id`` or ``phone_number_id``).
    id_property: ClassVar[str]
    #: Words for messages: "WABA" or "phone number".
    noun: ClassVar[str]
    # Nothing secret is captured, so the pickled provider need not be an encrypted secret.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        from . import config

        self._settings = config.load(req.config.get)

    @property
    def settings(self) -> Settings:
        """Settings from ``configure()``, else from the environment alone."""
        settings = self.__dict__.get("_settings")
        if settings is None:
            from . import config

            settings = self._settings = config.load()
        return settings

    @property
    def client(self) -> GraphClient:
        """The process-wide Graph client for these settings."""
        from . import graph

        return graph.client_for(self.settings)

    @property
    def input_names(self) -> tuple[str, ...]:
        return (self.id_property, CALLBACK_URI, VERIFY_TOKEN, ADOPT_EXISTING)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without any API call; every failure names its property."""
        from . import validation

        failures: list[validation.Failure] = validation.check_known(
            news, set(self.input_names)
        )
        checks = (
            (self.id_property, validation.check_id),
            (CALLBACK_URI, lambda prop, value: validation.check_callback_uri(
                prop, value, allow_http_loopback=self.settings.allow_http_loopback)),
            (VERIFY_TOKEN, validation.check_verify_token),
            (ADOPT_EXISTING, validation.check_bool),
        )
        for prop, check in checks:
            value = news.get(prop)
            if not _unknown(value):  # known only at `up` time: checked again then
                failures.extend(check(prop, value))
        inputs = {name: news[name] for name in self.input_names if name in news}
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new id replaces the resource; a new URI or token updates it in place."""
        changed = [name for name in self.input_names if _differs(olds, news, name)]
        replaces = [self.id_property] if self.id_property in changed else []
        return DiffResult(changes=bool(changed), replaces=replaces,
                          delete_before_replace=False)

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
            news[CALLBACK_URI], news[VERIFY_TOKEN])

    def found(self, object_id: str, outs: dict[str, Any]) -> ReadResult:
        """A read that found the override: its outputs, and the inputs they imply (so that a
        refresh records drift and an id-only read still yields usable inputs)."""
        inputs = {k: outs[k] for k in self.input_names if outs.get(k) is not None}
        return ReadResult(object_id, outs, inputs)

    def ensure_no_takeover(self, object_id: str, current: str | None,
                           props: Mapping[str, Any]) -> bool:
        """Decide whether create must write. Raise if another override is already set and the
        resource did not ask to adopt it; return False when the same URI is already set."""
        wanted = props[CALLBACK_URI]
        if current is None:
            return True
        if current == wanted:
            return False
        if props.get(ADOPT_EXISTING):
            return True
        raise OverrideConflictError(
            f"{self.noun} {object_id} already has an override callback URI for this app: "
            f"{current} (set outside this stack). Nothing was changed. To adopt it as it is, "
            f"declare callback_uri={current!r} (create then takes it over without a write); to "
            f"replace it with {wanted}, set {ADOPT_EXISTING}=True"
        )

    def delete_allowed(self, object_id: str, current: str | None,
                       props: Mapping[str, Any]) -> bool:
        """Clear only what this stack set: if someone changed the override since, leave it."""
        if current is None:
            return False
        ours = props.get(CALLBACK_URI)
        if current != ours:
            pulumi.log.warn(
                f"{self.noun} {object_id}: left the override callback URI as it is, because it "
                f"was changed outside this stack (this stack set {ours}, it is now {current})"
            )
            return False
        return True


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], name: str) -> bool:
    old, new = olds.get(name), news.get(name)
    if name == ADOPT_EXISTING:
        # Absent and False mean the same.
        return bool(old) != bool(new) if not _unknown(new) else True
    return old != new


def _unknown(value: Any) -> bool:
    """A value known only at `up` time: the provider process hands it over as an `Unknown`
    object (the wire sentinel string in older paths)."""
    return isinstance(value, Unknown) or value == UNKNOWN
