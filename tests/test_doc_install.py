"""Every install command in the docs works from a clone of the repository today, or says that it
is the form for the published package and has the form that works from a clone beside it.

The package is not on PyPI and its Node.js SDK not on the npm registry: ``pip install
waba-webhooks`` and ``npm install @waba-webhooks/whatsapp`` fail today. A doc may show them only
marked as the published form (the word "published" on the command's line, on the comment line
heading its group of lines, or in its paragraph), with a from-clone form (an install from a
path) in the same code block or paragraph.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_doc_facts import REPO, current_text, hand_written_docs

#: An install by the registry name: works only once the package is published.
PUBLISHED_FORM = re.compile(
    r"\b(?:pip|pipx)\s+install\s+(?:-\S+\s+)*waba-webhooks\b(?![/\w.-])"
    r"|\bnpm\s+(?:install|i|add)\s+(?:-\S+\s+)*@waba-webhooks/whatsapp\b")
#: An install from a path (a clone, or the tarball a clone builds).
CLONE_FORM = re.compile(
    r"\b(?:pip|pipx)\s+install\s+(?:-\S+\s+)*(?:\.|~|/|\S*/)\S*"
    r"|file:\S*waba-webhooks-whatsapp-\S*\.tgz")
MARK = "published"


def blocks_and_paragraphs(text: str) -> tuple[list[str], list[str]]:
    """The fenced code blocks of a Markdown text, and its paragraphs outside them."""
    blocks = [m.group(2) for m in re.finditer(r"^(```|~~~)[^\n]*\n(.*?)^\1", text,
                                               flags=re.MULTILINE | re.DOTALL)]
    prose = re.sub(r"^(```|~~~).*?^\1", "\n\n", text, flags=re.MULTILINE | re.DOTALL)
    return blocks, [p for p in re.split(r"\n\s*\n", prose) if p.strip()]


def heading(lines: list[str], i: int) -> str:
    """The comment line heading the group of lines that line i is in (lines without a blank
    one between), if any."""
    for line in reversed(lines[:i]):
        if not line.strip():
            return ""
        if line.lstrip().startswith("#"):
            return line
    return ""


def problems(text: str) -> list[str]:
    found = []
    blocks, paragraphs = blocks_and_paragraphs(text)
    for block in blocks:
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not PUBLISHED_FORM.search(line):
                continue
            if MARK not in line + heading(lines, i):
                found.append(f"not marked as the published form: {line.strip()}")
            elif not CLONE_FORM.search(block):
                found.append(f"no form that works from a clone beside: {line.strip()}")
    for paragraph in paragraphs:
        for match in PUBLISHED_FORM.finditer(paragraph):
            if MARK not in paragraph:
                found.append(f"not marked as the published form: {match.group(0)}")
            elif not CLONE_FORM.search(paragraph):
                found.append(f"no form that works from a clone beside: {match.group(0)}")
    return found


@pytest.mark.parametrize("page", hand_written_docs(),
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_each_install_command_works_from_a_clone_or_says_it_is_the_published_form(page: Path):
    assert problems(current_text(page)) == []


@pytest.mark.parametrize("text, problem", [
    ("```sh\npip install waba-webhooks\n```\n", "not marked"),
    ("```sh\npipx install waba-webhooks   # the published package\n```\n", "no form"),
    ("Run `npm install @waba-webhooks/whatsapp`.\n", "not marked"),
    ("Once published: `pip install waba-webhooks`.\n", "no form"),
])
def test_an_unmarked_or_lone_published_form_is_found(text: str, problem: str):
    assert any(problem in found for found in problems(text)), problems(text)


@pytest.mark.parametrize("text", [
    "```sh\npip install ./waba-webhooks\n# the published package\npip install waba-webhooks\n```\n",
    "From a clone, `pipx install ./waba-webhooks`; once published, `pipx install waba-webhooks`.\n",
    "```sh\npip install ./waba-webhooks        # or your pinned release of this package\n```\n",
])
def test_a_marked_form_beside_a_clone_form_passes(text: str):
    assert problems(text) == []
