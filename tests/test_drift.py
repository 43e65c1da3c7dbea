"""`waba-webhooks drift` against the emulator over real HTTP, reading real
`pulumi refresh --preview-only --json` output.

`refresh_owned.json` and `refresh_clients.json` were printed by the real CLI for the two stacks
of tests/e2e/test_drift.py right after they adopted the estate of tests/business.py (which keeps
them current with UPDATE_GOLDEN=1). Here the emulator holds that same estate; the hand changes
are made with its admin API.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import business
from tests.conftest import EmulatorHandle, run_cli
from waba_webhooks.commands import drift
from waba_webhooks.config import Settings
from waba_webhooks.emulator import DEFAULT_APP_ID
from waba_webhooks.graph import GraphClient

GOLDEN = Path(__file__).resolve().parent / "golden"


def document(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"refresh_{name}.json").read_text())


@pytest.fixture
def estate(emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The estate as both stacks recorded it."""
    business.seed(emulator.admin)
    yield emulator


@pytest.fixture
def client(estate: EmulatorHandle) -> GraphClient:
    return GraphClient(Settings(access_token=estate.token, graph_url=estate.url,
                                allow_http_loopback=True))


def numbers(report: str) -> dict[str, list[str]]:
    """Phone number id -> [recorded, live, rule, why] from the numbers table."""
    found = {}
    for line in report.split("### Overrides")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cells) == 5 and cells[0][:1] in "<3":
            for number in re.findall(r"(\d{15}) \(", cells[0]):
                found[number] = cells[1:]
    return found


def test_the_recorded_state_is_what_the_refresh_steps_hold():
    records = {r.name: r for r in drift.recorded(document("clients"))}
    assert sorted(records) == [f"waba-routing-{w}" for w in business.WABA_IDS[3:9]]
    waba3 = records[f"waba-routing-{business.WABA_IDS[3]}"]
    # Every number of the WABA, with or without an override of ours, and the WABA's own.
    assert waba3.declared.wabas == {business.WABA_IDS[3]: f"{business.BASE}/w/3"}
    assert waba3.declared.phones == {
        business.phone_id(3, 0): f"{business.BASE}/p/3-0",
        business.phone_id(3, 1): f"{business.BASE}/p/3-1",
        **dict.fromkeys(business.FOLLOWING)}
    assert waba3.subscribed == {business.WABA_IDS[3]: True}
    assert {r.stack for r in records.values()} == {"clients"}


def test_no_drift_exits_0_and_reads_only(client, estate):
    report, status = drift.report_for([document("owned"), document("clients")], client)
    assert status == drift.NO_DRIFT
    assert "**No drift.** Every route is as recorded (9 resources in 2 stacks, 45 phone numbers" \
        in report
    counts = estate.admin.counts()
    assert counts["writes"] == 0
    # Our app id, then subscribed_apps and one page of phone_numbers per WABA: nothing more.
    assert counts["total"] == 1 + 2 * 9, estate.admin.calls()


def test_hand_changes_are_listed_exactly(client, estate):
    business.drift(estate.admin)
    report, status = drift.report_for([document("clients")], client)
    assert status == drift.DRIFT
    found = numbers(report)
    # This stack's part of the hand changes: numbers of WABAs 5 and 6, and WABA 3's followers.
    assert set(found) == {business.phone_id(5, 2), business.phone_id(6, 0),
                          *business.FOLLOWING}
    assert found[business.phone_id(6, 0)] == [f"`{business.BASE}/p/6-0`",
                                              f"`{business.APP_CALLBACK}`", "phone → app",
                                              "phone override removed by hand"]
    # The followers share one row.
    assert "<summary>3 numbers of WABA 200000000000003</summary>" in report


def test_an_override_set_by_hand_on_a_number_without_one_is_drift(client, estate):
    """A `WabaRouting` records the numbers without an override too."""
    phone = business.phone_id(4, 3)
    estate.admin.set_phone_override(phone, DEFAULT_APP_ID, "https://elsewhere.example/hook")
    report, status = drift.report_for([document("clients")], client)
    assert status == drift.DRIFT
    assert numbers(report) == {phone: [f"`{business.BASE}/w/4`",
                                       "`https://elsewhere.example/hook`", "WABA → phone",
                                       "phone override set by hand"]}


def test_two_stacks_recording_one_waba_are_flagged(client):
    clients = document("clients")
    twin = copy.deepcopy(clients)
    for step in twin["steps"]:
        for state in (step, step.get("oldState") or {}, step.get("newState") or {}):
            if "urn" in state:
                state["urn"] = state["urn"].replace("urn:pulumi:clients::", "urn:pulumi:twin::")
    report, _ = drift.report_for([clients, twin], client)
    assert "is recorded by both" in report and "stacks `clients`, `twin`" in report


def test_cli_refuses_what_is_not_a_refresh_preview(estate, tmp_path):
    plain_preview = GOLDEN / "preview_waba_change.json"  # `pulumi preview --json`: no record
    done = run_cli(estate, "drift", str(plain_preview))
    assert done.returncode == 1
    assert "no `refresh` step" in done.stderr and "pulumi refresh --preview-only" in done.stderr
    done = run_cli(estate, "drift", str(tmp_path / "missing.json"))
    assert done.returncode == 1 and "cannot read" in done.stderr
    done = run_cli(estate, "drift", stdin="")
    assert done.returncode == 1 and "stdin is not JSON" in done.stderr
    assert estate.admin.counts()["total"] == 0
