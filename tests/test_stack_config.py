"""Writing one key of a stack config file: the rest of the file stays byte for byte."""

from __future__ import annotations

import pytest
import yaml

from waba_webhooks.commands import stack_config


def block(indent: int) -> str:
    pad = " " * indent
    return f"{pad}ns:routing:  # ours\n{pad}  wabas:\n{pad}    - wabaId: \"1\"\n"


NEW = {"wabas": [{"wabaId": "1"}]}

FILE = """\
# a comment at the top
encryptionsalt: v1:salt
config:
  # settings
  whatsapp:graphUrl: https://graph.facebook.com   # trailing comment
  ns:routing:
    wabas:
      - wabaId: "9"
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


def test_replaces_the_key_and_keeps_every_other_line(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(FILE)
    stack_config.set_config_block(path, "ns:routing", block)
    new = path.read_text()
    start, end = FILE.index("  ns:routing:"), FILE.index("  # secrets below")
    assert new == FILE[:start] + block(2) + FILE[end:]
    assert yaml.safe_load(new)["config"]["ns:routing"] == NEW


def test_adds_the_key_after_the_last_one(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    text = FILE.replace("ns:routing", "ns:other")
    path.write_text(text)
    stack_config.set_config_block(path, "ns:routing", block)
    new = path.read_text()
    assert new == text + block(2)
    assert stack_config.read(path)["ns:routing"] == NEW


@pytest.mark.parametrize("text", ["", "encryptionsalt: v1:salt\n", "encryptionsalt: v1:salt",
                                  "config:\nencryptionsalt: v1:salt\n", "config: {}\n"])
def test_a_file_without_config_gets_one(tmp_path, text):
    path = tmp_path / "Pulumi.s.yaml"
    if text:
        path.write_text(text)
    stack_config.set_config_block(path, "ns:routing", block)
    data = yaml.safe_load(path.read_text())
    assert data["config"] == {"ns:routing": NEW}
    if "encryptionsalt" in text:
        assert data["encryptionsalt"] == "v1:salt"


def test_keeps_the_indent_the_file_uses(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config:\n    a: 1\n")
    stack_config.set_config_block(path, "ns:routing", block)
    assert path.read_text() == "config:\n    a: 1\n" + block(4)


def test_refuses_a_flow_style_config_and_leaves_the_file(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config: {a: 1}\n")
    with pytest.raises(stack_config.StackConfigError):
        stack_config.set_config_block(path, "ns:routing", block)
    assert path.read_text() == "config: {a: 1}\n"


def test_refuses_a_block_that_would_change_other_keys(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(FILE)

    def greedy(indent: int) -> str:
        return block(indent) + " " * indent + "whatsapp:graphUrl: https://evil.example.com\n"

    with pytest.raises(stack_config.StackConfigError, match="other keys"):
        stack_config.set_config_block(path, "ns:routing", greedy)
    assert path.read_text() == FILE
