"""`waba-webhooks review` and `drift` on real native stacks: a Pulumi YAML program and a
TypeScript program of the ``whatsapp`` plugin, driven by the real CLI against the emulator, give
the reports the dynamic stack of the e2e Python program gives for the same routing.

Each stack declares, on the emulator's default fixture, a `WabaRouting` (the main WABA's
override and one of its two numbers), a `PhoneCallbackOverride` (a number of the support WABA)
and a `WabaCallbackOverride` (the export WABA, which create subscribes), and goes through:

1. ``up``;
2. the routing WABA's override, its routed number and the export WABA's override move (config):
   ``pulumi preview --json`` -> ``review``;
3. the declared URLs back; by hand (the emulator's admin API) the phone override's number and
   the routing WABA's other number get another URL: ``pulumi refresh --preview-only --json`` and
   ``pulumi preview --refresh --json`` -> ``drift``, which exits 2 naming both numbers;
4. ``destroy``.

Against a freshly seeded emulator each time, with the same callback receiver, so the reports of
the three stacks can be compared whole: they are equal (the type names differ in the JSON only).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.conftest import CallbackReceiver, EmulatorHandle, run_cli
from tests.e2e.conftest import E2EStack, local_plugin, pulumi_in
from tests.e2e.test_nodejs_host import nodejs_host_beside, ts_project, write_program
from tests.e2e.test_yaml import APP_SECRET, program, yaml_stack
from waba_webhooks.emulator import DEFAULT_APP_ID, DEFAULT_TOKEN, EmulatorAdmin, EmulatorServer
from waba_webhooks.emulator.fixtures import load

__all__ = ["ts_project"]  # the fixture, used by the TypeScript test below

ROUTED_WABA, ROUTED_NUMBER, OTHER_NUMBER = "102290129340398", "106540352242922", "106540352242923"
PHONE, EXPORT_WABA, EXPORT_NUMBER = "106540352242924", "102290129340400", "106540352242926"
#: The URL config keys (the YAML program's names) -> the receiver path they start at.
URLS = {"routingUrl": "routing", "routedNumberUrl": "routed-number", "phoneUrl": "phone",
        "wabaUrl": "waba"}
MOVED = ("routingUrl", "routedNumberUrl", "wabaUrl")
BY_HAND = {PHONE: "https://by-hand.example/phone", OTHER_NUMBER: "https://by-hand.example/other"}
REFRESHES = (("refresh", "--preview-only"), ("preview", "--refresh"))


def urls(receiver: CallbackReceiver, moved: bool = False) -> dict[str, str]:
    return {key: receiver.url_for(path + ("/v2" if moved and key in MOVED else ""))
            for key, path in URLS.items()}


@dataclass
class World:
    emulator: EmulatorHandle
    receiver: CallbackReceiver


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """An emulator and a callback receiver of the module's own: every stack's URLs are the
    same, so are its reports."""
    with EmulatorServer() as server, CallbackReceiver("native-review-verify-8e41") as receiver:
        admin = EmulatorAdmin(server.url)
        yield World(EmulatorHandle(server.url, admin, DEFAULT_TOKEN, DEFAULT_APP_ID), receiver)
        admin.close()


@dataclass
class Door:
    """How a test drives one stack: set its URL config, run a pulumi command (its printed
    output), and what it declares is up to the program."""

    set_urls: Callable[[dict[str, str]], None]
    pulumi: Callable[..., str]


@dataclass
class Reports:
    review: str
    #: (exit status, report) of drift, per refresh JSON command.
    drift: dict[tuple[str, ...], tuple[int, str]]


@dataclass
class Run:
    reports: Reports
    #: The routing WabaRouting's type as the preview JSON prints it.
    routing_type: str


def exercise(world: World, door: Door) -> Run:
    """Steps 1 to 4 of the module docstring against a freshly seeded emulator."""
    emulator = world.emulator
    door.set_urls(urls(world.receiver))
    door.pulumi("up", "--yes")
    assert emulator.waba_override(EXPORT_WABA) == world.receiver.url_for("waba")

    door.set_urls(urls(world.receiver, moved=True))
    writes = emulator.admin.counts()["writes"]
    printed = door.pulumi("preview", "--json")
    reviewed = run_cli(emulator, "review", stdin=printed)
    assert reviewed.returncode == 0, reviewed.stderr
    routing_type = re.findall(r'"type": "([^"]+:WabaRouting)"', printed)[0]

    door.set_urls(urls(world.receiver))
    for phone, url in BY_HAND.items():
        emulator.admin.set_phone_override(phone, emulator.app_id, url)
    drifts = {}
    for command in REFRESHES:
        done = run_cli(emulator, "drift", stdin=door.pulumi(*command, "--json"))
        drifts[command] = (done.returncode, done.stdout + done.stderr)
    assert emulator.admin.counts()["writes"] == writes, "review and drift only read"
    door.pulumi("destroy", "--yes")
    return Run(Reports(reviewed.stdout, drifts), routing_type)


def rows(report: str) -> dict[str, list[str]]:
    """Phone number id -> the cells of its row of the numbers table."""
    found = {}
    for line in report.split("### ")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cells) == 5:
            for number, _ in re.findall(r"(\d{15}) \(([^)]*)\)", cells[0]):
                found[number] = cells[1:]
    return found


@pytest.fixture(scope="module")
def dynamic(engine, world, tmp_path_factory, pulumi_home) -> Reports:
    """The reports of the dynamic stack (the e2e Python program) for the same routing."""
    world.emulator.admin.seed(load())
    stack = E2EStack(tmp_path_factory.mktemp("dynamic"), world.emulator, pulumi_home,
                     world.receiver.verify_token)

    def set_urls(url: dict[str, str]) -> None:
        stack.declare(routings=[{"name": "routing", "id": ROUTED_WABA,
                                 "callbackUri": url["routingUrl"],
                                 "phones": {ROUTED_NUMBER: url["routedNumberUrl"]}}],
                      phones=[{"name": "phone", "id": PHONE, "callbackUri": url["phoneUrl"]}],
                      wabas=[{"name": "waba", "id": EXPORT_WABA, "callbackUri": url["wabaUrl"]}])

    try:
        done = exercise(world, Door(set_urls, cli(stack)))
        assert done.routing_type == "pulumi-python:dynamic/waba-webhooks:WabaRouting"
        return done.reports
    finally:
        stack.export()
        stack.stack.workspace.remove_stack("test", force=True)
        assert stack.leaked(DEFAULT_TOKEN, world.receiver.verify_token) == []


def cli(stack: E2EStack) -> Callable[..., str]:
    """`pulumi ARGS` on an Automation API stack, as a user types it."""
    def run(*args: str) -> str:
        done = subprocess.run(["pulumi", *args, "--stack", stack.stack.name, "--non-interactive"],
                              cwd=stack.stack.workspace.work_dir,
                              env={**os.environ, **stack.env}, capture_output=True, text=True,
                              timeout=300, check=False)
        stack.outputs += [done.stdout, done.stderr]
        assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout
    return run


def test_the_dynamic_stacks_reports(dynamic, world):
    """What the native stacks must match: review lists the numbers that move, drift exits 2
    naming the numbers changed by hand."""
    url = urls(world.receiver, moved=True)
    found = rows(dynamic.review)
    assert set(found) == {ROUTED_NUMBER, OTHER_NUMBER, EXPORT_NUMBER}, dynamic.review
    assert found[ROUTED_NUMBER][1:] == [f"`{url['routedNumberUrl']}`", "phone", "direct"]
    assert found[OTHER_NUMBER][1:] == [f"`{url['routingUrl']}`", "WABA", "via WABA override"]
    assert found[EXPORT_NUMBER][1:] == [f"`{url['wabaUrl']}`", "WABA", "via WABA override"]
    for command in REFRESHES:
        status, report = dynamic.drift[command]
        assert status == 2, report
        assert set(rows(report)) == set(BY_HAND), report
        assert rows(report)[PHONE][1:] == [f"`{BY_HAND[PHONE]}`", "phone",
                                           "phone override changed by hand"]
        assert rows(report)[OTHER_NUMBER][1:] == [f"`{BY_HAND[OTHER_NUMBER]}`", "WABA → phone",
                                                  "phone override set by hand"]
    assert dynamic.drift[REFRESHES[0]] == dynamic.drift[REFRESHES[1]]


def test_a_yaml_stack_reports_as_the_dynamic_one(dynamic, world, tmp_path, pulumi_home):
    world.emulator.admin.seed(load())
    text = program(keep=("routing", "phone", "waba"))
    del text["config"]["appUrl"]
    stack = yaml_stack(tmp_path, world.emulator, pulumi_home, world.receiver, text,
                       **urls(world.receiver))

    def set_urls(url: dict[str, str]) -> None:
        stack.stack.set_all_config({f"e2e:{k}": auto.ConfigValue(v) for k, v in url.items()})

    try:
        done = exercise(world, Door(set_urls, cli(stack)))
    finally:
        stack.export()
        stack.stack.workspace.remove_stack("test", force=True)
    assert done.routing_type == "whatsapp:index:WabaRouting"
    assert done.reports == dynamic
    assert stack.leaked(DEFAULT_TOKEN, APP_SECRET, world.receiver.verify_token) == []


TS_PROGRAM = """
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const config = new pulumi.Config();
const verifyToken = config.requireSecret("verifyToken");

new whatsapp.WabaRouting("routing", {
    wabaId: "ROUTED_WABA",
    callbackUri: config.require("routingUrl"),
    phoneNumbers: { "ROUTED_NUMBER": config.require("routedNumberUrl") },
    verifyToken,
});
new whatsapp.PhoneCallbackOverride("phone", {
    phoneNumberId: "PHONE",
    callbackUri: config.require("phoneUrl"),
    verifyToken,
});
new whatsapp.WabaCallbackOverride("waba", {
    wabaId: "EXPORT_WABA",
    callbackUri: config.require("wabaUrl"),
    verifyToken,
});
""".replace("ROUTED_WABA", ROUTED_WABA).replace("ROUTED_NUMBER", ROUTED_NUMBER).replace(
    "PHONE", PHONE).replace("EXPORT_WABA", EXPORT_WABA)


def test_a_typescript_stack_reports_as_the_dynamic_one(engine, dynamic, world, ts_project: Path,
                                                        tmp_path):
    world.emulator.admin.seed(load())
    nodejs_host_beside(engine)
    write_program(ts_project, "ts-routing", TS_PROGRAM, **local_plugin())
    run = pulumi_in(engine, ts_project, tmp_path)
    emulator = world.emulator
    run("stack", "init", "test", "--secrets-provider", "passphrase")
    for key, value, secret in [
            ("whatsapp:accessToken", emulator.token, True),
            ("whatsapp:graphUrl", emulator.url, False),
            ("whatsapp:allowHttpLoopback", "true", False),
            ("verifyToken", world.receiver.verify_token, True)]:
        run("config", "set", *(["--secret"] if secret else []), key, value)

    def set_urls(url: dict[str, str]) -> None:
        for key, value in url.items():
            run("config", "set", key, value)

    def pulumi(*args: str) -> str:
        return str(run(*args).stdout)

    try:
        done = exercise(world, Door(set_urls, pulumi))
    finally:
        run("stack", "rm", "test", "--yes", "--force")
    assert done.routing_type == "whatsapp:index:WabaRouting"
    assert done.reports == dynamic


# ---- two apps in one YAML stack -----------------------------------------------------------------

SUPPORT_WABA, SUPPORT_NUMBERS = "102290129340399", ("106540352242924", "106540352242925")


def test_a_stack_of_two_apps_is_read_with_each_apps_token(engine, world, tmp_path, pulumi_home):
    """Our phone override and, through an explicit provider, the other app's WABA override on
    the same WABA: review and drift read each with its own app's token
    (``WHATSAPP_ACCESS_TOKEN_OTHERAPP`` for provider ``otherApp``), name the app on every row,
    and exit 1 without that token."""
    emulator, receiver = world.emulator, world.receiver
    emulator.admin.seed(load())
    other = next(a for a in emulator.admin.state()["apps"] if a["id"] != emulator.app_id)
    token = {"WHATSAPP_ACCESS_TOKEN_OTHERAPP": other["access_tokens"][0]}
    text = program(keep=("phone",), otherApp={
        "type": "pulumi:providers:whatsapp",
        "properties": {"accessToken": "${otherToken}", "appId": other["id"],
                       "graphUrl": "${graphUrl}", "allowHttpLoopback": True}}, otherWaba={
        "type": "whatsapp:index:WabaCallbackOverride",
        "properties": {"wabaId": SUPPORT_WABA, "callbackUri": "${otherUrl}",
                       "verifyToken": "${verifyToken}"},
        "options": {"provider": "${otherApp}"}})
    text["config"] = {"verifyToken": {"type": "string", "secret": True},
                      "phoneUrl": {"type": "string"}, "otherUrl": {"type": "string"},
                      "otherToken": {"type": "string", "secret": True},
                      "graphUrl": {"type": "string"}}
    stack = yaml_stack(tmp_path, emulator, pulumi_home, receiver, text,
                       phoneUrl=receiver.url_for("phone"), otherUrl=receiver.url_for("other"),
                       graphUrl=emulator.url)
    stack.stack.set_config("e2e:otherToken",
                           auto.ConfigValue(other["access_tokens"][0], secret=True))
    pulumi = cli(stack)
    try:
        pulumi("up", "--yes")
        stack.stack.set_config("e2e:otherUrl", auto.ConfigValue(receiver.url_for("other/v2")))
        printed = pulumi("preview", "--json")
        done = run_cli(emulator, "review", stdin=printed, **token)
        assert done.returncode == 0, done.stderr
        report = done.stdout
        assert "| phone number | app | before | after | rule | why |" in report, report
        assert (f"| {other['id']} | `{receiver.url_for('other')}` | "
                f"`{receiver.url_for('other/v2')}` | WABA | via WABA override |") in report
        assert f"| WABA {SUPPORT_WABA} (app {other['id']}) | `otherWaba` | update |" in report
        assert "`otherWaba` (provider `otherApp`)" in report
        assert other["access_tokens"][0] not in report
        missing = run_cli(emulator, "review", stdin=printed)
        assert missing.returncode == 1 and missing.stdout == "", missing.stdout
        assert "WHATSAPP_ACCESS_TOKEN_OTHERAPP" in missing.stderr and "`otherApp`" in missing.stderr

        stack.stack.set_config("e2e:otherUrl", auto.ConfigValue(receiver.url_for("other")))
        emulator.admin.set_waba_override(SUPPORT_WABA, other["id"], "https://by-hand.example/o")
        refreshed = pulumi("refresh", "--preview-only", "--json")
        done = run_cli(emulator, "drift", stdin=refreshed, **token)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"| WABA {SUPPORT_WABA} (app {other['id']}) | `otherWaba` |" in done.stdout
        drifted = [line for line in done.stdout.split("### Overrides")[0].splitlines()
                   if line.startswith("| <details>") or line.startswith("| 1065")]
        assert drifted and all(f"| {other['id']} |" in line for line in drifted), done.stdout
        missing = run_cli(emulator, "drift", stdin=refreshed)
        assert missing.returncode == 1 and missing.stdout == ""
        assert "WHATSAPP_ACCESS_TOKEN_OTHERAPP" in missing.stderr
        pulumi("destroy", "--yes")
    finally:
        stack.export()
        stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(DEFAULT_TOKEN, other["access_tokens"][0], receiver.verify_token) == []
