"""Setting one key of a stack config file through a round trip: every other key, every comment,
the key order, the quoting and the encrypted ``secure:`` values come back as they were."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from waba_webhooks.commands import stack_config

NEW = {"wabas": [{"wabaId": "1"}]}

FILE = """\
# a comment at the top
encryptionsalt: v1:salt
config:
  # settings
  whatsapp:graphUrl: https://graph.facebook.com   # trailing comment
  whatsapp:appId: "670843887433847"
  ns:routing:
    wabas:
      - wabaId: "9"  # the old WABA
        callbackUri: https://old.example.com/x
        verifyToken: old
    phoneNumbers: []
  # secrets below
  ns:verifyTokens:
    old:
      secure: v1:abc==
  ns:note: |
    two
    lines
"""


def table(_current: Any = None) -> CommentedMap:
    """A new routing table (what `discover` builds), ignoring the current one."""
    entry = CommentedMap(wabaId=DoubleQuotedScalarString("1"))
    entry.yaml_add_eol_comment("ours", "wabaId")
    return CommentedMap(wabas=CommentedSeq([entry]))


def test_replaces_the_key_in_place_and_keeps_every_other_line(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(FILE)
    stack_config.update(path, "ns:routing", table)
    new = path.read_text()
    start, end = FILE.index("  ns:routing:"), FILE.index("  # secrets below")
    assert new == FILE[:start] + '  ns:routing:\n    wabas:\n      - wabaId: "1"  # ours\n' \
        + FILE[end:]
    assert yaml.safe_load(new)["config"]["ns:routing"] == NEW


def test_a_change_inside_the_table_keeps_its_own_comments(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(FILE)

    def add_number(current: CommentedMap) -> CommentedMap:
        current["phoneNumbers"].append(CommentedMap(phoneNumberId="2"))
        current["phoneNumbers"].fa.set_block_style()
        return current

    stack_config.update(path, "ns:routing", add_number)
    new = path.read_text()
    assert '      - wabaId: "9"  # the old WABA\n' in new
    assert "    phoneNumbers:\n      - phoneNumberId: '2'\n" in new
    assert new.replace("    phoneNumbers:\n      - phoneNumberId: '2'\n",
                       "    phoneNumbers: []\n") == FILE


def test_adds_the_key_after_the_last_one(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    text = FILE.replace("ns:routing", "ns:other")
    path.write_text(text)
    stack_config.update(path, "ns:routing", table)
    new = path.read_text()
    assert new.startswith(text.rstrip("\n"))
    assert stack_config.read(path)["ns:routing"] == NEW
    assert list(stack_config.read(path))[-1] == "ns:routing"


@pytest.mark.parametrize("text", ["", "encryptionsalt: v1:salt\n", "encryptionsalt: v1:salt",
                                  "config:\nencryptionsalt: v1:salt\n", "config: {}\n"])
def test_a_file_without_config_gets_one(tmp_path, text):
    path = tmp_path / "Pulumi.s.yaml"
    if text:
        path.write_text(text)
    stack_config.update(path, "ns:routing", table)
    data = yaml.safe_load(path.read_text())
    assert data["config"] == {"ns:routing": NEW}
    if "encryptionsalt" in text:
        assert data["encryptionsalt"] == "v1:salt"


def test_keeps_the_indent_the_file_uses(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config:\n    a: 1\n    b:\n    - x\n")
    stack_config.update(path, "ns:routing", table)
    assert path.read_text() == ("config:\n    a: 1\n    b:\n    - x\n    ns:routing:\n"
                                "        wabas:\n        - wabaId: \"1\"  # ours\n")


def test_a_flow_style_config_becomes_a_block_with_the_same_data(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config: {a: 1}\n")
    stack_config.update(path, "ns:routing", table)
    assert yaml.safe_load(path.read_text())["config"] == {"a": 1, "ns:routing": NEW}


@pytest.mark.parametrize("text", ["config: [1, 2]\n", "- a\n", "config: {a: [1\n"])
def test_refuses_a_file_it_cannot_change_safely_and_leaves_it(tmp_path, text):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(text)
    with pytest.raises(stack_config.StackConfigError):
        stack_config.update(path, "ns:routing", table)
    assert path.read_text() == text


def test_refuses_a_change_that_would_reach_other_keys(tmp_path):
    """An alias elsewhere that points into the key: changing it in place would change that key
    too, so nothing is written."""
    text = "config:\n  ns:routing: &t\n    wabas: []\n  ns:copy: *t\n"
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(text)

    def in_place(current: CommentedMap) -> CommentedMap:
        current["wabas"].append("1")
        return current

    with pytest.raises(stack_config.StackConfigError, match="other keys"):
        stack_config.update(path, "ns:routing", in_place)
    assert path.read_text() == text
