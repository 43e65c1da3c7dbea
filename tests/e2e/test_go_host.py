"""Our Go language host (tools/engine/gohost, `pulumi-language-go`) over gRPC, as the engine asks
it before it runs a program: which plugins the program needs (from the modules its go.mod
requires: sdk/go's pulumi-plugin.json names `whatsapp` at the package's version) and what the
program depends on (`pulumi about`); the runtime options `buildTarget` and `binary`, with what
the program reads from the host (config, secrets, stack, project, dry run); and that it stops,
with the program it runs, when its engine is killed. tests/e2e/test_go.py runs the routing
program with it against the emulator. A missing host is a failure, never a skip: bin/test's
tools/install-engine builds it."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from tests import processes
from tests.e2e.conftest import pinned_engine_version, pulumi_in
from tests.e2e.test_go import GO_HOST, go_host_beside
from tests.golang import compile_program, go_program
from tests.plugins import PluginProcess
from waba_webhooks import __version__
from waba_webhooks.plugin.schema import GO_MODULE


@pytest.fixture
def go_host(engine: str) -> Iterator[language_pb2_grpc.LanguageRuntimeStub]:
    """The host started as the engine starts it (no engine address: nothing to check on)."""
    host = PluginProcess([str(go_host_beside(engine))])
    try:
        yield language_pb2_grpc.LanguageRuntimeStub(host.channel)
    finally:
        host.stop()


def info(program: Path) -> language_pb2.ProgramInfo:
    return language_pb2.ProgramInfo(root_directory=str(program),
                                    program_directory=str(program), entry_point=".")


def test_the_program_needs_the_whatsapp_plugin_of_the_sdk(go_host, tmp_path: Path):
    """The example's program needs exactly the `whatsapp` resource plugin at the package's
    version (Pulumi's own Go SDK is no provider); asked the older way, the same."""
    program = go_program(tmp_path / "program")
    packages = go_host.GetRequiredPackages(
        language_pb2.GetRequiredPackagesRequest(info=info(program))).packages
    assert [(p.name, p.version, p.kind) for p in packages] == [
        ("whatsapp", __version__, "resource")]
    plugins = go_host.GetRequiredPlugins(
        language_pb2.GetRequiredPluginsRequest(info=info(program))).plugins
    assert [(p.name, p.version, p.kind) for p in plugins] == [
        ("whatsapp", __version__, "resource")]


def test_a_program_without_the_sdk_needs_no_plugin(go_host, tmp_path: Path):
    program = go_program(tmp_path / "program")
    (program / "go.mod").write_text("module plain\n\ngo 1.26\n")
    (program / "go.sum").unlink()
    packages = go_host.GetRequiredPackages(
        language_pb2.GetRequiredPackagesRequest(info=info(program))).packages
    assert list(packages) == []


def test_program_dependencies_are_the_go_mod_requirements(go_host, tmp_path: Path):
    """`pulumi about` lists the direct requirements; the SDK, replaced by this checkout's, has
    no version of its own."""
    program = go_program(tmp_path / "program")
    deps = go_host.GetProgramDependencies(
        language_pb2.GetProgramDependenciesRequest(info=info(program))).dependencies
    assert {(d.name, d.version) for d in deps} == {
        ("github.com/pulumi/pulumi/sdk/v3", pinned_engine_version()), (GO_MODULE, "")}


#: How tests.processes describes the program binary the host built (a temporary file).
PROGRAM_BINARY = re.compile(r"pid \d+: \S*/pulumi-go\.\d+")

#: A program still running two minutes on: an output that resolves late.
SLOW_PROGRAM = """\
package main

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		ctx.Export("late", pulumi.String("late").ToStringOutput().ApplyT(func(s string) string {
			time.Sleep(120 * time.Second)
			return s
		}))
		return nil
	})
}
"""


def test_host_and_program_exit_when_the_engine_is_killed(engine: str, tmp_path: Path):
    """Only the `pulumi` process of a running `up` is killed: our Go host sees its engine stop
    answering (it checks every 5 s) and exits, interrupting then killing the program binary it
    built, instead of both waiting for a dead engine."""
    go_host_beside(engine)
    project = go_program(tmp_path / "project", SLOW_PROGRAM)
    compile_program(project)
    (project / "Pulumi.yaml").write_text(json.dumps({"name": "go-killed", "runtime": "go"}))
    run = pulumi_in(engine, project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    up = subprocess.Popen([engine, "up", "--yes", "--skip-preview", "--non-interactive"],
                          cwd=project, env=run.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        hosts: list[int] = []
        programs: list[int] = []
        found: dict[int, str] = {}
        while time.monotonic() < deadline and up.poll() is None and not (hosts and programs):
            time.sleep(0.2)
            found = {p.pid: processes.describe(p) for p in processes.session_members(up.pid)}
            hosts = [pid for pid, what in found.items() if f"{GO_HOST} " in what]
            # The built program itself (`go build -o` names the same file: not that one).
            programs = [pid for pid, what in found.items() if PROGRAM_BINARY.fullmatch(what)]
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


#: A program of outputs only: what the host passed it (config, a secret, the stack, the project,
#: whether it is a preview).
OUTPUTS_PROGRAM = """\
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		ctx.Export("greeting", pulumi.String("hello "+cfg.Require("who")))
		ctx.Export("stack", pulumi.String(ctx.Stack()))
		ctx.Export("project", pulumi.String(ctx.Project()))
		ctx.Export("dryRun", pulumi.Bool(ctx.DryRun()))
		ctx.Export("token", cfg.RequireSecret("token"))
		return nil
	})
}
"""


def test_build_target_then_a_prebuilt_binary(engine: str, tmp_path: Path):
    """With the runtime option `buildTarget` the host builds the program there and keeps it; the
    program gets its config, secret, stack, project and dry-run flag from the host. With the
    option `binary` naming that file, the host runs it without building: the Go source can be
    gone, and the preview changes nothing."""
    go_host_beside(engine)
    project = go_program(tmp_path / "project", OUTPUTS_PROGRAM)
    compile_program(project)
    target = project / "build" / "outputs"

    def runtime(**options: str) -> None:
        (project / "Pulumi.yaml").write_text(json.dumps(
            {"name": "go-outputs", "runtime": {"name": "go", "options": options}}))

    runtime(buildTarget="build/outputs")
    run = pulumi_in(engine, project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    run("config", "set", "who", "go")
    run("config", "set", "--secret", "token", "t0ken-in-go")
    up = run("up", "--yes", "--color", "never")
    assert "t0ken-in-go" not in up.stdout + up.stderr
    assert json.loads(run("stack", "output", "--json").stdout) == {
        "greeting": "hello go", "stack": "dev", "project": "go-outputs", "dryRun": False,
        "token": "[secret]"}
    assert json.loads(run("stack", "output", "--json", "--show-secrets").stdout)["token"] == \
        "t0ken-in-go"
    assert target.is_file()

    runtime(binary=str(target))
    (project / "main.go").unlink()
    run("preview", "--expect-no-changes", "--color", "never")
    run("destroy", "--yes")
    run("stack", "rm", "dev", "--yes")
