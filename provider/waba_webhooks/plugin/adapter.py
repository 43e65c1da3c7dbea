"""The ``whatsapp`` plugin as the engine calls it (`WhatsAppPlugin`): each call, in Pulumi's wire
form, handed to the same rule classes the dynamic resources use (`waba_webhooks.resources`).

This module only translates; it holds no rule of Meta's or of ours:

- values: `PropertyValue` <-> plain Python values; an unknown (preview) value becomes the
  sentinel `is_unknown` recognises, so checks skip it as they do in the dynamic door;
- names: camelCase on the wire <-> snake_case in the rules (`Kind.wire_names`), in property
  paths (the rules' per-property diff, `detailed_diff`) and in the words of check failures and
  errors;
- secrets: every property a kind declares secret, and every input that arrived secret, goes
  back secret;
- settings: each provider instance (the default one from ``whatsapp:*`` stack config, or an
  explicit ``pulumi:providers:whatsapp``) configures its own Graph client;
- import: a read with neither state nor inputs is `pulumi import`; finding nothing there fails
  with the reason instead of recording an empty resource.

The rules are synchronous and block on Graph calls, so each call that may make one runs on a
worker thread: the engine may have many resource operations in flight, and none waits for another
here. A check makes none (it validates the inputs alone) and runs where the engine's call does.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pulumi.provider.experimental import provider as api
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from .. import config, graph
from ..errors import ConfigurationError, NothingToImportError, WabaWebhooksError
from ..resources import FUNCTIONS, KINDS
from ..rules.base import Rules, is_unknown
from ..rules.diff import ChangeKind, PropertyChange
from ..rules.function import Function
from ..rules.kind import Kind
from . import schema

#: Worker threads for provider calls; each call runs the rules of one resource.
WORKERS = config.OPERATIONS_AT_ONCE

T = TypeVar("T")
N = TypeVar("N", Kind, Function)
Props = dict[str, Any]


# ---- values -------------------------------------------------------------------------------------


def plain_value(value: PropertyValue) -> Any:
    """A wire value as the rules take it (an unknown one as the `UNKNOWN` sentinel)."""
    inner = value.value
    # The wire's own (concrete) types first: a check of the abstract Mapping and Sequence costs
    # more than the rest of the conversion, for every number of every routing at every step.
    if inner is None or isinstance(inner, str | bool | float):
        return inner
    if isinstance(inner, dict):
        return {key: plain_value(item) for key, item in inner.items()}
    if isinstance(inner, list):
        return [plain_value(item) for item in inner]
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {key: plain_value(item) for key, item in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [plain_value(item) for item in inner]
    return inner


def wire_value(value: Any, secret: bool = False) -> PropertyValue:
    """A plain value as a wire value (numbers as floats, as newer SDKs require)."""
    if value is None or isinstance(value, str | bool | float):
        if value == UNKNOWN:
            # The wire's sentinel string: the SDK cannot marshal its own `Computed`.
            return PropertyValue(UNKNOWN, is_secret=secret)
        return PropertyValue(value, is_secret=secret)
    if isinstance(value, dict):
        return PropertyValue({str(key): wire_value(item) for key, item in value.items()},
                             is_secret=secret)
    if is_unknown(value):
        return PropertyValue(UNKNOWN, is_secret=secret)
    if isinstance(value, Mapping):
        inner: Any = {str(key): wire_value(item) for key, item in value.items()}
    elif isinstance(value, list | tuple):
        inner = [wire_value(item) for item in value]
    elif isinstance(value, int) and not isinstance(value, bool):
        inner = float(value)
    else:
        inner = value
    return PropertyValue(inner, is_secret=secret)


def secret_names(props: Mapping[str, PropertyValue]) -> set[str]:
    """The top-level wire names whose values are (or contain) secrets."""
    return {name for name, value in props.items() if value.contains_secret()}


# ---- names --------------------------------------------------------------------------------------


def in_wire_words(kind: Kind, text: str) -> str:
    """`text` with the kind's snake_case property names in their wire form."""
    for name, wire_name in sorted(kind.wire_names.items(), key=lambda item: -len(item[0])):
        if name != wire_name:
            text = re.sub(rf"\b{name}\b", wire_name, text)
    return text


# ---- the provider -------------------------------------------------------------------------------


class WhatsAppPlugin(api.Provider):
    """Answers the engine for one provider instance (one Meta app: the default one, or a
    ``native.Provider`` a program declares) with each kind's rules."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatsapp")
        self._settings: config.Settings | None = None
        self._rules: dict[str, Rules] = {}

    # ---- the provider's own settings ----------------------------------------------------------

    async def get_schema(self, request: api.GetSchemaRequest) -> api.GetSchemaResponse:
        return api.GetSchemaResponse(schema=schema.checked_in())

    async def check_config(self, request: api.CheckRequest) -> api.CheckResponse:
        """Refuse settings that could never work (a bad URL, a non-numeric app id), naming the
        key; unknown values are checked once known."""
        news = {key: plain_value(value) for key, value in request.new_inputs.items()}
        failures = []
        if not any(is_unknown(value) for value in news.values()):
            try:
                _settings(news)
            except ConfigurationError as error:
                failures.append(api.CheckFailure(_failed_key(str(error)), str(error)))
        return api.CheckResponse(inputs=request.new_inputs, failures=failures)

    async def diff_config(self, request: api.DiffRequest) -> api.DiffResponse:
        """Never a replace: a new token or URL applies to the resources as they are."""
        olds = {key: plain_value(value) for key, value in request.old_state.items()}
        news = {key: plain_value(value) for key, value in request.new_inputs.items()}
        changed = sorted(key for key in {*olds, *news} if olds.get(key) != news.get(key))
        return api.DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: api.ConfigureRequest) -> api.ConfigureResponse:
        args = {key: plain_value(value) for key, value in request.args.items()}
        self._settings = _settings({key: value for key, value in args.items()
                                    if not is_unknown(value)})
        client = graph.client_for(self._settings)
        self._rules = {kind.token: kind.rules.configured(self._settings, client)
                          for kind in KINDS}
        return api.ConfigureResponse(accept_secrets=True, supports_preview=False,
                                     accept_resources=False, accept_outputs=False)

    # ---- resources ------------------------------------------------------------------------------

    async def check(self, request: api.CheckRequest) -> api.CheckResponse:
        kind = _kind(request.type)
        olds, news = _rules_props(kind, request.old_inputs), _rules_props(kind, request.new_inputs)
        result = self._here(kind, self._rules_of(kind).check, olds, news)
        secrets = secret_names(request.new_inputs)
        return api.CheckResponse(
            inputs=_wire_props(kind, result.inputs, secrets),
            failures=[api.CheckFailure(in_wire_words(kind, f.property),
                                       in_wire_words(kind, f.reason))
                      for f in result.failures or []],
        )

    async def diff(self, request: api.DiffRequest) -> api.DiffResponse:
        """The rules' diff, from the old outputs and the new inputs (the engine sends no old
        inputs), with its changes per property for ``preview --diff``."""
        kind = _kind(request.type)
        olds, news = _rules_props(kind, request.old_state), _rules_props(kind, request.new_inputs)
        result = await self._run(kind, self._rules_of(kind).diff, request.resource_id, olds, news)
        detailed = detailed_diff(kind, result.properties)
        return api.DiffResponse(
            changes=bool(result.changes),
            replaces=[kind.wire_names[name] for name in result.replaces or []],
            delete_before_replace=bool(result.delete_before_replace),
            diffs=list(dict.fromkeys(kind.wire_names[c.name] for c in result.properties)),
            detailed_diff=detailed,
        )

    async def create(self, request: api.CreateRequest) -> api.CreateResponse:
        kind = _kind(request.type)
        props = _rules_props(kind, request.properties)
        result = await self._run(kind, self._rules_of(kind).create, props)
        return api.CreateResponse(
            resource_id=result.id,
            properties=_outputs(kind, result.outs, secret_names(request.properties)))  # type: ignore[arg-type]  # our creates all return outs

    async def read(self, request: api.ReadRequest) -> api.ReadResponse:
        kind = _kind(request.type)
        state = _rules_props(kind, request.properties)
        importing = not request.properties and not request.inputs
        result = await self._run(kind, self._rules_of(kind).read, request.resource_id, state)
        if not result.id:
            if importing:
                raise NothingToImportError(
                    f"nothing to import: {kind.id_is} {request.resource_id} has no "
                    f"{kind.name} of this provider's app (none is set there, or it belongs "
                    "to another app). Nothing was recorded")
            return api.ReadResponse(resource_id="")
        secrets = secret_names(request.properties) | secret_names(request.inputs)
        inputs = result.inputs or {}  # every read that finds something says them (`read_result`)
        return api.ReadResponse(
            resource_id=result.id,
            properties=_outputs(kind, result.outs or {}, secrets),
            inputs=_wire_props(kind, inputs, secrets),
        )

    async def update(self, request: api.UpdateRequest) -> api.UpdateResponse:
        kind = _kind(request.type)
        olds, news = _rules_props(kind, request.olds), _rules_props(kind, request.news)
        result = await self._run(kind, self._rules_of(kind).update, request.resource_id, olds, news)
        secrets = secret_names(request.olds) | secret_names(request.news)
        return api.UpdateResponse(properties=_outputs(kind, result.outs or {}, secrets))

    async def delete(self, request: api.DeleteRequest) -> None:
        kind = _kind(request.type)
        await self._run(kind, self._rules_of(kind).delete, request.resource_id,
                        _rules_props(kind, request.properties))

    # ---- functions ------------------------------------------------------------------------------

    async def invoke(self, request: api.InvokeRequest) -> api.InvokeResponse:
        """A function: its inputs checked (failures name the input, and no Graph call is
        made), then its rule on a worker thread, with this instance's settings."""
        function = _function(request.tok)
        args = function.from_wire({key: plain_value(value) for key, value in request.args.items()})
        failures = function.check(args)
        if failures:
            return api.InvokeResponse(failures=[api.CheckFailure(f.property, f.reason)
                                                for f in failures])
        rule = getattr(self._rules_of(function.kind), function.rule)
        result = await self._run(function.kind, functools.partial(rule, **args))
        return api.InvokeResponse(return_value={
            name: wire_value(value) for name, value in function.to_wire(result).items()})

    # ---- plumbing -------------------------------------------------------------------------------

    def _rules_of(self, kind: Kind) -> Rules:
        """The kind's rules with this instance's settings (before ``configure``, as
        in a check of a preview, with the environment's)."""
        rules = self._rules.get(kind.token)
        if rules is None:
            rules = self._rules[kind.token] = kind.rules()
        return rules

    @staticmethod
    def _here(kind: Kind, call: Callable[..., T], *args: Any) -> T:
        """`call` on the engine's call itself, for a rule that makes no Graph call: a check
        validates its inputs without any (`Rules.check`), and a worker thread would only add
        its hand-over to every check of every step. Our errors in the words of the wire."""
        try:
            return call(*args)
        except WabaWebhooksError as error:
            raise WabaWebhooksError(in_wire_words(kind, str(error))) from None

    async def _run(self, kind: Kind, call: Callable[..., T], *args: Any) -> T:
        """`call` on a worker thread; our errors in the words of the wire (their message is
        what the engine shows, with Meta's words, code and fbtrace_id in it)."""
        # In this task's context: pulumi's settings (the engine `pulumi.log` writes to) are
        # context variables, which a worker thread does not inherit.
        context = contextvars.copy_context()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, functools.partial(context.run, call, *args))
        except WabaWebhooksError as error:
            raise WabaWebhooksError(in_wire_words(kind, str(error))) from None


#: A rule's change -> the engine's kind of property diff, without and with a replace.
_DIFF_KINDS = {
    ChangeKind.ADD: (api.PropertyDiffKind.ADD, api.PropertyDiffKind.ADD_REPLACE),
    ChangeKind.UPDATE: (api.PropertyDiffKind.UPDATE, api.PropertyDiffKind.UPDATE_REPLACE),
    ChangeKind.DELETE: (api.PropertyDiffKind.DELETE, api.PropertyDiffKind.DELETE_REPLACE),
}


def detailed_diff(kind: Kind, changes: Iterable[PropertyChange]) -> dict[str, api.PropertyDiff]:
    """The rules' per-property changes as the engine's detailed diff: wire paths
    (``phoneNumbers["106540352242922"]``) and kinds."""
    return {wire_path(kind, change): api.PropertyDiff(_DIFF_KINDS[change.kind][change.replace],
                                                      input_diff=change.input)
            for change in changes}


def wire_path(kind: Kind, change: PropertyChange) -> str:
    """A change's property path in wire names."""
    name = kind.wire_names[change.name]
    return name if change.key is None else f'{name}["{change.key}"]'


def _kind(token: str) -> Kind:
    return _named(token, KINDS, "resource type")


def _function(token: str) -> Function:
    return _named(token, FUNCTIONS, "function")


def _named(token: str, offered: tuple[N, ...], what: str) -> N:
    """The kind or function whose token is `token`, else the error naming what there is."""
    for item in offered:
        if item.token == token:
            return item
    raise ValueError(f"the whatsapp provider has no {what} {token!r}; it has "
                     + ", ".join(item.token for item in offered))


def _rules_props(kind: Kind, props: Mapping[str, PropertyValue]) -> Props:
    """Wire properties as the rules take them: Python names, plain values."""
    return kind.from_wire({key: plain_value(value) for key, value in props.items()})


def _wire_props(kind: Kind, props: Mapping[str, Any],
                secrets: set[str]) -> dict[str, PropertyValue]:
    """The rules' properties on the wire: wire names, wire values, the kind's secrets and
    `secrets` (wire names) secret."""
    secret = {*(kind.wire_names[name] for name in kind.secrets), *secrets}
    return {name: wire_value(value, name in secret) for name, value in kind.to_wire(props).items()}


def _outputs(kind: Kind, outs: Mapping[str, Any], secrets: set[str]) -> dict[str, PropertyValue]:
    """A resource's outputs on the wire. A secret output that is None is left out, as the
    Python SDK leaves out every None: the engine would make it a secret (the SDKs list the
    kind's secrets as additional secret outputs) and store a ciphertext of nothing in every
    checkpoint."""
    present = {name: value for name, value in outs.items()
               if value is not None or name not in kind.secrets}
    return _wire_props(kind, present, secrets)


def _settings(args: Mapping[str, Any]) -> config.Settings:
    """Settings from a provider's inputs (``accessToken``...), the environment as fallback."""
    return config.load({f"{config.NAMESPACE}:{key}": value for key, value in args.items()})


def _failed_key(message: str) -> str:
    match = re.search(rf"{config.NAMESPACE}:(\w+)", message)
    return match.group(1) if match else ""
