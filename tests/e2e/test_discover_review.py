"""The command line around `pulumi up`, end to end with the real engine and the `waba-webhooks`
console script: discover a seeded emulator's routing (4 WABAs, 40 numbers, overrides set by hand,
and, with the app secret, the app's own subscription), `pulumi up` the routing program with that
table (adopted with 0 Graph writes, then no diff), and review real `pulumi preview --json` output
(golden files), app-level changes included."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests import seeded
from tests.conftest import EmulatorHandle, run_cli
from tests.e2e.conftest import PROGRAM, ROUTING_PROGRAM, E2EStack, changes
from waba_webhooks.emulator import DEFAULT_APP_ID, DEFAULT_TOKEN, EmulatorAdmin, EmulatorServer

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
VERIFY_TOKEN = "e2e-cli-verify-token-5d1c"
#: The seeded app's secret (fixtures.generate): discover and the stack read the app's subscription
#: with the app access token it forms.
APP_SECRET = "EMU-APP-SECRET-lucky-shrub"
ROUTING_KEY = "waba-webhooks:routing"
#: Set to rewrite the golden files from this run (then review the diff before committing).
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
#: Keys of a preview document that hold times, machine paths or random ids.
NOISE = {"sourcePosition", "stackTrace", "created", "modified", "duration"}


def normalized(preview_json: str, emulator_url: str) -> dict[str, Any]:
    """A preview document without times, machine paths, random ids or the emulator's port."""
    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if k not in NOISE}
        if isinstance(node, list):
            return [clean(v) for v in node]
        if isinstance(node, str):
            node = node.replace(emulator_url, "http://127.0.0.1:18080")
            return re.sub(r"(pulumi:providers:pulumi-python::default)::[0-9a-f-]{36}",
                          r"\1::00000000-0000-0000-0000-000000000000", node)
        return node
    return clean(json.loads(preview_json))


def number_rows(report: str) -> dict[str, str]:
    """Phone number id -> its row of the numbers table (a row that several numbers share is
    each one's)."""
    found = {}
    for line in report.split("### ")[0].splitlines():
        cells = line.split(" | ")
        if line.startswith("| ") and len(cells) == 5:
            for number in re.findall(r"(\d{15}) \(", cells[0]):
                found[number] = line
    return found


@dataclass
class Adopted:
    emulator: EmulatorHandle
    stack: E2EStack
    discover: subprocess.CompletedProcess
    discover_calls: list[dict[str, Any]]
    up: auto.UpResult
    up_counts: dict[str, Any]
    #: The routing table discover wrote (tests that change it put it back).
    table: dict[str, Any]


@pytest.fixture(scope="module")
def adopted(engine, tmp_path_factory, pulumi_home):
    """Seed, discover into the stack's config file, fill in the verify tokens discover asked
    for, and `pulumi up` once."""
    with EmulatorServer() as server:
        admin = EmulatorAdmin(server.url)
        emulator = EmulatorHandle(server.url, admin, DEFAULT_TOKEN, DEFAULT_APP_ID)
        seeded.seed(admin)
        stack = E2EStack(tmp_path_factory.mktemp("routing"), emulator, pulumi_home, VERIFY_TOKEN,
                         program=ROUTING_PROGRAM, project_name="waba-webhooks")
        args = [a for w in seeded.WABA_IDS for a in ("--waba", w)]
        found = run_cli(emulator, "discover", *args, "--stack-config", str(stack.config_file),
                        WHATSAPP_APP_SECRET=APP_SECRET)
        assert found.returncode == 0, found.stderr
        discover_calls = admin.calls()
        for name in re.findall(r"--path 'waba-webhooks:verifyTokens\.([^']+)'", found.stderr):
            stack.stack.set_config(f"waba-webhooks:verifyTokens.{name}",
                                   auto.ConfigValue(VERIFY_TOKEN, secret=True), path=True)
        stack.stack.set_config("whatsapp:appSecret", auto.ConfigValue(APP_SECRET, secret=True))
        table = json.loads(stack.stack.get_config(ROUTING_KEY).value)
        up = stack.up()
        yield Adopted(emulator, stack, found, discover_calls, up, admin.counts(), table)
        stack.export()
        stack.stack.workspace.remove_stack("test", force=True)
        assert stack.leaked(DEFAULT_TOKEN, VERIFY_TOKEN, APP_SECRET) == []
        admin.close()


def test_discover_reads_only_and_writes_the_table_into_the_stack_config(adopted):
    calls = adopted.discover_calls
    assert [c for c in calls if c["method"] != "GET"] == []
    per_waba = {w: sorted(c["operation"] for c in calls if c["path"].split("/")[2] == w)
                for w in seeded.WABA_IDS}
    # One subscribed_apps read and one page of the phone_numbers edge per WABA, our app id, and
    # the app's subscription.
    assert all(ops == ["GET phone_numbers", "GET subscribed_apps"]
               for ops in per_waba.values()), per_waba
    assert [c["path"] for c in calls if c["path"].endswith("/subscriptions")] == [
        f"/v23.0/{DEFAULT_APP_ID}/subscriptions"]
    assert len(calls) == 2 * len(seeded.WABA_IDS) + 2
    print(f"\ndiscover: {len(calls)} Graph calls for {len(seeded.WABA_IDS)} WABAs / "
          f"{seeded.WABAS * seeded.PER_WABA} numbers: {per_waba}")
    config = yaml.safe_load(adopted.stack.config_file.read_text())["config"]
    table = config["waba-webhooks:routing"]
    assert len(table["phoneNumbers"]) == seeded.WABAS * seeded.PER_WABA
    assert table["app"]["callbackUrl"] == seeded.APP_CALLBACK
    assert "messages" in table["app"]["fields"]
    # The file's other keys are still there, secrets still encrypted.
    assert "secure" in config["whatsapp:accessToken"]
    # One verify token name per callback host, the app's callback URL's included.
    assert sorted(config["waba-webhooks:verifyTokens"]) == sorted(
        [*seeded.TOKEN_NAMES.values(), table["app"]["verifyToken"]])


def test_up_adopts_the_discovered_routing_with_no_write_and_then_no_diff(adopted):
    # The routing program declares one WabaRouting per WABA of the table and the app's
    # subscription (besides the stack itself): all adopted.
    overrides = len(seeded.WABA_OVERRIDES) + len(seeded.PHONE_OVERRIDES)
    assert changes(adopted.up.summary.resource_changes) == {"create": len(seeded.WABA_IDS) + 2}
    assert adopted.up_counts["writes"] == 0, adopted.up_counts
    up_calls = adopted.up_counts["total"] - len(adopted.discover_calls)
    print(f"\npulumi up of {overrides} discovered overrides: {up_calls} Graph calls, "
          f"{adopted.up_counts['writes']} writes")
    routing = adopted.up.outputs["routing"].value
    for phone, (uri, rule) in seeded.routes().items():
        if uri is not None:  # numbers of the WABA our app is not subscribed to: nothing to say
            assert routing[phone] == {"callbackUri": uri, "rule": rule}, phone
    assert changes(adopted.stack.preview().change_summary) == {}
    assert adopted.emulator.admin.counts()["writes"] == 0
    app = adopted.up.outputs["app"].value
    assert app["callbackUrl"] == seeded.APP_CALLBACK and app["active"] is True
    assert app["fields"] == adopted.table["app"]["fields"]


def preview_of(adopted: Adopted, change) -> str:
    """`pulumi preview --json` of the discovered table as `change` edits it; the table is put
    back afterwards."""
    stack = adopted.stack.stack
    table = copy.deepcopy(adopted.table)
    change(table)
    stack.set_config(ROUTING_KEY, auto.ConfigValue(json.dumps(table)))
    try:
        return adopted.stack.run("preview", json=True).stdout
    finally:
        stack.set_config(ROUTING_KEY, auto.ConfigValue(json.dumps(adopted.table)))


def reviewed_against_golden(adopted: Adopted, printed: str, name: str) -> str:
    """`waba-webhooks review` of real preview output (with the app secret), checked against
    (or, with UPDATE_GOLDEN=1, written to) tests/golden/preview_<name>.json and review_<name>.md."""
    reviewed = run_cli(adopted.emulator, "review", stdin=printed, WHATSAPP_APP_SECRET=APP_SECRET)
    assert reviewed.returncode == 0, reviewed.stderr
    report = reviewed.stdout
    if UPDATE:
        document = normalized(printed, adopted.emulator.url)
        (GOLDEN / f"preview_{name}.json").write_text(json.dumps(document, indent=1) + "\n")
        (GOLDEN / f"review_{name}.md").write_text(report)
    assert report == (GOLDEN / f"review_{name}.md").read_text()
    assert APP_SECRET not in report and VERIFY_TOKEN not in report
    return report


def test_review_of_an_app_level_change_lists_every_number_that_falls_back_to_the_app(adopted):
    """The app's callback URL moves, one field comes and one goes: every number of the stack's
    WABAs without an override moves with the URL, and the report says so before anything."""
    def change(table: dict[str, Any]) -> None:
        app = table["app"]
        app["callbackUrl"] = "https://lucky-shrub.example/webhook-v2"
        app["fields"] = [f for f in app["fields"] if f != "message_template_quality_update"]
        app["fields"].append("phone_number_quality_update")

    before = adopted.emulator.admin.counts()
    report = reviewed_against_golden(adopted, preview_of(adopted, change), "app_change")
    falls_back = sorted(p for p, (_, rule) in seeded.routes().items() if rule == "application")
    moved = number_rows(report)
    assert sorted(moved) == falls_back and len(falls_back) == 5
    assert all("via app callback URL" in row and "webhook-v2" in row for row in moved.values())
    assert "**The app's callback URL changes**" in report
    assert "All template and account webhooks" in report
    assert "**Meta stops delivering `message_template_quality_update`**" in report
    assert "`phone_number_quality_update`" in report
    assert adopted.emulator.admin.counts()["writes"] == before["writes"] == 0


def test_review_of_dropping_the_messages_field_says_first_that_every_message_stops(adopted):
    def change(table: dict[str, Any]) -> None:
        table["app"]["fields"].remove("messages")

    report = reviewed_against_golden(adopted, preview_of(adopted, change), "app_messages")
    lines = report.splitlines()
    assert lines[2:4] == ["> [!CAUTION]", lines[3]]
    assert lines[3].startswith("> **EVERY MESSAGES WEBHOOK OF THE APP STOPS.**")
    stopped = {p for p, row in number_rows(report).items() if "messages field dropped" in row}
    # Every number our app gets messages webhooks of, overrides included.
    assert stopped == {p for p, (uri, _) in seeded.routes().items() if uri is not None}
    assert adopted.emulator.admin.counts()["writes"] == 0


def test_review_of_real_preview_output_shows_indirect_route_changes(adopted):
    """The WABA override of seeded WABA 0 changes, one phone override goes, one comes: the report
    lists every number of WABA 0 without its own override (via WABA override) besides them."""
    def change(table: dict[str, Any]) -> None:
        waba0 = next(w for w in table["wabas"] if w["wabaId"] == seeded.WABA_IDS[0])
        waba0["callbackUri"] = "https://hooks.example.com/waba-0-v2"
        for entry in table["phoneNumbers"]:
            if entry["phoneNumberId"] == seeded.phone_id(2, 0):
                del entry["callbackUri"], entry["verifyToken"]
            if entry["phoneNumberId"] == seeded.phone_id(2, 5):
                entry.update(callbackUri="https://vip.example.com/line/25",
                             verifyToken=seeded.TOKEN_NAMES["vip.example.com"])

    before = adopted.emulator.admin.counts()["total"]
    printed = preview_of(adopted, change)
    document = normalized(printed, adopted.emulator.url)
    reviewed = run_cli(adopted.emulator, "review", stdin=printed)
    assert reviewed.returncode == 0, reviewed.stderr
    report = reviewed.stdout
    if UPDATE:
        (GOLDEN / "preview_waba_change.json").write_text(json.dumps(document, indent=1) + "\n")
        (GOLDEN / "review_waba_change.md").write_text(report)
    assert report == (GOLDEN / "review_waba_change.md").read_text()
    assert adopted.emulator.admin.counts()["writes"] == 0
    print(f"\nreview read {adopted.emulator.admin.counts()['total'] - before} Graph calls "
          "(preview included)")


def test_review_of_a_replace_shows_both_numbers(adopted, tmp_path, pulumi_home):
    """A phone override that moves to another number (same resource, new id): the old number
    falls back to its WABA's override, the new one gets the URL."""
    emulator = adopted.emulator
    old, new = seeded.phone_id(0, 0), seeded.phone_id(0, 3)
    uri = seeded.PHONE_OVERRIDES[old]
    stack = E2EStack(tmp_path, emulator, pulumi_home, VERIFY_TOKEN, name="moves", program=PROGRAM)
    try:
        stack.declare(phones=[{"name": "line", "id": old, "callbackUri": uri}])
        assert changes(stack.up().summary.resource_changes) == {"create": 2}
        stack.declare(phones=[{"name": "line", "id": new, "callbackUri": uri}])
        printed = stack.run("preview", json=True).stdout
        reviewed = run_cli(emulator, "review", stdin=printed)
        assert reviewed.returncode == 0, reviewed.stderr
        rows = number_rows(reviewed.stdout)
        assert set(rows) == {old, new}
        waba_uri = seeded.WABA_OVERRIDES[seeded.WABA_IDS[0]]
        assert "phone → WABA" in rows[old] and waba_uri in rows[old]
        assert "WABA → phone" in rows[new] and uri in rows[new]
        assert all("via replace" in row for row in rows.values())
    finally:
        stack.stack.workspace.remove_stack("moves", force=True)
    assert emulator.admin.counts()["writes"] == 0
    assert stack.leaked(DEFAULT_TOKEN, VERIFY_TOKEN) == []
