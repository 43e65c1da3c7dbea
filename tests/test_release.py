"""bin/release builds every artifact of this version into one folder, with the download location
the checked-in files carry (the project's releases): the wheel and sdist, the Node.js SDK's npm
tarball, and the plugin archive the engine downloads for each of linux and darwin, amd64 and
arm64. Each names the same plugin, version and download location, and the checkout is left as
it was. (tests/e2e/test_plugin_download.py installs them the ways a user does.)

It needs the npm registry and PyPI (the build's own tools), as bin/release does.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.nodejs import SDK_DIR, SDK_PACKAGE
from waba_webhooks import __version__
from waba_webhooks.plugin import schema

REPO = Path(__file__).resolve().parents[1]
WHEEL = f"waba_webhooks-{__version__}-py3-none-any.whl"
SDIST = f"waba_webhooks-{__version__}.tar.gz"
NPM = f"waba-webhooks-whatsapp-{__version__}.tgz"
ARCHIVES = [f"pulumi-resource-whatsapp-v{__version__}-{os}-{arch}.tar.gz"
            for os in ("linux", "darwin") for arch in ("amd64", "arm64")]
#: What the plugin needs in order to be installed and found: its name, version and location.
PLUGIN = {"resource": True, "name": "whatsapp", "version": __version__,
          "server": schema.DOWNLOAD_URL}


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    before = git_status()
    done = subprocess.run([str(REPO / "bin" / "release"), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"bin/release failed:\n{done.stdout}\n{done.stderr}"
    assert git_status() == before, "bin/release changed the checkout"
    assert done.stdout.split() == [str(out / name) for name in sorted(
        [WHEEL, SDIST, NPM, *ARCHIVES])]
    return out


def test_every_artifact_is_built_and_nothing_else(dist: Path):
    assert sorted(p.name for p in dist.iterdir()) == sorted([WHEEL, SDIST, NPM, *ARCHIVES])


def test_the_wheel_names_its_plugin_as_pulumi_python_sdks_do(dist: Path):
    """The wheel ships pulumi-plugin.json in its package (the Python language host reports it to
    the engine) and the schema with the download location."""
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        assert json.loads(wheel.read("waba_webhooks/pulumi-plugin.json")) == PLUGIN
        served = json.loads(wheel.read("waba_webhooks/plugin/schema.json"))
        entry_points = wheel.read(f"waba_webhooks-{__version__}.dist-info/entry_points.txt")
    assert served["pluginDownloadURL"] == schema.DOWNLOAD_URL
    assert served == schema.schema()
    assert b"pulumi-resource-whatsapp = waba_webhooks.plugin.main:main" in entry_points


def test_the_checked_in_pulumi_plugin_json_is_generated():
    checked_in = (REPO / "provider" / "waba_webhooks" / "pulumi-plugin.json").read_text()
    assert checked_in == schema.plugin_json(), (
        "provider/waba_webhooks/pulumi-plugin.json is stale: run `.venv/bin/python -m "
        "waba_webhooks.plugin.schema --plugin-json > provider/waba_webhooks/pulumi-plugin.json`")


def test_the_npm_tarball_is_the_checked_in_sdk_compiled(dist: Path):
    """The SDK bin/release generated from the schema is sdk/nodejs (same sources), compiled and
    packed with the plugin's name, version and download location."""
    with tarfile.open(dist / NPM) as packed:
        names = set(packed.getnames())
        package = json.load(packed.extractfile("package/package.json"))  # type: ignore[arg-type]
    assert package["name"] == SDK_PACKAGE and package["version"] == __version__
    assert package["pulumi"] == PLUGIN
    assert package == json.loads((SDK_DIR / "package.json").read_text())
    assert {"package/index.js", "package/index.d.ts", "package/wabaRouting.js",
            "package/README.md"} <= names


def test_each_plugin_archive_is_a_python_source_plugin_of_the_wheel(dist: Path):
    """Each archive holds PulumiPlugin.yaml (runtime: python), the __main__.py the Python host
    runs, a requirements.txt naming the wheel, and that wheel itself; the four are the same."""
    wheel = (dist / WHEEL).read_bytes()
    contents = []
    for name in ARCHIVES:
        with tarfile.open(dist / name) as archive:
            files = {m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
                     for m in archive.getmembers()}
        assert sorted(files) == sorted(["PulumiPlugin.yaml", "__main__.py", "requirements.txt",
                                        WHEEL])
        assert yaml.safe_load(files["PulumiPlugin.yaml"]) == {"runtime": "python"}
        assert files["requirements.txt"].decode().split() == [f"./{WHEEL}"]
        assert files[WHEEL] == wheel
        assert b"from waba_webhooks.plugin.main import main" in files["__main__.py"]
        compile(files["__main__.py"], "__main__.py", "exec")
        contents.append(files)
    assert all(files == contents[0] for files in contents)


def test_the_sdist_builds_the_same_package(dist: Path):
    with tarfile.open(dist / SDIST) as sdist:
        member = sdist.extractfile(f"waba_webhooks-{__version__}/provider/waba_webhooks/"
                                   "pulumi-plugin.json")
        assert member is not None
        assert json.load(io.BytesIO(member.read())) == PLUGIN
