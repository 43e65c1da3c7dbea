"""`waba-webhooks review`: real `pulumi preview --json` output against the seeded emulator,
over real HTTP.

`preview_per_override.json` was captured from the e2e routing stack (tests/e2e/
test_discover_review.py) when it declared one resource per override; the e2e test keeps
`preview_waba_change.json` (one `WabaRouting` per WABA) current. Both make the same change: the
golden preview changes the WABA override of seeded WABA 0, deletes the phone override of
number 20 and creates one on number 25. Variants of it (plaintext secrets, unknown values, other
steps) are made by editing that real document.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import seeded
from waba_webhooks.commands import preview, review
from waba_webhooks.config import Settings
from waba_webhooks.graph import GraphClient

GOLDEN = Path(__file__).resolve().parent / "golden"
WABA0 = seeded.WABA_IDS[0]
#: The seven numbers of WABA 0 without an override of their own.
VIA_WABA0 = [seeded.phone_id(0, n) for n in range(3, 10)]


@pytest.fixture
def client(emulator) -> Iterator[GraphClient]:
    """Graph as our app, against the seeded world (the state the e2e stack adopted)."""
    seeded.seed(emulator.admin)
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  allow_http_loopback=True))
    yield client


def document() -> dict[str, Any]:
    return json.loads((GOLDEN / "preview_per_override.json").read_text())


def golden() -> str:
    return (GOLDEN / "review_per_override.md").read_text()


def test_the_same_change_through_waba_routings_reads_the_same_routes(client):
    """The routing program's default form (one `WabaRouting` per WABA): the same route changes
    per number as through per-override resources."""
    routed = review.report_for(json.loads((GOLDEN / "preview_waba_change.json").read_text()),
                               client)
    assert routed == (GOLDEN / "review_waba_change.md").read_text()
    # Before, after and rule per number; only "why" differs (a number dropped from a
    # WabaRouting's list is a direct change, not a deleted resource).
    assert {k: v[:5] for k, v in rows(routed).items()} == {
        k: v[:5] for k, v in rows(golden()).items()}


def step(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in doc["steps"] if s["urn"].endswith(f"::{name}"))


def rows(report: str) -> dict[str, list[str]]:
    """The changed-numbers table: phone number id -> [id, number, before, after, rule, why]
    (a row that several numbers share gives each of them its cells)."""
    found = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cells) != 5:
            continue
        for number in re.findall(r"(\d{15}) \(([^)]*)\)", cells[0].split("</summary>")[-1]):
            found[number[0]] = [*number, *cells[1:]]
    return found


def test_report_of_real_preview_output_matches_the_golden_file(client, emulator):
    assert review.report_for(document(), client) == golden()
    counts = emulator.admin.counts()
    assert counts["writes"] == 0
    # Our app id, WABA 0's subscription and numbers, and numbers 20 and 25 one by one.
    assert counts["total"] == 5, emulator.admin.calls()


def test_numbers_that_change_only_through_their_waba_override_are_listed(client):
    report = review.report_for(document(), client)
    changed = rows(report)
    for phone in VIA_WABA0:
        assert changed[phone][2:] == ["`https://hooks.example.com/waba-0`",
                                      "`https://hooks.example.com/waba-0-v2`", "WABA",
                                      "via WABA override"]
    # Numbers of WABA 0 with their own override keep their route.
    assert not {seeded.phone_id(0, n) for n in range(3)} & set(changed)
    assert changed[seeded.phone_id(2, 0)][4:] == ["phone → app", "delete"]
    assert changed[seeded.phone_id(2, 5)][4:] == ["app → phone", "direct"]
    assert report.startswith(
        "## Webhook routing — stack `test`\n\n**9 phone numbers change route**")


def test_secrets_never_reach_the_report_even_in_plaintext_input(client):
    doc = document()
    verify, access = "PLAIN-VERIFY-TOKEN-8c2e71", "EAAG-PLAIN-ACCESS-TOKEN-41d0"
    for raw in doc["steps"]:
        for state in ("oldState", "newState"):
            for bag in ("inputs", "outputs"):
                props = raw.get(state, {}).get(bag)
                if props and "verify_token" in props:
                    props["verify_token"] = verify
    doc["config"]["whatsapp:accessToken"] = access
    doc["config"]["waba-webhooks:verifyTokens"] = json.dumps(
        dict.fromkeys(seeded.TOKEN_NAMES.values(), verify))
    report = review.report_for(doc, client, secrets=[access])
    assert report == golden()
    # Even where a secret shows up inside a value the report prints, it is masked.
    step(doc, "phone-300000000000025")["newState"]["inputs"]["callback_uri"] = (
        f"https://vip.example.com/line/25?t={verify}")
    report = review.report_for(doc, client, secrets=[access])
    assert verify not in report and access not in report
    assert "https://vip.example.com/line/25?t=[secret]" in report


def test_values_unknown_until_apply_show_as_such(client):
    doc = document()
    update = step(doc, f"waba-{WABA0}")
    update["newState"]["inputs"]["callback_uri"] = preview.UNKNOWN_SENTINEL
    report = review.report_for(doc, client)
    changed = rows(report)
    for phone in VIA_WABA0:
        assert changed[phone][3] == "(known after apply)"
    assert "### Known after apply" in report
    assert "**2 phone numbers change route**, 7 known only after apply" in report


def test_no_routing_change_is_said_clearly(client):
    doc = document()
    doc["steps"] = [s for s in doc["steps"] if s["op"] == "same"]
    report = review.report_for(doc, client)
    assert "**No routing changes.** The preview changes no webhook override." in report
    # An update of the verify token alone: resources change, routes do not.
    doc = document()
    update = step(doc, f"waba-{WABA0}")
    update["newState"]["inputs"]["callback_uri"] = update["oldState"]["inputs"]["callback_uri"]
    doc["steps"] = [s for s in doc["steps"] if s is update or s["op"] == "same"]
    report = review.report_for(doc, client)
    assert "**No routing changes.** 10 phone numbers read from Graph keep their route." in report
    assert "same URL (verify token or options change)" in report


def test_untyped_dynamic_resources_are_recognised_by_their_inputs(client):
    doc = document()
    for raw in doc["steps"]:
        for state in ("oldState", "newState"):
            if raw.get(state, {}).get("type", "").startswith("pulumi-python:dynamic/"):
                raw[state]["type"] = "pulumi-python:dynamic:Resource"
    assert review.report_for(doc, client) == golden()


def test_a_create_over_someone_elses_override_is_flagged_and_changes_nothing(client):
    doc = document()
    taken = seeded.phone_id(2, 1)  # has https://vip.example.com/line/21, set by hand
    step(doc, "phone-300000000000025")["newState"]["inputs"]["phone_number_id"] = taken
    report = review.report_for(doc, client)
    assert taken not in rows(report)
    assert ("`pulumi up` will fail here: another override (https://vip.example.com/line/21)"
            in report)
    assert "### Warnings" in report


def test_a_delete_leaves_an_override_changed_outside_the_stack(client):
    doc = document()
    delete = step(doc, "phone-300000000000020")
    delete["oldState"]["inputs"]["callback_uri"] = "https://vip.example.com/line/20-old"
    report = review.report_for(doc, client)
    assert seeded.phone_id(2, 0) not in rows(report)
    assert "left as it is: it was changed outside this stack" in report


def test_a_waba_override_on_an_unsubscribed_waba_starts_delivery(client):
    doc = document()
    create = copy.deepcopy(step(doc, f"waba-{WABA0}"))
    create.update(op="create", urn=create["urn"].replace(WABA0, seeded.UNSUBSCRIBED))
    del create["oldState"]
    create["newState"]["inputs"].update(waba_id=seeded.UNSUBSCRIBED,
                                        callback_uri="https://hooks.example.com/waba-3")
    doc["steps"] = [doc["steps"][0], create]
    changed = rows(review.report_for(doc, client))
    assert set(changed) == {seeded.phone_id(3, n) for n in range(10)}
    own = changed.pop(seeded.phone_id(3, 0))
    assert own[2].startswith("(not delivered: our app is not subscribed")
    assert own[3:5] == ["`https://vip.example.com/line/30`", "none → phone"]
    assert all(c[3:5] == ["`https://hooks.example.com/waba-3`", "none → WABA"]
               for c in changed.values())


@pytest.mark.parametrize("unlisted", ["keep", "clear"])
def test_a_waba_routing_owns_its_listed_numbers_and_under_clear_the_whole_waba(client, unlisted):
    """`WabaRouting` (inputs: waba_id, callback_uri, phone_numbers, unlisted): numbers it lists
    get their override; under ``unlisted="clear"`` the overrides of ours it does not list go
    (those numbers fall back to the app), under ``"keep"`` they stay."""
    doc = document()
    routed = copy.deepcopy(step(doc, f"waba-{WABA0}"))
    waba2 = seeded.WABA_IDS[2]
    routed.update(op="create", urn=f"urn:pulumi:test::waba-webhooks::pulumi-python:dynamic/"
                  f"waba-webhooks:WabaRouting::waba-routing-{waba2}")
    del routed["oldState"]
    routed["newState"]["type"] = "pulumi-python:dynamic/waba-webhooks:WabaRouting"
    routed["newState"]["inputs"] = {
        "waba_id": waba2, "unlisted": unlisted, "verify_token": "[secret]",
        "phone_numbers": {seeded.phone_id(2, 0): "https://vip.example.com/line/20",
                          seeded.phone_id(2, 9): "https://vip.example.com/line/29"}}
    doc["steps"] = [doc["steps"][0], routed]
    parsed = preview.parse(doc)
    assert [s.kind.name for s in parsed.steps][-1] == "WabaRouting"
    changed = rows(review.render(review.build(parsed, client)))
    new_route = changed.pop(seeded.phone_id(2, 9))
    assert new_route[3:5] == ["`https://vip.example.com/line/29`", "app → phone"]
    if unlisted == "keep":
        assert changed == {}
    else:
        # Numbers 21..24 had overrides the resource does not list: they fall back to the app.
        assert set(changed) == {seeded.phone_id(2, n) for n in range(1, 5)}
        assert all(c[4:] == ["phone → app", "cleared (not listed)"] for c in changed.values())


# ---- app-level changes: the app's own subscription --------------------------------------------
# preview_app_change.json and preview_app_messages.json are real previews of the e2e routing stack
# (tests/e2e/test_discover_review.py keeps them current): the first moves the app's callback URL
# to .../webhook-v2, adds account_alerts and drops message_template_quality_update; the second
# drops the messages field.

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the seeded app's (fixtures.generate)
APP_URN_SUFFIX = "::app-subscription"


@pytest.fixture
def app_client(emulator) -> Iterator[GraphClient]:
    """Graph as our app, with the app secret: the app's subscription can be read."""
    seeded.seed(emulator.admin)
    yield GraphClient(Settings(access_token=emulator.token, app_secret=APP_SECRET,
                               graph_url=emulator.url, allow_http_loopback=True))


def app_document(name: str = "app_change") -> dict[str, Any]:
    return json.loads((GOLDEN / f"preview_{name}.json").read_text())


def app_step(doc: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in doc["steps"] if s["urn"].endswith(APP_URN_SUFFIX))


def test_app_change_report_of_real_preview_output_matches_the_golden_file(app_client, emulator):
    report = review.report_for(app_document(), app_client)
    assert report == (GOLDEN / "review_app_change.md").read_text()
    counts = emulator.admin.counts()
    assert counts["writes"] == 0
    # Our app id, every WABA of the table (subscribed_apps and phone_numbers), the app's
    # subscription: the preview prints no step for the WABAs, the config names them.
    assert counts["total"] == 1 + 2 * len(seeded.WABA_IDS) + 1, emulator.admin.calls()
    assert APP_SECRET not in report


def test_dropping_the_messages_field_is_said_first_and_stops_every_number(app_client):
    report = review.report_for(app_document("app_messages"), app_client)
    assert report == (GOLDEN / "review_app_messages.md").read_text()
    assert report.split("\n")[2:4] == [
        "> [!CAUTION]",
        report.split("\n")[3]]
    assert "EVERY MESSAGES WEBHOOK OF THE APP STOPS" in report.split("\n")[3]
    changed = rows(report)
    delivered = {p for p, (uri, _) in seeded.routes().items() if uri is not None}
    assert set(changed) == delivered
    assert all(c[3] == "(not delivered: the app does not subscribe to the messages field)"
               and c[5] == "messages field dropped" for c in changed.values())


def test_without_the_app_secret_before_comes_from_the_numbers_and_the_state(client):
    """No app secret: the app's live subscription cannot be read. The numbers still say the
    app's callback URL; the fields come from the stack's state, and a warning says so."""
    report = review.report_for(app_document(), client)
    moved = rows(report)
    assert sorted(moved) == sorted(p for p, (_, rule) in seeded.routes().items()
                                   if rule == "application")
    assert all(c[2:] == ["`https://lucky-shrub.example/webhook`",
                         "`https://lucky-shrub.example/webhook-v2`", "app",
                         "via app callback URL"] for c in moved.values())
    assert "the app's live webhook subscription was not read" in report
    assert "**Meta stops delivering `message_template_quality_update`**" in report


def test_deleting_the_app_subscription_leaves_it_unless_remove_on_destroy(app_client):
    doc = app_document()
    delete = app_step(doc)
    delete["op"] = "delete"
    del delete["newState"]
    report = review.report_for(doc, app_client)
    assert rows(report) == {}
    assert "kept; left as it is (removeOnDestroy is false)" in report
    assert "[!CAUTION]" not in report
    delete["oldState"]["inputs"]["remove_on_destroy"] = True
    report = review.report_for(doc, app_client)
    assert "removes the app's webhook subscription" in report.split("\n")[3]
    delivered = {p for p, (uri, _) in seeded.routes().items() if uri is not None}
    assert set(rows(report)) == delivered
    assert all(c[5] == "app subscription removed" for c in rows(report).values())


def test_a_create_over_a_different_app_subscription_is_flagged_and_changes_nothing(app_client):
    doc = app_document()
    create = app_step(doc)
    create["op"] = "create"
    del create["oldState"]
    report = review.report_for(doc, app_client)
    assert rows(report) == {}
    assert ("`pulumi up` will fail here: the app's subscription is set to "
            "https://lucky-shrub.example/webhook" in report)
    # Declared as it is live: adopted without a write.
    live = app_client.app_subscription(app_client.app_id())
    create["newState"]["inputs"].update(callback_url=live.callback_url, fields=list(live.fields))
    report = review.report_for(doc, app_client)
    assert "adopts; already set: taken over without a write" in report
    assert rows(report) == {} and "[!WARNING]" not in report


def test_adding_a_field_alone_moves_no_number_and_is_listed(app_client):
    doc = app_document()
    update = app_step(doc)
    old = update["oldState"]["inputs"]
    update["newState"]["inputs"].update(callback_url=old["callback_url"],
                                        fields=[*old["fields"], "phone_number_quality_update"])
    report = review.report_for(doc, app_client)
    assert rows(report) == {}
    assert "**No phone number changes route** (40 numbers read); the app's subscription " \
           "changes: see below." in report
    assert "| `phone_number_quality_update` | — |" in report
    assert "[!WARNING]" not in report and "[!CAUTION]" not in report


def test_an_untyped_app_subscription_is_recognised_by_its_inputs(app_client):
    doc = app_document()
    for state in ("oldState", "newState"):
        app_step(doc)[state]["type"] = "pulumi-python:dynamic:Resource"
    assert review.report_for(doc, app_client) == (GOLDEN / "review_app_change.md").read_text()
