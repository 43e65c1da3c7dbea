"""Moving a stack of per-override resources (the earlier `routing.apply`) to one `WabaRouting`
per WABA with the real engine and the repository's own program (`stacks/`): no Graph write, and
no moment at which a number loses its override (docs/routing-tables.md, "Moving a stack to
WabaRouting")."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pulumi import automation as auto

from tests.e2e.conftest import REPO, E2EStack, changes
from waba_webhooks.emulator import fixtures
from waba_webhooks.emulator.receiver import WebhookReceiver

TOKENS = {"main": "migration-main-token", "vip": "migration-vip-token"}


def routing_table(fixture: dict, receiver: WebhookReceiver) -> dict:
    """Three WABAs of four numbers: one with a WABA override and two numbers of their own (one
    with another verify token), one with numbers of their own only, one with a WABA override
    only."""
    wabas = [w["id"] for w in fixture["wabas"]]
    numbers = {w: [p["id"] for p in fixture["phone_numbers"] if p["waba_id"] == w] for w in wabas}
    url = receiver.url_for
    return {
        "appCallbackUri": fixture["apps"][0]["callback_url"],
        "wabas": [
            {"wabaId": wabas[0], "callbackUri": url(f"w/{wabas[0]}"), "verifyToken": "main"},
            {"wabaId": wabas[1]},
            {"wabaId": wabas[2], "callbackUri": url(f"w/{wabas[2]}"), "verifyToken": "main"},
        ],
        "phoneNumbers": [
            {"phoneNumberId": numbers[wabas[0]][0], "wabaId": wabas[0],
             "callbackUri": url("vip"), "verifyToken": "vip"},
            {"phoneNumberId": numbers[wabas[0]][1], "wabaId": wabas[0],
             "callbackUri": url("sales"), "verifyToken": "main"},
            {"phoneNumberId": numbers[wabas[0]][2], "wabaId": wabas[0]},
            {"phoneNumberId": numbers[wabas[1]][0], "wabaId": wabas[1],
             "callbackUri": url("returns"), "verifyToken": "main"},
            {"phoneNumberId": numbers[wabas[1]][1], "wabaId": wabas[1],
             "callbackUri": url("support"), "verifyToken": "vip"},
        ],
    }


class OverrideWatch:
    """Samples our app's overrides in the emulator, as fast as it answers, while a step runs."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.samples: list[dict[str, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def snapshot(self) -> dict[str, str | None]:
        state = self.emulator.admin.state()
        app = self.emulator.app_id
        found = {w["id"]: w["subscriptions"].get(app) for w in state["wabas"]}
        found.update({p["id"]: p["overrides"].get(app) for p in state["phone_numbers"]})
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.snapshot())

    def __enter__(self) -> OverrideWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_per_override_stack_moves_to_waba_routing_without_a_write(
        engine, tmp_path: Path, emulator, pulumi_home):
    fixture = fixtures.generate(wabas=3, phones_per_waba=4)
    emulator.admin.seed(fixture)
    with WebhookReceiver(TOKENS.values()) as receiver:
        table = routing_table(fixture, receiver)
        stack = E2EStack(tmp_path, emulator, pulumi_home, TOKENS["main"], program=REPO / "stacks",
                         project_name="waba-webhooks")
        stack.stack.set_all_config({
            "waba-webhooks:routing": auto.ConfigValue(json.dumps(table)),
            "waba-webhooks:verifyTokens": auto.ConfigValue(json.dumps(TOKENS), secret=True),
        })

        def use(form: str | None) -> None:
            if form is None:
                stack.stack.remove_config("waba-webhooks:resources")
            else:
                stack.stack.set_config("waba-webhooks:resources", auto.ConfigValue(form))

        # A stack built by the earlier routing.apply: one resource per override (6).
        use("per-override")
        assert changes(stack.up().summary.resource_changes) == {"create": 7}  # + the stack
        watch = OverrideWatch(emulator)
        routed = {k: v for k, v in watch.snapshot().items() if v is not None}
        assert len(routed) == 6
        exports = {k: v.value for k, v in stack.stack.outputs().items()}
        calls_before = len(emulator.admin.calls())

        # Step 1: mark them retain_on_delete. No Graph call, nothing changes.
        use("per-override-retained")
        assert changes(stack.up().summary.resource_changes) == {}
        old = [r for r in stack.deployment()["resources"] if "CallbackOverride" in r["type"]]
        assert len(old) == 6 and all(r.get("retainOnDelete") for r in old)
        assert len(emulator.admin.calls()) == calls_before, "step 1 called the Graph API"

        # Step 2: switch to WabaRouting. The new resources adopt the live URLs; the old ones
        # leave the state without a call.
        use(None)
        preview = stack.preview()
        assert changes(preview.change_summary) == {"create": 3, "delete": 6}
        with watch:
            result = stack.up()
        assert changes(result.summary.resource_changes) == {"create": 3, "delete": 6}
        during = emulator.admin.calls()[calls_before:]
        assert [c for c in during if c["method"] != "GET"] == [], "the move wrote to Graph"
        assert len(watch.samples) > 1
        for sample in watch.samples:
            assert {k: v for k, v in sample.items() if v is not None} == routed, (
                "an override was missing or changed during the move")

        assert changes(stack.preview().change_summary) == {}
        assert changes(stack.refresh().summary.resource_changes) == {}
        types = [r["type"].rsplit(":", 1)[-1] for r in stack.deployment()["resources"]
                 if r["type"].startswith("pulumi-python:dynamic")]
        assert types == ["WabaRouting"] * 3
        assert {k: v.value for k, v in stack.stack.outputs().items()} == exports
        print(f"\nmoved 6 per-override resources to 3 WabaRouting: Graph calls during the move "
              f"{len(during)} (all GET), {len(watch.samples)} samples of the emulator's state, "
              "every override present in each")
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, *TOKENS.values()) == []
