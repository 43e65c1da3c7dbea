"""The fenced code blocks of the docs, as the snippet tests read them (tests/test_doc_snippets.py,
tests/e2e/test_doc_snippets.py; docs/development.md, "The snippet test", says the rules).

A block is code in the language its fence names (```python, ```typescript, ```yaml, ```go,
```sh, ```json); ```text is what is not code (output, a listing). A block whose fence follows
the line ``<!-- fragment -->`` (a reason may follow a colon: ``<!-- fragment: a GitHub workflow
-->``) is not a whole program: it is skipped by that mark alone. Every block names a language.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The languages a block may name, and what the tests do with it.
LANGUAGES = {
    "python": "run under Pulumi's mocks, each resource's inputs checked by its rules",
    "typescript": "compiled with tsc --strict, all blocks in one project",
    "go": "checked with go vet, all blocks in one module",
    "yaml": "a Pulumi YAML program, previewed against the emulator (fragments: parsed)",
    "sh": "each waba-webhooks and pulumi command's subcommand and flags checked",
    "java": "compiled with Maven against the session's sdk/java install (tests/java.py)",
    "xml": "a Maven pom.xml: parsed",
    "json": "parsed",
    "text": "not code: output or a listing",
}
#: The mark on the line before a fence.
FRAGMENT = re.compile(r"^\s*<!--\s*fragment\b.*-->\s*$")
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)(?P<lang>[^\s`]*)[^`]*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text (dedented), whether it is marked
    as a fragment."""

    page: Path
    line: int  # of the opening fence, from 1
    language: str
    text: str
    fragment: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO).as_posix()}:{self.line}"

    @property
    def ident(self) -> str:
        """A name for files and stacks: the page and line, e.g. ``docs-installation-md-188``."""
        return re.sub(r"[^a-z0-9]+", "-", self.where.lower()).strip("-")


def pages() -> list[Path]:
    """The pages whose blocks are tested: README.md and docs/ (docs/reference/ too: it is
    generated from the schema, and its blocks are what a user reads)."""
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def blocks_of(page: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of a page, in order."""
    lines = (page.read_text() if text is None else text).splitlines()
    found = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip()
                for line in lines[i + 1:end]]
        fragment = i > 0 and FRAGMENT.match(lines[i - 1]) is not None
        found.append(Block(page, i + 1, opening["lang"], "\n".join(body) + "\n", fragment))
        i = end + 1
    return found


def all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks_of(page)]


def to_run(language: str) -> list[Block]:
    """The blocks of a language that are not marked as fragments."""
    return [b for b in all_blocks() if b.language == language and not b.fragment]


def counts() -> dict[str, Counter[str]]:
    """Per language: how many blocks run and how many are fragments."""
    result: dict[str, Counter[str]] = {}
    for block in all_blocks():
        result.setdefault(block.language, Counter())["fragment" if block.fragment else "run"] += 1
    return result


_SEPARATORS = {"&&", "||", "|", ";", "&"}


def commands(text: str) -> list[list[str]]:
    """The simple commands of a shell block: continuations joined, comments and a ``$ ``
    prompt dropped, split at ``&&``, ``|``, ``;``, redirections and leading ``VAR=value``
    assignments left out; ``[`` ``]`` (a synopsis' optional part) dropped."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"^\s*\$ ", "", line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        skip_next = False
        for token in [*lexer, ";"]:
            if skip_next:
                skip_next = False
            elif token in _SEPARATORS:
                while words and re.fullmatch(r"\w+=.*", words[0]):
                    words.pop(0)
                if words:
                    found.append(words)
                words = []
            elif token in {">", ">>", "<", ">&", "2>"}:
                skip_next = True
            else:
                cleaned = token.strip("[]")
                if cleaned:
                    words.append(cleaned)
    return found
