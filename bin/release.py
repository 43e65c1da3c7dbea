"""The release behind bin/release: every artifact of one version, built from this checkout into
dist/ (or --out), each checked before it is kept.

* the Python distribution: ``waba_webhooks-<version>-py3-none-any.whl`` and
  ``waba_webhooks-<version>.tar.gz`` (``python -m build``, then ``twine check --strict``);
* the Node.js SDK: ``waba-webhooks-whatsapp-<version>.tgz`` (generated from the schema by
  waba-gensdk, its dependencies resolved by npm from the SDK's own ranges, ``tsc --strict``
  clean, compiled and packed by tools/pack-sdk);
* the plugin as the engine installs plugins:
  ``pulumi-resource-whatsapp-v<version>-<os>-<arch>.tar.gz`` for linux and darwin, amd64 and
  arm64. Each is a Python source plugin: ``PulumiPlugin.yaml`` (``runtime: python``), a
  ``__main__.py`` that serves the provider, the wheel, and a ``requirements.txt`` naming the
  wheel. Installing it, the engine asks the Python language host to make the plugin's own
  virtualenv and pip-install the wheel there (its dependencies come from PyPI); the host then
  runs the folder with that virtualenv's Python. The plugin is pure Python, so the four archives
  hold the same files: one per platform because the engine asks for its own.

``--download-url`` sets where the engine downloads the plugin from, in the schema, the SDK and
the wheel's ``pulumi-plugin.json`` (default: the project's releases, ``schema.DOWNLOAD_URL``).
The checked-in schema.json, pulumi-plugin.json and sdk/nodejs carry the default; this builds
from copies, so the checkout is left as it is.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from waba_webhooks import __version__
from waba_webhooks.plugin import schema

REPO = Path(__file__).resolve().parents[1]
#: The Python distribution's name in file names (wheel and sdist).
DIST_NAME = "waba_webhooks"
#: The plugin archives, one per platform the engine may ask for.
PLATFORMS = [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")]
#: What the plugin's folder holds besides the wheel.
PULUMI_PLUGIN_YAML = """\
# The whatsapp provider plugin, a Python source plugin: the engine has the Python language host
# install requirements.txt into a virtualenv of the plugin's own (venv/), then run __main__.py.
runtime: python
"""
MAIN_PY = '''\
"""Serve the whatsapp provider (pulumi-resource-whatsapp) from the plugin's virtualenv."""

from waba_webhooks.plugin.main import main

main()
'''
#: The archives' file times (1980-01-01), fixed so that one checkout gives the same archives.
EPOCH = 315532800


def plugin_archive_name(version: str, os_name: str, arch: str) -> str:
    """The name of the file the engine downloads for a platform."""
    return f"pulumi-resource-{schema.PACKAGE}-v{version}-{os_name}-{arch}.tar.gz"


def run(args: list[str], cwd: Path | None = None) -> str:
    """Run a command; its output shows only when it fails, and then the release stops."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"release: {' '.join(args)} exited {done.returncode}:\n"
                 f"{done.stdout}\n{done.stderr}")
    return done.stdout


def log(message: str) -> None:
    print(f"release: {message}", file=sys.stderr, flush=True)


def stage_python(stage: Path, download_url: str) -> Path:
    """The package's sources copied to `stage`, with the schema and pulumi-plugin.json naming
    `download_url`."""
    source = stage / "python"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "provider", source / "provider",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    package = source / "provider" / DIST_NAME
    (package / "plugin" / schema.SCHEMA_FILE).write_text(schema.render(download_url))
    (package / "pulumi-plugin.json").write_text(schema.plugin_json(download_url))
    return source


def build_python(source: Path, out: Path, download_url: str) -> tuple[Path, Path]:
    """The sdist and the wheel in `out`, checked by twine and for the files the engine reads."""
    run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(source)])
    wheel = out / f"{DIST_NAME}-{__version__}-py3-none-any.whl"
    sdist = out / f"{DIST_NAME}-{__version__}.tar.gz"
    for path in (wheel, sdist):
        if not path.is_file():
            sys.exit(f"release: python -m build made no {path.name}")
    run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)])
    with zipfile.ZipFile(wheel) as packed:
        plugin = json.loads(packed.read(f"{DIST_NAME}/pulumi-plugin.json"))
        spec = json.loads(packed.read(f"{DIST_NAME}/plugin/{schema.SCHEMA_FILE}"))
    want = {"resource": True, "name": schema.PACKAGE, "version": __version__,
            "server": download_url}
    if plugin != want:
        sys.exit(f"release: the wheel's pulumi-plugin.json is {plugin}, not {want}")
    if spec.get("pluginDownloadURL") != download_url:
        sys.exit(f"release: the wheel's schema names {spec.get('pluginDownloadURL')!r}")
    return wheel, sdist


def build_nodejs(stage: Path, source: Path, out: Path, download_url: str) -> Path:
    """The Node.js SDK generated from the staged schema, compiled and packed into `out`."""
    gensdk = shutil.which("waba-gensdk")
    if gensdk is None:
        sys.exit("release: waba-gensdk is not on PATH (bin/release puts the engine's bin there)")
    sdk = stage / "nodejs"
    run([gensdk, "-schema", str(source / "provider" / DIST_NAME / "plugin" / schema.SCHEMA_FILE),
         "-out", str(sdk)])
    # npm resolves the SDK's own ranges, as for a user who installs the tarball.
    run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"],
        sdk)
    tarball = Path(run([str(REPO / "tools" / "pack-sdk"), str(sdk), str(out)]).splitlines()[-1])
    with tarfile.open(tarball) as packed:
        member = packed.extractfile("package/package.json")
        assert member is not None
        package = json.load(member)
    want = {"resource": True, "name": schema.PACKAGE, "version": __version__,
            "server": download_url}
    if package.get("version") != __version__ or package.get("pulumi") != want:
        sys.exit(f"release: {tarball.name} says version {package.get('version')}, "
                 f"pulumi {package.get('pulumi')}; want {__version__}, {want}")
    return tarball


def build_plugin(wheel: Path, out: Path) -> list[Path]:
    """The plugin's archives, one per platform, in `out`."""
    files = {
        "PulumiPlugin.yaml": PULUMI_PLUGIN_YAML.encode(),
        "__main__.py": MAIN_PY.encode(),
        "requirements.txt": f"./{wheel.name}\n".encode(),
        wheel.name: wheel.read_bytes(),
    }
    archives = []
    for os_name, arch in PLATFORMS:
        path = out / plugin_archive_name(__version__, os_name, arch)
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=EPOCH) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, data in sorted(files.items()):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
                archive.addfile(info, io.BytesIO(data))
        with tarfile.open(path) as archive:
            if sorted(archive.getnames()) != sorted(files):
                sys.exit(f"release: {path.name} holds {archive.getnames()}")
        archives.append(path)
    return archives


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bin/release", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist",
                        help="where the artifacts go (emptied first; default: dist/)")
    parser.add_argument("--download-url", default=schema.DOWNLOAD_URL,
                        help="where the engine downloads the plugin (default: %(default)s)")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    with tempfile.TemporaryDirectory(prefix="waba-release-") as tmp:
        stage = Path(tmp)
        log(f"version {__version__}, plugin downloads from {args.download_url}")
        source = stage_python(stage, args.download_url)
        wheel, sdist = build_python(source, out, args.download_url)
        log(f"built and checked {wheel.name}, {sdist.name}")
        tarball = build_nodejs(stage, source, out, args.download_url)
        log(f"built and checked {tarball.name}")
        archives = build_plugin(wheel, out)
        log(f"built and checked {', '.join(a.name for a in archives)}")
    for path in sorted(out.iterdir()):
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
