"""End-to-end fixtures: the real pulumi CLI (Automation API), a file backend in a temporary
folder, a passphrase secrets provider, the emulator and a callback receiver on free ports."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

REPO = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "program"
PASSPHRASE = "e2e-passphrase"


@pytest.fixture(scope="session")
def engine() -> str:
    """The pinned `pulumi` CLI. Missing or wrong version is a failure, never a skip: the test
    command (bin/test) installs it."""
    found = shutil.which("pulumi")
    if found is None:
        pytest.fail(
            "the pulumi CLI is not on PATH: run the tests with bin/test, which installs "
            "the pinned engine (tools/install-engine)"
        )
    want = "v" + importlib.metadata.version("pulumi")
    got = subprocess.run(
        [found, "version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
    ).stdout.strip()
    if got != want:
        pytest.fail(f"pulumi CLI {got} on PATH does not match the pulumi SDK {want}")
    return found


@pytest.fixture(scope="session")
def pulumi_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pulumi-home")


class E2EStack:
    """One stack of the e2e program in its own project folder and file backend."""

    def __init__(
        self, root: Path, emulator: Any, pulumi_home: Path, verify_token: str, name: str = "test"
    ) -> None:
        self.emulator = emulator
        project = root / "project"
        if not project.exists():
            shutil.copytree(PROGRAM, project)
            (project / "Pulumi.yaml").write_text(
                json.dumps(
                    {
                        "name": "e2e",
                        "runtime": {
                            "name": "python",
                            "options": {"virtualenv": str(REPO / ".venv")},
                        },
                    }
                )
            )
        self.env = {
            "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_HOME": str(pulumi_home),
        }
        self.state_dir = root / "state"
        self.state_dir.mkdir(exist_ok=True)
        self.stack = auto.create_or_select_stack(
            name,
            work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase"),
        )
        self.stack.set_all_config(
            {
                "whatsapp:accessToken": auto.ConfigValue(emulator.token, secret=True),
                "whatsapp:graphUrl": auto.ConfigValue(emulator.url),
                "whatsapp:allowHttpLoopback": auto.ConfigValue("true"),
                "e2e:verifyToken": auto.ConfigValue(verify_token, secret=True),
            }
        )
        self.outputs: list[str] = []

    def declare(self, wabas: list[dict] | None = None, phones: list[dict] | None = None) -> None:
        self.stack.set_all_config(
            {
                "e2e:wabas": auto.ConfigValue(json.dumps(wabas or [])),
                "e2e:phones": auto.ConfigValue(json.dumps(phones or [])),
            }
        )

    def _keep(self, result: Any) -> Any:
        self.outputs.extend([getattr(result, "stdout", ""), getattr(result, "stderr", "")])
        return result

    def up(self) -> auto.UpResult:
        return self._keep(self.stack.up(color="never", diff=True))

    def preview(self) -> auto.PreviewResult:
        return self._keep(self.stack.preview(color="never", diff=True))

    def refresh(self) -> auto.RefreshResult:
        return self._keep(self.stack.refresh(color="never"))

    def destroy(self) -> auto.DestroyResult:
        return self._keep(self.stack.destroy(color="never"))

    def export(self) -> str:
        """`pulumi stack export` as a user runs it (the Automation API's export_stack shows
        secrets), followed by every file of the backend, as text."""
        done = subprocess.run(
            ["pulumi", "stack", "export", "--stack", self.stack.name],
            cwd=self.stack.workspace.work_dir, env={**os.environ, **self.env},
            capture_output=True, text=True, check=True,
        )
        files = [p.read_text(errors="replace") for p in self.state_dir.rglob("*") if p.is_file()]
        text = "\n".join([done.stdout, *files])
        self.outputs.append(text)
        return text


@pytest.fixture
def e2e_stack(engine, tmp_path, emulator, callback_receiver, pulumi_home) -> Iterator[E2EStack]:
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token)
    yield stack
    stack.stack.workspace.remove_stack("test", force=True)
