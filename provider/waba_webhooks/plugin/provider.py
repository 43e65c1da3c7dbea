"""The ``whatsapp`` plugin's provider: the engine's calls, in Pulumi's wire form, handed to the
same provider classes the dynamic resources use (`waba_webhooks.resources`).

This module only translates; it holds no rule of Meta's or of ours:

- values: `PropertyValue` <-> plain Python values; an unknown (preview) value becomes the
  sentinel `is_unknown` recognises, so checks skip it as they do in the dynamic door;
- names: camelCase on the wire <-> snake_case in the rules (`Kind.wire_names`), in property
  paths and in the words of check failures and errors;
- secrets: every property a kind declares secret, and every input that arrived secret, goes
  back secret;
- settings: each provider instance (the default one from ``whatsapp:*`` stack config, or an
  explicit ``pulumi:providers:whatsapp``) configures its own Graph client;
- import: a read with neither state nor inputs is `pulumi import`; finding nothing there fails
  with the reason instead of recording an empty resource.

The rules are synchronous and block on Graph calls, so each call runs on a worker thread: the
engine may have many resource operations in flight, and none waits for another here.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pulumi.provider.experimental import provider as api
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from .. import config
from ..errors import ConfigurationError, NothingToImportError, WabaWebhooksError
from ..resources import KINDS
from ..resources.kind import Kind
from ..resources.override import GraphProvider, is_unknown
from . import schema

#: Worker threads for provider calls; each call runs the rules of one resource.
WORKERS = 64

T = TypeVar("T")
Props = dict[str, Any]


# ---- values -------------------------------------------------------------------------------------


def plain(value: PropertyValue) -> Any:
    """A wire value as the rules take it (an unknown one as the `UNKNOWN` sentinel)."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {key: plain(item) for key, item in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [plain(item) for item in inner]
    return inner


def wire(value: Any, secret: bool = False) -> PropertyValue:
    """A plain value as a wire value (numbers as floats, as newer SDKs require)."""
    if is_unknown(value):
        # The wire's sentinel string: the SDK cannot marshal its own `Computed`.
        return PropertyValue(UNKNOWN, is_secret=secret)
    if isinstance(value, Mapping):
        inner: Any = {str(key): wire(item) for key, item in value.items()}
    elif isinstance(value, list | tuple):
        inner = [wire(item) for item in value]
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


class WhatsAppProvider(api.Provider):
    """Answers the engine for one provider instance (one Meta app)."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whatsapp")
        self._settings: config.Settings | None = None
        self._handlers: dict[str, GraphProvider] = {}

    # ---- the provider's own settings ----------------------------------------------------------

    async def get_schema(self, request: api.GetSchemaRequest) -> api.GetSchemaResponse:
        return api.GetSchemaResponse(schema=schema.checked_in())

    async def check_config(self, request: api.CheckRequest) -> api.CheckResponse:
        """Refuse settings that could never work (a bad URL, a non-numeric app id), naming the
        key; unknown values are checked once known."""
        news = {key: plain(value) for key, value in request.new_inputs.items()}
        failures = []
        if not any(is_unknown(value) for value in news.values()):
            try:
                _settings(news)
            except ConfigurationError as error:
                failures.append(api.CheckFailure(_failed_key(str(error)), str(error)))
        return api.CheckResponse(inputs=request.new_inputs, failures=failures)

    async def diff_config(self, request: api.DiffRequest) -> api.DiffResponse:
        """Never a replace: a new token or URL applies to the resources as they are."""
        olds = {key: plain(value) for key, value in request.old_state.items()}
        news = {key: plain(value) for key, value in request.new_inputs.items()}
        changed = sorted(key for key in {*olds, *news} if olds.get(key) != news.get(key))
        return api.DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: api.ConfigureRequest) -> api.ConfigureResponse:
        args = {key: plain(value) for key, value in request.args.items()}
        self._settings = _settings({key: value for key, value in args.items()
                                    if not is_unknown(value)})
        self._handlers = {kind.token: kind.provider.configured(self._settings)
                          for kind in KINDS}
        return api.ConfigureResponse(accept_secrets=True, supports_preview=False,
                                     accept_resources=False, accept_outputs=False)

    # ---- resources ------------------------------------------------------------------------------

    async def check(self, request: api.CheckRequest) -> api.CheckResponse:
        kind = _kind(request.type)
        olds, news = _props(kind, request.old_inputs), _props(kind, request.new_inputs)
        result = await self._run(kind, self._handler(kind).check, olds, news)
        secrets = secret_names(request.new_inputs)
        return api.CheckResponse(
            inputs=_wire(kind, result.inputs, secrets),
            failures=[api.CheckFailure(in_wire_words(kind, f.property),
                                       in_wire_words(kind, f.reason))
                      for f in result.failures or []],
        )

    async def diff(self, request: api.DiffRequest) -> api.DiffResponse:
        """The rules' diff, from the old outputs and the new inputs (the engine sends no old
        inputs), with a line per changed property for ``preview --diff``: per number for maps
        (``phoneNumbers["106540352242922"]``)."""
        kind = _kind(request.type)
        olds, news = _props(kind, request.old_state), _props(kind, request.new_inputs)
        result = await self._run(kind, self._handler(kind).diff, request.resource_id, olds, news)
        replaces = [kind.wire_names.get(name, name) for name in result.replaces or []]
        detailed = detailed_diff(kind, olds, news, set(result.replaces or [])) \
            if result.changes else {}
        return api.DiffResponse(
            changes=bool(result.changes),
            replaces=replaces,
            delete_before_replace=bool(result.delete_before_replace),
            diffs=sorted({re.split(r"[\[.]", path)[0] for path in detailed}),
            detailed_diff=detailed,
        )

    async def create(self, request: api.CreateRequest) -> api.CreateResponse:
        kind = _kind(request.type)
        props = _props(kind, request.properties)
        result = await self._run(kind, self._handler(kind).create, props)
        return api.CreateResponse(
            resource_id=result.id,
            properties=_outputs(kind, result.outs, secret_names(request.properties)))  # type: ignore[arg-type]  # our creates all return outs

    async def read(self, request: api.ReadRequest) -> api.ReadResponse:
        kind = _kind(request.type)
        state = _props(kind, request.properties)
        importing = not request.properties and not request.inputs
        result = await self._run(kind, self._handler(kind).read, request.resource_id, state)
        if not result.id:
            if importing:
                raise NothingToImportError(
                    f"nothing to import: {kind.id_is} {request.resource_id} has no "
                    f"{kind.name} of this provider's app (none is set there, or it belongs "
                    "to another app). Nothing was recorded")
            return api.ReadResponse(resource_id="")
        secrets = secret_names(request.properties) | secret_names(request.inputs)
        inputs = getattr(result, "inputs", None)
        if inputs is None:
            inputs = {name: result.outs[name] for name in kind.inputs  # type: ignore[index]  # reads with an id return outs
                      if result.outs.get(name) is not None}  # type: ignore[union-attr]  # likewise
        return api.ReadResponse(
            resource_id=result.id,
            properties=_outputs(kind, result.outs or {}, secrets),
            inputs=_wire(kind, inputs, secrets),
        )

    async def update(self, request: api.UpdateRequest) -> api.UpdateResponse:
        kind = _kind(request.type)
        olds, news = _props(kind, request.olds), _props(kind, request.news)
        result = await self._run(kind, self._handler(kind).update, request.resource_id, olds, news)
        secrets = secret_names(request.olds) | secret_names(request.news)
        return api.UpdateResponse(properties=_outputs(kind, result.outs or {}, secrets))

    async def delete(self, request: api.DeleteRequest) -> None:
        kind = _kind(request.type)
        await self._run(kind, self._handler(kind).delete, request.resource_id,
                        _props(kind, request.properties))

    # ---- plumbing -------------------------------------------------------------------------------

    def _handler(self, kind: Kind) -> GraphProvider:
        """The kind's provider class with this instance's settings (before ``configure``, as
        in a check of a preview, with the environment's)."""
        handler = self._handlers.get(kind.token)
        if handler is None:
            handler = self._handlers[kind.token] = kind.provider()
        return handler

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


def detailed_diff(kind: Kind, olds: Props, news: Props,
                  replaces: set[str]) -> dict[str, api.PropertyDiff]:
    """What ``preview --diff`` marks, per input (per key for maps): the old outputs against
    the new inputs. A value recorded as absent equals an empty one."""
    result: dict[str, api.PropertyDiff] = {}

    def mark(path: str, old: Any, new: Any, replace: bool) -> None:
        if _empty(old) and _empty(new):
            return
        if _empty(old):
            kind_ = api.PropertyDiffKind.ADD_REPLACE if replace else api.PropertyDiffKind.ADD
        elif _empty(new):
            kind_ = (api.PropertyDiffKind.DELETE_REPLACE if replace
                     else api.PropertyDiffKind.DELETE)
        elif old != new or is_unknown(new):
            kind_ = (api.PropertyDiffKind.UPDATE_REPLACE if replace
                     else api.PropertyDiffKind.UPDATE)
        else:
            return
        result[path] = api.PropertyDiff(kind_, input_diff=True)

    for name in kind.inputs:
        default = kind.defaults.get(name)
        old, new = olds.get(name, default), news.get(name, default)
        old, new = (default if old is None else old), (default if new is None else new)
        wire_name = kind.wire_names[name]
        replace = name in replaces
        if isinstance(old, Mapping) or isinstance(new, Mapping):
            old_map = old if isinstance(old, Mapping) else {}
            new_map = new if isinstance(new, Mapping) else {}
            if is_unknown(new):
                mark(wire_name, old, new, replace)
                continue
            for key in dict.fromkeys([*old_map, *new_map]):
                mark(f'{wire_name}["{key}"]', old_map.get(key), new_map.get(key), replace)
        elif isinstance(old, list) and isinstance(new, list) and sorted(map(str, old)) == \
                sorted(map(str, new)):
            continue  # a list of names is a set to Meta: another order is no change
        elif name == "verify_token" and old is None:
            continue  # none recorded (an import): declaring one is no change
        else:
            mark(wire_name, old, new, replace)
    if not result:
        # Work the last read found that no input shows (overrides to clear, an unsubscribed
        # WABA): name the outputs that carry it.
        for name in ("unlisted_overrides", "subscribed"):
            if name in kind.properties:
                result[kind.wire_names[name]] = api.PropertyDiff(
                    api.PropertyDiffKind.UPDATE, input_diff=False)
                break
    return result


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _kind(token: str) -> Kind:
    for kind in KINDS:
        if kind.token == token:
            return kind
    raise ValueError(f"the whatsapp provider has no resource type {token!r}; it has "
                     + ", ".join(kind.token for kind in KINDS))


def _props(kind: Kind, props: Mapping[str, PropertyValue]) -> Props:
    return kind.from_wire({key: plain(value) for key, value in props.items()})


def _wire(kind: Kind, props: Mapping[str, Any], secrets: set[str]) -> dict[str, PropertyValue]:
    secret = {*(kind.wire_names[name] for name in kind.secrets), *secrets}
    return {name: wire(value, name in secret) for name, value in kind.to_wire(props).items()}


def _outputs(kind: Kind, outs: Mapping[str, Any], secrets: set[str]) -> dict[str, PropertyValue]:
    """A resource's outputs on the wire, with those the kind computes from the others
    (`Kind.computed`: a `WabaRouting`'s ``effective``)."""
    return _wire(kind, kind.with_computed(outs), secrets)


def _settings(args: Mapping[str, Any]) -> config.Settings:
    """Settings from a provider's inputs (``accessToken``...), the environment as fallback."""
    return config.load({f"{config.NAMESPACE}:{key}": value for key, value in args.items()})


def _failed_key(message: str) -> str:
    match = re.search(rf"{config.NAMESPACE}:(\w+)", message)
    return match.group(1) if match else ""
