"""Every example in examples/ runs with the commands its own README gives, so none can rot: each
folder is copied, clean, to a temporary folder, and the block its README marks
``<!-- example-commands -->`` runs there, command by command, in one bash session, as a user
pastes it: the emulator started, the plugin and the SDK taken from a clone (``WABA_WEBHOOKS``:
this checkout's virtualenv, sdk/ and, for TypeScript, the SDK's packed tarball in ``dist/``),
the stack configured, ``up`` (the routing it declares is what the emulator then holds), the
effective routing printed (read by the function ``getEffectiveRouting``), a no-change
``preview`` (no Graph write; only the function's reads) and ``destroy`` (the overrides go, the
WABAs stay subscribed, the app's subscription stays). The examples declare the same routing,
so their ``up`` makes the same Graph writes. Their reads differ by SDK: the Java and YAML ones
also run the function in the preview that ``up`` starts with, where the others wait for the
resource it is given.

A new example is one more entry of LANGUAGES (and, if its README needs something of the clone
that this checkout does not hold as it is, one more line in `clone`).
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.conftest import EmulatorHandle
from tests.e2e.conftest import E2EStack, changes
from tests.e2e.test_yaml import Calls, shape
from tests.golang import go_env
from tests.processes import kill_session
from tests.snippets import commands
from waba_webhooks.emulator import EmulatorAdmin
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
#: The example folders, each run with its README's commands.
LANGUAGES = ["go", "java", "python", "typescript", "yaml"]
MARK = "<!-- example-commands -->"
PLUGIN = "pulumi-resource-whatsapp"
WABA, VIP, SALES, SALES_WABA = ("102290129340398", "106540352242922", "106540352242924",
                                "102290129340399")

#: language -> the Graph writes of its `up`, to compare the examples with each other.
UP_CALLS: dict[str, Counter[tuple[str, str]]] = {}


# --- what every example's stack must do, whichever way it is run --------------------------------

def check_up(emulator, url: dict[str, str]) -> None:
    """The emulator holds the routing every example declares."""
    assert emulator.waba_override(WABA) == url["support"]
    assert emulator.phone_override(VIP) == url["vip"]
    assert emulator.phone_override(SALES) == url["sales"]
    subscription = emulator.admin.app_subscription(emulator.app_id)
    assert subscription["callback_url"] == url["app"]
    assert sorted(f["name"] for f in subscription["fields"]) == ["account_update", "messages"]


def check_effective(effective: dict[str, Any], url: dict[str, str]) -> None:
    """Every example exports the WabaRouting's effective routing, the same map in each
    language."""
    assert effective[VIP] == {"callbackUri": url["vip"], "rule": "phone_number"}
    assert {entry["rule"] for number, entry in effective.items() if number != VIP} <= {
        "whatsapp_business_account"}


def check_destroyed(emulator, url: dict[str, str]) -> None:
    assert emulator.waba_override(WABA) is None and emulator.phone_override(SALES) is None
    assert emulator.is_subscribed(WABA) and emulator.is_subscribed(SALES_WABA)
    assert emulator.admin.app_subscription(emulator.app_id)["callback_url"] == url["app"]


def check_same_calls(language: str) -> None:
    """The `up` of `language` made the Graph writes of every other example run so far."""
    for other, made in UP_CALLS.items():
        assert UP_CALLS[language] == made, f"{language} and {other} made different Graph writes"


def writes(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """The Graph writes among `calls`, as `shape` counts them."""
    return shape([call for call in calls if call["method"] != "GET"])


def check_preview_calls(made: list[dict[str, Any]]) -> None:
    """A no-change preview writes nothing: its only Graph calls are the reads of the function
    ``getEffectiveRouting`` (the WABA's subscribed apps and phone numbers, and the app the
    token belongs to)."""
    assert [call for call in made if call["method"] != "GET"] == [], made
    reads = {(call["operation"], call["path"].rsplit("/", 2)[-2]) for call in made
             if call["operation"] != "GET app"}
    assert reads == {("GET subscribed_apps", WABA), ("GET phone_numbers", WABA)}, made


def lifecycle(language: str, stack: E2EStack, emulator, callback_receiver) -> None:
    """An example's stack (`language` names it in UP_CALLS) through up, a no-change preview and
    destroy with the Automation API, with the emulator checked after each (for
    tests/e2e/test_plugin_download.py, which runs the examples with the plugin it downloads)."""
    url = {name: callback_receiver.url_for(name) for name in ("support", "vip", "sales", "app")}
    # No whatsapp:appId, as the READMEs set none: the provider reads the app from the token.
    stack.stack.set_all_config({
        "verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
        **{f"{name}Url": auto.ConfigValue(value) for name, value in url.items()},
    })

    calls = Calls(emulator)
    assert changes(stack.up().summary.resource_changes) == {"create": 4}  # stack + 3
    UP_CALLS[language] = writes(calls.made())
    check_up(emulator, url)
    check_effective(stack.stack.outputs()["effective"].value, url)

    calls = Calls(emulator)
    assert changes(stack.preview().change_summary) == {}
    check_preview_calls(calls.made())

    stack.destroy()
    check_destroyed(emulator, url)
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, callback_receiver.verify_token) == []
    check_same_calls(language)


# --- the README's commands ------------------------------------------------------------------------

def readme_commands(folder: Path) -> list[str]:
    """The commands of the block the folder's README marks, one per line as bash reads them
    (a line ending in a backslash joined with the next); blank lines dropped."""
    text = (folder / "README.md").read_text()
    found = re.search(rf"^{re.escape(MARK)}\n```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert found, f"{folder.name}/README.md marks no ```sh block with {MARK}"
    return [line for line in found.group(1).replace("\\\n", " ").splitlines() if line.strip()]


class Shell:
    """One bash session, fed one command at a time, as a user pastes a README's lines: what a
    command exports or starts in the background stays for the next. Its processes are one
    session, killed whole at the end."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.transcript: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, command: str, timeout: float) -> str:
        """Run one command; its output. A non-zero exit fails the test with the transcript."""
        assert self.process.stdin is not None
        marker = f"@@{uuid.uuid4().hex}"
        self.transcript.append(f"$ {command}\n")
        self.process.stdin.write(f"{command}\necho \"{marker} $?\"\n")
        self.process.stdin.flush()
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{command!r} still running after {timeout} s:\n{self.shown()}")
            if line is None:
                pytest.fail(f"bash ended during {command!r}:\n{self.shown()}")
            if marker in line:  # after what the command printed with no newline at its end
                before, _, after = line.partition(marker)
                status = int(after.split()[0])
                if before:
                    output.append(before)
                    self.transcript.append(before + "\n")
                break
            output.append(line)
            self.transcript.append(line)
        if status != 0:
            pytest.fail(f"{command!r} exited {status}:\n{self.shown()}")
        return "".join(output)

    def shown(self) -> str:
        return "".join(self.transcript)[-20000:]

    def close(self) -> None:
        """End the session: bash, and whatever the commands left running."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        finally:
            kill_session(self.process.pid)


@contextmanager
def one_example_at_a_time() -> Iterator[None]:
    """The READMEs start the emulator on a fixed port: one example of one test run at a time on
    this machine."""
    with open(Path(tempfile.gettempdir()) / "waba-webhooks-example-emulator.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def clone(root: Path, language: str, request: pytest.FixtureRequest) -> Path:
    """What a README asks of a clone (``WABA_WEBHOOKS``), from this checkout: the virtualenv
    bin/setup makes (the one running the tests), sdk/, and dist/'s SDK tarball that bin/release
    builds (TypeScript only: the session's packed SDK); for Java, a copy of sdk/java, which the
    README installs into Maven's local repository."""
    view = root / "clone"
    view.mkdir()
    (view / ".venv").symlink_to(sys.prefix)
    if language == "java":
        # `mvn install` builds in the SDK's folder: a copy, so the checkout gets no target/.
        shutil.copytree(REPO / "sdk" / "java", view / "sdk" / "java",
                        ignore=shutil.ignore_patterns("target"))
    else:
        (view / "sdk").symlink_to(REPO / "sdk")
    if language == "typescript":
        tarball = request.getfixturevalue("nodejs_sdk_tarball")
        (view / "dist").mkdir()
        (view / "dist" / tarball.name).symlink_to(tarball)
    return view


def clean_path() -> str:
    """PATH without the folder of any pulumi-resource-whatsapp (the test run's virtualenv has
    one): the README's commands must find the plugin themselves."""
    kept = [d for d in os.environ["PATH"].split(os.pathsep)
            if d and not (Path(d) / PLUGIN).exists()]
    path = os.pathsep.join(kept)
    assert shutil.which(PLUGIN, path=path) is None
    return path


def config_values(lines: list[str]) -> dict[str, str]:
    """What the commands set with ``pulumi config set [--secret] KEY VALUE``."""
    values = {}
    for words in (w for line in lines for w in commands(line)):
        rest = [w for w in words[3:] if not w.startswith("--")]
        if words[:3] == ["pulumi", "config", "set"] and len(rest) == 2:
            values[rest[0]] = rest[1]
    return values


def test_every_example_is_run():
    found = sorted(p.name for p in EXAMPLES.iterdir() if (p / "Pulumi.yaml").exists())
    assert found == sorted(LANGUAGES), "add the new example to LANGUAGES"


@pytest.mark.parametrize("language", LANGUAGES)
def test_example_runs_with_its_readme_commands(language, engine, tmp_path, pulumi_home, request):
    folder = tmp_path / language
    shutil.copytree(EXAMPLES / language, folder, ignore=shutil.ignore_patterns(
        "venv", "node_modules", "__pycache__", "state", "*.tgz", "Pulumi.*.yaml"))
    lines = readme_commands(folder)
    config = config_values(lines)
    url = {name: config[f"{name}Url"] for name in ("support", "vip", "sales", "app")}
    emulator = EmulatorHandle(config["whatsapp:graphUrl"],
                              EmulatorAdmin(config["whatsapp:graphUrl"]),
                              config["whatsapp:accessToken"], DEFAULT_APP_ID)
    env = {**os.environ, "PATH": clean_path(), "WABA_WEBHOOKS": str(clone(tmp_path, language,
                                                                        request)),
           "PULUMI_HOME": str(pulumi_home), "PULUMI_SKIP_UPDATE_CHECK": "true",
           **{key: go_env()[key] for key in ("GOWORK", "GOFLAGS")},
           # npm takes what its cache has without asking the registry again.
           "npm_config_prefer_offline": "true"}
    env.pop("VIRTUAL_ENV", None)
    steps: list[str] = []
    with one_example_at_a_time():
        shell = Shell(folder, env)
        try:
            for line in lines:
                step = " ".join(next(iter(commands(line)), [])[:3])
                watched = step.startswith(("pulumi up", "pulumi preview"))
                calls = Calls(emulator) if watched else None
                output = shell.run(line, timeout=1800 if step.startswith("pulumi up") else 600)
                if step.startswith("pulumi up"):
                    assert re.search(r"\b4 created\b", output), output  # the stack + 3
                    UP_CALLS[language] = writes(calls.made() if calls else [])
                    check_up(emulator, url)
                elif step == "pulumi stack output":
                    check_effective(json.loads(output[output.index("{"):]), url)
                elif step.startswith("pulumi preview"):
                    assert calls is not None
                    check_preview_calls(calls.made())
                elif step.startswith("pulumi destroy"):
                    check_destroyed(emulator, url)
                steps.append(step)
        finally:
            shell.close()
            emulator.admin.close()
    ran = [s.split()[1] for s in steps if s.startswith("pulumi ") and s.split()[1] in (
        "up", "preview", "destroy")]
    assert ran == ["up", "preview", "destroy"], steps
    assert "pulumi stack output" in steps, steps
    # No secret in what the commands printed (the commands themselves, typed by the user,
    # aside), nor in the state and the stack config they left.
    secrets = {"the access token": config["whatsapp:accessToken"],
               "the verify token": config["verifyToken"],
               "the app secret": config["whatsapp:appSecret"]}
    printed = "".join(line for line in shell.transcript if not line.startswith("$ "))
    files = [p for p in (folder / "state").rglob("*") if p.is_file()]
    texts = {"the output": printed, **{str(p.relative_to(folder)): p.read_text(errors="replace")
                                       for p in [*files, *folder.glob("Pulumi.*.yaml")]}}
    assert files, "the README's commands keep no state in the folder"
    leaked = [f"{what} in {where}" for what, secret in secrets.items()
              for where, text in texts.items() if secret in text]
    assert leaked == []
    check_same_calls(language)
