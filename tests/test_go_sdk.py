"""The Go SDK of the `whatsapp` package, sdk/go: generated from the plugin's schema by
tools/gen-sdk (waba-gensdk, tools/engine/gensdk, with `go mod tidy` for its go.mod and go.sum),
checked in, and a Go module that `go vet` and `go build` pass on.

The first test needs the test engine's bin directory (tools/install-engine, which bin/test runs);
both need Go and its module cache or the Go module proxy. Missing any is a failure, never a skip.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.golang import SDK_DIR, go
from tests.nodejs import GEN_SDK, run
from waba_webhooks import __version__
from waba_webhooks.plugin import schema
from waba_webhooks.plugin.schema import GO_IMPORT_PATH, GO_MODULE


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path -> content)."""
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_sdk_go_is_what_the_generator_writes_from_the_schema(tmp_path: Path):
    """sdk/go is exactly what tools/gen-sdk writes from schema.json today, go.mod and go.sum
    included: a schema change (or a generator or Pulumi SDK upgrade) without a regenerated SDK
    fails here."""
    fresh = tmp_path / "go"
    run([str(GEN_SDK), "go", str(fresh)], tmp_path)
    want, have = tree(fresh), tree(SDK_DIR)
    stale = sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))
    assert not stale, (f"sdk/go is stale ({', '.join(stale)}): run tools/gen-sdk go "
                       "(after .venv/bin/python -m waba_webhooks.plugin.schema > "
                       "provider/waba_webhooks/plugin/schema.json if the resources changed)")


def test_sdk_go_vets_and_builds():
    """The module is the schema's, its package `whatsapp` at the schema's import path declares
    every resource and the provider, its pulumi-plugin.json names the plugin and the package's
    version, and `go vet ./...` and `go build ./...` pass with the checked-in go.sum."""
    module = json.loads(go(["list", "-m", "-json"], SDK_DIR).stdout)
    assert module["Path"] == GO_MODULE
    package = json.loads(go(["list", "-json", "./whatsapp"], SDK_DIR).stdout)
    assert (package["ImportPath"], package["Name"]) == (GO_IMPORT_PATH, "whatsapp")
    for resource in ("WabaCallbackOverride", "PhoneCallbackOverride", "WabaRouting",
                     "AppWebhookSubscription", "Provider"):
        go(["doc", f"{GO_IMPORT_PATH}.New{resource}"], SDK_DIR)
    assert json.loads((SDK_DIR / "whatsapp" / "pulumi-plugin.json").read_text()) == {
        "resource": True, "name": "whatsapp", "version": __version__,
        "server": schema.DOWNLOAD_URL}
    go(["vet", "./..."], SDK_DIR)
    go(["build", "./..."], SDK_DIR)
