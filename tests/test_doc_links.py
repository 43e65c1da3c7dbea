"""The docs cite only what the repository holds: every link to a file of the repository points at
one that exists, no link or path leaves the repository, and every file the prose names by path
exists.

The docs are what a user reads: README.md, CHANGELOG.md, docs/ (mkdocs builds it with --strict,
which checks links between its pages, but not the README, nor paths written as code) and the
READMEs of examples/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def docs() -> list[Path]:
    pages = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").rglob("*.md")),
             *sorted((REPO / "examples").rglob("README.md"))]
    return [page for page in pages if "node_modules" not in page.parts]


#: A Markdown link or image: [text](target "title") -> target.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: Inline code.
_CODE = re.compile(r"`([^`\n]+)`")
#: A Markdown file named in prose: DESIGN.md, docs/command.md, ../shared/NOTES.md.
_MD_NAME = re.compile(r"(?<![\w/.-])((?:\.{1,2}/)*[\w.-]+(?:/[\w.-]+)*\.md)\b")
#: Placeholders: a path holding any of these is a pattern, not a file.
_PLACEHOLDER = re.compile(r"[<>*{}$…]|\.\.\.|\bNAME\b|\bX\b")
#: What a path written in the prose may start with to be taken as a file of the repository.
_TOP = {p.name for p in REPO.iterdir() if not p.name.startswith(".")} - {"build", "site"}


def _outside(path: str) -> bool:
    """Whether a path written in a doc names something outside the repository."""
    return path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:\\", path) is not None


def _prose(text: str) -> str:
    """The text without fenced code blocks (commands and programs, checked elsewhere)."""
    return re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)


def problems(page: Path, text: str | None = None) -> list[str]:
    """What `page` (its `text`, else the file's) cites that the repository does not hold."""
    text = page.read_text(encoding="utf-8") if text is None else text
    prose = _prose(text)
    found = []
    # Links: a relative target resolves to a file or folder of the repository.
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # https:, mailto:, an anchor on the same page
        path = target.split("#", 1)[0]
        if _outside(path):
            found.append(f"links outside the repository: {target}")
            continue
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(REPO):
            found.append(f"links outside the repository: {target}")
        elif not resolved.exists():
            found.append(f"links to a file that does not exist: {target}")
    # Markdown files named anywhere: each one is in the repository (beside the page, from its
    # root, or a page of docs/).
    for name in _MD_NAME.findall(prose):
        if _PLACEHOLDER.search(name) or name.startswith(("http", "www.")):
            continue
        candidates = [page.parent / name, REPO / name, REPO / "docs" / name]
        inside = [c.resolve() for c in candidates if c.resolve().is_relative_to(REPO)]
        if not inside:
            found.append(f"names a file outside the repository: {name}")
        elif not any(c.exists() for c in inside):
            found.append(f"names a file the repository does not have: {name}")
    # Paths in inline code that start at a top-level entry of the repository exist.
    for code in _CODE.findall(prose):
        path = code.strip().split()[0] if code.strip() else ""
        if "/" not in path or _PLACEHOLDER.search(path):
            continue
        if path.startswith("../") and not (page.parent / path).resolve().is_relative_to(REPO):
            found.append(f"names a path outside the repository: {path}")
            continue
        if path.split("/", 1)[0] not in _TOP:
            continue
        file = REPO / path.split("::", 1)[0].rstrip(",.:;")
        if not (file.exists() or file.is_symlink()):  # stacks/.venv: a link to ../.venv
            found.append(f"names a path the repository does not have: {path}")
    return found


@pytest.mark.parametrize("page", docs(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_the_doc_cites_only_what_the_repository_holds(page: Path):
    assert problems(page) == [], page.relative_to(REPO).as_posix()


@pytest.mark.parametrize("line, problem", [
    ("Meta's rules are in DESIGN.md section 1.", "names a file the repository does not have"),
    ("see [the notes](../../shared/DESIGN.md)", "links outside the repository"),
    ("see [the notes](/work/shared/DESIGN.md)", "links outside the repository"),
    ("see `../../shared/seed/webhook-overrides.txt`", "names a path outside the repository"),
    ("see [the page](missing-page.md)", "links to a file that does not exist"),
    ("`tests/test_nothing_here.py` proves it", "names a path the repository does not have"),
])
def test_a_citation_outside_the_repository_is_found(line: str, problem: str):
    """The check itself: a page under docs/ citing each kind of outside file fails."""
    found = problems(REPO / "docs" / "a-page.md", f"# A page\n\n{line}\n")
    assert any(problem in text for text in found), found


def test_the_docs_are_found():
    names = {page.relative_to(REPO).as_posix() for page in docs()}
    assert {"README.md", "CHANGELOG.md", "docs/meta-rules.md", "docs/command.md",
            "examples/README.md"} <= names
