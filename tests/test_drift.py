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

from tests import business, seeded
from tests.conftest import EmulatorHandle, run_cli
from waba_webhooks.commands import drift
from waba_webhooks.config import Settings
from waba_webhooks.emulator import DEFAULT_APP_ID
from waba_webhooks.errors import WabaWebhooksError
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


# ---- the app's own subscription (AppWebhookSubscription) ----------------------------------------

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the generated fixture's, as tests/test_graph.py has


def app_step(callback_url: str, fields: list[str]) -> dict[str, Any]:
    """A refresh step of an `AppWebhookSubscription`, in the form the real ones above have,
    with the outputs its provider records (resources/app_subscription.py): no routing program
    declares one yet, so no real refresh JSON holds it."""
    outputs = {"callback_url": callback_url, "fields": fields, "live_fields": fields,
               "app_id": DEFAULT_APP_ID, "active": True, "include_values": True,
               "verify_token": "[secret]", "adopt_existing": False, "remove_on_destroy": False}
    state = {"urn": "urn:pulumi:clients::waba-webhooks::pulumi-python:dynamic/waba-webhooks:"
                    "AppWebhookSubscription::app-subscription",
             "type": "pulumi-python:dynamic/waba-webhooks:AppWebhookSubscription",
             "id": DEFAULT_APP_ID, "custom": True,
             "inputs": {k: outputs[k] for k in ("callback_url", "fields", "verify_token")},
             "outputs": outputs}
    return {"op": "refresh", "urn": state["urn"], "provider": "", "oldState": state,
            "newState": state}


def test_the_apps_subscription_url_and_fields_are_compared(estate):
    client = GraphClient(Settings(access_token=estate.token, graph_url=estate.url,
                                  app_secret=APP_SECRET, allow_http_loopback=True))
    live = estate.admin.app_subscription(DEFAULT_APP_ID)
    fields = [f["name"] for f in live["fields"]]
    doc = document("clients")
    doc["steps"].append(app_step(business.APP_CALLBACK, fields))
    report, status = drift.report_for([doc], client)
    assert status == drift.NO_DRIFT, report
    # Changed in the App Dashboard: another callback URL, one field fewer.
    estate.admin.set_app_subscription(DEFAULT_APP_ID, "https://moved.example/hook",
                                      [f for f in fields if f != "account_update"])
    report, status = drift.report_for([doc], client)
    assert status == drift.DRIFT
    assert (f"| callback URL of app {DEFAULT_APP_ID} | `app-subscription` | "
            f"`{business.APP_CALLBACK}` | `https://moved.example/hook` | changed outside the "
            "stack |") in report
    assert "dropped outside the stack: account_update" in report
    # Every number that falls back to the app moves with it; the others stay.
    found = numbers(report)
    followers = {business.phone_id(w, n) for w in (5, 6, 7, 8) for n in range(business.PER_WABA)
                 if (w, n) not in business.PHONE_OVERRIDES}
    assert set(found) == followers
    assert {tuple(c[1:]) for c in found.values()} == {
        ("`https://moved.example/hook`", "app", "via the app's subscription (changed by hand)")}
    # Without `messages` nothing reaches any URL: every number of the stack moves.
    estate.admin.set_app_subscription(DEFAULT_APP_ID, business.APP_CALLBACK,
                                      [f for f in fields if f != "messages"])
    found = numbers(drift.report_for([doc], client)[0])
    assert len(found) == 6 * business.PER_WABA
    assert all(c[1] == "(not delivered: the app does not subscribe to the messages field)"
               for c in found.values())


def test_the_apps_subscription_needs_the_app_secret(client):
    doc = document("clients")
    doc["steps"].append(app_step(business.APP_CALLBACK, ["messages"]))
    with pytest.raises(WabaWebhooksError, match="appSecret"):
        drift.report_for([doc], client)


# ---- the per-override resources ----------------------------------------------------------------


def per_override_record() -> dict[str, Any]:
    """The record of a `WabaCallbackOverride` (seeded WABA 0) and a `PhoneCallbackOverride`
    (seeded number 20): the real preview of the per-override routing stack
    (golden/preview_per_override.json), whose steps' ``oldState`` is that record, with their
    ops made the ``refresh`` a refresh preview prints for them (and its create left out: a
    resource not in the state yet has no record)."""
    document = json.loads((GOLDEN / "preview_per_override.json").read_text())
    document["steps"] = [{**s, "op": "refresh"} for s in document["steps"] if s.get("oldState")]
    return document


def test_single_override_resources_own_only_their_override(emulator):
    seeded.seed(emulator.admin)
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  allow_http_loopback=True))
    report, status = drift.report_for([per_override_record()], client)
    assert status == drift.NO_DRIFT, report
    waba0, phone20 = seeded.WABA_IDS[0], seeded.phone_id(2, 0)
    emulator.admin.set_waba_override(waba0, DEFAULT_APP_ID, None)
    emulator.admin.set_phone_override(phone20, DEFAULT_APP_ID, "https://vip.example.com/moved")
    # Not recorded by any resource: a hand change there is nobody's drift.
    emulator.admin.set_phone_override(seeded.phone_id(0, 0), DEFAULT_APP_ID,
                                      "https://vip.example.com/not-ours")
    report, status = drift.report_for([per_override_record()], client)
    assert status == drift.DRIFT
    found = numbers(report)
    following = {seeded.phone_id(0, n) for n in range(3, 10)}
    assert set(found) == following | {phone20}
    assert found[phone20] == ["`https://vip.example.com/line/20`",
                              "`https://vip.example.com/moved`", "phone",
                              "phone override changed by hand"]
    assert {tuple(found[p]) for p in following} == {(
        "`https://hooks.example.com/waba-0`", f"`{seeded.APP_CALLBACK}`", "WABA → app",
        "via WABA override (removed by hand)")}


def test_a_token_without_access_to_the_business_is_an_error(estate, tmp_path):
    """`--business` with a token Meta refuses the business's lists to (its (#200)): exit 1 with
    Meta's words, no report."""
    path = tmp_path / "clients.json"
    path.write_text(json.dumps(document("clients")))
    estate.admin.add_fault(count=1, path="owned_whatsapp_business_accounts", status=403,
                           error={"code": 200, "message": "(#200) Permissions error"})
    done = run_cli(estate, "drift", str(path), "--business", business.BUSINESS)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == "" and "(#200) Permissions error" in done.stderr
    assert estate.token not in done.stderr
