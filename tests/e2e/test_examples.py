"""Every example in examples/ runs, so none can rot: each is copied into a project of its own,
pointed at this checkout's plugin, and taken through ``up`` (the routing it declares is what the
emulator then holds), a no-change ``preview`` (no Graph call) and ``destroy`` (the overrides go,
the WABAs stay subscribed, the app's subscription stays). The examples declare the same routing,
so their ``up`` makes the same Graph calls."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from tests.e2e.conftest import E2EStack, changes, local_plugin
from tests.e2e.test_yaml import APP_SECRET, Calls, shape
from tests.golang import SDK_DIR as GO_SDK_DIR
from tests.golang import compile_program, go
from tests.nodejs import depend_on_sdk
from waba_webhooks.plugin.schema import GO_MODULE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LANGUAGES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "Pulumi.yaml").exists())
WABA, VIP, SALES, SALES_WABA = ("102290129340398", "106540352242922", "106540352242924",
                                "102290129340399")

#: language -> the Graph calls of its `up`, to compare the examples with each other.
UP_CALLS: dict[str, Counter[tuple[str, str]]] = {}


def project(root: Path, language: str, request: pytest.FixtureRequest) -> Path:
    """The example copied into `root`/project, its Pulumi.yaml pointing at this checkout's
    plugin (for Python, at the virtualenv running the tests; for TypeScript, its packages
    installed, the SDK from the tarball of this checkout's, and `tsc --strict` clean; for Go, its
    `replace` pointing at this checkout's sdk/go; for Java, this checkout's sdk/java installed in
    Maven's local repository under the coordinate its pom.xml names)."""
    target = root / "project"
    shutil.copytree(EXAMPLES / language, target,
                    ignore=shutil.ignore_patterns("venv", "node_modules", "__pycache__", "target"))
    text = yaml.safe_load((target / "Pulumi.yaml").read_text())
    if language == "python":
        text["runtime"]["options"]["virtualenv"] = sys.prefix
    (target / "Pulumi.yaml").write_text(yaml.safe_dump({**text, **local_plugin()}))
    if language == "go":
        go(["mod", "edit", f"-replace={GO_MODULE}={GO_SDK_DIR}"], target)
        compile_program(target)
    if language == "typescript":
        depend_on_sdk(target, request.getfixturevalue("nodejs_sdk_tarball"))
    if language == "java":
        request.getfixturevalue("java_sdk")
    return target


def test_every_language_has_an_example():
    assert LANGUAGES == ["go", "java", "python", "typescript", "yaml"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_example(language, engine, tmp_path, emulator, pulumi_home, callback_receiver, request):
    project(tmp_path, language, request)
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    lifecycle(language, stack, emulator, callback_receiver)


def lifecycle(language: str, stack: E2EStack, emulator, callback_receiver) -> None:
    """An example's stack (`language` names it in UP_CALLS) through up, a no-change preview and
    destroy, with the emulator checked after each; its up's Graph calls are those of every other
    example run so far (tests/e2e/test_plugin_download.py runs them too)."""
    url = {name: callback_receiver.url_for(name) for name in ("support", "vip", "sales", "app")}
    stack.stack.set_all_config({
        "whatsapp:appId": auto.ConfigValue(emulator.app_id),
        "verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
        **{f"{name}Url": auto.ConfigValue(value) for name, value in url.items()},
    })

    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"create": 4}  # stack + 3
    UP_CALLS[language] = shape(calls.made())
    assert emulator.waba_override(WABA) == url["support"]
    assert emulator.phone_override(VIP) == url["vip"]
    assert emulator.phone_override(SALES) == url["sales"]
    subscription = emulator.admin.app_subscription(emulator.app_id)
    assert subscription["callback_url"] == url["app"]
    assert sorted(f["name"] for f in subscription["fields"]) == ["account_update", "messages"]
    # Every example exports the WabaRouting's effective routing, the same map in each language.
    effective = stack.stack.outputs()["effective"].value
    assert effective[VIP] == {"callbackUri": url["vip"], "rule": "phone_number"}
    assert {entry["rule"] for number, entry in effective.items() if number != VIP} <= {
        "whatsapp_business_account"}

    calls = Calls(emulator)
    assert changes(stack.preview().change_summary) == {}
    assert calls.made() == []

    stack.destroy()
    assert emulator.waba_override(WABA) is None and emulator.phone_override(SALES) is None
    assert emulator.is_subscribed(WABA) and emulator.is_subscribed(SALES_WABA)
    assert emulator.admin.app_subscription(emulator.app_id)["callback_url"] == url["app"]
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, callback_receiver.verify_token) == []

    others = {lang: made for lang, made in UP_CALLS.items() if lang != language}
    for other, made in others.items():
        assert UP_CALLS[language] == made, f"{language} and {other} made different Graph calls"
