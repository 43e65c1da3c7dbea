"""A Go program of the generated SDK (sdk/go, through a `replace` directive), with the real CLI
and our Go language host (tools/engine/gohost, which `go build`s the program and runs it) against
the emulator. One stack, its steps as a user takes them, each step's Graph calls checked:

- ``up`` declares a `WabaRouting`, a `PhoneCallbackOverride`, the app's subscription and, with a
  second app's explicit provider, that app's override on the same WABA: the routing is live, and
  every write carries the app whose provider made it;
- a no-change ``preview`` makes no Graph call;
- changing one URL makes one write;
- the `import` resource option adopts an override set by hand, with no write;
- ``destroy`` removes the overrides, leaves every WABA subscribed and the app's subscription as
  it is, and no secret was printed or stored in plaintext.

The engine asks our host which plugins the program needs: the SDK's pulumi-plugin.json, found
through go.mod, names `whatsapp` at the package's version, which Pulumi.yaml's
`plugins.providers` serves from this checkout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import check_two_app_up, init_two_app_stack, local_plugin, pulumi_in
from tests.e2e.test_yaml import APP_SECRET, Calls
from tests.golang import compile_program, go_program

GO_HOST = "pulumi-language-go"
WABA, VIP, SALES, SALES_WABA, SPARE = ("102290129340398", "106540352242922", "106540352242924",
                                       "102290129340399", "106540352242925")

#: The program (a main.go; tests.golang.go_program gives it examples/go's go.mod and go.sum).
PROGRAM = Path(__file__).resolve().parent / "go_program" / "main.go"


def go_host_beside(cli: str) -> Path:
    """Our Go language host next to the CLI's resolved executable, where the CLI looks for its
    bundled plugins (and where tools/install-engine puts it)."""
    host = Path(os.path.realpath(cli)).with_name(GO_HOST)
    if not os.access(host, os.X_OK):
        pytest.fail(f"no {GO_HOST} beside the pulumi CLI ({host}): run the tests with bin/test, "
                    "whose tools/install-engine builds it (tools/engine/gohost)")
    return host


def test_go_program_up_preview_update_import_destroy(engine: str, tmp_path: Path, emulator,
                                                     callback_receiver):
    go_host_beside(engine)
    project = go_program(tmp_path / "project", PROGRAM.read_text())
    compile_program(project)
    (project / "Pulumi.yaml").write_text(json.dumps(
        {"name": "go-routing", "runtime": "go", **local_plugin()}))
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
    step("up", "--yes")
    check_two_app_up(emulator, calls, url, other_app, waba=WABA, vip=VIP, sales=SALES)

    # A no-change preview: no Graph call.
    calls = Calls(emulator)
    step("preview", "--expect-no-changes")
    assert calls.made() == []

    # One URL changed: one write, to that number.
    run("config", "set", "salesUrl", url("sales/v2"))
    calls = Calls(emulator)
    step("up", "--yes")
    assert [(c["method"], c["path"]) for c in calls.writes()] == [
        ("POST", f"/v23.0/{SALES}")], calls.made()
    assert emulator.phone_override(SALES) == url("sales/v2")

    # An override set by hand, adopted with the import option: no write.
    emulator.admin.set_phone_override(SPARE, emulator.app_id, url("by-hand"))
    run("config", "set", "importId", SPARE)
    run("config", "set", "adoptedUrl", url("by-hand"))
    calls = Calls(emulator)
    assert "imported" in step("up", "--yes")
    assert calls.writes() == [], calls.made()
    step("preview", "--expect-no-changes")
    state = run("stack", "export").stdout  # secrets encrypted

    # Destroy: every override goes, each app clearing its own; no WABA is unsubscribed and the
    # app's subscription stays.
    calls = Calls(emulator)
    step("destroy", "--yes")
    for number in (VIP, SALES, SPARE):
        assert emulator.phone_override(number) is None
    assert emulator.waba_override(WABA) is None
    assert all(c["method"] != "DELETE" for c in calls.made())
    assert emulator.is_subscribed(WABA) and emulator.is_subscribed(SALES_WABA)
    assert emulator.admin.app_subscription(emulator.app_id)["callback_url"] == url("app")
    run("stack", "rm", "dev", "--yes")
    for secret in (emulator.token, callback_receiver.verify_token, APP_SECRET,
                   other_app["access_tokens"][0]):
        assert all(secret not in text for text in [*printed, state])
