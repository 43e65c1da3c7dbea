"""The reference pages in docs/reference are generated from the plugin's schema and never
stale; they say what a user needs of each property."""

import ast
import inspect
from pathlib import Path

import yaml

import waba_webhooks
from tests.golang import go, go_program
from waba_webhooks import native
from waba_webhooks.plugin import constructors, reference, schema

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reference"


def test_reference_pages_are_fresh():
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in DOCS.glob("*.md")}
    assert on_disk == reference.pages(), (
        "docs/reference is stale: run `.venv/bin/python -m waba_webhooks.plugin.reference "
        "docs/reference`")


def test_a_resource_page_says_what_is_secret_replaces_and_defaults():
    page = reference.pages()["waba-routing.md"]
    assert "| `wabaId` | `waba_id` | string | required, replaces |" in page
    assert "| `verifyTokens` | `verify_tokens` | map of string | secret |" in page
    assert "default `keep`" in page
    assert "pulumi import whatsapp:index:WabaRouting" in page
    assert "pulumi-python:dynamic/waba-webhooks:WabaRouting" in page


def test_the_provider_page_lists_every_setting_with_its_environment_variable():
    page = reference.pages()["provider.md"]
    assert "| `accessToken` | `access_token` | string | secret |" in page
    assert "`WHATSAPP_WRITE_CONCURRENCY`" in page


def resources() -> dict[str, dict]:
    return schema.schema()["resources"]


def test_every_resource_page_shows_its_constructor_in_every_shipped_language():
    pages = reference.pages()
    for token in resources():
        name = token.rsplit(":", 1)[-1]
        page = pages[reference._file(token)]
        for fence, heading in constructors.LANGUAGES.values():
            assert (f"### {heading}\n\n<!-- fragment: placeholders for values -->\n"
                    f"```{fence}\n") in page, (name, heading)
        assert f"new whatsapp.{name}(" in page and f"whatsapp.New{name}(ctx" in page
        assert f"{name}Args.builder()" in page and f"type: {token}" in page


def test_the_python_and_yaml_constructors_set_every_input_by_its_name():
    """The Python snippets' keywords are the constructors' own (dynamic) and the kind's inputs
    (native); the YAML snippet's properties are the schema's inputs. The Java constructors are
    compiled against sdk/java with it (tests/java.py), the Go ones here below."""
    for token, spec in resources().items():
        name = token.rsplit(":", 1)[-1]
        snippets = constructors.constructors(token, spec)
        dynamic = getattr(waba_webhooks, name)
        native_kind = getattr(native, name)._kind
        for language, accepted in [
            ("python-dynamic", set(inspect.signature(dynamic.__init__).parameters)),
                ("python-native", set(native_kind.inputs))]:
            call = next(node for node in ast.walk(ast.parse(snippets[language]))
                        if isinstance(node, ast.Call))
            keywords = {keyword.arg for keyword in call.keywords}
            assert keywords == set(native_kind.inputs) and keywords <= accepted, (name, language)
        properties = yaml.safe_load(snippets["yaml"])["resources"][name[0].lower() + name[1:]]
        assert properties["type"] == token
        assert set(properties["properties"]) == set(spec["inputProperties"])


def functions() -> dict[str, dict]:
    return schema.schema()["functions"]


def test_every_function_page_shows_its_call_in_every_language_but_the_dynamic_door():
    pages = reference.pages()
    assert set(functions()) == {"whatsapp:index:getEffectiveRouting"}
    for token, spec in functions().items():
        page = pages[reference._file(token)]
        assert f"[`{token}`]({reference._file(token)})" in pages["index.md"]
        calls = constructors.calls(token, spec)
        assert set(calls) == set(constructors.LANGUAGES) - {"python-dynamic"}
        for language, code in calls.items():
            fence, heading = constructors.LANGUAGES[language]
            assert (f"### {heading}\n\n<!-- fragment: placeholders for values -->\n"
                    f"```{fence}\n{code}```") in page, (token, heading)
        assert "| `wabaId` | `waba_id` | string | required |" in page
        assert "| `effective` | `effective` | map of map of string |" in page


def test_the_python_and_yaml_calls_pass_every_input_by_its_name():
    """The Python call's keywords are those of `waba_webhooks.native`'s function; the YAML
    call's arguments are the schema's inputs."""
    for token, spec in functions().items():
        name = token.rsplit(":", 1)[-1]
        calls = constructors.calls(token, spec)
        python = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        accepted = set(inspect.signature(getattr(native, f"{python}_output")).parameters)
        call = next(node for node in ast.walk(ast.parse(calls["python-native"]))
                    if isinstance(node, ast.Call))
        keywords = {keyword.arg for keyword in call.keywords}
        assert keywords == {"waba_id"} and keywords <= accepted
        invoke = next(iter(yaml.safe_load(calls["yaml"])["variables"].values()))["fn::invoke"]
        assert invoke["function"] == token
        assert set(invoke["arguments"]) == set(spec["inputs"]["properties"])


def test_the_go_constructors_compile_against_sdk_go(tmp_path: Path):
    """Every Go constructor and function call of the pages, in one program on sdk/go: `go vet`
    type-checks it."""
    functions = []
    for token, spec in resources().items():
        name = token.rsplit(":", 1)[-1]
        imports, _, body = constructors.constructors(token, spec)["go"].partition("\n\n")
        functions.append(f"func declare{name}(ctx *pulumi.Context) (any, error) {{\n{body}"
                         f"\treturn {name[0].lower() + name[1:]}, err\n}}\n")
    for token, spec in schema.schema()["functions"].items():
        name = token.rsplit(":", 1)[-1]
        _, _, body = constructors.calls(token, spec)["go"].partition("\n\n")
        variable = body.split(" :=", 1)[0]
        functions.append(f"func call{name}(ctx *pulumi.Context) any {{\n{body}"
                         f"\treturn {variable}\n}}\n")
    source = (f"package main\n\n{imports}\n\nfunc main() {{\n"
              "\tpulumi.Run(func(ctx *pulumi.Context) error {\n"
              "\t\t_, err := declareWabaRouting(ctx)\n\t\treturn err\n\t})\n}\n\n"
              + "\n".join(functions))
    go(["vet", "."], go_program(tmp_path / "program", source))
