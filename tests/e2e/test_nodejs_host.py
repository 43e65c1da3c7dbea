"""The test engine runs TypeScript programs: tools/install-engine puts our own Node.js language
host, `pulumi-language-nodejs` (tools/engine/nodehost), beside the `pulumi` CLI, and a
`runtime: nodejs` program goes through `pulumi up` on a file backend like any other. The host
starts the program runner of the @pulumi/pulumi npm package that the program's node_modules
holds, which runs `index.ts` through ts-node.

One project, installed once for the module with npm (the pinned packages of tests/nodejs.py and
the generated SDK, sdk/nodejs, built and packed as a user gets it: the session's
``nodejs_sdk_tarball``); each test writes its own
`index.ts`. The first program declares no resource: config, a secret and stack outputs, end to
end. The second declares a `whatsapp.WabaCallbackOverride` from the generated SDK, served by the
native plugin of this checkout against the emulator. Like every e2e test, a missing CLI, host,
node or npm is a failure, never a skip: bin/test installs the engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests import processes
from tests.e2e.conftest import local_plugin, pulumi_in
from tests.nodejs import SDK_PACKAGE, npm_install, npm_packages

NODEJS_HOST = "pulumi-language-nodejs"

OUTPUTS_PROGRAM = """\
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const who: string = config.require("who");
export const greeting = `hello ${who}`;
export const joined = ["waba", "webhooks"].join("-");
export const stack = pulumi.getStack();
export const project = pulumi.getProject();
export const token = config.requireSecret("token");
"""

OVERRIDE_PROGRAM = """\
import * as pulumi from "@pulumi/pulumi";
import * as whatsapp from "@waba-webhooks/whatsapp";

const config = new pulumi.Config();
const override = new whatsapp.WabaCallbackOverride("support", {
    wabaId: config.require("wabaId"),
    callbackUri: config.require("callbackUri"),
    verifyToken: config.requireSecret("verifyToken"),
});
export const wabaId = override.wabaId;
export const callbackUri = override.callbackUri;
"""

#: A program still running two minutes on: an output that resolves late.
SLOW_PROGRAM = """\
export const late = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 120_000));
"""


def nodejs_host_beside(cli: str) -> Path:
    """Our Node.js language host next to the CLI's resolved executable, where the CLI looks for
    its bundled plugins (and where tools/install-engine puts it)."""
    host = Path(os.path.realpath(cli)).with_name(NODEJS_HOST)
    if not os.access(host, os.X_OK):
        pytest.fail(f"no {NODEJS_HOST} beside the pulumi CLI ({host}): run the tests with "
                    "bin/test, whose tools/install-engine builds it (tools/engine/nodehost)")
    return host


@pytest.fixture(scope="module")
def ts_project(tmp_path_factory, nodejs_sdk_tarball: Path) -> Path:
    """A TypeScript project with its node_modules: @pulumi/pulumi, TypeScript, ts-node and the
    generated SDK from its packed tarball."""
    project = tmp_path_factory.mktemp("ts-project")
    pins = npm_packages()
    (project / "package.json").write_text(json.dumps({
        "name": "ts-program",
        "private": True,
        "dependencies": {"@pulumi/pulumi": pins["@pulumi/pulumi"],
                         SDK_PACKAGE: f"file:{nodejs_sdk_tarball}"},
        "devDependencies": {name: pins[name] for name in ("typescript", "ts-node", "@types/node")},
    }, indent=2))
    npm_install(project)
    return project


def write_program(project: Path, name: str, program: str, **extra) -> None:
    (project / "Pulumi.yaml").write_text(json.dumps({"name": name, "runtime": "nodejs", **extra}))
    (project / "index.ts").write_text(program)
    for stale in project.glob("Pulumi.*.yaml"):
        if stale.name != "Pulumi.yaml":
            stale.unlink()


def test_typescript_program_runs_and_exports_its_outputs(engine: str, ts_project: Path,
                                                          tmp_path: Path):
    """`pulumi up --yes` of a `runtime: nodejs` program (index.ts) succeeds; the stack's outputs
    are what the program computed from its config, the secret one stays secret; the stack is
    destroyed and removed cleanly, and the host exits with each run."""
    nodejs_host_beside(engine)
    write_program(ts_project, "ts-host", OUTPUTS_PROGRAM)
    run = pulumi_in(engine, ts_project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    run("config", "set", "who", "typescript")
    run("config", "set", "--secret", "token", "t0ken-in-ts")
    up = run("up", "--yes", "--color", "never")  # a preview, then the update
    assert "pulumi:pulumi:Stack" in up.stdout, up.stdout
    assert "t0ken-in-ts" not in up.stdout + up.stderr
    outputs = json.loads(run("stack", "output", "--json").stdout)
    assert outputs == {
        "greeting": "hello typescript",
        "joined": "waba-webhooks",
        "stack": "dev",
        "project": "ts-host",
        "token": "[secret]",
    }
    shown = json.loads(run("stack", "output", "--json", "--show-secrets").stdout)
    assert shown["token"] == "t0ken-in-ts"
    run("destroy", "--yes")
    run("stack", "rm", "dev", "--yes")


def test_typescript_program_declares_an_override_with_the_generated_sdk(
        engine: str, ts_project: Path, tmp_path: Path, emulator, callback_receiver):
    """A TypeScript program declares a `WabaCallbackOverride` through the generated SDK; the
    native plugin of this checkout sets the override on the emulator with `up`, a second `up`
    changes nothing (`preview --expect-no-changes`), and `destroy` removes it."""
    nodejs_host_beside(engine)
    waba = emulator.waba_ids[0]
    uri = callback_receiver.url_for(f"ts/{waba}")
    write_program(ts_project, "ts-override", OVERRIDE_PROGRAM, **local_plugin())
    run = pulumi_in(engine, ts_project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    run("config", "set", "--secret", "whatsapp:accessToken", emulator.token)
    run("config", "set", "whatsapp:graphUrl", emulator.url)
    run("config", "set", "whatsapp:allowHttpLoopback", "true")
    run("config", "set", "wabaId", waba)
    run("config", "set", "callbackUri", uri)
    run("config", "set", "--secret", "verifyToken", callback_receiver.verify_token)

    up = run("up", "--yes", "--color", "never")
    assert "whatsapp:index:WabaCallbackOverride" in up.stdout, up.stdout
    assert emulator.waba_override(waba) == uri
    assert json.loads(run("stack", "output", "--json").stdout) == {
        "wabaId": waba, "callbackUri": uri}
    again = run("preview", "--expect-no-changes", "--color", "never")
    assert "support" in again.stdout or "unchanged" in again.stdout, again.stdout
    for secret in (emulator.token, callback_receiver.verify_token):
        assert secret not in up.stdout + up.stderr + again.stdout + again.stderr

    run("destroy", "--yes")
    assert emulator.waba_override(waba) is None
    run("stack", "rm", "dev", "--yes")


def test_host_and_program_exit_when_the_engine_is_killed(engine: str, ts_project: Path,
                                                         tmp_path: Path):
    """Only the `pulumi` process of a running `up` is killed: our Node.js host sees its engine
    stop answering (it checks every 5 s) and exits, killing the node process running the
    program, instead of both waiting for a dead engine."""
    nodejs_host_beside(engine)
    write_program(ts_project, "ts-killed", SLOW_PROGRAM)
    run = pulumi_in(engine, ts_project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    up = subprocess.Popen([engine, "up", "--yes", "--skip-preview", "--non-interactive"],
                          cwd=ts_project, env=run.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        hosts: list[int] = []
        programs: list[int] = []
        while time.monotonic() < deadline and up.poll() is None and not (hosts and programs):
            time.sleep(0.2)
            found = {p.pid: processes.describe(p) for p in processes.session_members(up.pid)}
            hosts = [pid for pid, what in found.items() if f"{NODEJS_HOST} " in what]
            programs = [pid for pid, what in found.items() if "cmd/run" in what]
        assert len(hosts) == len(programs) == 1, (up.poll(), found)
        up.kill()
        up.wait(timeout=60)
        # Bounded, not timed: the host checks its engine every 5 s.
        left = processes.still_running(
            [p for p in processes.session_members(up.pid) if p.pid in hosts + programs],
            grace=60)
        assert left == [], "outlived its engine: " + "; ".join(processes.describe(p) for p in left)
    finally:
        processes.kill_session(up.pid)
        up.wait(timeout=60)
        run("cancel", "--yes")  # the killed run's lock
        run("stack", "rm", "dev", "--yes", "--force")
