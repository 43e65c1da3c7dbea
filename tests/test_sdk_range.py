"""The pulumi SDK range the package accepts and the two ends bin/test runs stay in step: the
package pins no exact version, the oldest tested SDK is the floor of its range, and the newest
is inside it."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO_ROOT


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _pinned(constraints: str) -> tuple[int, ...]:
    """The ``pulumi==X`` pin of a constraints file under tools/sdk/."""
    text = (REPO_ROOT / "tools" / "sdk" / constraints).read_text()
    found = re.search(r"^pulumi==([\d.]+)\s*$", text, re.MULTILINE)
    assert found, f"tools/sdk/{constraints} has no pulumi==X line"
    return _version(found.group(1))


def _requirement() -> str:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return next(d for d in project["dependencies"] if re.match(r"pulumi\b", d))


def test_the_package_depends_on_a_range_of_pulumi_sdks() -> None:
    requirement = _requirement()
    assert "==" not in requirement
    assert re.fullmatch(r"pulumi>=[\d.]+,<4", requirement.replace(" ", ""))


def test_bin_test_runs_the_floor_of_the_range_and_a_newer_sdk_inside_it() -> None:
    floor = re.search(r">=([\d.]+)", _requirement())
    assert floor is not None
    assert _pinned("oldest.txt") == _version(floor.group(1))
    assert _version(floor.group(1)) < _pinned("newest.txt") < (4,)
