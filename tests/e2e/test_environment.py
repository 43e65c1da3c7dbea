"""The ``WHATSAPP_*`` environment variables as the only settings, through every door, with the
real CLI against the emulator: the default provider of the dynamic and the native resources
(no ``whatsapp:*`` stack config at all), and an explicit provider given no setting in Python
(`native.Provider`), TypeScript (``new whatsapp.Provider("app")``, whose generated SDK reads the
variables of the settings that are not secrets, the schema's ``defaultInfo``) and YAML
(``pulumi:providers:whatsapp`` with no properties). Each one routes a number through the
emulator the variables name; the secrets never enter state.

Any call to a non-loopback address goes to a dead loopback proxy, so a door that ignored
``WHATSAPP_GRAPH_URL`` fails instead of calling Meta.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import E2EStack, local_plugin, pulumi_in
from tests.e2e.test_nodejs_host import nodejs_host_beside, ts_project, write_program
from tests.e2e.test_yaml import Calls

__all__ = ["ts_project"]  # the fixture, used by the TypeScript test below

PROGRAM = Path(__file__).resolve().parent / "one_app_program"
WABA, PHONE = "102290129340398", "106540352242922"
APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's app
WHATSAPP_CONFIG = ["whatsapp:accessToken", "whatsapp:graphUrl", "whatsapp:allowHttpLoopback",
                   "whatsapp:appSecret"]


@pytest.fixture
def environment(emulator, monkeypatch) -> dict[str, str]:
    """The settings as environment variables, in this process and so in the CLI, the programs
    and the plugins it starts."""
    variables = {"WHATSAPP_ACCESS_TOKEN": emulator.token, "WHATSAPP_GRAPH_URL": emulator.url,
                 "WHATSAPP_ALLOW_HTTP_LOOPBACK": "true", "WHATSAPP_APP_SECRET": APP_SECRET,
                 # A dead proxy for anything but loopback: Meta is never called.
                 "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
                 "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


@pytest.fixture
def env_stack(engine, tmp_path, emulator, callback_receiver, pulumi_home,
              environment) -> Iterator[E2EStack]:
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     program=PROGRAM, project_name="one-app")
    stack.stack.remove_all_config(WHATSAPP_CONFIG)
    url = callback_receiver.url_for
    stack.stack.set_all_config({
        "app:verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
        **{f"app:{name}Url": auto.ConfigValue(url(name)) for name in ("waba", "phone", "app")},
    })
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, callback_receiver.verify_token) == []


@pytest.mark.parametrize(("door", "explicit"),
                         [("dynamic", False), ("native", False), ("native", True)],
                         ids=["dynamic-default", "native-default", "python-explicit"])
def test_the_environment_alone_configures_the_provider(env_stack, emulator, callback_receiver,
                                                       door, explicit):
    stack, url = env_stack, callback_receiver.url_for
    assert not set(WHATSAPP_CONFIG) & set(stack.stack.get_all_config())
    stack.stack.set_all_config({"app:door": auto.ConfigValue(door),
                                "app:explicit": auto.ConfigValue(str(explicit).lower())})
    calls = Calls(emulator)
    stack.up()
    assert emulator.phone_override(PHONE) == url("phone")
    assert emulator.waba_override(WABA) == url("waba")
    # The app's subscription: the app token formed from WHATSAPP_APP_SECRET.
    assert emulator.admin.app_subscription(emulator.app_id)["callback_url"] == url("app")
    assert {c["app_id"] for c in calls.writes()} == {emulator.app_id}
    if explicit:
        # Nothing was given, so nothing is recorded: the plugin read the variables.
        provider = next(r for r in stack.deployment()["resources"]
                        if r["urn"].endswith("pulumi:providers:whatsapp::app"))
        inputs = provider.get("inputs", {})
        assert not {"accessToken", "appSecret", "graphUrl", "allowHttpLoopback"} & set(inputs)
    state = stack.export()
    assert emulator.token not in state and APP_SECRET not in state
    stack.destroy()
    assert emulator.phone_override(PHONE) is None


TS_PROGRAM = """
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const config = new pulumi.Config();
const app = new whatsapp.Provider("app");
const phone = new whatsapp.PhoneCallbackOverride("phone", {
    phoneNumberId: "PHONE_ID",
    callbackUri: config.require("phoneUrl"),
    verifyToken: config.requireSecret("verifyToken"),
}, { provider: app });
export const effective = phone.effectiveCallbackUri;
""".replace("PHONE_ID", PHONE)


def test_typescript_explicit_provider_reads_the_environment(engine: str, ts_project: Path,
                                                            tmp_path: Path, emulator,
                                                            callback_receiver, environment):
    nodejs_host_beside(engine)
    write_program(ts_project, "ts-environment", TS_PROGRAM, **local_plugin())
    run = pulumi_in(engine, ts_project, tmp_path)
    run.env.update(environment)  # type: ignore[attr-defined]
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    run("config", "set", "phoneUrl", callback_receiver.url_for("ts"))
    run("config", "set", "--secret", "verifyToken", callback_receiver.verify_token)
    up = run("up", "--yes", "--color", "never")
    assert emulator.phone_override(PHONE) == callback_receiver.url_for("ts")
    exported = run("stack", "export").stdout
    provider = next(r for r in json.loads(exported)["deployment"]["resources"]
                    if r["type"] == "pulumi:providers:whatsapp")
    # The SDK read the settings that are not secrets (defaultInfo) and recorded them...
    assert provider["inputs"]["graphUrl"] == emulator.url
    assert provider["inputs"]["allowHttpLoopback"] in (True, "true")
    # ... and left the token to the plugin: not an input, not in state.
    assert "accessToken" not in provider["inputs"]
    assert emulator.token not in exported + up.stdout + up.stderr
    run("destroy", "--yes", "--color", "never")
    assert emulator.phone_override(PHONE) is None
    run("stack", "rm", "dev", "--yes")


def test_yaml_explicit_provider_reads_the_environment(engine: str, tmp_path: Path, emulator,
                                                      callback_receiver, environment):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(json.dumps({
        "name": "yaml-environment", "runtime": "yaml", **local_plugin(),
        "config": {"verifyToken": {"type": "string", "secret": True},
                   "phoneUrl": {"type": "string"}},
        "resources": {
            "app": {"type": "pulumi:providers:whatsapp"},
            "phone": {"type": "whatsapp:index:PhoneCallbackOverride",
                      "properties": {"phoneNumberId": PHONE, "callbackUri": "${phoneUrl}",
                                     "verifyToken": "${verifyToken}"},
                      "options": {"provider": "${app}"}},
        },
    }))
    run = pulumi_in(engine, project, tmp_path)
    run.env.update(environment)  # type: ignore[attr-defined]
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    run("config", "set", "phoneUrl", callback_receiver.url_for("yaml"))
    run("config", "set", "--secret", "verifyToken", callback_receiver.verify_token)
    run("up", "--yes", "--color", "never")
    assert emulator.phone_override(PHONE) == callback_receiver.url_for("yaml")
    exported = run("stack", "export").stdout
    assert emulator.token not in exported
    run("destroy", "--yes", "--color", "never")
    assert emulator.phone_override(PHONE) is None
    run("stack", "rm", "dev", "--yes")
