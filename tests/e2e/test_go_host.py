"""Our Go language host (tools/engine/gohost, `pulumi-language-go`) over gRPC, as the engine asks
it before it runs a program: which plugins the program needs (from the modules its go.mod
requires: sdk/go's pulumi-plugin.json names `whatsapp` at the package's version) and what the
program depends on (`pulumi about`). tests/e2e/test_go.py runs programs with it through the CLI.
A missing host is a failure, never a skip: bin/test's tools/install-engine builds it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from tests.e2e.conftest import pinned_engine_version
from tests.e2e.test_go import go_host_beside
from tests.golang import go_program
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
