"""Upgrading the package under an existing stack.

A stack is created by the code of an earlier release, taken from this repository's history:
the last one before the package was grouped into ``resources/``, ``graph/`` and ``commands/``
(`BEFORE_GROUPING`: its state pickles each provider by the old module path,
``waba_webhooks.phone...``), and the last one before the rule classes were named ``*Rules`` and
what they share left ``resources/`` (`BEFORE_RULES`: ``waba_webhooks.resources.phone`` and
``PhoneCallbackOverrideProvider``...). The code of this checkout then refreshes, updates and
destroys it with the real CLI: no error, and no Graph write but the ones each step asks for.

A native stack is upgraded the same way: a YAML program's `WabaRouting` created by the plugin
of the last commit whose outputs held a secret null for every absent secret output
(`BEFORE_NO_SECRET_NULL`), then refreshed, previewed and destroyed by this checkout's plugin.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.e2e.conftest import PROGRAM, REPO, E2EStack, changes, local_plugin

#: The last landed commit before the grouping (the stacks users have were made by it).
BEFORE_GROUPING = "c3d4838e82679f3cc89ae0013e6423cdaad50e64"
#: The last landed commit before the rule classes were renamed and rules/, tables/ made.
BEFORE_RULES = "5e202ffcc60225fae522be1c2833489fce23a254"
#: The last commit whose plugin returned a secret output that is None (a `WabaRouting`'s
#: ``verifyTokens`` when none are declared), which the engine stored as a ciphertext of null.
BEFORE_NO_SECRET_NULL = "5e075928ce20e59b66996c97a48bd3b3c5191fa9"
#: Resource name -> what its pickled provider names in a state of this checkout's code.
NOW = {"waba": (b"waba_webhooks.resources.waba\x94", b"WabaCallbackOverrideRules"),
       "phone": (b"waba_webhooks.resources.phone\x94", b"PhoneCallbackOverrideRules"),
       "routing": (b"waba_webhooks.resources.waba_routing\x94", b"WabaRoutingRules")}
#: Each earlier release, and what its state's pickled providers name (resource name -> the
#: module path and the class name).
RELEASES = {
    BEFORE_GROUPING: {
        "waba": (b"waba_webhooks.waba\x94", b"WabaCallbackOverrideProvider"),
        "phone": (b"waba_webhooks.phone\x94", b"PhoneCallbackOverrideProvider"),
        "routing": (b"waba_webhooks.waba_routing\x94", b"WabaRoutingProvider"),
    },
    BEFORE_RULES: {
        "waba": (b"waba_webhooks.resources.waba\x94", b"WabaCallbackOverrideProvider"),
        "phone": (b"waba_webhooks.resources.phone\x94", b"PhoneCallbackOverrideProvider"),
        "routing": (b"waba_webhooks.resources.waba_routing\x94", b"WabaRoutingProvider"),
    },
}


def earlier_release(into: Path, commit: str) -> Path:
    """The package and e2e program as `commit` had them, under ``into``."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", commit,
             "provider/waba_webhooks", "tests/e2e/program"],
            capture_output=True, check=True, timeout=120,
        ).stdout
    except subprocess.CalledProcessError as error:
        pytest.fail(f"the upgrade test needs commit {commit} in the repository's "
                    f"history (a full clone, not a shallow one): {error.stderr.decode()}")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def plugin_of(old: Path, into: Path) -> Path:
    """A folder holding a ``pulumi-resource-whatsapp`` that runs the plugin of the package
    under ``old`` (from `earlier_release`) with this virtualenv's dependencies."""
    into.mkdir()
    script = into / "pulumi-resource-whatsapp"
    script.write_text(f"#!/bin/sh\nPYTHONPATH={old / 'provider'} exec {sys.executable} -c "
                      "'import sys; from waba_webhooks.plugin.main import main; sys.exit(main())'"
                      ' "$@"\n')
    script.chmod(0o755)
    return into


def writes(emulator) -> list[str]:
    """The accepted Graph writes so far, as ``POST <path>``."""
    return [f"{c['method']} {re.sub(r'^/v[0-9.]+', '', c['path'])}"
            for c in emulator.admin.calls()
            if c["method"] in ("POST", "DELETE") and c["status"] == 200]


def provider_blobs(stack: E2EStack) -> dict[str, bytes]:
    """Resource name -> its pickled provider, as the state holds it."""
    found = {}
    for resource in stack.deployment().get("resources", []):
        blob = resource.get("inputs", {}).get("__provider")
        if isinstance(blob, str):
            found[resource["urn"].rsplit("::", 1)[-1]] = base64.b64decode(blob)
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("release", list(RELEASES), ids=["before-grouping", "before-rules"])
def test_a_stack_made_by_an_earlier_release_is_refreshed_updated_and_destroyed(
        engine, tmp_path, emulator, callback_receiver, pulumi_home, release):
    old = earlier_release(tmp_path / "old", release)
    phone = emulator.routable_phone_ids[0]
    waba = emulator.waba_of(phone)
    other_waba = next(w for w in emulator.waba_ids if w != waba and emulator.is_subscribed(w)
                      and any(emulator.waba_of(p) == w for p in emulator.phone_ids))
    routed = next(p for p in emulator.phone_ids if emulator.waba_of(p) == other_waba)

    def declare(stack: E2EStack, version: str) -> None:
        url = callback_receiver.url_for
        stack.declare(
            wabas=[{"name": "waba", "id": waba, "callbackUri": url(f"waba{version}")}],
            phones=[{"name": "phone", "id": phone, "callbackUri": url(f"phone{version}")}],
            routings=[{"name": "routing", "id": other_waba,
                       "callbackUri": url(f"routing{version}"),
                       "phones": {routed: url(f"routed{version}")}}],
        )

    # 1. The earlier release creates the stack: its program and provider import the old code.
    root = tmp_path / "stack"
    root.mkdir()
    earlier = E2EStack(root, emulator, pulumi_home, callback_receiver.verify_token,
                       program=old / "tests/e2e/program")
    for env in (earlier.env, earlier.stack.workspace.env_vars):
        env["PYTHONPATH"] = str(old / "provider")
    declare(earlier, "")
    assert changes(earlier.up().summary.resource_changes) == {"create": 4}
    blobs = provider_blobs(earlier)
    assert set(blobs) == {"waba", "phone", "routing"}
    for name, (path, class_name) in RELEASES[release].items():
        assert path in blobs[name], f"{name}'s provider is not pickled by its old path"
        assert class_name in blobs[name], f"{name}'s provider is not pickled by its old name"
        assert NOW[name][1] not in blobs[name]

    # 2. This checkout's code and program take over the same stack and state.
    shutil.copytree(PROGRAM, root / "project", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    current = E2EStack(root, emulator, pulumi_home, callback_receiver.verify_token)
    assert "PYTHONPATH" not in current.stack.workspace.env_vars
    declare(current, "")
    before = writes(emulator)

    assert changes(current.refresh().summary.resource_changes) == {}
    assert changes(current.preview().change_summary) == {}
    assert writes(emulator) == before, "refresh or preview wrote to the Graph API"

    declare(current, "-v2")
    assert changes(current.up().summary.resource_changes) == {"update": 3}
    assert emulator.waba_override(waba) == callback_receiver.url_for("waba-v2")
    assert emulator.phone_override(phone) == callback_receiver.url_for("phone-v2")
    assert emulator.waba_override(other_waba) == callback_receiver.url_for("routing-v2")
    assert emulator.phone_override(routed) == callback_receiver.url_for("routed-v2")
    assert sorted(writes(emulator)[len(before):]) == sorted(
        [f"POST /{waba}/subscribed_apps",
         f"POST /{phone}",
         f"POST /{other_waba}/subscribed_apps",
         f"POST /{routed}"])
    # The update ran this checkout's rules: the state now names their new paths and names.
    for name, blob in provider_blobs(current).items():
        assert all(part in blob for part in NOW[name]), f"{name}: {blob!r}"

    before = writes(emulator)
    assert changes(current.destroy().summary.resource_changes) == {"delete": 4}
    for object_id in (waba, other_waba):
        assert emulator.waba_override(object_id) is None
        assert emulator.is_subscribed(object_id), "destroy unsubscribed the app"
    for object_id in (phone, routed):
        assert emulator.phone_override(object_id) is None
    assert len(writes(emulator)) - len(before) == 4  # one clear per override, nothing else
    current.export()
    assert current.leaked(emulator.token, callback_receiver.verify_token) == []
    assert earlier.leaked(emulator.token, callback_receiver.verify_token) == []


def _routing_program(plugin: dict, waba: str, number: str, url: str) -> str:
    """A Pulumi YAML program (JSON is YAML) of one `WabaRouting`, run by ``plugin`` (a
    `local_plugin` entry)."""
    return json.dumps({
        "name": "e2e", "runtime": "yaml", **plugin,
        "config": {"e2e:verifyToken": {"type": "string", "secret": True}},
        "resources": {"routing": {"type": "whatsapp:WabaRouting", "properties": {
            "wabaId": waba, "verifyToken": "${e2e:verifyToken}", "callbackUri": url,
            "phoneNumbers": {number: url + "/number"}}}},
    }, indent=2)


@pytest.mark.e2e
def test_a_native_stack_made_by_an_earlier_plugin_is_refreshed_and_destroyed(
        engine, tmp_path, emulator, callback_receiver, pulumi_home):
    """Its state holds a ciphertext of null for ``verifyTokens`` and the map ``effective``;
    this checkout's plugin reads it with no change and no Graph write, and its refresh records
    neither output any more."""
    old_plugin = plugin_of(earlier_release(tmp_path / "old", BEFORE_NO_SECRET_NULL),
                           tmp_path / "old-plugin")
    waba = next(w for w in emulator.waba_ids if emulator.is_subscribed(w)
                and any(emulator.waba_of(p) == w for p in emulator.routable_phone_ids))
    number = next(p for p in emulator.routable_phone_ids if emulator.waba_of(p) == waba)
    url = callback_receiver.url_for("routing")
    project = tmp_path / "stack" / "project"
    project.mkdir(parents=True)

    def routing_outputs(stack: E2EStack) -> dict:
        return next(r for r in stack.deployment()["resources"]
                    if r["type"] == "whatsapp:index:WabaRouting")["outputs"]

    earlier = local_plugin(old_plugin)
    (project / "Pulumi.yaml").write_text(_routing_program(earlier, waba, number, url))
    stack = E2EStack(tmp_path / "stack", emulator, pulumi_home, callback_receiver.verify_token)
    assert changes(stack.up().summary.resource_changes) == {"create": 2}  # and the stack
    assert "ciphertext" in routing_outputs(stack)["verifyTokens"], \
        "the earlier plugin did not store the secret null this test upgrades from"
    assert "effective" in routing_outputs(stack), \
        "the earlier plugin did not store the effective routing this test upgrades from"

    (project / "Pulumi.yaml").write_text(_routing_program(local_plugin(), waba, number, url))
    before = writes(emulator)
    assert changes(stack.refresh().summary.resource_changes) == {}
    assert "verifyTokens" not in routing_outputs(stack)
    assert "effective" not in routing_outputs(stack)
    assert changes(stack.preview().change_summary) == {}
    assert changes(stack.up().summary.resource_changes) == {}
    assert writes(emulator) == before, "refresh, preview or up wrote to the Graph API"
    assert emulator.phone_override(number) == url + "/number"

    assert changes(stack.destroy().summary.resource_changes) == {"delete": 2}
    assert emulator.phone_override(number) is None and emulator.waba_override(waba) is None
    stack.export()
    assert stack.leaked(emulator.token, callback_receiver.verify_token) == []
