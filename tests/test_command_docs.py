"""docs/command.md against the command's own argument parser: every subcommand has its section,
and every flag, positional argument and nested subcommand the parser accepts is named in it.

The parser is walked as `waba-webhooks` builds it (`cli.build_parser()`), so a flag added to any
subcommand without a word in the reference fails here.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from waba_webhooks.commands.cli import COMMANDS, build_parser

COMMAND_PAGE = Path(__file__).resolve().parents[1] / "docs" / "command.md"


@dataclass(frozen=True)
class Accepted:
    """One thing the parser accepts: a flag (``--waba``), a positional (its metavar) or a nested
    subcommand's name, under a top-level subcommand (``""``: the command itself)."""

    command: str
    what: str
    path: str  # how it is written on the command line, for the failure message


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _accepted(parser: argparse.ArgumentParser, command: str, path: str) -> list[Accepted]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if action.option_strings:
            found += [Accepted(command, option, f"{path} {option}")
                      for option in action.option_strings if option.startswith("--")]
        else:
            metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
            found.append(Accepted(command, metavar, f"{path} {metavar}"))
    for name, sub in _subparsers(parser).items():
        found.append(Accepted(command or name, name, f"{path} {name}"))
        found += _accepted(sub, command or name, f"{path} {name}")
    return found


def accepted() -> list[Accepted]:
    """Everything `waba-webhooks` accepts, by top-level subcommand."""
    return _accepted(build_parser(), "", "waba-webhooks")


def sections(text: str) -> dict[str, str]:
    """The page by top-level subcommand: the text under each ``## `name` `` heading up to the
    next ``## ``; ``""``: the text before the first one."""
    parts = re.split(r"^## (.*)$", text, flags=re.MULTILINE)
    result = {"": parts[0]}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        name = re.fullmatch(r"`([\w-]+)`", heading.strip())
        if name:
            result[name.group(1)] = body
    return result


def named(word: str, text: str) -> bool:
    """Whether `word` appears in text as a whole word (``--parallel`` not inside
    ``--parallel-x``, ``FILE`` not inside ``FILES``)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def test_the_walk_sees_every_subcommand_and_their_flags():
    """The walk itself: it finds what the parser is known to accept (so an empty walk cannot
    pass the test below)."""
    paths = {item.path for item in accepted()}
    assert {"waba-webhooks --version", "waba-webhooks discover --business",
            "waba-webhooks discover --namespace", "waba-webhooks review PREVIEW_JSON",
            "waba-webhooks shards reshard --from", "waba-webhooks live-check --write",
            "waba-webhooks emulator --latency-ms"} <= paths
    assert {item.command for item in accepted()} == {"", *COMMANDS}


def test_every_subcommand_has_its_section():
    have = sections(COMMAND_PAGE.read_text(encoding="utf-8"))
    missing = sorted(set(COMMANDS) - set(have))
    assert not missing, f"docs/command.md has no `## `name`` section for {missing}"


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_argument_is_documented(command: str):
    """Each flag, positional argument and nested subcommand of `command` is named in its
    section of docs/command.md (the command's own, `--version`, in the text above them)."""
    text = sections(COMMAND_PAGE.read_text(encoding="utf-8")).get(command, "")
    missing = [item.path for item in accepted()
               if item.command == command and not named(item.what, text)]
    assert not missing, (f"docs/command.md does not document {missing} "
                         f"(in its section {command or 'above the first heading'!r})")
