"""A resource's constructor, and a function's call, in each language we ship, from its schema:
what the reference pages (reference.py) show, every input given a value (its default, else a
placeholder of its type).

The languages are those a program can declare the plugin's resources in: Python (the dynamic
resources and the native ones), TypeScript (sdk/nodejs), Pulumi YAML, Go (sdk/go) and Java
(sdk/java). Names follow each generated SDK: camelCase on the wire, in TypeScript, YAML and
Java's builders; snake_case in Python; the first letter upper-cased in Go's Args fields.
"""

from __future__ import annotations

import json
from typing import Any

from .schema import GO_IMPORT_PATH, JAVA_BASE_PACKAGE, NODEJS_PACKAGE

#: Language -> the Markdown fence's language and a heading, in the order the pages show them.
LANGUAGES = {
    "python-dynamic": ("python", "Python, dynamic resource"),
    "python-native": ("python", "Python, through the plugin"),
    "typescript": ("typescript", "TypeScript"),
    "yaml": ("yaml", "YAML"),
    "go": ("go", "Go"),
    "java": ("java", "Java"),
}


def constructors(token: str, spec: dict[str, Any]) -> dict[str, str]:
    """Language (a key of LANGUAGES) -> the code that declares the resource `token` (its schema
    `spec`) with every input set."""
    name = token.rsplit(":", 1)[-1]
    inputs = {key: _sample(key, value) for key, value in spec["inputProperties"].items()}
    variable = name[0].lower() + name[1:]
    return {
        "python-dynamic": _python(f"from waba_webhooks import {name}\n\n", name, variable, inputs),
        "python-native": _python("from waba_webhooks import native\n\n", f"native.{name}",
                                 variable, inputs),
        "typescript": _typescript(name, variable, inputs),
        "yaml": _yaml(token, variable, inputs),
        "go": _go(name, variable, inputs),
        "java": _java(name, variable, inputs),
    }


def calls(token: str, spec: dict[str, Any]) -> dict[str, str]:
    """Language (a key of LANGUAGES but the dynamic door, which has no functions) -> the code
    that calls the function `token` (its schema `spec`) in its output form, every input set."""
    name = token.rsplit(":", 1)[-1]
    inputs = {key: _sample(key, value) for key, value in spec["inputs"]["properties"].items()}
    variable = name.removeprefix("get")
    variable = variable[0].lower() + variable[1:]
    output = name[0].upper() + name[1:] + "Output"
    package = f"{JAVA_BASE_PACKAGE}.whatsapp"
    python = [f"from waba_webhooks import native\n\n{_snake(variable)} = "
              f"native.{_snake(name)}_output("]
    python += [f"    {_snake(key)}={_python_value(value)}," for key, value in inputs.items()]
    typescript = [f'import * as whatsapp from "{NODEJS_PACKAGE}";\n',
                  f"const {variable} = whatsapp.{name}Output({{"]
    typescript += [f"    {key}: {json.dumps(value)}," for key, value in inputs.items()]
    yaml = ["variables:", f"  {variable}:", "    fn::invoke:", f"      function: {token}",
            "      arguments:"]
    yaml += [f"        {key}: {json.dumps(value)}" for key, value in inputs.items()]
    go = ["import (", '\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"', f'\t"{GO_IMPORT_PATH}"',
          ")\n", f"{variable} := whatsapp.{output}(ctx, whatsapp.{output}Args{{"]
    go += [f"\t{key[0].upper() + key[1:]}: {_go_value(value)},"
           for key, value in inputs.items()]
    java = [f"import {package}.WhatsappFunctions;", f"import {package}.inputs.{output[:-6]}Args;",
            "", f"var {variable} = WhatsappFunctions.{name}({output[:-6]}Args.builder()"]
    java += [f"    .{key}({_java_value(value)})" for key, value in inputs.items()]
    return {
        "python-native": "\n".join(python) + "\n)\n",
        "typescript": "\n".join(typescript) + "\n});\n",
        "yaml": "\n".join(yaml) + "\n",
        "go": "\n".join(go) + "\n})\n",
        "java": "\n".join(java) + "\n    .build());\n",
    }


def _sample(key: str, spec: dict[str, Any]) -> Any:
    """An input's value in the snippets: its default, else a placeholder of its type."""
    if "default" in spec:
        return spec["default"]
    kind = spec.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if kind == "array":
        return [f"<{key} item>"]
    if kind == "object":
        return {"<id>": f"<{key}[id]>"}
    return f"<{key}>"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _python_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def _python(imports: str, constructor: str, variable: str, inputs: dict[str, Any]) -> str:
    lines = [f"{imports}{_snake(variable)} = {constructor}(", f'    "{_snake(variable)}",']
    lines += [f"    {_snake(key)}={_python_value(value)}," for key, value in inputs.items()]
    return "\n".join(lines) + "\n)\n"


def _typescript(name: str, variable: str, inputs: dict[str, Any]) -> str:
    lines = [f'import * as whatsapp from "{NODEJS_PACKAGE}";\n',
             f'const {variable} = new whatsapp.{name}("{variable}", {{']
    lines += [f"    {key}: {json.dumps(value)}," for key, value in inputs.items()]
    return "\n".join(lines) + "\n});\n"


def _yaml(token: str, variable: str, inputs: dict[str, Any]) -> str:
    lines = ["resources:", f"  {variable}:", f"    type: {token}", "    properties:"]
    for key, value in inputs.items():
        if isinstance(value, dict):
            lines.append(f"      {key}:")
            lines += [f"        {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"      {key}:")
            lines += [f"        - {json.dumps(item)}" for item in value]
        else:
            lines.append(f"      {key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"pulumi.Bool({json.dumps(value)})"
    if isinstance(value, int):
        return f"pulumi.Int({value})"
    if isinstance(value, float):
        return f"pulumi.Float64({value})"
    if isinstance(value, list):
        return "pulumi.StringArray{" + ", ".join(_go_value(v) for v in value) + "}"
    if isinstance(value, dict):
        return "pulumi.StringMap{" + ", ".join(
            f"{json.dumps(k)}: {_go_value(v)}" for k, v in value.items()) + "}"
    return f"pulumi.String({json.dumps(value)})"


def _go(name: str, variable: str, inputs: dict[str, Any]) -> str:
    width = max(len(key) for key in inputs) + 1
    lines = ['import (', '\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"', f'\t"{GO_IMPORT_PATH}"',
             ')\n',
             f'{variable}, err := whatsapp.New{name}(ctx, "{variable}", &whatsapp.{name}Args{{']
    lines += [f"\t{(key[0].upper() + key[1:] + ':').ljust(width)} {_go_value(value)},"
              for key, value in inputs.items()]
    return "\n".join(lines) + "\n})\n"


def _java_value(value: Any) -> str:
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, list):
        return ", ".join(_java_value(v) for v in value)
    if isinstance(value, dict):
        return "Map.of(" + ", ".join(
            f"{json.dumps(k)}, {_java_value(v)}" for k, v in value.items()) + ")"
    return json.dumps(value)


def _java(name: str, variable: str, inputs: dict[str, Any]) -> str:
    package = f"{JAVA_BASE_PACKAGE}.whatsapp"
    lines = [f"import {package}.{name};", f"import {package}.{name}Args;"]
    if any(isinstance(value, dict) for value in inputs.values()):
        lines.append("import java.util.Map;")
    lines += ["", f'var {variable} = new {name}("{variable}", {name}Args.builder()']
    lines += [f"    .{key}({_java_value(value)})" for key, value in inputs.items()]
    return "\n".join(lines) + "\n    .build());\n"
