"""The native door's floor: ``pulumi-resource-benchfloor``, a provider plugin written with the
framework our ``whatsapp`` plugin uses (`pulumi.provider.experimental`, served the same way),
whose resources take the inputs of ours and call nothing.

``NoopPhoneOverride`` has `PhoneCallbackOverride`'s inputs, ``NoopWabaRouting`` those of
`WabaRouting`; each stores its inputs as its outputs, with the verify token secret, and diffs
them as they came. A step of a stack of them costs what the engine, the Python SDK's provider
server and a fresh plugin process cost, and nothing of ours: what `benchmarks.noop` is to the
dynamic door. `install` writes the executable the engine starts (a console script, as pip writes
ours) into a folder a project's ``plugins.providers`` names.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi.provider.experimental import provider as api
from pulumi.provider.experimental.property_value import PropertyValue

PACKAGE = "benchfloor"
VERSION = "0.0.1"
#: Resource type -> (its inputs, the input that is its id), as the programs declare them.
TYPES = {
    f"{PACKAGE}:index:NoopPhoneOverride": (("phoneNumberId", "callbackUri", "verifyToken"),
                                           "phoneNumberId"),
    f"{PACKAGE}:index:NoopWabaRouting": (("wabaId", "phoneNumbers", "verifyToken"), "wabaId"),
}
SECRETS = ("verifyToken",)


def _props(token: str, props: dict[str, PropertyValue]) -> dict[str, PropertyValue]:
    inputs, _unused = TYPES[token]
    return {name: PropertyValue(props[name].value, is_secret=name in SECRETS
                                or props[name].is_secret)
            for name in inputs if name in props}


class NoopPlugin(api.Provider):
    """Accepts the inputs as they are and stores them as outputs; never calls anything."""

    async def get_schema(self, request: api.GetSchemaRequest) -> api.GetSchemaResponse:
        return api.GetSchemaResponse(schema=f'{{"name": "{PACKAGE}", "version": "{VERSION}"}}')

    async def configure(self, request: api.ConfigureRequest) -> api.ConfigureResponse:
        # As ours answers: secrets accepted, no preview of creates, plain values only.
        return api.ConfigureResponse(accept_secrets=True, supports_preview=False,
                                     accept_resources=False, accept_outputs=False)

    async def check(self, request: api.CheckRequest) -> api.CheckResponse:
        return api.CheckResponse(inputs=_props(request.type, request.new_inputs), failures=[])

    async def diff(self, request: api.DiffRequest) -> api.DiffResponse:
        inputs, key = TYPES[request.type]
        changed = [name for name in inputs
                   if _plain(request.old_state.get(name)) != _plain(request.new_inputs.get(name))]
        return api.DiffResponse(changes=bool(changed), diffs=changed,
                                replaces=[key] if key in changed else [],
                                delete_before_replace=False)

    async def create(self, request: api.CreateRequest) -> api.CreateResponse:
        _inputs, key = TYPES[request.type]
        return api.CreateResponse(resource_id=str(request.properties[key].value),
                                  properties=_props(request.type, request.properties))

    async def read(self, request: api.ReadRequest) -> api.ReadResponse:
        return api.ReadResponse(resource_id=request.resource_id,
                                properties=_props(request.type, request.properties),
                                inputs=_props(request.type, request.inputs))

    async def update(self, request: api.UpdateRequest) -> api.UpdateResponse:
        return api.UpdateResponse(properties=_props(request.type, request.news))

    async def delete(self, request: api.DeleteRequest) -> None:
        return None


def _plain(value: PropertyValue | None) -> object:
    """A property's value for comparison (secret or not)."""
    if value is None:
        return None
    inner = value.value
    if isinstance(inner, dict):
        return {key: _plain(item) for key, item in inner.items()}
    return inner


def install(folder: Path) -> Path:
    """Write ``pulumi-resource-benchfloor`` (this Python, this module) into ``folder``; return
    the folder, for a project's ``plugins.providers`` path."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"pulumi-resource-{PACKAGE}"
    repo = Path(__file__).resolve().parent.parent
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(repo)!r})\n"
                      "from benchmarks.noop_plugin import main\nsys.exit(main())\n")
    script.chmod(0o755)
    return folder


def main() -> None:
    from pulumi.provider.experimental.server import main as serve

    serve(sys.argv[1:], VERSION, NoopPlugin())


if __name__ == "__main__":
    main()
