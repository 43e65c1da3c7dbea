"""`review` and `drift` read native stacks as they read dynamic ones, against the emulator over
real HTTP: the real previews and refresh JSON of tests/golden with their steps in the native
door's form (``whatsapp:index:*`` types, camelCase properties, the ``whatsapp`` provider), whole
or half-way through the move (a mixed stack); a stack of two apps' explicit providers; and what
neither command can read, which is an error naming the resource, never a report of no change.

The end-to-end proof, with real native stacks of a YAML and a TypeScript program, is
tests/e2e/test_native_review.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import business, seeded
from tests.conftest import EmulatorHandle, run_cli
from waba_webhooks.commands import drift, review
from waba_webhooks.commands.apps import Apps, token_variable
from waba_webhooks.config import Settings
from waba_webhooks.emulator import DEFAULT_APP_ID
from waba_webhooks.graph import GraphClient
from waba_webhooks.resources import KINDS

GOLDEN = Path(__file__).resolve().parent / "golden"
NATIVE_DEFAULT = ("urn:pulumi:{stack}::waba-webhooks::pulumi:providers:whatsapp::default_0_2_0"
                  "::1f0c7a1e-0000-4000-8000-000000000000")


def golden(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / name).read_text())


def nativized(document: dict[str, Any], chosen: Callable[[dict[str, Any]], bool] = lambda _: True,
              provider: str = NATIVE_DEFAULT) -> dict[str, Any]:
    """`document` with the chosen steps as the native door prints them: the kind's token, its
    wire names (camelCase) and the ``whatsapp`` provider (`provider`, ``{stack}`` filled in)."""
    document = copy.deepcopy(document)
    kinds = {kind.dynamic_type: kind for kind in KINDS}
    for step in document["steps"]:
        states = [step.get(k) for k in ("oldState", "newState") if step.get(k)]
        dynamic = [s for s in states if s.get("type") in kinds]
        if not dynamic or not chosen(step):
            continue
        kind = kinds[dynamic[0]["type"]]
        stack = step["urn"].split("::")[0].removeprefix("urn:pulumi:")
        reference = provider.format(stack=stack)
        step["urn"] = step["urn"].replace(kind.dynamic_type, kind.token)
        step["provider"] = reference
        for state in dynamic:
            state["type"], state["urn"] = kind.token, step["urn"]
            state["provider"] = reference
            for bag in ("inputs", "outputs"):
                if isinstance(state.get(bag), dict):
                    state[bag] = kind.to_wire({k: v for k, v in state[bag].items()
                                               if k != "__provider"})
    return document


def types(document: dict[str, Any]) -> set[str]:
    return {s[k]["type"] for s in document["steps"] for k in ("oldState", "newState")
            if s.get(k)}


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[GraphClient]:
    seeded.seed(emulator.admin)
    yield GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                               allow_http_loopback=True))


# ---- one reading for both doors -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["waba_change", "per_override"])
def test_a_native_preview_reviews_as_the_dynamic_one(client, name):
    document = golden(f"preview_{name}.json")
    native = nativized(document)
    assert "whatsapp:index:WabaRouting" in types(native) or \
        "whatsapp:index:PhoneCallbackOverride" in types(native)
    assert not any(t.startswith("pulumi-python:dynamic/") for t in types(native))
    assert review.report_for(native, client) == (GOLDEN / f"review_{name}.md").read_text()


def test_a_stack_half_way_through_the_move_reviews_as_before(client):
    """The WABA override native, the phone overrides still dynamic: the same report."""
    native = nativized(golden("preview_per_override.json"),
                       lambda step: "WabaCallbackOverride" in step["urn"])
    assert {"whatsapp:index:WabaCallbackOverride",
            "pulumi-python:dynamic/waba-webhooks:PhoneCallbackOverride"} <= types(native)
    assert review.report_for(native, client) == (
        GOLDEN / "review_per_override.md").read_text()


def test_app_level_changes_of_a_native_stack(emulator):
    seeded.seed(emulator.admin)
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  app_secret=seeded_app_secret(), allow_http_loopback=True))
    native = nativized(golden("preview_app_change.json"))
    assert "whatsapp:index:AppWebhookSubscription" in types(native)
    assert review.report_for(native, client) == (GOLDEN / "review_app_change.md").read_text()


def seeded_app_secret() -> str:
    return "EMU-APP-SECRET-lucky-shrub"


@pytest.fixture
def estate(emulator: EmulatorHandle) -> Iterator[GraphClient]:
    business.seed(emulator.admin)
    yield GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                               allow_http_loopback=True))


def test_drift_of_a_native_stack_is_the_dynamic_stacks(estate, emulator):
    dynamic = [golden("refresh_owned.json"), golden("refresh_clients.json")]
    native = [nativized(d) for d in dynamic]
    assert "whatsapp:index:WabaRouting" in types(native[1])
    report, status = drift.report_for(native, estate)
    assert status == drift.NO_DRIFT and report == drift.report_for(dynamic, estate)[0]
    business.drift(emulator.admin)
    report, status = drift.report_for(native, estate)
    assert status == drift.DRIFT, report
    assert report == drift.report_for(dynamic, estate)[0]
    assert "**Drift: 6 phone numbers route otherwise than recorded**" in report
    # Half-way through the move: one stack native, the other with both kinds of resources.
    mixed = nativized(dynamic[1], lambda step: step["urn"][-1] in "357")
    assert {"whatsapp:index:WabaRouting",
            "pulumi-python:dynamic/waba-webhooks:WabaRouting"} <= types(mixed)
    assert drift.report_for([native[0], mixed], estate)[0] == report


# ---- what cannot be read is an error naming the resource ---------------------------------------


def write(tmp_path: Path, document: dict[str, Any], name: str = "in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_a_type_of_ours_that_no_kind_has_exits_1_naming_the_resource(client, emulator,
                                                                       tmp_path):
    native = nativized(golden("preview_waba_change.json"))
    step = native["steps"][1]
    for state in (step["oldState"], step["newState"]):
        state["type"] = "whatsapp:index:WabaRoutingV2"
    done = run_cli(emulator, "review", write(tmp_path, native))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "whatsapp:index:WabaRoutingV2" in done.stderr
    assert step["urn"].rsplit("::", 1)[-1] in done.stderr and done.stdout == ""

    record = nativized(golden("refresh_owned.json"))
    for state in (record["steps"][0]["oldState"], record["steps"][0]["newState"]):
        state["type"] = "pulumi-python:dynamic/waba-webhooks:WabaRoutingV2"
    done = run_cli(emulator, "drift", write(tmp_path, record, "refresh.json"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert record["steps"][0]["urn"] in done.stderr and done.stdout == ""


def test_an_unparseable_value_exits_1_naming_the_resource_and_the_property(client, emulator,
                                                                             tmp_path):
    native = nativized(golden("preview_waba_change.json"))
    step = native["steps"][1]
    step["newState"]["inputs"]["wabaId"] = 200000000000000  # a number, not a string of digits
    done = run_cli(emulator, "review", write(tmp_path, native))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "wabaId is 200000000000000" in done.stderr
    assert step["urn"] in done.stderr and done.stdout == ""

    record = nativized(golden("refresh_clients.json"))
    outputs = record["steps"][0]["oldState"]["outputs"]
    outputs["phoneNumbers"] = "https://not-a-map.example"
    done = run_cli(emulator, "drift", write(tmp_path, record, "refresh.json"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "phoneNumbers is 'https://not-a-map.example'" in done.stderr
    assert record["steps"][0]["urn"] in done.stderr and done.stdout == ""
    # A native WabaRouting read in snake_case (the old misreading) would have no WABA id.
    assert emulator.admin.counts()["total"] == 0


# ---- two apps: each resource read with its own app's token -------------------------------------

OTHER = ("urn:pulumi:test::routing::pulumi:providers:whatsapp::other-app"
         "::6e1d2c3b-0000-4000-8000-000000000000")
MAIN_WABA, SUPPORT_WABA = "102290129340398", "102290129340399"


def two_apps_preview(other_app: dict[str, Any], with_provider_step: bool) -> dict[str, Any]:
    """A preview of a native stack: our app's WABA override on the main WABA moves, and the
    other app's (through its explicit provider) is created there."""
    def state(name: str, inputs: dict[str, Any], provider: str) -> dict[str, Any]:
        return {"urn": f"urn:pulumi:test::routing::whatsapp:index:WabaCallbackOverride::{name}",
                "type": "whatsapp:index:WabaCallbackOverride", "custom": True,
                "provider": provider, "inputs": inputs, "outputs": {}}
    ours = {"wabaId": MAIN_WABA, "verifyToken": "[secret]"}
    default = NATIVE_DEFAULT.format(stack="test").replace("waba-webhooks", "routing")
    steps: list[dict[str, Any]] = [
        {"op": "update", "urn": state("ours", {}, default)["urn"], "provider": default,
         "oldState": state("ours", {**ours, "callbackUri": "https://ours.example/v1"}, default),
         "newState": state("ours", {**ours, "callbackUri": "https://ours.example/v2"},
                           default)},
        {"op": "create", "urn": state("theirs", {}, OTHER)["urn"], "provider": OTHER,
         "newState": state("theirs", {**ours, "callbackUri": "https://theirs.example/hook"},
                           OTHER)},
    ]
    if with_provider_step:
        steps.insert(0, {"op": "same", "urn": OTHER, "newState": {
            "urn": OTHER, "type": "pulumi:providers:whatsapp", "custom": True,
            "inputs": {"accessToken": "[secret]", "appId": other_app["id"]}}})
    return {"steps": steps, "changeSummary": {"update": 1, "create": 1}}


def test_two_apps_each_read_with_its_own_token_and_named_on_every_row(emulator, tmp_path):
    other = next(a for a in emulator.admin.state()["apps"] if a["id"] != emulator.app_id)
    emulator.admin.set_waba_override(MAIN_WABA, emulator.app_id, "https://ours.example/v1")
    variable = token_variable(OTHER)
    assert variable == "WHATSAPP_ACCESS_TOKEN_OTHER_APP"
    for with_provider_step in (True, False):  # the app id from the provider's inputs, or Graph
        preview = write(tmp_path, two_apps_preview(other, with_provider_step))
        done = run_cli(emulator, "review", preview, **{variable: other["access_tokens"][0]})
        assert done.returncode == 0, done.stderr
        report = done.stdout
        assert "| phone number | app | before | after | rule | why |" in report
        both = ("<details><summary>2 numbers of WABA 102290129340398</summary>"
                "106540352242922 (+1 555-010-0001)<br>106540352242923 (+1 555-010-0002)"
                "</details>")
        assert (f"| {both} | {emulator.app_id} | `https://ours.example/v1` | "
                "`https://ours.example/v2` | WABA | via WABA override |") in report
        assert (f"| {both} | {other['id']} | `{other['callback_url']}` | "
                "`https://theirs.example/hook` | app → WABA | via WABA override |") in report
        assert f"| WABA {MAIN_WABA} (app {other['id']}) | `theirs` | create |" in report
        assert other["access_tokens"][0] not in report
    # Each app's reads carried its own token.
    assert {c["app_id"] for c in emulator.admin.calls()} == {emulator.app_id, other["id"]}

    # Without that app's token: exit 1, saying whose token and where to put it.
    done = run_cli(emulator, "review", preview)
    assert done.returncode == 1 and done.stdout == ""
    assert "`other-app`" in done.stderr and variable in done.stderr


def test_drift_of_two_apps_names_the_app_and_needs_each_token(emulator, tmp_path):
    other = next(a for a in emulator.admin.state()["apps"] if a["id"] != emulator.app_id)
    emulator.admin.set_waba_override(SUPPORT_WABA, emulator.app_id, "https://ours.example/s")
    emulator.admin.set_waba_override(SUPPORT_WABA, other["id"], "https://theirs.example/s")

    def record(name: str, provider: str, uri: str) -> dict[str, Any]:
        state = {"urn": f"urn:pulumi:prod::routing::whatsapp:index:WabaCallbackOverride::{name}",
                 "type": "whatsapp:index:WabaCallbackOverride", "custom": True,
                 "id": SUPPORT_WABA, "provider": provider,
                 "inputs": {"wabaId": SUPPORT_WABA, "callbackUri": uri,
                            "verifyToken": "[secret]"},
                 "outputs": {"wabaId": SUPPORT_WABA, "callbackUri": uri,
                             "verifyToken": "[secret]", "adoptExisting": False}}
        return {"op": "refresh", "urn": state["urn"], "oldState": state, "newState": state}
    default = "urn:pulumi:prod::routing::pulumi:providers:whatsapp::default::0"
    other_provider = OTHER.replace(":test:", ":prod:")
    document = {"steps": [record("ours", default, "https://ours.example/s"),
                          record("theirs", other_provider, "https://theirs.example/s")],
                "changeSummary": {"same": 2}}
    path = write(tmp_path, document)
    variable = token_variable(other_provider)
    done = run_cli(emulator, "drift", path, **{variable: other["access_tokens"][0]})
    assert done.returncode == 0, done.stdout + done.stderr
    # The other app's override changed by hand: drift, on that app's rows only.
    emulator.admin.set_waba_override(SUPPORT_WABA, other["id"], "https://by-hand.example/s")
    done = run_cli(emulator, "drift", path, **{variable: other["access_tokens"][0]})
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"| WABA {SUPPORT_WABA} (app {other['id']}) | `theirs` |" in done.stdout
    assert "| phone number | app | recorded | live | rule | why |" in done.stdout
    assert f"| {other['id']} | `https://theirs.example/s` | `https://by-hand.example/s` | " \
        "WABA | via WABA override (changed by hand) |" in done.stdout
    assert f"| {emulator.app_id} |" not in done.stdout
    # No token for it: exit 1, never 0 (nor a report of our app alone).
    done = run_cli(emulator, "drift", path)
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert variable in done.stderr and "`other-app`" in done.stderr


def test_one_app_through_two_providers_is_one_app(emulator):
    """An explicit provider for our own app: its rows are ours, no app column."""
    client = GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                  allow_http_loopback=True))
    apps = Apps(client, environ={token_variable(OTHER): emulator.token})
    ours = next(a for a in emulator.admin.state()["apps"] if a["id"] == emulator.app_id)
    emulator.admin.set_waba_override(MAIN_WABA, emulator.app_id, "https://ours.example/v1")
    report = review.report_for(two_apps_preview(ours, True), apps)
    assert "| phone number | before | after | rule | why |" in report
    assert f"(app {DEFAULT_APP_ID})" not in report


def test_secrets_as_the_engine_prints_them_are_never_read(client):
    """`[secret]`, or with --show-secrets the secret signature form with its plaintext: either
    way the verify token is not read, and the plaintext never reaches the report."""
    native = nativized(golden("preview_waba_change.json"))
    plaintext = "SHOWN-VERIFY-TOKEN-0d9b4f"
    for step in native["steps"]:
        for key in ("oldState", "newState"):
            inputs = (step.get(key) or {}).get("inputs") or {}
            if "verifyToken" in inputs:
                inputs["verifyToken"] = {"4dabf18193072939515e22adb298388d":
                                         "1b47061264138c4ac30d75fd1eb44270",
                                         "plaintext": json.dumps(plaintext)}
    report = review.report_for(native, client)
    assert report == (GOLDEN / "review_waba_change.md").read_text()
    assert plaintext not in report
