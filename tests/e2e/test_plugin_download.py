"""The engine fetches the plugin itself, as it does any provider's: bin/release builds the
artifacts with a loopback download location (``--download-url http://127.0.0.1:PORT/``), a
loopback HTTP server serves that dist/, and each program runs with automatic plugin acquisition
on (no ``plugins:`` path, no PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION), a fresh PULUMI_HOME,
and no ``pulumi-resource-whatsapp`` on PATH, as on a machine where nothing of ours was
installed. On the first ``up`` the engine learns the plugin's version and location from the
program's packages (the SDK's package.json, the wheel's pulumi-plugin.json, the YAML resource
options), downloads this platform's archive, installs it (the Python language host makes the
plugin's own virtualenv and pip-installs the wheel there) and runs it.

Each program is an example of examples/ and goes through the same lifecycle as there
(tests/e2e/test_examples.py: up, a no-change preview, destroy), making the same Graph calls.
`pulumi plugin install resource whatsapp VERSION --server URL` installs the plugin ahead of
time, then a program finds it with downloads turned off. A stack made with the plugin from a
path moves to the downloaded plugin with no change to its resources. `pulumi package add`
generates and links a local SDK from the installed plugin (TypeScript) and from a plugin folder
(Python), and the examples run with it. A program that asks for another plugin version than
the installed one gets exactly the version it asks for.

It needs the network to the package registries (npm; PyPI for the plugin's dependencies and the
Python program's requirements, which pip takes from its cache when it can).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.e2e.conftest import E2EStack, changes, local_plugin
from tests.e2e.test_examples import EXAMPLES, WABA, lifecycle
from tests.e2e.test_yaml import APP_SECRET, Calls
from tests.nodejs import SDK_PACKAGE, depend_on_sdk, npm_packages, run
from waba_webhooks import __version__

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "pulumi-resource-whatsapp"


@dataclass
class Release:
    """dist/ of a bin/release run, served over loopback HTTP."""

    dist: Path
    url: str
    #: The paths the server was asked for, in order.
    requests: list[str] = field(default_factory=list)

    def one(self, pattern: str) -> Path:
        found = sorted(self.dist.glob(pattern))
        assert len(found) == 1, (pattern, sorted(p.name for p in self.dist.iterdir()))
        return found[0]

    def archive(self) -> str:
        """This machine's plugin archive, as the engine names it."""
        arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
        return f"{PLUGIN}-v{__version__}-{sys.platform}-{arch}.tar.gz"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Iterator[Release]:
    """bin/release's artifacts in a folder of the module's own, served on a free loopback port
    (the server stops with the module)."""
    dist = tmp_path_factory.mktemp("dist")
    served: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            served.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(dist)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        done = subprocess.run([str(REPO / "bin" / "release"), "--download-url", url,
                               "--out", str(dist)], cwd=REPO, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, f"bin/release failed:\n{done.stdout}\n{done.stderr}"
        yield Release(dist, url, served)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def clean_path() -> str:
    """PATH without any folder that holds a pulumi-resource-whatsapp (this test run's
    virtualenv has one): the engine must not find the plugin there."""
    kept = [d for d in os.environ["PATH"].split(os.pathsep)
            if d and not (Path(d) / PLUGIN).exists()]
    path = os.pathsep.join(kept)
    assert shutil.which(PLUGIN, path=path) is None
    return path


def downloading(stack: E2EStack) -> E2EStack:
    """The stack's runs with automatic plugin acquisition on and no plugin on PATH."""
    stack.env.pop("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION")
    stack.env["PATH"] = clean_path()
    return stack


def copy_example(language: str, root: Path) -> Path:
    target = root / "project"
    shutil.copytree(EXAMPLES / language, target,
                    ignore=shutil.ignore_patterns("venv", "node_modules", "__pycache__"))
    return target


def installed_plugin(home: Path) -> Path:
    """The plugin's folder in PULUMI_HOME, which must hold the archive's files and the virtualenv
    the install made."""
    folder = home / "plugins" / f"resource-whatsapp-v{__version__}"
    assert (folder / "PulumiPlugin.yaml").is_file(), sorted(home.rglob("*"))[:50]
    assert (folder / "venv" / "bin" / "python").exists()
    return folder


def default_providers(stack: E2EStack) -> list[str]:
    """The names of the `whatsapp` providers the stack's state records."""
    return [r["urn"].rsplit("::", 1)[1] for r in stack.deployment()["resources"]
            if r["type"] == "pulumi:providers:whatsapp"]


def check_downloaded_once(release: Release, before: int) -> None:
    asked = release.requests[before:]
    assert asked == [f"/{release.archive()}"], asked


def test_typescript_program_gets_the_plugin_from_the_release(
        release: Release, engine: str, tmp_path: Path, emulator, callback_receiver):
    """The TypeScript example with the released SDK tarball: the engine downloads and installs
    the plugin on the first `up` (the SDK's package.json names its version and location)."""
    project = copy_example("typescript", tmp_path)
    depend_on_sdk(project, release.one("*.tgz"))

    home = tmp_path / "home"
    before = len(release.requests)
    stack = downloading(E2EStack(tmp_path, emulator, home, callback_receiver.verify_token,
                                 app_secret=APP_SECRET))
    lifecycle("typescript-downloaded", stack, emulator, callback_receiver)
    check_downloaded_once(release, before)
    installed_plugin(home)


def test_yaml_program_gets_the_plugin_from_its_resource_options(
        release: Release, engine: str, tmp_path: Path, emulator, callback_receiver):
    """The YAML example with each resource's `version` and `pluginDownloadURL` options, as
    Pulumi YAML declares a package that is not in the registry."""
    project = copy_example("yaml", tmp_path)
    program = yaml.safe_load((project / "Pulumi.yaml").read_text())
    for resource in program["resources"].values():
        resource["options"] = {"version": __version__, "pluginDownloadURL": release.url}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))

    home = tmp_path / "home"
    before = len(release.requests)
    stack = downloading(E2EStack(tmp_path, emulator, home, callback_receiver.verify_token,
                                 app_secret=APP_SECRET))
    lifecycle("yaml-downloaded", stack, emulator, callback_receiver)
    check_downloaded_once(release, before)
    installed_plugin(home)


def test_python_program_of_the_native_classes_gets_the_plugin_from_the_wheel(
        release: Release, engine: str, tmp_path: Path, emulator, callback_receiver):
    """The Python example in a virtualenv where the released wheel is pip-installed: the
    wheel's pulumi-plugin.json names the plugin, and the Python language host reports it."""
    project = copy_example("python", tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         str(release.one("*.whl"))], tmp_path, timeout=900)
    program = yaml.safe_load((project / "Pulumi.yaml").read_text())
    program["runtime"]["options"]["virtualenv"] = str(venv)
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))

    home = tmp_path / "home"
    before = len(release.requests)
    stack = downloading(E2EStack(tmp_path, emulator, home, callback_receiver.verify_token,
                                 app_secret=APP_SECRET))
    lifecycle("python-downloaded", stack, emulator, callback_receiver)
    check_downloaded_once(release, before)
    installed_plugin(home)


def cli_env(home: Path) -> dict[str, str]:
    """The environment of a `pulumi` command a user types: `home` as PULUMI_HOME, no plugin on
    PATH, automatic plugin acquisition on."""
    env = {**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PATH": clean_path()}
    env.pop("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", None)
    return env


def pulumi(engine: str, args: list[str], home: Path, cwd: Path | None = None,
           ok: bool = True) -> subprocess.CompletedProcess[str]:
    """`pulumi ARGS` in `cwd` with `home`; with `ok`, a failure fails the test with its output."""
    done = subprocess.run([engine, *args], cwd=cwd, env=cli_env(home), capture_output=True,
                          text=True, timeout=900, check=False)
    if ok:
        assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed_home(release: Release, engine: str, tmp_path_factory) -> Path:
    """A PULUMI_HOME where `pulumi plugin install resource whatsapp VERSION --server URL`
    installed the plugin: downloaded once, installed with its virtualenv, listed by
    `pulumi plugin ls`. The tests that use it add no other plugin to it."""
    home = tmp_path_factory.mktemp("installed-home")
    before = len(release.requests)
    pulumi(engine, ["plugin", "install", "resource", "whatsapp", __version__,
                    "--server", release.url], home)
    check_downloaded_once(release, before)
    installed_plugin(home)
    listed = pulumi(engine, ["plugin", "ls", "--json"], home)
    assert [(p["name"], p["kind"], p["version"]) for p in json.loads(listed.stdout)] == [
        ("whatsapp", "resource", __version__)]
    return home


def test_plugin_install_from_the_server_then_a_program_uses_it(
        release: Release, installed_home: Path, tmp_path: Path, emulator, callback_receiver):
    """`pulumi plugin install resource whatsapp VERSION --server URL` downloads and installs the
    plugin (installed_home); then the YAML example (no download location, downloads turned off)
    runs with it."""
    before = len(release.requests)
    copy_example("yaml", tmp_path)
    stack = E2EStack(tmp_path, emulator, installed_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.env["PATH"] = clean_path()  # downloads stay off (E2EStack's default)
    lifecycle("yaml-installed", stack, emulator, callback_receiver)
    assert release.requests[before:] == []


def test_a_stack_moves_from_the_plugin_path_to_the_download(
        release: Release, engine: str, tmp_path: Path, emulator, callback_receiver):
    """The upgrade note's move (CHANGELOG.md): a YAML stack made with the plugin from a path in
    Pulumi.yaml, then the path removed and each resource given the release's version and
    download location. The next `up` downloads the plugin and changes nothing: no resource
    changes and no write to Meta; only the default provider the state records is now the one
    named after the version and download location."""
    project = copy_example("yaml", tmp_path)
    program = yaml.safe_load((project / "Pulumi.yaml").read_text())
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({**program, **local_plugin()},
                                                        sort_keys=False))
    home = tmp_path / "home"
    stack = E2EStack(tmp_path, emulator, home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.stack.set_all_config({
        "whatsapp:appId": auto.ConfigValue(emulator.app_id),
        "verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
        **{f"{name}Url": auto.ConfigValue(callback_receiver.url_for(f"moved/{name}"))
           for name in ("support", "vip", "sales", "app")},
    })
    assert changes(stack.up().summary.resource_changes) == {"create": 4}
    assert default_providers(stack) == ["default"]

    for resource in program["resources"].values():
        resource["options"] = {"version": __version__, "pluginDownloadURL": release.url}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    downloading(stack)
    before = len(release.requests)
    calls = Calls(emulator)
    moved = stack.up()
    check_downloaded_once(release, before)
    assert changes(moved.summary.resource_changes) == {}, moved.stdout
    assert calls.writes() == [], calls.made()
    [provider] = default_providers(stack)
    assert provider.startswith(f"default_{__version__.replace('.', '_')}_http"), provider
    stack.destroy()
    assert emulator.waba_override(WABA) is None
    stack.stack.workspace.remove_stack("test", force=True)


def test_package_add_of_the_installed_plugin_links_a_typescript_sdk(
        release: Release, engine: str, installed_home: Path, tmp_path: Path, emulator,
        callback_receiver):
    """`pulumi package add whatsapp` in a TypeScript project with no SDK of ours: the engine
    takes the schema from the installed plugin, our Node.js host generates a local SDK into
    sdks/whatsapp, adds it to package.json as a `file:` dependency and installs it (npm install,
    which compiles it), and Pulumi.yaml records the package. The example then runs unchanged,
    with downloads off and nothing downloaded."""
    project = copy_example("typescript", tmp_path)
    package = json.loads((project / "package.json").read_text())
    pins = npm_packages()
    package["dependencies"] = {"@pulumi/pulumi": pins["@pulumi/pulumi"]}
    package["devDependencies"] = {name: pins[name]
                                  for name in ("typescript", "ts-node", "@types/node")}
    (project / "package.json").write_text(json.dumps(package, indent=2))

    before = len(release.requests)
    added = pulumi(engine, ["package", "add", "whatsapp"], installed_home, cwd=project)
    assert f'import * as whatsapp from "{SDK_PACKAGE}";' in added.stdout, added.stdout
    linked = json.loads((project / "package.json").read_text())
    assert linked["dependencies"][SDK_PACKAGE] == "file:sdks/whatsapp"
    sdk = json.loads((project / "sdks" / "whatsapp" / "package.json").read_text())
    assert sdk["pulumi"] == {"resource": True, "name": "whatsapp", "version": __version__,
                             "server": release.url}
    installed = project / "node_modules" / SDK_PACKAGE
    assert installed.resolve() == (project / "sdks" / "whatsapp").resolve()
    assert (installed / "bin" / "index.js").is_file()  # compiled when npm installed it
    assert yaml.safe_load((project / "Pulumi.yaml").read_text())["packages"] == {
        "whatsapp": f"whatsapp@{__version__}"}

    stack = E2EStack(tmp_path, emulator, installed_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.env["PATH"] = clean_path()  # downloads stay off (E2EStack's default)
    lifecycle("typescript-package-add", stack, emulator, callback_receiver)
    assert release.requests[before:] == []


def test_package_add_of_the_plugin_folder_links_a_python_sdk(
        release: Release, engine: str, tmp_path: Path, emulator, callback_receiver):
    """`pulumi package add <plugin folder>` in a Python project whose requirements.txt names
    only pulumi: the engine installs and runs the plugin from the folder (the release's archive,
    unpacked: the engine takes no archive path there), our Python host generates the SDK into
    sdks/whatsapp, adds that folder to requirements.txt and installs the requirements into the
    project's virtualenv (made by the install). The Python example, importing the generated
    pulumi_whatsapp instead of the package's native classes, then runs with the plugin from the
    folder Pulumi.yaml now names, downloads off."""
    project = copy_example("python", tmp_path)
    main = project / "__main__.py"
    ours = "from waba_webhooks import native as whatsapp\n"
    assert ours in main.read_text()
    main.write_text(main.read_text().replace(ours, "import pulumi_whatsapp as whatsapp\n"))
    (project / "requirements.txt").write_text("pulumi>=3.0.0,<4.0.0\n")
    home = tmp_path / "home"

    archive = release.one(release.archive())
    refused = pulumi(engine, ["package", "add", str(archive)], home, cwd=project, ok=False)
    assert refused.returncode != 0 and "not a directory" in refused.stderr, refused.stderr
    folder = tmp_path / "plugin"
    folder.mkdir()
    with tarfile.open(archive) as unpacked:
        unpacked.extractall(folder, filter="data")

    before = len(release.requests)
    added = pulumi(engine, ["package", "add", str(folder)], home, cwd=project)
    assert "import pulumi_whatsapp as whatsapp" in added.stdout, added.stdout
    assert (project / "requirements.txt").read_text() == (
        "pulumi>=3.0.0,<4.0.0\nsdks/whatsapp\n")
    assert yaml.safe_load((project / "Pulumi.yaml").read_text())["packages"] == {
        "whatsapp": str(folder)}
    venv_python = project / "venv" / "bin" / "python"
    found = subprocess.run([str(venv_python), "-c", "import importlib.metadata as m; "
                            "print(m.version('pulumi_whatsapp'))"], capture_output=True,
                           text=True, check=True)
    assert found.stdout.strip() == __version__

    stack = E2EStack(tmp_path, emulator, home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.env["PATH"] = clean_path()  # downloads stay off (E2EStack's default)
    lifecycle("python-package-add", stack, emulator, callback_receiver)
    assert release.requests[before:] == []


#: A plugin version a program asks for while this version is installed: older, so that the
#: engine's exact choice (not the newest installed plugin at or above it) is what the test shows.
OTHER_VERSION = "0.1.0"


def test_a_program_asking_for_another_version_gets_exactly_that_version(
        release: Release, engine: str, installed_home: Path, tmp_path: Path, emulator,
        callback_receiver):
    """The YAML example asks for plugin version X (each resource's `version` option) while Y,
    this release, is installed: as with any provider, the engine takes only a plugin of exactly
    version X. With downloads off, `preview` fails saying no plugin of version X is installed,
    with no Graph call. With
    downloads on, the engine downloads X's archive from the download location, installs it
    beside Y and runs the program with it. (X's archive is this release's plugin under X's
    name: the engine takes a plugin's version from what it asked for.)"""
    home = tmp_path / "home"
    shutil.copytree(installed_home, home, symlinks=True)
    project = copy_example("yaml", tmp_path)
    program = yaml.safe_load((project / "Pulumi.yaml").read_text())
    for resource in program["resources"].values():
        resource["options"] = {"version": OTHER_VERSION, "pluginDownloadURL": release.url}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    stack = E2EStack(tmp_path, emulator, home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.env["PATH"] = clean_path()  # downloads off (E2EStack's default)
    stack.stack.set_all_config({
        "verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
        **{f"{name}Url": auto.ConfigValue(callback_receiver.url_for(f"other/{name}"))
           for name in ("support", "vip", "sales", "app")},
    })
    calls = Calls(emulator)
    with pytest.raises(auto.CommandError) as missing:
        stack.preview()
    assert (f"no resource plugin '{PLUGIN}' found in the workspace at version "
            f"v{OTHER_VERSION}") in str(missing.value), str(missing.value)
    assert calls.made() == []

    other = release.dist / release.archive().replace(f"-v{__version__}-", f"-v{OTHER_VERSION}-")
    shutil.copyfile(release.one(release.archive()), other)
    try:
        before = len(release.requests)
        lifecycle("yaml-other-version", downloading(stack), emulator, callback_receiver)
        assert release.requests[before:] == [f"/{other.name}"]
    finally:
        other.unlink()
    listed = pulumi(engine, ["plugin", "ls", "--json"], home)
    assert sorted(p["version"] for p in json.loads(listed.stdout)
                  if p["name"] == "whatsapp") == sorted([OTHER_VERSION, __version__])
    assert (home / "plugins" / f"resource-whatsapp-v{OTHER_VERSION}" / "venv").is_dir()
