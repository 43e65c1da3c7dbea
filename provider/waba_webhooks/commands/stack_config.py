"""Changing one key of a Pulumi stack config file (``Pulumi.<stack>.yaml``) and nothing else.

The file goes through a round-trip YAML library (ruamel.yaml): comments, key order, quoting and
encrypted ``secure:`` values come back as they were, and the key being set keeps its place (or
is added at the end of ``config:``). Indentation follows what the file uses. After the change
the new text is parsed again and must hold the old data with only that key changed, or nothing
is written; the write is atomic. Plain reads and that check use PyYAML's libyaml parser: a
table of thousands of numbers parses in a fraction of a second that way, against seconds for
the pure-Python round-trip parser.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

#: PyYAML's libyaml loader when it is built in (PyPI's wheels), else its pure-Python one.
_FastLoader = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)


class StackConfigError(ValueError):
    """The stack config file cannot be changed safely; the message says why."""


#: Builds the new value of a key from its current one (None when the key is not there).
ValueBuilder = Callable[[Any], Any]

#: Indentation when the file has no block to learn it from: Pulumi's own style.
DEFAULT_INDENT = (2, 4, 2)


def round_trip(indent: tuple[int, int, int] = DEFAULT_INDENT) -> YAML:
    """A round-trip YAML loader and dumper: ``(mapping, sequence, offset)`` indentation as
    ruamel.yaml counts it, quotes kept, long lines never folded."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 16
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def read(path: Path) -> dict[str, Any]:
    """The file's ``config:`` mapping (empty when the file or the key does not exist)."""
    if not path.exists():
        return {}
    data = _load_plain(path.read_text(encoding="utf-8"), path)
    config = data.get("config") if isinstance(data, Mapping) else None
    return dict(config) if isinstance(config, Mapping) else {}


def update(path: Path, key: str, build: ValueBuilder) -> Any:
    """Set ``config[key]`` to ``build(its current value)`` in the file (created if missing),
    leaving everything else as it was; returns the new value. Raises `StackConfigError`."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new_text, value = updated_text(text, key, build, path)
    _write_atomically(path, new_text)
    return value


def updated_text(text: str, key: str, build: ValueBuilder, path: Path | str = "the file"
                 ) -> tuple[str, Any]:
    """The stack config `text` with ``config[key]`` rebuilt by `build`, and the new value."""
    yaml = round_trip(guess_indent(text))
    document = _load(text, path, yaml) if text.strip() else None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise StackConfigError(f"{path} is not a mapping of keys (config:, ...)")
    config = document.get("config")
    if config is None:
        config = document["config"] = CommentedMap()
    if not isinstance(config, CommentedMap):
        raise StackConfigError(f"config: in {path} is not a mapping; edit the file by hand")
    config.fa.set_block_style()
    value = build(config.get(key))
    config[key] = value
    out = io.StringIO()
    yaml.dump(document, out)
    new_text = out.getvalue()
    if text.strip():  # a new file holds nothing but the key
        _check(text, new_text, key, path)
    return new_text, value


def guess_indent(text: str) -> tuple[int, int, int]:
    """``(mapping, sequence, offset)`` as the text indents them: the first nested key gives
    the mapping indent, the first block sequence item its dash offset."""
    mapping, offset = DEFAULT_INDENT[0], DEFAULT_INDENT[2]
    lines = [line for line in text.splitlines() if line.strip() and
             not line.lstrip().startswith("#")]
    for before, line in itertools.pairwise(lines):
        parent, child = _indent(before), _indent(line)
        if before.rstrip().endswith(":") and child > parent and not line.lstrip().startswith("-"):
            mapping = child - parent
            break
    for before, line in itertools.pairwise(lines):
        if line.lstrip().startswith("- ") and before.rstrip().endswith(":"):
            offset = _indent(line) - _indent(before)
            break
    return mapping, offset + 2, offset


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _load(text: str, path: Path | str, yaml: YAML | None = None) -> Any:
    try:
        return (yaml or round_trip()).load(text)
    except YAMLError as exc:
        where = re.sub(r"\s+", " ", str(exc)).strip()
        raise StackConfigError(f"{path} is not valid YAML: {where}") from None


def _load_plain(text: str, path: Path | str) -> Any:
    try:
        return pyyaml.load(text, Loader=_FastLoader)  # a safe loader, C or Python
    except pyyaml.YAMLError as exc:
        where = re.sub(r"\s+", " ", str(exc)).strip()
        raise StackConfigError(f"{path} is not valid YAML: {where}") from None


def _check(old_text: str, new_text: str, key: str, path: Path | str) -> None:
    """The new text must parse to the old data with only ``config[key]`` different."""
    old, new = _load_plain(old_text, path) or {}, _load_plain(new_text, path)
    if not isinstance(old, dict) or not isinstance(new, dict):
        raise StackConfigError(f"{path}: the document is not a mapping; not written")
    old_config, new_config = dict(old.get("config") or {}), dict(new.get("config") or {})
    old_config.pop(key, None)
    new_config.pop(key, None)

    def rest(data: dict[Any, Any]) -> dict[Any, Any]:
        return {k: v for k, v in data.items() if k != "config"}

    if new_config != old_config or rest(old) != rest(new):
        raise StackConfigError(f"writing {key} would change other keys of {path}; not written")


def _write_atomically(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
