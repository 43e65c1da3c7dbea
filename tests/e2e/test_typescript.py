"""A TypeScript program of the generated SDK, with the real CLI against the emulator, on what
a TypeScript infra repo does besides `up` (which tests/e2e/test_examples.py covers, with the
same Graph calls as the Python and YAML programs): the preview of a URL change shows the number
that changes on its own line; the `import` resource option adopts a live override with no
write; an explicit provider for a second Meta app acts with that app's token only. And the
SDK's declared @pulumi/pulumi range is true: a program runs with both of its ends, and with
what npm picks, on each Node.js major we test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import local_plugin, pulumi_in
from tests.e2e.test_nodejs_host import nodejs_host_beside, ts_project, write_program
from tests.e2e.test_yaml import Calls
from tests.nodejs import (
    NODE_MAJORS,
    SDK_PACKAGE,
    install_node,
    installed_version,
    npm_install,
    npm_packages,
    oldest_pulumi,
    sdk_range,
)

__all__ = ["ts_project"]  # the fixture, used by the test below

WABA, NUMBER, OTHER_WABA = "102290129340398", "106540352242922", "102290129340399"

PROGRAM = """
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const config = new pulumi.Config();
const verifyToken = config.requireSecret("verifyToken");

new whatsapp.WabaRouting("support", {
    wabaId: "WABA_ID",
    phoneNumbers: { "NUMBER_ID": config.require("numberUrl") },
    verifyToken,
});

const imported = config.get("importId");
if (imported) {
    new whatsapp.WabaCallbackOverride("adopted", {
        wabaId: imported,
        callbackUri: config.require("adoptedUrl"),
        verifyToken,
    }, { import: imported });
}

const other = new whatsapp.Provider("other", {
    accessToken: config.requireSecret("otherToken"),
    graphUrl: config.require("graphUrl"),
    allowHttpLoopback: true,
});
new whatsapp.WabaCallbackOverride("other-app", {
    wabaId: "WABA_ID",
    callbackUri: config.require("otherUrl"),
    verifyToken,
}, { provider: other });
""".replace("WABA_ID", WABA).replace("NUMBER_ID", NUMBER)


def test_typescript_preview_import_and_a_second_app(engine: str, ts_project: Path,
                                                     tmp_path: Path, emulator,
                                                     callback_receiver):
    nodejs_host_beside(engine)
    write_program(ts_project, "ts-routing", PROGRAM, **local_plugin())
    run = pulumi_in(engine, ts_project, tmp_path)
    other_app = next(app for app in emulator.admin.state()["apps"]
                     if app["id"] != emulator.app_id)
    url = callback_receiver.url_for
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    for key, value, secret in [
        ("whatsapp:accessToken", emulator.token, True), ("whatsapp:graphUrl", emulator.url, False),
        ("whatsapp:allowHttpLoopback", "true", False), ("graphUrl", emulator.url, False),
        ("otherToken", other_app["access_tokens"][0], True),
        ("verifyToken", callback_receiver.verify_token, True),
        ("numberUrl", url("number"), False), ("otherUrl", url("other"), False)]:
        run("config", "set", *(["--secret"] if secret else []), key, value)

    calls = Calls(emulator)
    run("up", "--yes", "--color", "never")
    assert emulator.phone_override(NUMBER) == url("number")
    # The second app's override on the same WABA: its own, written with its own token.
    other_writes = [c for c in calls.writes() if c["app_id"] == other_app["id"]]
    assert [c["path"] for c in other_writes] == [f"/v23.0/{WABA}/subscribed_apps"], calls.made()
    assert all(c["app_id"] == emulator.app_id for c in calls.writes()
               if c not in other_writes)
    # The explicit provider's token is in the state as its input, encrypted, never plaintext.
    exported = run("stack", "export").stdout
    provider = next(r for r in json.loads(exported)["deployment"]["resources"]
                    if r["urn"].endswith("::pulumi:providers:whatsapp::other"))
    assert "ciphertext" in provider["inputs"]["accessToken"], provider["inputs"]
    assert other_app["access_tokens"][0] not in exported

    # A URL change: the preview names the number on a line of its own.
    run("config", "set", "numberUrl", url("number/v2"))
    calls = Calls(emulator)
    preview = run("preview", "--diff", "--color", "never")
    assert f'~ {NUMBER}: "{url("number")}" => "{url("number/v2")}"' in preview.stdout, \
        preview.stdout
    assert calls.made() == [], "a preview makes no Graph call"
    run("up", "--yes", "--color", "never")
    assert emulator.phone_override(NUMBER) == url("number/v2")

    # An override set by hand, adopted with the import option: no write.
    emulator.admin.set_waba_override(OTHER_WABA, emulator.app_id, url("by-hand"))
    run("config", "set", "importId", OTHER_WABA)
    run("config", "set", "adoptedUrl", url("by-hand"))
    calls = Calls(emulator)
    imported = run("up", "--yes", "--color", "never")
    assert "imported" in imported.stdout, imported.stdout
    assert calls.writes() == [], calls.made()
    run("preview", "--expect-no-changes", "--color", "never")

    # Destroy: every override goes, each app clearing its own; no WABA is unsubscribed.
    calls = Calls(emulator)
    run("destroy", "--yes", "--color", "never")
    assert emulator.phone_override(NUMBER) is None
    assert emulator.waba_override(OTHER_WABA) is None
    assert all(c["method"] != "DELETE" for c in calls.made())
    assert emulator.is_subscribed(WABA) and emulator.is_subscribed(OTHER_WABA)
    run("stack", "rm", "dev", "--yes")
    state = json.dumps(emulator.admin.calls())
    assert callback_receiver.verify_token not in state


#: A program that says which Node.js and which @pulumi/pulumi ran it.
RANGE_PROGRAM = """
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const config = new pulumi.Config();
new whatsapp.WabaCallbackOverride("support", {
    wabaId: config.require("wabaId"),
    callbackUri: config.require("callbackUri"),
    verifyToken: config.requireSecret("verifyToken"),
});
export const node = process.version;
export const sdk: string = require("@pulumi/pulumi/package.json").version;
"""

#: (Node.js, @pulumi/pulumi) of each run: this machine's Node with both ends of the SDK's range
#: and with what npm picks by itself, then each other Node.js major we test with both ends.
RANGE_RUNS = [("machine", "oldest"), ("machine", "newest"), ("machine", "npm"),
              *((major, end) for major in NODE_MAJORS for end in ("oldest", "newest"))]


@pytest.mark.parametrize(("node", "end"), RANGE_RUNS,
                         ids=[f"node-{node}-{end}" for node, end in RANGE_RUNS])
def test_a_program_runs_with_each_end_of_the_sdk_range_on_each_node(
        node: str, end: str, engine: str, nodejs_sdk_tarball: Path, tmp_path: Path, emulator,
        callback_receiver):
    """A TypeScript program of the SDK goes through `up` (the override is set), a no-change
    preview and `destroy` (it is gone) with the oldest and the newest @pulumi/pulumi of the
    SDK's declared range, and with the one npm chooses, on this machine's Node.js and on each
    other Node.js major of tests/nodejs.py; the program itself reports the Node.js and the SDK
    that ran it."""
    nodejs_host_beside(engine)
    path = os.environ["PATH"]
    if node != "machine":
        (tmp_path / "node").mkdir()
        path = f"{install_node(node, tmp_path / 'node')}{os.pathsep}{path}"
    pins = npm_packages()
    pulumi = {"oldest": oldest_pulumi(), "newest": pins["@pulumi/pulumi"], "npm": sdk_range()}
    project = tmp_path / "project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({
        "name": "ts-range", "private": True,
        "dependencies": {"@pulumi/pulumi": pulumi[end],
                         SDK_PACKAGE: f"file:{nodejs_sdk_tarball}"},
        "devDependencies": {name: pins[name] for name in ("typescript", "ts-node", "@types/node")},
    }))
    npm_install(project)
    sdk = installed_version(project, "@pulumi/pulumi")
    if end != "npm":
        assert sdk == pulumi[end]
    write_program(project, "ts-range", RANGE_PROGRAM, **local_plugin())
    run = pulumi_in(engine, project, tmp_path)
    run.env["PATH"] = path  # type: ignore[attr-defined]
    waba, uri = emulator.waba_ids[0], callback_receiver.url_for(f"range/{node}/{end}")
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    for key, value in [("whatsapp:graphUrl", emulator.url), ("whatsapp:allowHttpLoopback", "true"),
                       ("wabaId", waba), ("callbackUri", uri)]:
        run("config", "set", key, value)
    for key, value in [("whatsapp:accessToken", emulator.token),
                       ("verifyToken", callback_receiver.verify_token)]:
        run("config", "set", "--secret", key, value)

    run("up", "--yes", "--color", "never")
    assert emulator.waba_override(waba) == uri
    outputs = json.loads(run("stack", "output", "--json").stdout)
    assert outputs["sdk"] == sdk
    if node != "machine":
        assert outputs["node"].startswith(f"v{node}."), outputs
    run("preview", "--expect-no-changes", "--color", "never")
    run("destroy", "--yes", "--color", "never")
    assert emulator.waba_override(waba) is None
    run("stack", "rm", "dev", "--yes")
