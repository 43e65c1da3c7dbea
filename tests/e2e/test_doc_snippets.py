"""Every code block of README.md and docs/ runs or compiles, so the docs are true word for word
(tests/snippets.py reads the blocks; docs/development.md, "The snippet test", has the rules):

- Python: each block runs as a program under Pulumi's mocks, all in this process; each resource
  it declares has its inputs checked by its kind's rules (what `pulumi preview` checks first).
- TypeScript: every block is a file of one project, compiled once with `tsc --strict` against
  the packed SDK, with the TypeScript of examples/.
- Go: every block is a program of one module (examples/go's go.mod, sdk/go), checked once with
  `go vet`.
- YAML: a block is a Pulumi YAML program (a whole Pulumi.yaml), previewed against the emulator
  with this checkout's plugin; fragments are parsed.
- sh: each `waba-webhooks` command (also `bin/live-check`, `python -m waba_webhooks.emulator`)
  is parsed by the command's own parser; each `pulumi` command's subcommand and flags must be
  in the pinned CLI's help. Other commands are not run.
- json and xml (a Maven pom.xml; a fragment of one under a root element): parsed. java:
  compiled by tests/test_java_sdk.py (tests/java.py, `doc_sources`). text: not code.

A block marked ``<!-- fragment -->`` on the line before its fence is skipped (YAML and JSON
fragments are still parsed). The counts per language are printed (``pytest -s``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pulumi
import pytest
import yaml
from pulumi import automation as auto
from pulumi.runtime import rpc

from tests.e2e.conftest import E2EStack, local_plugin
from tests.e2e.test_yaml import APP_SECRET
from tests.golang import EXAMPLE_DIR as GO_EXAMPLE
from tests.golang import SDK_DIR as GO_SDK_DIR
from tests.golang import go
from tests.nodejs import depend_on_sdk
from tests.snippets import LANGUAGES, REPO, Block, all_blocks, blocks_of, commands, counts, to_run
from tests.test_command_docs import _subparsers
from tests.test_routing import with_event_loop
from waba_webhooks.commands.cli import build_parser
from waba_webhooks.commands.stack_state import TYPES
from waba_webhooks.plugin.schema import GO_MODULE

#: The stack config the docs' programs read (each program reads some of these keys), with
#: emulator values; True: secret.
CONFIG: dict[str, tuple[Any, bool]] = {
    **{key: (f"doc-{key}", True) for key in (
        "verifyToken", "supportVerifyToken", "vipVerifyToken", "appVerifyToken",
        "sandboxToken", "productionToken")},
    "routing": ({"wabas": [{"wabaId": "102290129340398",
                            "callbackUri": "https://hooks.example.com/waba-main",
                            "verifyToken": "main"}],
                 "phoneNumbers": [{"phoneNumberId": "106540352242922",
                                   "wabaId": "102290129340398",
                                   "callbackUri": "https://hooks.example.com/vip",
                                   "verifyToken": "vip"}]}, False),
    "verifyTokens": ({"main": "doc-main-token", "vip": "doc-vip-token"}, True),
}
#: What each resource page shows, by the heading above each block.
PAGE_LANGUAGES = {"Python (dynamic)": "python", "Python (native)": "python",
                  "TypeScript": "typescript", "YAML": "yaml", "Go": "go"}
RESOURCE_PAGES = sorted(p for p in (REPO / "docs" / "resources").glob("*.md")
                        if p.name != "index.md")
TIMES: dict[str, float] = {}


@pytest.fixture(autouse=True)
def timed(request) -> Iterator[None]:
    """Each test's wall time, printed by the last one."""
    start = time.monotonic()
    yield
    TIMES[request.node.name] = time.monotonic() - start


def failed(problems: list[str]) -> str:
    return f"{len(problems)} block(s) fail:\n\n" + "\n\n".join(problems)


# --- the blocks and their marks -------------------------------------------------------------

def test_every_block_names_a_language_the_test_knows():
    unknown = [f"{b.where}: ```{b.language}" for b in all_blocks() if b.language not in LANGUAGES]
    assert not unknown, ("a block names no language the snippet test knows (```text for output):"
                         f" {unknown}")


def test_the_fragment_mark_is_the_line_before_the_fence():
    text = ("```python\nprint(1)\n```\n\n<!-- fragment: part of a program -->\n```python\n"
            "x(...)\n```\n\n  ```sh\n  pulumi up\n  ```\n")
    found = blocks_of(REPO / "README.md", text)
    assert [(b.language, b.fragment, b.text) for b in found] == [
        ("python", False, "print(1)\n"), ("python", True, "x(...)\n"), ("sh", False, "pulumi up\n")]


@pytest.mark.parametrize("page", RESOURCE_PAGES, ids=lambda p: p.stem)
def test_each_resource_page_shows_its_example_in_each_language(page: Path):
    lines = page.read_text().splitlines()
    shown = {}
    for block in blocks_of(page):
        heading = next((line[4:].strip() for line in reversed(lines[:block.line - 1])
                        if line.startswith("### ")), None)
        if heading in PAGE_LANGUAGES and heading not in shown:
            shown[heading] = (block.language, block.fragment)
    assert shown == {heading: (language, False) for heading, language in PAGE_LANGUAGES.items()}


# --- Python: every block under Pulumi's mocks -----------------------------------------------

class CheckedMocks(pulumi.runtime.Mocks):
    """The engine side of a program under test: each resource of ours it declares is checked by
    its kind's rules, as a preview does before anything else; a read (`get`) is answered with
    its inputs."""

    def __init__(self) -> None:
        self.declared: list[str] = []
        self.failures: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.declared.append(f"{args.typ} {args.name}")
        read = getattr(args, "resource_id", None)
        if args.typ in TYPES and not read:
            kind, _ = TYPES[args.typ]
            result = kind.rules().check({}, kind.from_wire(revealed(dict(args.inputs))))
            self.failures += [f"{args.name}: {f.property}: {f.reason}" for f in result.failures]
        return read or f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def revealed(value: Any) -> Any:
    """A value as the program sent it, with each secret's own value in place of its wrapper."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return revealed(value["value"])
        return {key: revealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revealed(item) for item in value]
    return value


def run_python(block: Block) -> CheckedMocks:
    """Run the block as a Pulumi program of project ``snippets`` with CONFIG."""
    mocks = CheckedMocks()
    with_event_loop()
    pulumi.runtime.set_mocks(mocks, project="snippets", stack="test", preview=True)
    pulumi.runtime.set_all_config(
        {f"snippets:{key}": value if isinstance(value, str) else json.dumps(value)
         for key, (value, _) in CONFIG.items()},
        [f"snippets:{key}" for key, (_, secret) in CONFIG.items() if secret])
    code = compile(block.text, block.where, "exec")
    try:
        pulumi.runtime.test(lambda: exec(code, {"__name__": "__main__"}))()
    finally:
        pulumi.runtime.settings.reset_options(
            project="project", stack="stack", root_directory="root_directory",
            organization="organization")
        pulumi.runtime.set_all_config({})
    return mocks


def test_python_blocks_run_under_mocks():
    problems = []
    for block in to_run("python"):
        try:
            mocks = run_python(block)
        except Exception as exc:  # the block's own error, reported with where it is
            problems.append(f"{block.where}: {type(exc).__name__}: {exc}")
            continue
        if not mocks.declared:
            problems.append(f"{block.where}: declares no resource")
        problems += [f"{block.where}: {failure}" for failure in mocks.failures]
    assert not problems, failed(problems)


def test_a_python_block_with_a_bad_input_fails(tmp_path):
    """The mocks' check is the rules' own: a URL Meta refuses fails the block."""
    block = Block(REPO / "README.md", 1, "python", (
        "import pulumi\nfrom waba_webhooks import WabaCallbackOverride\n"
        "WabaCallbackOverride('w', waba_id='102290129340398', callback_uri='http://x.example',"
        " verify_token=pulumi.Config().require_secret('verifyToken'))\n"), False)
    assert [f.split(":")[0] for f in run_python(block).failures] == ["w"]


# --- TypeScript: one project, one tsc --------------------------------------------------------

def test_typescript_blocks_compile_in_one_tsc_run(tmp_path, nodejs_sdk_tarball, monkeypatch):
    # npm takes what its cache has without asking the registry again (the SDK's build
    # installed the same packages this session).
    monkeypatch.setenv("npm_config_prefer_offline", "true")
    blocks = to_run("typescript")
    project = tmp_path / "ts"
    project.mkdir()
    files = []
    for block in blocks:
        name = f"{block.ident}.ts"
        # Each file a module of its own, as each block is a program's index.ts.
        (project / name).write_text(block.text + ("\nexport {};\n" if "export " not in
                                                  block.text else ""))
        files.append(name)
    # The examples' TypeScript too (their READMEs' run does not check types), in the same run.
    for source in sorted((REPO / "examples").glob("*/*.ts")):
        name = f"examples-{source.parent.name}-{source.name}"
        shutil.copy(source, project / name)
        files.append(name)
    (project / "package.json").write_text(json.dumps({"name": "doc-snippets", "private": True}))
    (project / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "target": "es2020", "module": "commonjs",
                            "moduleResolution": "node", "esModuleInterop": True,
                            "skipLibCheck": True, "noEmit": True},
        "files": files}))
    depend_on_sdk(project, nodejs_sdk_tarball)  # npm install, then tsc --noEmit --strict


# --- Go: one module, one go vet --------------------------------------------------------------

def test_go_blocks_vet_in_one_module(tmp_path):
    module = tmp_path / "go"
    module.mkdir()
    for name in ("go.mod", "go.sum"):
        shutil.copy(GO_EXAMPLE / name, module / name)
    go(["mod", "edit", "-module=docsnippets", f"-replace={GO_MODULE}={GO_SDK_DIR}"], module)
    blocks = to_run("go")
    for block in blocks:
        (module / block.ident).mkdir()
        (module / block.ident / "main.go").write_text(block.text)
    listed = go(["list", "./..."], module).stdout.split()
    assert len(listed) == len(blocks)
    go(["vet", "./..."], module, timeout=1800)


# --- YAML: each program previewed; fragments parsed ------------------------------------------

def test_yaml_json_and_xml_blocks_parse():
    problems = []
    for block in all_blocks():
        try:
            if block.language == "yaml":
                yaml.safe_load(block.text)
            elif block.language == "json":
                json.loads(block.text)
            elif block.language == "xml":
                # A fragment is part of a file: elements side by side, under one root here.
                ElementTree.fromstring(f"<fragment>{block.text}</fragment>" if block.fragment
                                       else block.text)
        except (yaml.YAMLError, ValueError, ElementTree.ParseError) as exc:
            problems.append(f"{block.where}: {exc}")
    assert not problems, failed(problems)


#: What a Pulumi YAML program of the docs may hold, to be merged with the others.
_YAML_SECTIONS = {"name", "runtime", "description", "config", "variables", "resources", "outputs"}


def merged_yaml(blocks: list[Block]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """One Pulumi YAML program declaring what every block declares, so that one preview runs
    them all: each block's resources, variables and outputs keep their properties and options
    word for word under the block's prefix (``b3-support``), its references renamed with them;
    config declarations are shared. Returns the program, prefix -> block, and the blocks that
    are not programs."""
    program: dict[str, Any] = {"name": "doc-snippets", "runtime": "yaml", "config": {},
                               "variables": {}, "resources": {}, "outputs": {}}
    prefixes, problems = {}, []
    for i, block in enumerate(blocks):
        parsed = yaml.safe_load(block.text)
        if not isinstance(parsed, dict) or parsed.get("runtime") != "yaml" or (
                set(parsed) - _YAML_SECTIONS):
            problems.append(f"{block.where}: not a Pulumi YAML program (runtime: yaml, "
                            f"{sorted(_YAML_SECTIONS)}); mark it <!-- fragment --> if it is "
                            "part of a file")
            continue
        prefix = f"b{i}"
        prefixes[prefix] = block.where
        names = [*parsed.get("resources", {}), *parsed.get("variables", {})]
        text = block.text
        for name in sorted(names, key=len, reverse=True):
            text = re.sub(r"\$\{" + re.escape(name) + r"(?=[.\[}])", "${" + f"{prefix}-{name}",
                          text)
        renamed = yaml.safe_load(text)
        program["config"].update(renamed.get("config", {}))
        for section in ("variables", "resources", "outputs"):
            program[section].update({f"{prefix}-{name}": value
                                     for name, value in renamed.get(section, {}).items()})
    return {key: value for key, value in program.items() if value}, prefixes, problems


def test_yaml_programs_merge_word_for_word():
    block = Block(REPO / "README.md", 1, "yaml", (
        "name: x\nruntime: yaml\nconfig:\n  token: {type: string}\nresources:\n"
        "  vip-line:\n    type: whatsapp:index:PhoneCallbackOverride\n"
        "    properties: {verifyToken: '${token}', callbackUri: https://a.example/x}\n"
        "    options: {version: 0.2.0}\n"
        "outputs:\n  uri: ${vip-line.effectiveCallbackUri}\n"), False)
    program, prefixes, problems = merged_yaml([block, Block(REPO, 2, "yaml", "a: 1\n", False)])
    assert len(problems) == 1 and "not a Pulumi YAML program" in problems[0]
    assert prefixes == {"b0": "README.md:1"}
    assert program["resources"] == {"b0-vip-line": {
        "type": "whatsapp:index:PhoneCallbackOverride",
        "properties": {"verifyToken": "${token}", "callbackUri": "https://a.example/x"},
        "options": {"version": "0.2.0"}}}
    assert program["outputs"] == {"b0-uri": "${b0-vip-line.effectiveCallbackUri}"}


def test_yaml_programs_preview_against_the_emulator(engine, tmp_path, emulator, pulumi_home,
                                                     callback_receiver):
    """Every YAML program in one preview (`merged_yaml`) with this checkout's plugin: each
    resource planned, none refused by its check."""
    blocks = to_run("yaml")
    program, prefixes, problems = merged_yaml(blocks)
    assert not problems, failed(problems)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "Pulumi.yaml").write_text(
        yaml.safe_dump({**program, **local_plugin()}, sort_keys=False))
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.stack.set_all_config({
        key: auto.ConfigValue(value if isinstance(value, str) else json.dumps(value),
                              secret=secret)
        for key, (value, secret) in CONFIG.items()})
    try:
        result = stack.preview()
    except auto.errors.CommandError as exc:
        pytest.fail(f"the docs' YAML programs ({prefixes}) fail their preview:\n{exc}")
    # The stack and every resource of every block.
    assert result.change_summary == {"create": 1 + len(program["resources"])}, prefixes


# --- sh: the commands exist -------------------------------------------------------------------

def our_command(words: list[str]) -> list[str] | None:
    """The arguments of `waba-webhooks` a command line amounts to, or None if it is not ours."""
    program = Path(words[0]).name
    if program == "waba-webhooks":
        return words[1:]
    if words[0].endswith("bin/live-check"):
        return ["live-check", *words[1:]]
    if program.startswith("python") and words[1:3] == ["-m", "waba_webhooks.emulator"]:
        return ["emulator", *words[3:]]
    return None


def parse_error(arguments: list[str]) -> str | None:
    """What `waba-webhooks`'s parser says of the arguments, or None if it accepts them."""
    parser = build_parser()
    messages: list[str] = []

    def error(message: str) -> None:
        messages.append(message)
        raise SystemExit(2)

    def wire(p: argparse.ArgumentParser) -> None:
        p.error = error  # type: ignore[method-assign]
        p.allow_abbrev = False  # a flag in the docs is written whole
        for sub in _subparsers(p).values():
            wire(sub)

    wire(parser)
    try:
        parser.parse_args(arguments)
    except SystemExit:
        return messages[0] if messages else "exited"
    return None


class PulumiHelp:
    """`pulumi <words> --help` of the pinned CLI, cached: the command path its usage line names,
    the names of its last word (aliases: ``init`` of ``stack new``), the flags it lists (its own
    and the global ones) and its subcommands."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.cache: dict[tuple[str, ...], tuple[list[str], set[str], set[str], set[str]]] = {}

    def __call__(self, words: tuple[str, ...]) -> tuple[list[str], set[str], set[str], set[str]]:
        if words not in self.cache:
            done = subprocess.run(["pulumi", *words, "--help"], capture_output=True, text=True,
                                  check=False, env={**os.environ, "PULUMI_HOME": str(self.home),
                                                    "PULUMI_SKIP_UPDATE_CHECK": "true"})
            text = done.stdout + done.stderr
            usage = re.search(r"^Usage:\n\s*(pulumi(?: [\w-]+)*)", text, flags=re.MULTILINE)
            path = usage.group(1).split()[1:] if usage else []
            aliases = re.search(r"^Aliases:\n\s*(.*)$", text, flags=re.MULTILINE)
            names = {*(aliases.group(1).replace(" ", "").split(",") if aliases else []),
                     *path[-1:]}
            listed = text.partition("Available Commands:")[2]
            subcommands = set(re.findall(r"^  ([\w-]+)\s{2,}", listed, flags=re.MULTILINE))
            self.cache[words] = (path, names, set(re.findall(r"--[\w-]+", text)), subcommands)
        return self.cache[words]


def pulumi_problem(words: list[str], help: PulumiHelp) -> str | None:
    positional = tuple(w for w in words[1:] if not w.startswith("-"))
    path, names, flags, subcommands = help(positional)
    typed = list(positional[:len(path)])
    if not path or typed[:-1] != path[:-1] or typed[-1] not in names:
        return f"no such pulumi command: {' '.join(words)}"
    if subcommands and len(positional) > len(path):
        return f"pulumi {' '.join(path)} has no subcommand {positional[len(path)]}"
    unknown = [w.split("=")[0] for w in words if w.startswith("--") and w.split("=")[0] not in
               flags]
    return f"pulumi {' '.join(path)} has no flag {unknown}" if unknown else None


def shell_problems(block_text: str, help: PulumiHelp) -> tuple[int, list[str]]:
    """(how many commands were checked, what is wrong with them)."""
    checked, problems = 0, []
    for words in commands(block_text):
        arguments = our_command(words)
        if arguments is not None:
            checked += 1
            error = parse_error(arguments)
            if error:
                problems.append(f"{' '.join(words)}: {error}")
        elif Path(words[0]).name == "pulumi":
            checked += 1
            problem = pulumi_problem(words, help)
            if problem:
                problems.append(problem)
    return checked, problems


def test_shell_blocks_name_commands_and_flags_that_exist(engine, tmp_path):
    help = PulumiHelp(tmp_path)
    # Every `pulumi ... --help` the blocks need, a few at a time, before the checks read them.
    asked = {tuple(w for w in words[1:] if not w.startswith("-"))
             for block in to_run("sh") for words in commands(block.text)
             if Path(words[0]).name == "pulumi"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(help, asked))
    problems, checked = [], 0
    for block in to_run("sh"):
        n, found = shell_problems(block.text, help)
        checked += n
        problems += [f"{block.where}: {problem}" for problem in found]
    assert not problems, failed(problems)
    assert checked >= 30, checked


@pytest.mark.parametrize("text", [
    "waba-webhooks discover --bussiness 1",
    "waba-webhooks shards up --prefix prod --count 8 --nope",
    "bin/live-check --waba 1",
    "pulumi preview --no-such-flag",
    "pulumi stack inti prod",
    "pulumi nothing",
])
def test_a_wrong_command_or_flag_is_found(engine, tmp_path, text):
    checked, problems = shell_problems(text, PulumiHelp(tmp_path))
    assert checked == 1 and len(problems) == 1, problems


def test_a_shell_block_is_split_into_commands():
    text = ("$ pulumi up --yes  # comment\nA=1 B=2 waba-webhooks drift x.json \\\n"
            "    --business 1 > out.md && echo done\nwaba-webhooks shards up --stack a\n"
            "python -m waba_webhooks.emulator --port 1 [--latency-ms 0]\n")
    assert commands(text) == [
        ["pulumi", "up", "--yes"], ["waba-webhooks", "drift", "x.json", "--business", "1"],
        ["echo", "done"], ["waba-webhooks", "shards", "up", "--stack", "a"],
        ["python", "-m", "waba_webhooks.emulator", "--port", "1", "--latency-ms", "0"]]


# --- the figures -------------------------------------------------------------------------------

def test_counts_per_language(capsys):
    """Last in the file: how many blocks of each language ran and how many are fragments, and
    how long each test took."""
    figures = counts()
    with capsys.disabled():
        print("\ndoc snippets: " + ", ".join(
            f"{language} {c['run']} {'not code' if language == 'text' else 'run'} / "
            f"{c['fragment']} fragments"
            for language, c in sorted(figures.items())))
        print("doc snippet test times: " + ", ".join(
            f"{name} {seconds:.1f} s" for name, seconds in TIMES.items()))
    for language in PAGE_LANGUAGES.values():
        assert figures[language]["run"] >= len(RESOURCE_PAGES), (language, figures[language])
