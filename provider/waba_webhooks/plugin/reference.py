"""The reference pages of ``docs/reference/``, generated from the plugin's schema: one page for
the provider's configuration, one per resource (inputs, outputs, which are secret, what
replaces the resource, defaults, import) and one per function (inputs, result, the call in
each language). Nothing in them is written by hand;
``python -m waba_webhooks.plugin.reference docs/reference`` writes them again, and a test fails
when they are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..rules.kind import camel
from . import constructors, schema

HEADER = "<!-- Generated from schema.json by `python -m waba_webhooks.plugin.reference "\
         "docs/reference`: do not edit. -->\n\n"


def pages(package: dict[str, Any] | None = None) -> dict[str, str]:
    """File name -> Markdown, for every reference page."""
    package = package or schema.schema()
    resources = package["resources"]
    result = {"index.md": _index(package), "provider.md": _provider(package)}
    for token, spec in resources.items():
        result[_file(token)] = _resource(token, spec)
    for token, spec in package.get("functions", {}).items():
        result[_file(token)] = _function(token, spec)
    return result


def write(directory: Path) -> list[Path]:
    """Write every page into `directory`, removing pages no resource has any more."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for stale in directory.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    written = []
    for name, text in wanted.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _file(token: str) -> str:
    name = token.rsplit(":", 1)[-1]
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-") + ".md"


def _index(package: dict[str, Any]) -> str:
    lines = [HEADER + f"# Reference: the `{package['name']}` package {package['version']}\n",
             package["description"] + "\n",
             "- [Provider configuration](provider.md): the `whatsapp:*` settings of one Meta "
             "app.\n"]
    for token, spec in package["resources"].items():
        summary = spec["description"].split("\n\n", 1)[0].replace("\n", " ")
        lines.append(f"- [`{token}`]({_file(token)}): {summary}\n")
    for token, spec in package.get("functions", {}).items():
        summary = spec["description"].split(". ", 1)[0].replace("\n", " ")
        lines.append(f"- [`{token}`]({_file(token)}) (a function): {summary}.\n")
    return "".join(lines)


def _provider(package: dict[str, Any]) -> str:
    variables = package["config"]["variables"]
    rows = [_row(name, spec, python=_snake(name)) for name, spec in variables.items()]
    description: str = package["provider"]["description"]
    return (
        HEADER + "# Provider configuration\n\n"
        + description + "\n\n"
        "The default provider reads each key as stack config, `whatsapp:<key>` (`pulumi config "
        "set --secret whatsapp:accessToken ...`); an explicit provider "
        "(`pulumi:providers:whatsapp` in YAML, `new whatsapp.Provider(...)` in TypeScript, "
        "`waba_webhooks.native.Provider` in Python) takes them as its inputs. A key left out "
        "falls back to its environment variable (notes), through every door. The plugin (or "
        "the dynamic provider) reads the variables of the keys left out when it starts, so the "
        "secrets' variables (`WHATSAPP_ACCESS_TOKEN`, `WHATSAPP_APP_SECRET`) never pass through "
        "a program or into state; the generated TypeScript SDK reads the others itself (the "
        "schema's `defaultInfo`) and records their values as the explicit provider's inputs. "
        "The defaults are the plugin's. Changing a setting never replaces a resource.\n\n"
        + _table(rows) + "\n"
    )


def _resource(token: str, spec: dict[str, Any]) -> str:
    name = token.rsplit(":", 1)[-1]
    inputs = spec["inputProperties"]
    required = set(spec.get("requiredInputs", []))
    outputs = {key: value for key, value in spec["properties"].items() if key not in inputs}
    description, _, import_section = spec["description"].partition("\n\n## Import\n\n")
    input_rows = [_row(key, value, python=_snake(key), required=key in required)
                  for key, value in inputs.items()]
    output_rows = [_row(key, value, python=_snake(key)) for key, value in outputs.items()]
    aliases = ", ".join(f"`{alias['type']}`" for alias in spec.get("aliases", []))
    text = [
        HEADER + f"# {name}\n\nType token: `{token}`. Python: `waba_webhooks.native.{name}` "
        f"(plugin) or `waba_webhooks.{name}` (dynamic), with `{name}Args`.\n\n",
        description.strip() + "\n\n",
        _constructors(token, spec),
        "## Inputs\n\nEvery input is also an output, as last read or set.\n\n",
        _table(input_rows) + "\n",
        "## Outputs\n\n", _table(output_rows) + "\n",
    ]
    if aliases:
        text.append(f"## Aliases\n\n{aliases}: a stack made with the dynamic resource moves to "
                    "this one with no write and no replace.\n\n")
    if import_section:
        text.append("## Import\n\n" + import_section.strip() + "\n")
    return "".join(text)


def _function(token: str, spec: dict[str, Any]) -> str:
    name = token.rsplit(":", 1)[-1]
    python = _snake(name)
    inputs, outputs = spec["inputs"], spec["outputs"]
    required = set(inputs.get("required", []))
    input_rows = [_row(key, value, python=_snake(key), required=key in required)
                  for key, value in inputs["properties"].items()]
    output_rows = [_row(key, value, python=_snake(key))
                   for key, value in outputs["properties"].items()]
    text = [
        HEADER + f"# {name}\n\nFunction token: `{token}`. Python: "
        f"`waba_webhooks.native.{python}` (and `{python}_output`).\n\n",
        spec["description"].replace("\n", " ").strip() + "\n\n",
        "## Calls\n\nEach language's output form (its inputs may be outputs of resources), "
        "every input a placeholder.\n\n",
    ]
    for language, code in constructors.calls(token, spec).items():
        fence, heading = constructors.LANGUAGES[language]
        text.append(f"### {heading}\n\n<!-- fragment: placeholders for values -->\n"
                    f"```{fence}\n{code}```\n\n")
    text += ["## Inputs\n\n", _table(input_rows) + "\n",
             "## Result\n\n", _table(output_rows)]
    return "".join(text)


def _constructors(token: str, spec: dict[str, Any]) -> str:
    """The resource declared in every language we ship, every input set (its default, else a
    placeholder)."""
    text = ["## Constructor\n\nEvery input set to its default, else to a placeholder; the "
            "inputs' table below says which are required.\n\n"]
    for language, code in constructors.constructors(token, spec).items():
        fence, heading = constructors.LANGUAGES[language]
        # Placeholders are not values: the snippet test skips these blocks by the mark, and
        # tests/test_reference.py checks each language's constructor instead.
        text.append(f"### {heading}\n\n<!-- fragment: placeholders for values -->\n"
                    f"```{fence}\n{code}```\n\n")
    return "".join(text)


def _row(name: str, spec: dict[str, Any], *, python: str, required: bool = False) -> list[str]:
    notes = []
    if required:
        notes.append("required")
    if spec.get("secret"):
        notes.append("secret")
    if spec.get("willReplaceOnChanges"):
        notes.append("replaces")
    if "default" in spec:
        notes.append(f"default `{_value(spec['default'])}`")
    for variable in spec.get("defaultInfo", {}).get("environment", []):
        notes.append(f"environment `{variable}`")
    description = spec.get("description", "").replace("\n", " ").replace("|", "\\|")
    return [f"`{name}`", f"`{python}`", _type(spec), ", ".join(notes), description]


def _table(rows: list[list[str]]) -> str:
    head = ["name", "Python", "type", "notes", "description"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _type(spec: dict[str, Any]) -> str:
    if spec.get("type") == "object":
        return f"map of {_type(spec['additionalProperties'])}"
    if spec.get("type") == "array":
        return f"list of {_type(spec['items'])}"
    return str(spec.get("type"))


def _value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _snake(name: str) -> str:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    assert camel(snake) == name, name
    return snake


if __name__ == "__main__":
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/reference")):
        print(written)
