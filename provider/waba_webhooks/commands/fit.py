"""Markdown reports that can always be posted: cut to fit GitHub's limit, saying what was cut.

GitHub refuses an issue or pull-request comment body longer than 65,536 characters. A report is
a list of blocks, plain text or `Table`s; `fit` keeps every text block, the first rows of every
table, then as many more rows as fit, earlier tables first (a report puts what matters most
first), and ends each cut table with how many rows it left out and where the whole report is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The longest body GitHub accepts for an issue or a comment, in characters.
GITHUB_LIMIT = 65_536
#: Rows every table keeps, room permitting, before earlier tables get the rest.
FIRST_ROWS = 3


@dataclass(frozen=True)
class Table:
    """A Markdown table whose rows may be left out: `head` (the header and separator lines),
    then one line per row; `what` names the rows (``phone number rows``)."""

    head: Sequence[str]
    rows: Sequence[str]
    what: str


Block = str | Table


def full(blocks: Sequence[Block]) -> str:
    """Every block, nothing left out."""
    return "\n".join(_lines(blocks, None, ""))


def fit(blocks: Sequence[Block], limit: int = GITHUB_LIMIT, where: str = "") -> str:
    """The blocks joined as Markdown in at most `limit` characters. `where` says where the full
    report is (e.g. "in `drift-full.md`, this run's artifact"); when rows are left out a line at
    the top and one under each cut table say how many and where."""
    whole = full(blocks)
    if len(whole) <= limit:
        return whole
    tables = [b for b in blocks if isinstance(b, Table)]
    # Everything but the rows, with the notices at their longest (every row of every table cut).
    budget = limit - len("\n".join(_lines(blocks, {id(t): 0 for t in tables}, where)))
    kept = {id(t): 0 for t in tables}
    # First a few rows of every table, so that none is only a notice; then the rest in order.
    for share in (FIRST_ROWS, None):
        for table in tables:
            stop = len(table.rows) if share is None else min(share, len(table.rows))
            while kept[id(table)] < stop and len(table.rows[kept[id(table)]]) + 1 <= budget:
                budget -= len(table.rows[kept[id(table)]]) + 1
                kept[id(table)] += 1
    text = "\n".join(_lines(blocks, kept, where))
    if len(text) > limit:  # text blocks alone are too long: cut the end, and say so
        notice = f"\n\n*The report is cut here to fit a GitHub comment.{_see(where)}*\n"
        text = text[: limit - len(notice)] + notice
    return text


def _see(where: str) -> str:
    return f" The full report is {where}." if where else ""


def _lines(blocks: Sequence[Block], kept: dict[int, int] | None, where: str) -> list[str]:
    lines: list[str] = []
    left_out = 0
    for block in blocks:
        if isinstance(block, str):
            lines.append(block)
            continue
        count = len(block.rows) if kept is None else kept[id(block)]
        lines += [*block.head, *block.rows[:count]]
        if count < len(block.rows):
            left_out += len(block.rows) - count
            lines += ["", f"*… {len(block.rows) - count} more {block.what} left out to fit a "
                          f"GitHub comment.{_see(where)}*"]
    if left_out:
        # After the title: the first thing a reader sees.
        notice = (f"> **Cut to fit a GitHub comment ({GITHUB_LIMIT:,} characters)**: "
                  f"{left_out} table rows are left out.{_see(where)}")
        lines[1:1] = ["", notice]
    return lines
