"""The Node.js SDK of the `whatsapp` package, sdk/nodejs: generated from the plugin's schema by
tools/gen-sdk (waba-gensdk, tools/engine/gensdk), checked in, and a TypeScript package that
compiles under `tsc --strict` and packs into a tarball that a program can install.

Its @pulumi/pulumi range is the one the generator writes (the oldest SDK that has what the
generated code calls): the SDK compiles strictly with both ends of it, with what npm picks by
itself on this machine's Node, and not with the release just below it.

The tests need the test engine's bin directory (tools/install-engine, which bin/test runs); all
but the first also Node.js, npm and the npm registry. Missing any of them is a failure, never a
skip.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from tests.nodejs import (
    GEN_SDK,
    REPO,
    SDK_DIR,
    SDK_PACKAGE,
    build_sdk,
    installed_version,
    oldest_pulumi,
    require_tool,
    run,
    sdk_range,
)
from waba_webhooks import __version__
from waba_webhooks.plugin import schema

#: What npm or tsc leave in the SDK directory: never checked in (sdk/nodejs/.gitignore).
UNTRACKED = {"node_modules", "bin"}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path -> content), without UNTRACKED directories."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not UNTRACKED & set(path.relative_to(root).parts)
    }


def test_sdk_nodejs_is_what_the_generator_writes_from_the_schema(tmp_path: Path):
    """sdk/nodejs is exactly what tools/gen-sdk writes from schema.json today: a schema change
    (or a generator upgrade) without a regenerated SDK fails here."""
    fresh = tmp_path / "nodejs"
    run([str(GEN_SDK), "nodejs", str(fresh)], tmp_path)
    want, have = tree(fresh), tree(SDK_DIR)
    stale = sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))
    assert not stale, (f"sdk/nodejs is stale ({', '.join(stale)}): run tools/gen-sdk "
                       "(after .venv/bin/python -m waba_webhooks.plugin.schema > "
                       "provider/waba_webhooks/plugin/schema.json if the resources changed)")


def check_packed(tarball: Path) -> None:
    """The packed SDK holds the JavaScript, the type declarations, the package's name and
    version, the plugin it needs (its name, version and download location), its license (the
    LICENSE file and package.json's `license`) and the project's URLs."""
    with tarfile.open(tarball) as packed:
        names = set(packed.getnames())
        package = json.load(packed.extractfile("package/package.json"))
        license_file = packed.extractfile("package/LICENSE")
        assert license_file is not None, sorted(names)
        license_text = license_file.read().decode()
    for module in ("index", "provider", "wabaCallbackOverride", "phoneCallbackOverride",
                   "wabaRouting", "appWebhookSubscription", "config/vars"):
        assert {f"package/{module}.js", f"package/{module}.d.ts"} <= names, sorted(names)
    assert package["name"] == SDK_PACKAGE
    assert package["version"] == __version__
    # The license and the project's URLs, from the schema, as the wheel says them.
    assert license_text == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert package["license"] == schema.LICENSE == "Apache-2.0"
    assert package["repository"] == schema.REPOSITORY
    assert package["homepage"] == schema.HOMEPAGE
    assert package["pulumi"] == {"resource": True, "name": "whatsapp", "version": __version__,
                                 "server": schema.DOWNLOAD_URL}
    assert package["dependencies"]["@pulumi/pulumi"] == sdk_range()


def test_sdk_compiles_strictly_and_packs_with_the_newest_pulumi(nodejs_sdk_tarball: Path):
    """With the newest @pulumi/pulumi of its range (and the pinned TypeScript), the SDK passes
    `tsc --noEmit --strict`, compiles and packs (build_sdk fails the test on any of these
    steps)."""
    check_packed(nodejs_sdk_tarball)


def test_sdk_compiles_strictly_and_packs_with_the_oldest_pulumi(tmp_path: Path):
    """The same with the floor of the SDK's declared range."""
    tarball = build_sdk(tmp_path, pulumi=oldest_pulumi())
    assert installed_version(tmp_path / "sdk", "@pulumi/pulumi") == oldest_pulumi()
    check_packed(tarball)


def test_sdk_compiles_with_what_npm_resolves_by_itself(tmp_path: Path):
    """With nothing pinned, npm on this machine's Node picks an @pulumi/pulumi inside the range
    (npm prefers the newest release whose `engines` fits the running Node, else the newest) and
    the SDK compiles strictly against it."""
    tarball = build_sdk(tmp_path, pulumi=None)
    chosen = installed_version(tmp_path / "sdk", "@pulumi/pulumi")
    assert _version(oldest_pulumi()) <= _version(chosen) < (4,), chosen
    check_packed(tarball)


def test_the_range_starts_where_the_generated_code_compiles(tmp_path: Path):
    """The floor is as low as it can be: the newest @pulumi/pulumi below it lacks what the
    generated code calls (`runtime.existsResource`, behind each resource's `exists`), so the SDK
    does not compile against it."""
    published = json.loads(run([require_tool("npm"), "view", "@pulumi/pulumi", "versions",
                                "--json"], tmp_path).stdout)
    below = max((v for v in published if re.fullmatch(r"3\.\d+\.\d+", v)
                 and _version(v) < _version(oldest_pulumi())), key=_version)
    try:
        build_sdk(tmp_path, pulumi=below)
    except AssertionError as failed:
        assert "error TS" in str(failed) and "existsResource" in str(failed), str(failed)
    else:
        pytest.fail(f"the SDK compiles with @pulumi/pulumi {below}: its range could start lower")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))
