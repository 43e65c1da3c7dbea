"""Facts the docs state that have one source in the code: the docs say what that source says.

* The pulumi CLI the tests drive is the ``github.com/pulumi/pulumi/pkg/v3`` version that
  tools/engine/go.mod requires: no doc names another CLI version as the one tested (a released
  section of CHANGELOG.md says what that release was tested with, and stays as it was).
* The provider's settings are `waba_webhooks.config`'s: the table of docs/installation.md lists
  each config key with its environment variable, secrecy and default, and no doc names a
  ``whatsapp:`` key or a ``WHATSAPP_`` variable that does not exist.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from waba_webhooks import config
from waba_webhooks.commands import apps, live_check

REPO = Path(__file__).resolve().parents[1]
GO_MOD = REPO / "tools" / "engine" / "go.mod"


def engine_version() -> str:
    """The CLI version tools/engine/go.mod pins (``3.277.0``)."""
    found = re.search(r"^\s*github\.com/pulumi/pulumi/pkg/v3 v(\d+\.\d+\.\d+)\s*$",
                      GO_MOD.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert found, f"{GO_MOD} requires no github.com/pulumi/pulumi/pkg/v3"
    return found.group(1)


def hand_written_docs() -> list[Path]:
    """The docs a person writes: README.md, CHANGELOG.md, docs/ (less docs/reference/, generated
    from the schema) and examples' READMEs."""
    pages = [REPO / "README.md", REPO / "CHANGELOG.md",
             *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "examples").rglob("*.md"))]
    return [page for page in pages
            if "reference" not in page.relative_to(REPO).parts[:2]
            and "node_modules" not in page.parts]


def current_text(page: Path) -> str:
    """What a page says of today: all of it, but of CHANGELOG.md only the part above its first
    released version (``## [0.2.0] - ...``), the rest being history."""
    text = page.read_text(encoding="utf-8")
    if page.name == "CHANGELOG.md":
        text = re.split(r"^## \[\d", text, maxsplit=1, flags=re.MULTILINE)[0]
    return text


#: How the docs name a pulumi CLI version: ``v3.277.0``, ``pulumi CLI 3.277.0``, an install
#: script's ``--version 3.277.0``. (SDK versions are written without the ``v``: ``3.272.0``.)
_CLI_VERSION = re.compile(
    r"(?<![\w.])v(3\.\d+\.\d+)\b"
    r"|--version[ =](3\.\d+\.\d+)\b"
    r"|\bCLI[\s:(]{1,3}v?(3\.\d+(?:\.\d+)?)\b")


#: Words before a version that make it a floor (what a feature needs), not the version tested.
_FLOOR = re.compile(r"(?:≥|>=|\bsince|\bfrom)\W*(?:Pulumi\W+|the\W+)?(?:CLI\W+)?$")


def cli_versions(text: str) -> list[str]:
    """The CLI versions text names, less floors (``CLI ≥ v3.176.0``, ``since Pulumi v3.20.0``)."""
    return [next(g for g in match.groups() if g) for match in _CLI_VERSION.finditer(text)
            if not _FLOOR.search(text[max(0, match.start() - 20):match.start()])]


def test_the_version_pattern_finds_each_way_of_writing_it():
    text = ("the pulumi CLI v3.260.0 ... sh -s -- --version 3.250.1 ... CLI 3.240 ... "
            "the SDK 3.272.0 ... @pulumi/pulumi 3.276.0 ... (CLI ≥ v3.176.0) ... "
            "since Pulumi v3.20.0 ... tested with v3.261.0")
    assert cli_versions(text) == ["3.260.0", "3.250.1", "3.240", "3.261.0"]


@pytest.mark.parametrize("page", hand_written_docs(),
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_the_docs_name_the_cli_version_go_mod_pins(page: Path):
    wrong = sorted({v for v in cli_versions(current_text(page)) if v != engine_version()})
    assert not wrong, (f"{page.relative_to(REPO)} names the pulumi CLI {wrong}, but the CLI "
                       f"the tests drive is v{engine_version()} (tools/engine/go.mod)")


# --------------------------------------------------------------------------- the settings


@dataclasses.dataclass(frozen=True)
class Row:
    key: str
    environment: str
    secret: bool
    default: str


def settings_table() -> list[Row]:
    """The rows of the Configuration table of docs/installation.md."""
    text = (REPO / "docs" / "installation.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        key = re.fullmatch(r"`whatsapp:(\w+)`( \(secret\))?", cells[0]) if cells else None
        if key is None or len(cells) != 3:
            continue
        rows.append(Row(key.group(1), cells[1].strip("`"), key.group(2) is not None, cells[2]))
    return rows


def written(value: Any) -> str:
    """A default as the docs write it: ``true``, ``60``, ``v23.0``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_the_settings_table_is_config_py():
    """Every setting, in config.KEYS's order, with its variable, its secrecy, and its default
    as the first value of the default column."""
    defaults = {f.name: f.default for f in dataclasses.fields(config.Settings)}
    table = settings_table()
    assert [row.key for row in table] == [key for key, _ in config.KEYS.values()]
    for row, (name, (key, env)) in zip(table, config.KEYS.items(), strict=True):
        assert row.environment == env, row
        assert row.secret == (name in config.SECRET_SETTINGS), row
        if defaults[name] is not None:
            first = re.match(r"`([^`]+)`", row.default)
            assert first and first.group(1) == written(defaults[name]), (
                f"docs/installation.md says whatsapp:{key} defaults to {row.default!r}; "
                f"config.Settings says {written(defaults[name])!r}")


#: Variables the docs may name besides the settings': the live check's inputs.
OTHER_VARIABLES = {live_check.WABA_ENV, live_check.PHONE_ENV, live_check.VERIFY_TOKEN_ENV,
                   live_check.RESTORE_TOKEN_ENV}


@pytest.mark.parametrize("page", hand_written_docs(),
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_the_docs_name_only_settings_that_exist(page: Path):
    text = current_text(page)
    keys = {key for key, _ in config.KEYS.values()} | {"index"}  # whatsapp:index:<Kind>
    unknown_keys = sorted(set(re.findall(r"\bwhatsapp:(\w+)", text)) - keys)
    # secrets.WHATSAPP_... in a CI workflow names the CI's secret, not our variable.
    variables = set(re.findall(r"(?<![\w.])(WHATSAPP_[A-Z_]+)", text))
    # An explicit provider's own token and secret (review, drift): WHATSAPP_ACCESS_TOKEN_<NAME>.
    per_provider = {v for v in variables
                    if v.startswith((f"{apps.ACCESS_TOKEN_ENV}_", f"{apps.APP_SECRET_ENV}_"))}
    unknown_variables = sorted(variables - {env for _, env in config.KEYS.values()}
                               - OTHER_VARIABLES - per_provider)
    assert not unknown_keys and not unknown_variables, (
        f"{page.relative_to(REPO)} names config keys {unknown_keys} and variables "
        f"{unknown_variables} that waba_webhooks.config does not have")
