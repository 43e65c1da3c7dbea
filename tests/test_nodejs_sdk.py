"""The Node.js SDK of the `whatsapp` package, sdk/nodejs: generated from the plugin's schema by
tools/gen-sdk (waba-gensdk, tools/engine/gensdk), checked in, and a TypeScript package that
compiles under `tsc --strict` and packs into a tarball that a program can install.

Both tests need the test engine's bin directory (tools/install-engine, which bin/test runs); the
second also Node.js, npm and the npm registry. Missing any of them is a failure, never a skip.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from tests.nodejs import GEN_SDK, REPO, SDK_DIR, SDK_PACKAGE, run
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


def test_sdk_compiles_strictly_and_packs(nodejs_sdk_tarball: Path):
    """With its dependencies installed (the pinned @pulumi/pulumi and TypeScript), the SDK passes
    `tsc --noEmit --strict`, compiles, and `npm pack` of the compiled package gives a tarball with
    the JavaScript, the type declarations, the package's name and version, its license (the
    LICENSE file and package.json's `license`) and the project's URLs (the fixture's build_sdk
    fails the test on any of these steps)."""
    with tarfile.open(nodejs_sdk_tarball) as packed:
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
    assert package["pulumi"] == {"resource": True, "name": "whatsapp", "version": __version__}
    # The license and the project's URLs, from the schema, as the wheel says them.
    assert license_text == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert package["license"] == schema.LICENSE == "Apache-2.0"
    assert package["repository"] == schema.REPOSITORY
    assert package["homepage"] == schema.HOMEPAGE
