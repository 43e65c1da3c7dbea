"""`waba-webhooks drift` end to end: the real pulumi CLI's refresh preview JSON of the routing
program against the emulator, read by the `waba-webhooks` console script.

A business owns 3 WABAs and serves 7 client WABAs (the last refuses reads with code 200;
tests/business.py). Its routing is split over two stacks, as shard stacks or two teams would
hold it: `owned` (the 3 owned WABAs) and `clients` (the 6 readable client WABAs), each table
written by `discover --business ID --owned` / `--client` and adopted by `pulumi up` with no
Graph write. Then someone changes 3 numbers and removes one WABA override by hand: `drift` of
both stacks' JSON exits 2 and lists exactly that; after `pulumi up --refresh` of both it exits 0;
a new client WABA our app is subscribed to by hand shows as unmanaged.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests import business
from tests.conftest import CallbackReceiver, EmulatorHandle, run_cli
from tests.e2e.conftest import ROUTING_PROGRAM, E2EStack, changes
from waba_webhooks.emulator import DEFAULT_APP_ID, DEFAULT_TOKEN, EmulatorAdmin, EmulatorServer

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
VERIFY_TOKEN = "e2e-drift-verify-token-7a91"
#: Set to rewrite the golden files from this run (then review the diff before committing).
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
#: Keys of a preview document that hold times or machine paths.
NOISE = {"sourcePosition", "stackTrace", "created", "modified", "duration"}
RELATION = {"owned": "owned", "clients": "client"}
STACKS = {"owned": business.WABA_IDS[:business.OWNED],
          "clients": [w for w in business.WABA_IDS[business.OWNED:] if w != business.REFUSING]}


@dataclass
class Estate:
    emulator: EmulatorHandle
    receiver: CallbackReceiver
    stacks: dict[str, E2EStack]
    up_writes: int

    def json(self, name: str, *command: str) -> str:
        """What `pulumi <command> --json` prints for a stack, as a CI job runs it."""
        stack = self.stacks[name]
        done = subprocess.run(["pulumi", *command, "--json", "--stack", name],
                              cwd=stack.stack.workspace.work_dir,
                              env={**os.environ, **stack.env}, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        stack.outputs.append(done.stdout)
        return done.stdout

    def drift(self, tmp_path: Path, *command: str, business_id: str | None = None,
              stacks: tuple[str, ...] = ("owned", "clients")) -> subprocess.CompletedProcess:
        """`waba-webhooks drift` of the stacks' JSON files (one per stack)."""
        files = []
        for name in stacks:
            path = tmp_path / f"{name}-{'-'.join(command)}.json"
            path.write_text(self.json(name, *command))
            files.append(str(path))
        extra = ["--business", business_id] if business_id else []
        return run_cli(self.emulator, "drift", *files, *extra)


@pytest.fixture(scope="module")
def estate(engine, tmp_path_factory, pulumi_home) -> Iterator[Estate]:
    """Seed the estate, discover each stack's WABAs into its config, and `pulumi up` both."""
    with (EmulatorServer() as server, CallbackReceiver(VERIFY_TOKEN) as receiver):
        admin = EmulatorAdmin(server.url)
        emulator = EmulatorHandle(server.url, admin, DEFAULT_TOKEN, DEFAULT_APP_ID)
        business.seed(admin, receiver.base_url)
        stacks = {}
        try:
            for name, wabas in STACKS.items():
                stack = E2EStack(tmp_path_factory.mktemp(name), emulator, pulumi_home,
                                 VERIFY_TOKEN, name=name, program=ROUTING_PROGRAM,
                                 project_name="waba-webhooks")
                stacks[name] = stack
                found = run_cli(emulator, "discover", "--business", business.BUSINESS,
                                f"--{RELATION[name]}", "--stack-config", str(stack.config_file))
                # The clients' discover is partial: the refusing WABA, named with Meta's reason.
                assert found.returncode == (3 if name == "clients" else 0), found.stderr
                assert (business.REFUSING in found.stderr) == (name == "clients")
                for token in re.findall(r"--path 'waba-webhooks:verifyTokens\.([^']+)'",
                                        found.stderr):
                    stack.stack.set_config(f"waba-webhooks:verifyTokens.{token}",
                                           auto.ConfigValue(VERIFY_TOKEN, secret=True),
                                           path=True)
                assert changes(stack.up().summary.resource_changes) == {
                    "create": len(wabas) + 1}
            yield Estate(emulator, receiver, stacks, admin.counts()["writes"])
        finally:
            for name, stack in stacks.items():
                stack.export()
                stack.stack.workspace.remove_stack(name, force=True)
                assert stack.leaked(DEFAULT_TOKEN, VERIFY_TOKEN) == []
            admin.close()


def rows(report: str) -> dict[str, list[str]]:
    """The numbers table: phone number id -> [recorded, live, rule, why] (a shared row gives
    each of its numbers its cells)."""
    found = {}
    for line in report.split("### Overrides")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cells) == 5:
            for number in re.findall(r"(\d{15}) \(", cells[0]):
                found[number] = cells[1:]
    return found


def overrides(report: str) -> set[str]:
    """The first cell of each row of the Overrides table."""
    section = report.split("### Overrides")[1].split("###")[0] if "### Overrides" in report else ""
    return {line.split(" | ")[0].strip("| ") for line in section.splitlines()[4:]
            if line.startswith("| ")}


def normalized(printed: str, estate: Estate) -> dict:
    """A refresh preview document with the golden files' URLs and without times."""
    text = printed.replace(estate.receiver.base_url, business.BASE).replace(
        estate.emulator.url, "http://127.0.0.1:18080")
    text = re.sub(r"(pulumi:providers:pulumi-python::default)::[0-9a-f-]{36}",
                  r"\1::00000000-0000-0000-0000-000000000000", text)

    def clean(node):
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if k not in NOISE}
        return [clean(v) for v in node] if isinstance(node, list) else node
    document = clean(json.loads(text))
    # Pulumi prints steps in the order they finish, which varies between runs.
    document["steps"].sort(key=lambda step: step["urn"])
    return document


def test_up_adopts_both_stacks_with_no_write_and_drift_finds_nothing(estate, tmp_path):
    assert estate.up_writes == 0
    if UPDATE:  # the record tests/test_drift.py reads against the same estate
        for name in estate.stacks:
            (GOLDEN / f"refresh_{name}.json").write_text(json.dumps(
                normalized(estate.json(name, "refresh", "--preview-only"), estate),
                indent=1) + "\n")
    before = estate.emulator.admin.counts()
    done = estate.drift(tmp_path, "refresh", "--preview-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "**No drift.**" in done.stdout
    assert "stacks `clients`, `owned`" in done.stdout
    assert estate.emulator.admin.counts()["writes"] == before["writes"] == 0


def test_hand_changes_are_drift_listed_exactly_then_up_refresh_restores(estate, tmp_path):
    base = estate.receiver.base_url
    business.drift(estate.emulator.admin, base)
    reports = {}
    for command in (("refresh", "--preview-only"), ("preview", "--refresh")):
        done = estate.drift(tmp_path, *command)
        assert done.returncode == 2, done.stdout + done.stderr
        reports[command] = done.stdout
    report = reports[("refresh", "--preview-only")]
    print(f"\n{report}")
    # Both forms of the JSON give the same report: live is read from Graph, not from the JSON.
    assert reports[("preview", "--refresh")] == report
    changed = {business.phone_id(*key): path for key, path in business.HAND_CHANGED.items()}
    found = rows(report)
    assert set(found) == set(changed) | set(business.FOLLOWING)
    for phone, path in changed.items():
        recorded = f"`{base}/{business.PHONE_OVERRIDES[divmod(int(phone) % 1000, 5)]}`"
        assert found[phone][0] == recorded
        if path is None:
            assert found[phone][2:] == ["phone → WABA" if divmod(int(phone) % 1000, 5)[0] in
                                        business.WABA_OVERRIDES else "phone → app",
                                        "phone override removed by hand"]
        else:
            assert found[phone][1:] == [f"`{base}/{path}`", "phone",
                                        "phone override changed by hand"]
    removed = business.WABA_IDS[business.WABA_REMOVED]
    for phone in business.FOLLOWING:
        assert found[phone] == [f"`{base}/w/{business.WABA_REMOVED}`",
                                f"`{business.APP_CALLBACK}`", "WABA → app",
                                "via WABA override (removed by hand)"]
    assert overrides(report) == {f"phone number {p}" for p in changed} | {f"WABA {removed}"}
    assert "**Drift: 6 phone numbers route otherwise than recorded**, 4 overrides" in report

    # One stack's file alone reports only that stack's part.
    owned_only = estate.drift(tmp_path, "refresh", "--preview-only", stacks=("owned",))
    assert owned_only.returncode == 2
    assert set(rows(owned_only.stdout)) == {business.phone_id(0, 1)}

    for stack in estate.stacks.values():
        stack.up(refresh=True)
    done = estate.drift(tmp_path, "refresh", "--preview-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "**No drift.**" in done.stdout


def test_a_new_client_waba_subscribed_by_hand_is_unmanaged(estate, tmp_path):
    new = business.new_client(estate.emulator.admin)
    writes = estate.emulator.admin.counts()["writes"]
    done = estate.drift(tmp_path, "refresh", "--preview-only", business_id=business.BUSINESS)
    assert done.returncode == 2, done.stdout + done.stderr
    report = done.stdout
    unmanaged = report.split("### Unmanaged")[1]
    listed = {line.split(" | ")[0].strip("| ") for line in unmanaged.splitlines()
              if re.match(r"\| \d", line)}
    # The new client WABA, and the refusing one (with Meta's reason): nothing the stacks cover.
    assert listed == {new, business.REFUSING}
    assert "subscribed, no WABA override" in unmanaged
    assert "could not be read" in unmanaged and "#200" in unmanaged
    assert "**No drift.**" in report
    assert estate.emulator.admin.counts()["writes"] == writes
    # Without the clients stack's JSON, its WABAs are unmanaged too: pass every stack's file.
    alone = estate.drift(tmp_path, "refresh", "--preview-only", business_id=business.BUSINESS,
                         stacks=("owned",))
    assert set(STACKS["clients"]) <= set(re.findall(r"\| (\d{15}) \|",
                                                    alone.stdout.split("### Unmanaged")[1]))


def test_bad_input_is_refused_with_a_clear_message(estate, tmp_path):
    for stdin, words in [("{not json", "is not JSON"),
                         (json.dumps({"deployment": {}}), "expected the JSON object"),
                         (json.dumps({"steps": [{"op": "update", "urn": "x"}]}),
                          "no `refresh` step")]:
        done = run_cli(estate.emulator, "drift", stdin=stdin)
        assert done.returncode == 1 and words in done.stderr, done.stderr
        assert done.stdout == ""
    done = run_cli(estate.emulator, "drift", "--business", "lucky-shrub")
    assert done.returncode == 1 and "--business must be a business id (digits)" in done.stderr
    # A usage error is an error (1), not drift (2, argparse's own code).
    done = run_cli(estate.emulator, "drift", "--since", "yesterday")
    assert done.returncode == 1 and "unrecognized arguments: --since" in done.stderr
    # A token whose app may not read a recorded WABA: Meta's (#200), exit 1, nothing printed.
    path = tmp_path / "owned.json"
    path.write_text(estate.json("owned", "refresh", "--preview-only"))
    estate.emulator.admin.add_fault(count=1, path=f"{business.WABA_IDS[0]}/subscribed_apps",
                                    status=403, error={"code": 200,
                                                       "message": "(#200) Permissions error"})
    done = run_cli(estate.emulator, "drift", str(path))
    estate.emulator.admin.clear_faults()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"may not read WABA {business.WABA_IDS[0]}" in done.stderr
    assert DEFAULT_TOKEN not in done.stderr + done.stdout


# ---- the fourth kind: the app's own subscription ------------------------------------------------

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's app


def test_the_apps_subscription_changed_in_the_dashboard_is_drift(
        engine, tmp_path, emulator, callback_receiver, pulumi_home):
    """An `AppWebhookSubscription` and a `WabaRouting` that routes one number of its WABA (the
    other follows the app): someone edits the app's callback URL and fields in the App
    Dashboard."""
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    waba = emulator.waba_ids[0]
    numbers = [p for p in emulator.phone_ids if emulator.waba_of(p) == waba]
    try:
        stack.stack.set_config("whatsapp:appId", auto.ConfigValue(emulator.app_id))
        stack.declare(routings=[{"name": "routing", "id": waba,
                                 "phones": {numbers[0]: callback_receiver.url_for("own")}}],
                      apps=[{"name": "app", "callbackUrl": callback_receiver.url,
                             "fields": ["messages", "account_update"], "adopt": True}])
        stack.up()
        refresh = ["pulumi", "refresh", "--preview-only", "--json", "--stack", "test"]

        def drift(**environ: str) -> subprocess.CompletedProcess:
            done = subprocess.run(refresh, cwd=stack.stack.workspace.work_dir,
                                  env={**os.environ, **stack.env}, capture_output=True,
                                  text=True, timeout=300, check=True)
            return run_cli(emulator, "drift", stdin=done.stdout, **environ)

        assert drift(WHATSAPP_APP_SECRET=APP_SECRET).returncode == 0
        emulator.admin.set_app_subscription(emulator.app_id, "https://dashboard.example/hook",
                                            ["messages"])
        done = drift(WHATSAPP_APP_SECRET=APP_SECRET)
        assert done.returncode == 2, done.stdout + done.stderr
        report = done.stdout
        assert overrides(report) == {f"callback URL of app {emulator.app_id}",
                                     f"fields of app {emulator.app_id}"}
        assert "dropped outside the stack: account_update" in report
        assert set(rows(report)) == set(numbers[1:])
        assert {tuple(r) for r in rows(report).values()} == {(
            f"`{callback_receiver.url}`", "`https://dashboard.example/hook`", "app",
            "via the app's subscription (changed by hand)")}
        # Reading the app's subscription takes the app secret: without it, an error that says so.
        done = drift()
        assert done.returncode == 1 and "appSecret" in done.stderr, done.stderr
    finally:
        stack.export()
        stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, f"{emulator.app_id}|",
                        callback_receiver.verify_token) == []
