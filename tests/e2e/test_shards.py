"""Shard stacks with the real CLI on the emulator: one routing table of 40 WABAs x 10 numbers
applied as 4 stacks side by side by ``waba-webhooks shards up``, resharded to 5 with no Graph
write and no moment without an override, then checked, locked, shrunk to 3 and broken
(docs/routing-tables.md, "Shard stacks"); the same steps for a set of native stacks (the
``whatsapp`` plugin's resources, ``waba-webhooks:door: native``), on a smaller table of 8 WABAs x
2 numbers. Then a dynamic set moved to the native resources with no Graph call at all, run
through preview, refresh and destroy.

Steps, in order, each on what the previous left:
1. ``shards up --prefix prod --count 4 --set-shard --config-from prod-1``: every override set,
   each WABA in exactly one stack's state, the stack its shard names.
2. ``shards reshard --prefix prod --from 4 --to 5``: only GETs, every override present in every
   sample of the emulator's state taken throughout, each WABA now in its shard of 5.
3. ``shards preview --count 5 --expect-no-changes``: no change anywhere.
4. A refresh of one stack is running (held by a slow Graph read) when ``shards refresh`` of the
   set starts: that stack is refused by its lock, the others complete, the command exits 1.
5. ``shards reshard --from 5 --to 3``: again only GETs and every override present throughout;
   prod-4 and prod-5 are retired (destroyed without a call, removed).
6. A table in which one number's receiver refuses verification: that stack fails, the command
   exits 1, and the other stacks still make their changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.conftest import CONSOLE_SCRIPT, EmulatorHandle
from tests.e2e.conftest import REPO, E2EStack
from tests.e2e.test_migration import OverrideWatch
from waba_webhooks.commands import stack_state
from waba_webhooks.emulator import EmulatorAdmin, EmulatorServer, fixtures
from waba_webhooks.emulator.receiver import WebhookReceiver
from waba_webhooks.resources import WABA_ROUTING
from waba_webhooks.tables import routing
from waba_webhooks.tables.shard import shard_of

TOKENS = {"main": "shards-main-token", "vip": "shards-vip-token",
          "refused": "shards-token-the-receiver-refuses"}
#: Generous: a step of 4 or 5 stacks side by side on a busy 2-core machine.
CLI_TIMEOUT_S = 900


def routing_table(fixture: dict, receiver: WebhookReceiver, suffix: str = "") -> dict:
    """Every WABA and every number with an override of its own (one in ten with the vip
    token)."""
    url = receiver.url_for
    return {
        "appCallbackUri": fixture["apps"][0]["callback_url"],
        "wabas": [{"wabaId": w["id"], "callbackUri": url(f"w/{w['id']}"), "verifyToken": "main"}
                  for w in fixture["wabas"]],
        "phoneNumbers": [
            {"phoneNumberId": p["id"], "wabaId": p["waba_id"],
             "callbackUri": url(f"p/{p['id']}{suffix}"),
             "verifyToken": "vip" if i % 10 == 0 else "main"}
            for i, p in enumerate(fixture["phone_numbers"])],
    }


def shards_cli(stack: E2EStack, *args: str) -> subprocess.CompletedProcess[str]:
    """``waba-webhooks shards <args>`` run from the project folder, as a user would."""
    done = subprocess.run([CONSOLE_SCRIPT, "shards", *args],
                          cwd=stack.stack.workspace.work_dir, env={**os.environ, **stack.env},
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False)
    stack.outputs.extend([done.stdout, done.stderr])
    return done


def recorded(stack: E2EStack, name: str) -> list[stack_state.Recorded]:
    """Our resources in stack `name`'s state, as ``pulumi stack export`` prints it (secrets
    encrypted), read as the commands read it."""
    export = subprocess.run(["pulumi", "stack", "export", "--stack", name],
                            cwd=stack.stack.workspace.work_dir,
                            env={**os.environ, **stack.env}, capture_output=True, text=True,
                            check=True).stdout
    return stack_state.recorded(json.loads(export)["deployment"])


def waba_owners(stack: E2EStack, names: list[str], door: str) -> dict[str, list[str]]:
    """WABA id -> the stacks whose state holds its `WabaRouting`; every resource of ours in
    their states is of `door`."""
    owners: dict[str, list[str]] = {}
    for name in names:
        resources = recorded(stack, name)
        assert {r.door for r in resources} <= {door}, (name, {r.name: r.door for r in resources})
        for resource in resources:
            if resource.kind == WABA_ROUTING:
                owners.setdefault(resource.id, []).append(name)
    return owners


def routed(watch: OverrideWatch) -> dict[str, str]:
    return {k: v for k, v in watch.snapshot().items() if v is not None}


# Many pulumi runs of up to 5 stacks at once: on a busy 2-core machine the dynamic set took 9
# minutes. The native set's table is smaller (the machine is shared); 8 WABAs still give each
# stack of 3, 4 and 5 a WABA, and 4 WABAs move from 4 stacks to 5.
@pytest.mark.timeout(2400)
@pytest.mark.parametrize(("door", "wabas", "per_waba"), [
    pytest.param(routing.DYNAMIC, 40, 10, id="dynamic"),
    pytest.param(routing.NATIVE, 8, 2, id="native"),
])
def test_a_table_split_across_shard_stacks_reshards_without_a_write(
        engine, tmp_path: Path, pulumi_home, door: str, wabas: int, per_waba: int):
    fixture = fixtures.generate(wabas=wabas, phones_per_waba=per_waba)
    with EmulatorServer(fixture) as server, WebhookReceiver(
            [TOKENS["main"], TOKENS["vip"]]) as receiver:
        admin = EmulatorAdmin(server.url, timeout=60)
        emulator = EmulatorHandle(server.url, admin, fixtures.DEFAULT_TOKEN,
                                  fixtures.DEFAULT_APP_ID)
        table = routing_table(fixture, receiver)
        first = E2EStack(tmp_path, emulator, pulumi_home, TOKENS["main"], name="prod-1",
                         program=REPO / "stacks", project_name="waba-webhooks")
        first.stack.set_all_config({
            "waba-webhooks:routing": auto.ConfigValue(json.dumps(table)),
            "waba-webhooks:verifyTokens": auto.ConfigValue(json.dumps(TOKENS), secret=True),
            "waba-webhooks:door": auto.ConfigValue(door),  # --config-from copies it
        })
        four = [f"prod-{i}" for i in range(1, 5)]
        five = [*four, "prod-5"]
        watch = OverrideWatch(emulator)
        try:
            # 1. Four shard stacks side by side.
            done = shards_cli(first, "up", "--prefix", "prod", "--count", "4", "--set-shard",
                              "--config-from", "prod-1")
            assert done.returncode == 0, done.stdout + done.stderr
            assert "4 of 4 stacks succeeded" in done.stdout
            declared = {e["wabaId"]: e["callbackUri"] for e in table["wabas"]}
            declared.update({e["phoneNumberId"]: e["callbackUri"] for e in table["phoneNumbers"]})
            before = routed(watch)
            assert before == declared  # 40 WABA + 400 number overrides
            owners = waba_owners(first, four, door)
            assert sorted(owners) == sorted(w["id"] for w in fixture["wabas"])
            assert all(found == [f"prod-{shard_of(w, 4)}"] for w, found in owners.items())
            assert len({found[0] for found in owners.values()}) == 4

            # 2. Reshard to 5: reads only, and every override present throughout.
            calls_before = len(admin.calls())
            with watch:
                done = shards_cli(first, "reshard", "--prefix", "prod", "--from", "4",
                                  "--to", "5")
            assert done.returncode == 0, done.stdout + done.stderr
            during = admin.calls()[calls_before:]
            assert [c for c in during if c["method"] != "GET"] == [], "the reshard wrote to Graph"
            assert "checked: each WABA's routing is in one stack of the 5" in done.stdout
            assert len(watch.samples) > 1
            for sample in watch.samples:
                assert {k: v for k, v in sample.items() if v is not None} == before, (
                    "an override was missing or changed during the reshard")
            owners = waba_owners(first, five, door)
            assert sorted(owners) == sorted(w["id"] for w in fixture["wabas"])
            assert all(found == [f"prod-{shard_of(w, 5)}"] for w, found in owners.items())
            moved = [w for w in owners if shard_of(w, 4) != shard_of(w, 5)]
            assert moved and all(shard_of(w, 5) == 5 for w in moved)
            print(f"\n{door} set resharded 4 -> 5: {len(moved)} of {wabas} WABAs moved, Graph "
                  f"calls during the move {len(during)} (all GET), {len(watch.samples)} "
                  "samples, every override present in each")

            # 3. Nothing left to do on any of the five.
            done = shards_cli(first, "preview", "--prefix", "prod", "--count", "5",
                              "--expect-no-changes")
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.count("| no change |") == 5

            # 4. Each stack keeps its own lock: a refresh of prod-2 holds it (one of its Graph
            # reads is slow) while a refresh of the set runs.
            held_waba = next(w for w, found in owners.items() if found == ["prod-2"])
            admin.add_fault(path=f"/{held_waba}/subscribed_apps", latency_ms=25_000)
            second = auto.select_stack("prod-2", work_dir=first.stack.workspace.work_dir,
                                       opts=auto.LocalWorkspaceOptions(env_vars=first.env))
            outcome: dict[str, object] = {}

            def hold() -> None:
                try:
                    outcome["result"] = second.refresh(color="never")
                except auto.CommandError as error:
                    outcome["error"] = error

            calls_before = len(admin.calls())
            thread = threading.Thread(target=hold)
            thread.start()
            try:
                # The refresh holds the lock once it reads Graph.
                while len(admin.calls()) == calls_before and thread.is_alive():
                    time.sleep(0.2)
                done = shards_cli(first, "refresh", "--prefix", "prod", "--count", "5")
            finally:
                thread.join()
            assert "result" in outcome, outcome.get("error")
            assert done.returncode == 1, done.stdout + done.stderr
            assert "4 of 5 stacks succeeded" in done.stdout
            failure = done.stdout.split("prod-2 failed:", 1)[1]
            assert "currently locked" in failure
            admin.clear_faults()

            # 5. Back to 3 stacks: prod-4 and prod-5 are retired, their WABAs adopted by the
            # others, again with reads only and every override present throughout.
            calls_before, watch = len(admin.calls()), OverrideWatch(emulator)
            with watch:
                done = shards_cli(first, "reshard", "--prefix", "prod", "--from", "5",
                                  "--to", "3")
            assert done.returncode == 0, done.stdout + done.stderr
            assert "removed stack prod-4" in done.stdout and "removed stack prod-5" in done.stdout
            during = admin.calls()[calls_before:]
            assert [c for c in during if c["method"] != "GET"] == [], "the reshard wrote to Graph"
            for sample in watch.samples:
                assert {k: v for k, v in sample.items() if v is not None} == before
            three = five[:3]
            owners = waba_owners(first, three, door)
            assert all(found == [f"prod-{shard_of(w, 3)}"] for w, found in owners.items())
            assert sorted(owners) == sorted(w["id"] for w in fixture["wabas"])
            listed = subprocess.run(["pulumi", "stack", "ls", "--json"],
                                    cwd=first.stack.workspace.work_dir,
                                    env={**os.environ, **first.env}, capture_output=True,
                                    text=True, check=True).stdout
            assert sorted(s["name"] for s in json.loads(listed)) == three

            # 6. One number's receiver refuses verification: its stack fails, the others still
            # apply their changes (one number of each stack gets a new URL).
            changed = routing_table(fixture, receiver)
            wabas_of = {s: [w for w, f in owners.items() if f == [s]] for s in three}
            numbers = {p["waba_id"]: p["id"] for p in fixture["phone_numbers"]}
            refused = numbers[wabas_of["prod-3"][0]]
            new_urls = {}
            for entry in changed["phoneNumbers"]:
                if entry["phoneNumberId"] == refused:
                    entry.update(callbackUri=receiver.url_for("refused"), verifyToken="refused")
                elif entry["phoneNumberId"] in {numbers[ws[0]] for s, ws in wabas_of.items()
                                                if s != "prod-3"}:
                    entry["callbackUri"] = new_urls[entry["phoneNumberId"]] = (
                        receiver.url_for(f"p/{entry['phoneNumberId']}/v2"))
            table_file = tmp_path / "routing.yaml"
            table_file.write_text(json.dumps(changed))
            done = shards_cli(first, "up", "--prefix", "prod", "--count", "3", "--routing",
                              str(table_file))
            assert done.returncode == 1, done.stdout + done.stderr
            assert "2 of 3 stacks succeeded" in done.stdout
            failure = done.stdout.split("prod-3 failed:", 1)[1]
            assert refused in failure and "2200" in failure
            live = routed(watch)
            assert {k: live[k] for k in new_urls} == new_urls
            assert live[refused] == before[refused]
        finally:
            for name in five:
                # A stack is missing when a step failed before it was created.
                with contextlib.suppress(auto.CommandError):
                    first.stack.workspace.remove_stack(name, force=True)
            admin.close()
    assert first.leaked(fixtures.DEFAULT_TOKEN, *TOKENS.values()) == []


def test_a_reshard_of_a_set_with_unexpected_shard_keys_runs_nothing(
        engine, tmp_path: Path, emulator, pulumi_home):
    first = E2EStack(tmp_path, emulator, pulumi_home, TOKENS["main"], name="prod-1",
                     program=REPO / "stacks", project_name="waba-webhooks")
    first.stack.set_all_config({
        "waba-webhooks:routing": auto.ConfigValue(json.dumps({"wabas": []})),
        "waba-webhooks:shard": auto.ConfigValue("1/2"),
    })
    second = auto.create_stack("prod-2", work_dir=first.stack.workspace.work_dir,
                               opts=auto.LocalWorkspaceOptions(env_vars=first.env))
    second.set_config("waba-webhooks:shard", auto.ConfigValue("2/4"))
    try:
        done = shards_cli(first, "reshard", "--prefix", "prod", "--from", "2", "--to", "3")
        assert done.returncode == 2, done.stdout + done.stderr
        assert "stack prod-2 has waba-webhooks:shard '2/4', not '2/2'" in done.stderr
        assert "step 1" not in done.stdout
        done = shards_cli(first, "reshard", "--prefix", "prod", "--from", "3", "--to", "4")
        assert done.returncode == 2 and "stack prod-1 has" in done.stderr
        assert first.stack.get_all_config()["waba-webhooks:shard"].value == "1/2"
        assert "waba-webhooks:reshardTo" not in first.stack.get_all_config()
    finally:
        for name in ("prod-1", "prod-2"):
            with contextlib.suppress(auto.CommandError):
                first.stack.workspace.remove_stack(name, force=True)


APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # fixtures.generate's default app


def test_a_dynamic_set_moves_to_native_without_a_graph_call(engine, tmp_path: Path, pulumi_home):
    """Two shard stacks of the dynamic resources (one with the app's subscription) switch to
    the native door with ``shards up --door native``: no Graph call at all, every resource kept
    (its id, its shard's stack) under its native type. The native set then refreshes with
    reads only, previews with no change and no call, and its destroy clears its overrides."""
    fixture = fixtures.generate(wabas=6, phones_per_waba=2)
    tokens = {**TOKENS, "app": "shards-app-token"}
    with EmulatorServer(fixture) as server, WebhookReceiver(
            [tokens["main"], tokens["vip"], tokens["app"]]) as receiver:
        admin = EmulatorAdmin(server.url, timeout=60)
        emulator = EmulatorHandle(server.url, admin, fixtures.DEFAULT_TOKEN,
                                  fixtures.DEFAULT_APP_ID)
        table = {**routing_table(fixture, receiver), "appCallbackUri": None,
                 "app": {"callbackUrl": receiver.url_for("app"), "verifyToken": "app",
                         "fields": ["messages"], "adoptExisting": True}}
        first = E2EStack(tmp_path, emulator, pulumi_home, tokens["main"], name="prod-1",
                         program=REPO / "stacks", project_name="waba-webhooks",
                         app_secret=APP_SECRET)
        first.stack.set_all_config({
            "waba-webhooks:routing": auto.ConfigValue(json.dumps(table)),
            "waba-webhooks:verifyTokens": auto.ConfigValue(json.dumps(tokens), secret=True),
        })
        two = ["prod-1", "prod-2"]
        watch = OverrideWatch(emulator)
        figures: dict[str, int] = {}
        try:
            done = shards_cli(first, "up", "--prefix", "prod", "--count", "2", "--set-shard",
                              "--config-from", "prod-1")
            assert done.returncode == 0, done.stdout + done.stderr
            before = {name: {(r.kind.name, r.name, r.id) for r in recorded(first, name)}
                      for name in two}
            assert ("AppWebhookSubscription", "app-subscription", fixtures.DEFAULT_APP_ID) in (
                before["prod-1"])
            owners = waba_owners(first, two, routing.DYNAMIC)
            assert all(found == [f"prod-{shard_of(w, 2)}"] for w, found in owners.items())
            live = routed(watch)
            assert len(live) == 6 + 12
            app = admin.app_subscription(fixtures.DEFAULT_APP_ID)

            # The move: a preview, then the up, each of both stacks, with no change and no call.
            for operation in ("preview", "up"):
                calls = len(admin.calls())
                done = shards_cli(first, operation, "--prefix", "prod", "--count", "2",
                                  "--door", "native", "--expect-no-changes")
                assert done.returncode == 0, done.stdout + done.stderr
                assert done.stdout.count("| no change |") == 2, done.stdout
                figures[f"move {operation}"] = len(admin.calls()) - calls
            assert figures == {"move preview": 0, "move up": 0}, figures
            after = {name: {(r.kind.name, r.name, r.id) for r in recorded(first, name)}
                     for name in two}
            assert after == before
            assert waba_owners(first, two, routing.NATIVE) == owners
            assert routed(watch) == live
            assert admin.app_subscription(fixtures.DEFAULT_APP_ID) == app

            # The native set from now on: refresh reads, a no-change preview calls nothing.
            calls = len(admin.calls())
            done = shards_cli(first, "refresh", "--prefix", "prod", "--count", "2")
            assert done.returncode == 0, done.stdout + done.stderr
            during = admin.calls()[calls:]
            assert during and [c for c in during if c["method"] != "GET"] == []
            figures["refresh"] = len(during)
            calls = len(admin.calls())
            done = shards_cli(first, "preview", "--prefix", "prod", "--count", "2",
                              "--expect-no-changes")
            assert done.returncode == 0, done.stdout + done.stderr
            figures["no-change preview"] = len(admin.calls()) - calls
            assert figures["no-change preview"] == 0
            assert {r.door for name in two for r in recorded(first, name)} == {routing.NATIVE}

            done = shards_cli(first, "destroy", "--prefix", "prod", "--count", "2")
            assert done.returncode == 0, done.stdout + done.stderr
            assert "2 of 2 stacks succeeded" in done.stdout
            assert routed(watch) == {}
            assert all(recorded(first, name) == [] for name in two)
            # Its removeOnDestroy is false: the app keeps its subscription.
            assert admin.app_subscription(fixtures.DEFAULT_APP_ID)["callback_url"] == (
                receiver.url_for("app"))
            print(f"\ndynamic -> native set of 2: {figures} Graph calls")
        finally:
            for name in two:
                with contextlib.suppress(auto.CommandError):
                    first.stack.workspace.remove_stack(name, force=True)
            admin.close()
    assert first.leaked(fixtures.DEFAULT_TOKEN, APP_SECRET, *tokens.values()) == []
