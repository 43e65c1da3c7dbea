"""The Go side of the tests: the generated Go SDK (sdk/go, a Go module of its own), the `go`
command, and Go programs that depend on the SDK of this checkout through a `replace` directive.

Go is the machine's (the engine's build needs it too). Modules come from Go's module cache or
the Go module proxy, never from anywhere else; go.sum files are checked in (sdk/go, examples/go),
so every build is checked against them (`-mod=readonly`, Go's default) and a program module made
here starts from examples/go's go.mod and go.sum. Builds share Go's module and build caches: the
first build of a program compiles the pulumi Go SDK and its dependencies (minutes on 2 cores),
later ones only link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from waba_webhooks.plugin.schema import GO_MODULE

REPO = Path(__file__).resolve().parents[1]
#: The generated Go SDK, checked in (tools/gen-sdk writes it).
SDK_DIR = REPO / "sdk" / "go"
#: The Go example, whose go.mod and go.sum every Go program of the tests starts from.
EXAMPLE_DIR = REPO / "examples" / "go"


def go_env() -> dict[str, str]:
    """The environment of a `go` command: no go.work from further up, modules checked against
    the go.sum they have (a stale go.sum fails instead of being rewritten), and -trimpath, as the
    Go language host builds programs: its builds then find these in Go's build cache."""
    env = {key: value for key, value in os.environ.items() if key != "GOFLAGS"}
    env.update({"GOWORK": "off", "GOFLAGS": "-mod=readonly -buildvcs=false -trimpath"})
    return env


def require_go() -> str:
    """`go` on PATH; missing is a failure, never a skip."""
    found = shutil.which("go")
    if found is None:
        pytest.fail("go is not on PATH: the Go checks need Go (the one that builds the engine, "
                    "see tools/engine/go.mod)")
    return found


def go(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`go ARGS` in cwd, to completion; a non-zero exit fails the test with its output."""
    done = subprocess.run([require_go(), *args], cwd=cwd, env=go_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"go {' '.join(args)} (in {cwd}) exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def go_program(target: Path, source: str | None = None) -> Path:
    """A Go program module in `target`: examples/go's go.mod and go.sum, its `replace` pointing
    at this checkout's sdk/go, and `source` as main.go (default: the example's main.go)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("go.mod", "go.sum"):
        shutil.copy(EXAMPLE_DIR / name, target / name)
    (target / "main.go").write_text(
        source if source is not None else (EXAMPLE_DIR / "main.go").read_text())
    go(["mod", "edit", f"-replace={GO_MODULE}={SDK_DIR}"], target)
    return target


def compile_program(project: Path) -> None:
    """`go build` of the program, discarding the binary: a compile error fails here with go's
    message, and the first build of Pulumi's Go SDK on a machine (minutes on 2 cores) happens
    here, with a long timeout, rather than inside a `pulumi up`, whose host then only links."""
    go(["build", "-o", os.devnull, "."], project, timeout=1800)
