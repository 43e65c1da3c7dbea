"""A Java program of the generated SDK (sdk/java, by its Maven coordinate after the session's
`mvn install`), with the real CLI and upstream's Java language host (pulumi-language-java, which
builds and runs the program with `mvn compile exec:java`) against the emulator. One stack, its
steps as a user takes them, each step's Graph calls checked:

- ``up`` declares a `WabaRouting`, a `PhoneCallbackOverride`, the app's subscription and, with a
  second app's explicit provider, that app's override on the same WABA: the routing is live, and
  every write carries the app whose provider made it;
- a no-change ``preview`` makes no Graph call;
- changing one URL makes one write;
- ``destroy`` removes the overrides, leaves every WABA subscribed and the app's subscription as
  it is, and no secret was printed or stored in plaintext.

The engine asks the host which plugins the program needs: the SDK's plugin.json, found on the
program's class path, names `whatsapp` at the package's version, which Pulumi.yaml's
`plugins.providers` serves from this checkout. The host and every Maven run are gone when the
last command ends (and tests/conftest.py's reaping fails any test that leaves a process).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests import processes
from tests.e2e.conftest import check_two_app_up, init_two_app_stack, local_plugin, pulumi_in
from tests.e2e.test_yaml import APP_SECRET, Calls
from tests.java import java_program

JAVA_HOST = "pulumi-language-java"
WABA, VIP, SALES, SALES_WABA = ("102290129340398", "106540352242922", "106540352242924",
                                "102290129340399")

#: The program's main class (tests.java.java_program gives it examples/java's pom.xml).
PROGRAM = Path(__file__).resolve().parent / "java_program" / "App.java"


def java_host_beside(cli: str) -> Path:
    """The Java language host next to the CLI's resolved executable, where the CLI looks for its
    bundled plugins (and where tools/install-engine puts it)."""
    host = Path(os.path.realpath(cli)).with_name(JAVA_HOST)
    if not os.access(host, os.X_OK):
        pytest.fail(f"no {JAVA_HOST} beside the pulumi CLI ({host}): run the tests with bin/test, "
                    "whose tools/install-engine builds it (tools/engine/java)")
    return host


def test_java_program_up_preview_update_destroy(engine: str, java_sdk: Path, tmp_path: Path,
                                                emulator, callback_receiver):
    java_host_beside(engine)
    project = java_program(tmp_path / "project", PROGRAM.read_text())
    pulumi_yaml = yaml.safe_load((project / "Pulumi.yaml").read_text())
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({**pulumi_yaml, **local_plugin()}))
    run = pulumi_in(engine, project, tmp_path)
    other_app = init_two_app_stack(run, emulator, callback_receiver, APP_SECRET)
    url = callback_receiver.url_for
    printed: list[str] = []

    def step(*args: str) -> str:
        done = run(*args, "--color", "never")
        printed.extend([done.stdout, done.stderr])
        return done.stdout

    # up: the three rules and the second app's override, each app writing with its own token.
    calls = Calls(emulator)
    step("up", "--yes", "--skip-preview")
    check_two_app_up(emulator, calls, url, other_app, waba=WABA, vip=VIP, sales=SALES)

    # A no-change preview: no Graph call.
    calls = Calls(emulator)
    step("preview", "--expect-no-changes")
    assert calls.made() == []

    # One URL changed: one write, to that number.
    run("config", "set", "salesUrl", url("sales/v2"))
    calls = Calls(emulator)
    step("up", "--yes", "--skip-preview")
    assert [(c["method"], c["path"]) for c in calls.writes()] == [
        ("POST", f"/v23.0/{SALES}")], calls.made()
    assert emulator.phone_override(SALES) == url("sales/v2")
    state = run("stack", "export").stdout  # secrets encrypted

    # Destroy: every override goes, each app clearing its own; no WABA is unsubscribed and the
    # app's subscription stays.
    calls = Calls(emulator)
    step("destroy", "--yes")
    assert emulator.phone_override(VIP) is None and emulator.phone_override(SALES) is None
    assert emulator.waba_override(WABA) is None
    assert all(c["method"] != "DELETE" for c in calls.made())
    assert emulator.is_subscribed(WABA) and emulator.is_subscribed(SALES_WABA)
    assert emulator.admin.app_subscription(emulator.app_id)["callback_url"] == url("app")
    run("stack", "rm", "dev", "--yes")
    # The host and its Maven runs (the program's JVM) ended with the last command.
    java = [p for p in processes.started_by_this_run() if JAVA_HOST in processes.describe(p)
            or "classworlds" in processes.describe(p)]
    assert processes.still_running(java, grace=10) == [], [processes.describe(p) for p in java]
    for secret in (emulator.token, callback_receiver.verify_token, APP_SECRET,
                   other_app["access_tokens"][0]):
        assert all(secret not in text for text in [*printed, state])
