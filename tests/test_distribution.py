"""The wheel as a user gets it: installed with pip into a clean virtualenv, its console scripts
and package data work without the repository; the wheel and the sdist carry the license and the
project's URLs.

The wheel and the sdist are the ones bin/test built (``$WABA_DIST_DIR``, the wheel from the
sdist, after ``twine check --strict``); without that variable this module builds both into a
temporary directory with ``python -m build``. One virtualenv per module run: pip installs the
wheel and its dependencies from the package index, which takes a while. Outside CI the module
is skipped when ``build`` is not installed (the ``test`` extra has it); under CI (``CI=true``)
nothing skips. A build or an install that fails fails the tests.
"""

from __future__ import annotations

import ast
import email.parser
import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from waba_webhooks.plugin import schema

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO_ROOT / "provider" / "waba_webhooks"
DIST_DIR_ENV = "WABA_DIST_DIR"

#: Files the package reads at run time, which only package-data rules put in the wheel.
PACKAGE_DATA = (
    "waba_webhooks/py.typed",
    "waba_webhooks/plugin/schema.json",
    "waba_webhooks/emulator/default_fixture.json",
)


def _ci() -> bool:
    return os.environ.get("CI") == "true"


def _run(args: list[str], *, timeout: float, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``args`` with this run's environment less whatever points Python at another environment
    or at the repository's sources."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(args, capture_output=True, text=True, encoding="utf-8", env=env,
                          cwd=cwd, timeout=timeout, check=False)


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"{what} failed (exit {result.returncode}):\n{result.stdout}\n"
                    f"{result.stderr}", pytrace=False)


def repo_version() -> str:
    """``__version__`` as provider/waba_webhooks/_version.py assigns it (read, not imported)."""
    tree = ast.parse((PACKAGE_DIR / "_version.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise AssertionError("_version.py assigns no __version__")


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/test's sdist and wheel, else both built now."""
    dist_dir = os.environ.get(DIST_DIR_ENV)
    if dist_dir:
        return Path(dist_dir)
    if importlib.util.find_spec("build") is None:
        reason = f"${DIST_DIR_ENV} is not set and `build` is not installed (the test extra)"
        if _ci():
            pytest.fail(f"under CI nothing skips: {reason}", pytrace=False)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("dist")
    _check(_run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
                timeout=600, cwd=REPO_ROOT), "python -m build")
    return out


def _one(dist_dir: Path, pattern: str) -> Path:
    found = sorted(dist_dir.glob(pattern))
    assert len(found) == 1, f"{dist_dir} holds {len(found)} files {pattern}, not 1"
    return found[0]


@pytest.fixture(scope="module")
def wheel(dist_dir: Path) -> Path:
    return _one(dist_dir, "*.whl")


@pytest.fixture(scope="module")
def sdist(dist_dir: Path) -> Path:
    return _one(dist_dir, "*.tar.gz")


@dataclass
class Installed:
    """A virtualenv with only the wheel and its dependencies."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command of the virtualenv, from a directory outside the repository."""
        return _run([str(self.bin / args[0]), *args[1:]], timeout=120, cwd=self.root)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """``python -m venv`` then ``pip install <wheel>``, once for the module."""
    venv = Installed(tmp_path_factory.mktemp("wheel-venv") / "venv")
    _check(_run([sys.executable, "-m", "venv", str(venv.root)], timeout=120,
                cwd=venv.root.parent), "python -m venv")
    _check(_run([str(venv.python), "-m", "pip", "install", "--quiet", str(wheel)], timeout=600,
                cwd=venv.root.parent), f"pip install {wheel.name}")
    return venv


def test_the_wheel_holds_the_package_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in PACKAGE_DATA if name not in names]
    assert not missing, f"{wheel.name} lacks {missing}"


def test_the_package_is_imported_from_the_virtualenv(installed: Installed) -> None:
    result = installed.run("python", "-c", "import waba_webhooks; print(waba_webhooks.__file__)")
    _check(result, "import waba_webhooks")
    location = Path(result.stdout.strip()).resolve()
    assert location.is_relative_to(installed.root.resolve()), location
    assert not location.is_relative_to(REPO_ROOT), location


def test_the_command_answers_the_version(installed: Installed) -> None:
    result = installed.run("waba-webhooks", "--version")
    _check(result, "waba-webhooks --version")
    assert result.stdout.strip() == f"waba-webhooks {repo_version()}"


def test_the_schema_is_package_data(installed: Installed) -> None:
    result = installed.run("python", "-c", "import sys; from waba_webhooks.plugin import schema; "
                                           "sys.stdout.write(schema.checked_in())")
    _check(result, "schema.checked_in()")
    expected = (PACKAGE_DIR / "plugin" / "schema.json").read_text(encoding="utf-8")
    assert result.stdout == expected


def test_the_plugin_executable_is_installed(installed: Installed) -> None:
    plugin = installed.bin / "pulumi-resource-whatsapp"
    assert plugin.is_file(), f"{plugin} is missing"
    assert os.access(plugin, os.X_OK), f"{plugin} is not executable"


# --------------------------------------------------------------------------- license and URLs


def _metadata(text: str) -> Message:
    return email.parser.Parser().parsestr(text)


def _check_metadata(metadata: Message, what: str) -> None:
    """The core metadata says the license (PEP 639: an SPDX expression and the file) and the
    project's URLs, as the plugin's schema (and so the Node.js SDK) says them."""
    assert metadata["License-Expression"] == schema.LICENSE, what
    assert metadata.get_all("License-File") == ["LICENSE"], what
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert urls.get("Repository") == schema.REPOSITORY, (what, urls)
    assert urls.get("Homepage") == schema.HOMEPAGE, (what, urls)


def test_the_wheel_carries_the_license(wheel: Path) -> None:
    license_text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0" in license_text
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [info] = [name for name in names if name.endswith(".dist-info/METADATA")]
        dist_info = info.rsplit("/", 1)[0]
        assert f"{dist_info}/licenses/LICENSE" in names, sorted(names)
        assert archive.read(f"{dist_info}/licenses/LICENSE").decode() == license_text
        _check_metadata(_metadata(archive.read(info).decode()), wheel.name)


def test_the_sdist_carries_the_license(sdist: Path) -> None:
    root = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        packed = archive.extractfile(f"{root}/LICENSE")
        assert packed is not None, f"{sdist.name} lacks {root}/LICENSE"
        assert packed.read().decode() == (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
        pkg_info = archive.extractfile(f"{root}/PKG-INFO")
        assert pkg_info is not None
        _check_metadata(_metadata(pkg_info.read().decode()), sdist.name)


def test_the_installed_package_says_its_license(installed: Installed) -> None:
    """What `pip show` and license scanners read in the virtualenv."""
    result = installed.run("python", "-c", "import importlib.metadata as m; "
                                           "print(m.metadata('waba-webhooks')"
                                           "['License-Expression'])")
    _check(result, "importlib.metadata")
    assert result.stdout.strip() == schema.LICENSE
