"""The plugin's Pulumi package schema, generated from the resource kinds and the settings.

Every property's name, type, description, secrecy and whether it replaces the resource come
from the kinds (`waba_webhooks.rules.kind.Kind`); every config key from
`waba_webhooks.config`. ``schema.json`` beside this module is this schema as JSON, checked in so
that the plugin serves it without building it; ``python -m waba_webhooks.plugin.schema`` writes
it again, and a test fails when it is stale.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import re
import sys
import types
import typing
from importlib import resources as package_files
from typing import Any

import pulumi

from .. import config
from .._version import __version__
from ..resources import FUNCTIONS, KINDS
from ..rules.function import Function
from ..rules.kind import MODULE, PACKAGE, Kind, attribute_docs, camel

SCHEMA_FILE = "schema.json"
#: The package's license (an SPDX id), publisher, homepage and repository, as pyproject.toml
#: states them.
LICENSE = "Apache-2.0"
PUBLISHER = "waba-webhooks"
REPOSITORY = "https://github.com/waba-webhooks/waba-webhooks"
HOMEPAGE = REPOSITORY
#: Where the engine downloads the plugin from by default: this version's release (the engine
#: appends the archive's name, pulumi-resource-whatsapp-v<version>-<os>-<arch>.tar.gz).
#: bin/release can set another. The version is written out, not left as the engine's
#: ``${VERSION}``: `pulumi import` copies the URL into the program it generates, where
#: ``${...}`` is an interpolation (PCL and Pulumi YAML refuse it).
DOWNLOAD_URL = f"{REPOSITORY}/releases/download/v{__version__}/"
#: The npm name of the generated Node.js SDK (sdk/nodejs).
NODEJS_PACKAGE = "@waba-webhooks/whatsapp"
#: The generated Node.js SDK's README.md.
NODEJS_README = f"""\
# {NODEJS_PACKAGE}

The TypeScript/JavaScript SDK of the `whatsapp` Pulumi package: WhatsApp Cloud API webhook
routing (`WabaCallbackOverride`, `PhoneCallbackOverride`, `WabaRouting`,
`AppWebhookSubscription`, and `Provider`, one per Meta app). Generated from the plugin's schema
by waba-webhooks' `tools/gen-sdk`; do not edit.

The resources are served by the provider plugin `whatsapp` of the same version. The Pulumi
engine downloads and installs it on first use, from the release this SDK names
(`pluginDownloadURL`); `pulumi plugin install resource whatsapp VERSION --server URL` installs it
ahead of time. The plugin is Python: the machine needs Python 3.11 or later, and the install
creates the plugin's own virtualenv (pip, from PyPI).
Offline, name the folder that holds `pulumi-resource-whatsapp` (installed with the Python
package `waba-webhooks`) in `Pulumi.yaml`'s `plugins.providers` instead.

The provider's settings are the `whatsapp:*` stack config keys (`whatsapp:accessToken`, ...).

Licensed under the Apache License, Version 2.0.
"""

#: The Go module of the generated Go SDK (sdk/go, with a go.mod of its own) and the import path
#: of its package, `whatsapp` (sdk/go/whatsapp: the path's last element names it).
GO_MODULE = "github.com/waba-webhooks/waba-webhooks/sdk/go"
GO_IMPORT_PATH = f"{GO_MODULE}/whatsapp"
#: The Java package prefix of the generated Java SDK (sdk/java): its classes are in
#: ``com.wabawebhooks.whatsapp``, and its Maven coordinate is ``com.wabawebhooks:whatsapp``.
JAVA_BASE_PACKAGE = "com.wabawebhooks"

_RST_LITERAL = re.compile(r"``([^`]+)``")


def schema(download_url: str = DOWNLOAD_URL) -> dict[str, Any]:
    """The package schema, as a dict ready for JSON; `download_url` is where the engine
    downloads the plugin from (the SDKs generated from the schema carry it)."""
    settings = _settings()
    return {
        "name": PACKAGE,
        "displayName": "WhatsApp webhook routing",
        "version": __version__,
        "description": "WhatsApp Cloud API webhook routing as infrastructure: the alternate "
                       "callback URLs of WABAs and phone numbers, and the app's own webhook "
                       "subscription.",
        "keywords": ["whatsapp", "meta", "webhooks", "category/utility"],
        # Who publishes it and under which terms: the generated SDKs' package metadata
        # (sdk/nodejs/package.json) carries the same values as pyproject.toml.
        "license": LICENSE,
        "publisher": PUBLISHER,
        "homepage": HOMEPAGE,
        "repository": REPOSITORY,
        "pluginDownloadURL": download_url,
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": settings},
        "provider": {
            "description": "The settings of one Meta app: its access token, app id and app "
                           "secret, and where the Graph API is. The default provider reads "
                           f"the `{config.NAMESPACE}:*` stack config; declare more providers to "
                           "own several apps' routing in one program.",
            "inputProperties": settings,
        },
        "resources": {kind.token: _resource(kind) for kind in KINDS},
        "functions": {function.token: _function(function) for function in FUNCTIONS},
        "language": {
            "python": {"requires": {"pulumi": ">=3.200.0,<4"}},
            # The Node.js SDK in sdk/nodejs (tools/gen-sdk): its npm name, the package version
            # as its version (not a placeholder) and the TypeScript it is checked with
            # (@pulumi/pulumi takes TypeScript below 7). Its @pulumi/pulumi range is the
            # generator's own: the oldest SDK that has what the generated code calls.
            "nodejs": {
                "packageName": NODEJS_PACKAGE,
                "packageDescription": "WhatsApp Cloud API webhook routing as infrastructure: "
                                      "the Pulumi SDK of the whatsapp provider plugin "
                                      "(pulumi-resource-whatsapp, pip install waba-webhooks).",
                "readme": NODEJS_README,
                "respectSchemaVersion": True,
                "typescriptVersion": "^5.9.3",
            },
            # The Go SDK in sdk/go (tools/gen-sdk): the package's import path (its last element,
            # `whatsapp`, is the package name; rootPackageName would flatten the layout), the
            # module holding it, and the package version as the plugin version it asks for.
            "go": {
                "importBasePath": GO_IMPORT_PATH,
                "modulePath": GO_MODULE,
                "respectSchemaVersion": True,
            },
            # The Java SDK in sdk/java (tools/gen-sdk): its package prefix, which is also the
            # groupId of its Maven project (the artifactId is the package name).
            "java": {"basePackage": JAVA_BASE_PACKAGE},
        },
    }


def render(download_url: str = DOWNLOAD_URL) -> str:
    """The schema as ``schema.json`` holds it."""
    return json.dumps(schema(download_url), indent=2, sort_keys=False) + "\n"


def plugin_json(download_url: str = DOWNLOAD_URL) -> str:
    """``pulumi-plugin.json`` of the Python package, as Pulumi's Python SDKs ship one: the plugin
    a program that installs the package needs (its name, version and download location), which
    the Python language host reports to the engine."""
    spec = schema(download_url)
    return json.dumps({"resource": True, "name": spec["name"], "version": spec["version"],
                       "server": spec["pluginDownloadURL"]}, indent=2) + "\n"


def checked_in() -> str:
    """``schema.json`` as shipped with the package."""
    return package_files.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def _resource(kind: Kind) -> dict[str, Any]:
    hints = _hints(kind.outputs)
    input_hints = _hints(kind.args)
    outputs, inputs = kind.output_docs(), kind.input_docs()
    names = {*kind.inputs, *kind.properties}
    return {
        "description": _text(kind.description(), names) + _import_section(kind),
        "properties": {
            camel(name): _property(hints[name], outputs.get(name, ""), names,
                                   secret=name in kind.secrets)
            for name in kind.properties
        },
        "required": [camel(name) for name in kind.properties if not _optional(hints[name])],
        "inputProperties": {
            camel(name): _property(input_hints[name], inputs.get(name, ""), names,
                                   secret=name in kind.secrets,
                                   replaces=name in kind.replaces,
                                   default=kind.defaults.get(name))
            for name in kind.inputs
        },
        "requiredInputs": [camel(name) for name in kind.required_inputs],
        "aliases": [{"type": kind.dynamic_type}],
    }


def _function(function: Function) -> dict[str, Any]:
    input_hints, result_hints = _hints(function.args), _hints(function.result)
    inputs, outputs = function.input_docs(), function.output_docs()
    names = {*function.inputs, *function.properties}
    return {
        "description": _text(function.description(), names),
        "inputs": {
            "properties": {camel(name): _property(input_hints[name], inputs.get(name, ""), names)
                           for name in function.inputs},
            "required": [camel(name) for name in function.inputs
                         if not _optional(input_hints[name])],
        },
        "outputs": {
            "properties": {camel(name): _property(result_hints[name], outputs.get(name, ""),
                                                  names)
                           for name in function.properties},
            "required": [camel(name) for name in function.properties
                         if not _optional(result_hints[name])],
        },
    }


def _import_section(kind: Kind) -> str:
    return (f"\n\n## Import\n\nThe id is {kind.id_is}. Import reads what is live and writes "
            "nothing (Meta never returns a verify token: declare it in the program).\n\n"
            f"```sh\n$ pulumi import {PACKAGE}:{MODULE}:{kind.name} <name> <id>\n```\n")


def _settings() -> dict[str, Any]:
    docs = attribute_docs(config.Settings)
    hints = typing.get_type_hints(config.Settings)
    defaults = {f.name: f.default for f in dataclasses.fields(config.Settings)}
    result: dict[str, Any] = {}
    for name, (key, env) in config.KEYS.items():
        secret = name in config.SECRET_SETTINGS
        # No schema `default`: the generated SDKs would send it, where Node.js's
        # `getEnvNumber(...) || 5` also turns a variable's 0 or false into the default. An
        # absent setting reaches the plugin absent, and `config.load` applies the default.
        prop = _property(hints[name], docs.get(name, ""), set(config.KEYS), secret=secret)
        if secret:
            # Read by the plugin from its own environment when the input is absent: an SDK
            # reading it would send the value as a plain input, recorded in state as it is.
            prop["description"] += (f" Environment variable: `{env}`, read by the plugin "
                                    "when this is not set.")
        else:
            # Pulumi's convention: the generated SDKs read the variable when the input is not
            # given (`utilities.getEnv...` in Node.js).
            prop["defaultInfo"] = {"environment": [env]}
            prop["description"] += f" Environment variable: `{env}`."
        if defaults[name] is not None:
            prop["description"] += f" Default: `{_literal(defaults[name])}`."
        result[key] = prop
    return result


def _literal(value: Any) -> str:
    """A value as the schema's languages write it (``false``, not ``False``; ``60``, not
    ``60.0``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _property(hint: Any, doc: str, names: set[str], *, secret: bool = False,
              replaces: bool = False, default: Any = None) -> dict[str, Any]:
    prop: dict[str, Any] = {**_type(hint), "description": _text(doc, names)}
    if default is not None:
        prop["default"] = default
    if secret:
        prop["secret"] = True
    if replaces:
        prop["willReplaceOnChanges"] = True
    return prop


def _type(hint: Any) -> dict[str, Any]:
    """A JSON schema type from a Python annotation (``pulumi.Input``/``Output`` unwrapped)."""
    hint = _unwrap(hint)
    origin = typing.get_origin(hint)
    if origin in (dict, collections.abc.Mapping):
        return {"type": "object", "additionalProperties": _type(typing.get_args(hint)[1])}
    if origin in (list, collections.abc.Sequence):
        return {"type": "array", "items": _type(typing.get_args(hint)[0])}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no schema type for {hint!r}")


def _unwrap(hint: Any) -> Any:
    """The value type inside ``Input[...]``, ``Output[...]`` and ``X | None``."""
    origin = typing.get_origin(hint)
    if origin is pulumi.Output:
        return _unwrap(typing.get_args(hint)[0])
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint)
                   if m is not type(None)
                   and typing.get_origin(m) not in (pulumi.Output, collections.abc.Awaitable)]
        return _unwrap(members[0])
    return hint


def _optional(hint: Any) -> bool:
    if typing.get_origin(hint) is pulumi.Output:
        hint = typing.get_args(hint)[0]
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in \
        typing.get_args(hint)


def _hints(cls: type) -> dict[str, Any]:
    # pulumi.Input refers to "Output" by name: resolve it in pulumi's own namespace.
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]), vars(pulumi.output))


def _text(doc: str, names: set[str]) -> str:
    """A description in the schema's words: Markdown literals, camelCase property names,
    ``null``."""
    text = re.sub(r"\bNone\b", "null", _RST_LITERAL.sub(r"`\1`", doc))
    for name in sorted(names, key=len, reverse=True):
        if "_" in name:
            text = re.sub(rf"\b{name}\b", camel(name), text)
    return text


def main(argv: list[str]) -> None:
    """``python -m waba_webhooks.plugin.schema [--plugin-json] [--download-url URL]``: the schema
    (or, with --plugin-json, the package's pulumi-plugin.json) on stdout."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m waba_webhooks.plugin.schema")
    parser.add_argument("--download-url", default=DOWNLOAD_URL,
                        help="where the engine downloads the plugin (default: %(default)s)")
    parser.add_argument("--plugin-json", action="store_true",
                        help="write pulumi-plugin.json instead of the schema")
    args = parser.parse_args(argv)
    sys.stdout.write(plugin_json(args.download_url) if args.plugin_json
                     else render(args.download_url))


if __name__ == "__main__":
    main(sys.argv[1:])
