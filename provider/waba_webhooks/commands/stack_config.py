"""Writing one key of a Pulumi stack config file (``Pulumi.<stack>.yaml``) and nothing else.

`set_config_block` replaces (or adds) the block of one ``config:`` key by splicing text: every
other line of the file -- other keys, comments, encrypted secrets, the encryption salt -- stays
byte for byte as it was. A YAML round trip would re-indent, re-quote and drop comments; a splice
cannot. The result is parsed again and must hold the old data with only that key changed, or
nothing is written.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

#: Line breaks as YAML (and PyYAML's marks) count them.
_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")


class StackConfigError(ValueError):
    """The stack config file cannot be changed safely; the message says why."""


#: Renders a key's block (``<key>:`` and its value, ending with a newline) at an indent.
BlockRenderer = Callable[[int], str]


def read(path: Path) -> dict[str, Any]:
    """The file's ``config:`` mapping (empty when the file or the key does not exist)."""
    if not path.exists():
        return {}
    data = _load(path.read_text(encoding="utf-8"), path)
    config = data.get("config") if isinstance(data, Mapping) else None
    return dict(config) if isinstance(config, Mapping) else {}


def set_config_block(path: Path, key: str, render: BlockRenderer) -> None:
    """Put ``config[key]`` as `render` writes it into the file (created if missing), leaving
    every other byte of the file as it was. Written atomically; raises `StackConfigError`."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    new_text = splice(text, key, render)
    _check(text, new_text, key, path)
    _write_atomically(path, new_text)


def splice(text: str, key: str, render: BlockRenderer) -> str:
    """The stack config `text` with ``config[key]`` replaced by (or extended with) the block
    `render` gives; the rest of the text unchanged."""
    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    lines = _lines(text)
    if root is None:
        return _join(lines, len(lines), "config:\n" + render(2))
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise StackConfigError("the file is not a block mapping of keys (config:, ...)")
    config = _value_of(root, "config")
    if config is None:
        return _join(lines, len(lines), "config:\n" + render(2))
    key_node, value = config
    if (isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null")) or (
            isinstance(value, yaml.MappingNode) and not value.value):
        # `config:` with nothing (or `{}`) under it: rewrite that one key.
        return _replace(lines, key_node.start_mark.line, _pair_end(key_node, value),
                        "config:\n" + render(2))
    if not isinstance(value, yaml.MappingNode) or value.flow_style:
        raise StackConfigError("config: is not a block mapping; edit the file by hand")
    found = _value_of(value, key)
    if found is None:
        indent = value.value[0][0].start_mark.column
        return _join(lines, _pair_end(key_node, value) + 1, render(indent))
    own_key, own_value = found
    return _replace(lines, own_key.start_mark.line, _pair_end(own_key, own_value),
                    render(own_key.start_mark.column))


def _load(text: str, path: Path) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path} is not valid YAML: {exc}") from None


def _check(old_text: str, new_text: str, key: str, path: Path) -> None:
    """The new text must parse to the old data with only ``config[key]`` different."""
    old, new = _load(old_text, path) or {}, _load(new_text, path)
    old_config = dict(old.get("config") or {}) if isinstance(old, Mapping) else {}
    new_config = dict(new.get("config") or {}) if isinstance(new, Mapping) else {}
    new_config.pop(key, None)
    old_config.pop(key, None)
    rest = lambda data: {k: v for k, v in dict(data or {}).items() if k != "config"}  # noqa: E731
    if new_config != old_config or rest(old) != rest(new):
        raise StackConfigError(f"writing {key} would change other keys of {path}; not written")


def _value_of(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _last_line(node: yaml.Node) -> int | None:
    """The last line (0-based) holding part of the node's value; None for an empty value
    (PyYAML places an empty scalar at the next token, possibly lines further down)."""
    if isinstance(node, yaml.ScalarNode):
        if node.value == "" and node.style is None:
            return None
        end = node.end_mark
        # A block scalar (| or >) ends at the start of the line after it.
        if end.column == 0 and end.line > node.start_mark.line:
            return int(end.line) - 1
        return int(end.line)
    if getattr(node, "flow_style", False):
        return int(node.end_mark.line)
    found: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            value_line = _last_line(value_node)
            found.append(int(key_node.start_mark.line) if value_line is None else value_line)
    elif isinstance(node, yaml.SequenceNode):
        found = [line for item in node.value if (line := _last_line(item)) is not None]
    return max(found) if found else int(node.start_mark.line)


def _pair_end(key_node: yaml.Node, value_node: yaml.Node) -> int:
    """The last line of a ``key: value`` pair."""
    value_line = _last_line(value_node)
    return int(key_node.start_mark.line) if value_line is None else value_line


def _lines(text: str) -> list[str]:
    """The text split into lines, each with its own line break."""
    lines, start = [], 0
    for found in _BREAK.finditer(text):
        lines.append(text[start:found.end()])
        start = found.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _join(lines: list[str], at: int, block: str) -> str:
    before = "".join(lines[:at])
    if before and not _BREAK.search(before[-1]):
        before += "\n"
    return before + block + "".join(lines[at:])


def _replace(lines: list[str], first: int, last: int, block: str) -> str:
    tail = lines[last + 1:]
    return _join(lines[:first] + tail, first, block)


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
