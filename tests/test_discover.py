"""`waba-webhooks discover` against the seeded emulator over real HTTP: the routing table it prints
or merges, what it tells the user, and that it only reads. (Adoption by `pulumi up` with no write:
tests/e2e/test_discover_review.py.)"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests import seeded
from tests.conftest import REPO_ROOT
from waba_webhooks.commands import cli
from waba_webhooks.tables import routing

ALL = [arg for waba in seeded.WABA_IDS for arg in ("--waba", waba)]
RULES = {"phone_number": "phone number override", "whatsapp_business_account": "WABA override",
         "application": "app callback URL"}


@pytest.fixture
def world(emulator, monkeypatch):
    """The seeded world, and settings in the environment as the provider reads them."""
    seeded.seed(emulator.admin)
    for key in ("WHATSAPP_APP_ID", "WHATSAPP_API_VERSION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", emulator.token)
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", emulator.url)
    monkeypatch.setenv("WHATSAPP_ALLOW_HTTP_LOOPBACK", "true")
    return emulator


def discover(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["discover", *args])
    out, err = capsys.readouterr()
    return code, out, err


def expected_table(**names: str) -> dict:
    """The seeded routing as a table; `names` (host -> name) override the token names."""
    def route(entry: dict, uri: str | None) -> dict:
        if uri:
            host = re.sub(r"^https?://([^:/]+).*$", r"\1", uri)
            entry.update(callbackUri=uri,
                         verifyToken=names.get(host, seeded.TOKEN_NAMES[host]))
        return entry

    return {
        "appCallbackUri": seeded.APP_CALLBACK,
        "wabas": [route({"wabaId": w}, seeded.WABA_OVERRIDES.get(w)) for w in seeded.WABA_IDS],
        # Overrides on a WABA our app is not subscribed to are not listed: declaring them would
        # make `pulumi up` subscribe the app, a write that starts deliveries.
        "phoneNumbers": [
            route({"phoneNumberId": seeded.phone_id(w, n), "wabaId": waba},
                  None if waba == seeded.UNSUBSCRIBED
                  else seeded.PHONE_OVERRIDES.get(seeded.phone_id(w, n)))
            for w, waba in enumerate(seeded.WABA_IDS) for n in range(seeded.PER_WABA)
        ],
    }


def test_prints_the_live_routing_as_a_stack_config_routing_table(world, capsys):
    code, out, err = discover(capsys, *ALL)
    assert code == 0, err
    table = yaml.safe_load(out)["config"]["waba-webhooks:routing"]
    assert table == expected_table()
    # The routing program reads it, and routes every delivered number where it goes now.
    planned = routing.plan(table).effective
    for phone, (uri, rule) in seeded.routes().items():
        if uri is not None:
            assert planned[phone] == {"callbackUri": uri, "rule": rule}


def test_says_per_number_where_its_webhooks_go_now(world, capsys):
    _, out, _ = discover(capsys, *ALL)
    lines = {m.group(1): m.group(2) for m in re.finditer(r'phoneNumberId: "(\d+)"  # (.*)', out)}
    for w in range(seeded.WABAS):
        for n in range(seeded.PER_WABA):
            phone = seeded.phone_id(w, n)
            uri, rule = seeded.routes()[phone]
            display = f"+1 555-000-{w * seeded.PER_WABA + n:04d}"
            if uri is None:
                live = seeded.PHONE_OVERRIDES.get(phone)
                unlisted = f"; our override {live} is set but not listed" if live else ""
                assert lines[phone] == (f"{display} -> none: our app is not subscribed to WABA "
                                        f"{seeded.UNSUBSCRIBED}{unlisted}")
            else:
                assert lines[phone] == f"{display} -> {uri} ({RULES[rule]})"
    assert f'wabaId: "{seeded.UNSUBSCRIBED}"  # our app is NOT subscribed' in out


def test_reads_only_two_calls_per_waba(world, capsys):
    discover(capsys, *ALL)
    calls = world.admin.calls()
    assert world.admin.counts()["writes"] == 0
    # Our app id is looked up once per process (an earlier test may have done it).
    assert sorted(c["path"] for c in calls if c["path"] != "/v23.0/app") == sorted(
        f"/v23.0/{w}/{edge}" for w in seeded.WABA_IDS
        for edge in ("subscribed_apps", "phone_numbers"))
    assert len(calls) <= 2 * len(seeded.WABA_IDS) + 1


def test_tells_which_verify_tokens_to_set_and_which_waba_is_not_subscribed(world, capsys):
    _, _, err = discover(capsys, *ALL)
    commands = re.findall(r"pulumi config set --secret --path '([^']+)'", err)
    assert sorted(commands) == sorted(
        f"waba-webhooks:verifyTokens.{name}" for name in seeded.TOKEN_NAMES.values())
    assert f"our app is not subscribed to WABA {seeded.UNSUBSCRIBED}" in err
    assert ("40 phone numbers in 4 WABAs: 10 phone number override, 15 WABA override, "
            "5 app callback URL, 10 not delivered.") in err
    assert world.token not in err


def test_warns_about_urls_the_provider_would_refuse(world, capsys, monkeypatch):
    monkeypatch.setenv("WHATSAPP_ALLOW_HTTP_LOOPBACK", "false")
    _, _, err = discover(capsys, *ALL)
    assert "warning: http://127.0.0.1:9/loopback:" in err


DEV_STACK = REPO_ROOT / "stacks" / "Pulumi.dev.yaml"


def test_merges_into_a_stack_config_keeping_its_entries_and_every_other_line(world, capsys,
                                                                            tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(DEV_STACK, path)
    old = path.read_text()
    code, out, err = discover(capsys, *ALL, "--stack-config", str(path))
    assert code == 0, err
    assert out == ""
    new = path.read_text()
    # Everything up to the end of the old table is kept as it was -- comments, settings,
    # encrypted secrets, and the table's own entries with their comments; what is live and was
    # not in the table follows each list's old entries.
    wabas_end = old.index("    phoneNumbers:")
    assert new.startswith(old[:wabas_end])
    assert old[wabas_end:] in new.replace(new[new.index('      - wabaId: "2000'):
                                              new.index("    phoneNumbers:")], "")
    # The dev table's URLs on 127.0.0.1 use the verify token named "main": so do the new ones.
    dev = yaml.safe_load(old)["config"]["waba-webhooks:routing"]
    added = expected_table(**{"127.0.0.1": "main"})
    assert yaml.safe_load(new)["config"]["waba-webhooks:routing"] == {
        "app": dev["app"],
        "wabas": dev["wabas"] + added["wabas"],
        "phoneNumbers": dev["phoneNumbers"] + added["phoneNumbers"],
    }
    old_config = yaml.safe_load(old)["config"]
    new_config = yaml.safe_load(new)["config"]
    del old_config["waba-webhooks:routing"], new_config["waba-webhooks:routing"]
    assert new_config == old_config
    commands = re.findall(r"--stack dev --secret --path 'waba-webhooks:verifyTokens\.([^']+)'",
                          err)
    assert sorted(commands) == sorted(set(seeded.TOKEN_NAMES.values()) - {"host-127-0-0-1"})
    assert f"written to {path}" in err
    assert "Merged: kept 0 WABAs and 0 numbers already in the table; added 4 WABAs and 40" in err
    # A second run finds everything in the table: the file does not change.
    code, _, _ = discover(capsys, *ALL, "--stack-config", str(path))
    assert code == 0 and path.read_text() == new


def test_keeps_the_verify_token_names_an_existing_table_uses(world, capsys, tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "encryptionsalt: v1:abc\n"
        "config:\n"
        "  # settings\n"
        "  whatsapp:appId: \"670843887433847\"\n"
        "  waba-webhooks:routing:\n"
        "    wabas:\n"
        "      - wabaId: \"1\"\n"
        "        callbackUri: https://vip.example.com/old\n"
        "        verifyToken: vip\n"
        "  waba-webhooks:verifyTokens:\n"
        "    vip:\n"
        "      secure: v1:secret-stays-as-it-is\n"
        "  whatsapp:accessToken:\n"
        "    secure: v1:another-secret\n"
        "# the end\n")
    old = path.read_text()
    code, _, err = discover(capsys, *ALL, "--stack-config", str(path))
    assert code == 0, err
    new = path.read_text()
    assert new.startswith(old[:old.index("  waba-webhooks:routing:")])
    assert new.endswith(old[old.index("  waba-webhooks:verifyTokens:"):])
    table = yaml.safe_load(new)["config"]["waba-webhooks:routing"]
    names = {e["callbackUri"]: e["verifyToken"]
             for e in table["phoneNumbers"] if "callbackUri" in e}
    assert names["https://vip.example.com/line/0"] == "vip"
    commands = re.findall(r"--path 'waba-webhooks:verifyTokens\.([^']+)'", err)
    assert "vip" not in commands and "--stack prod" in err
    assert len(commands) == len(seeded.TOKEN_NAMES) - 1


def test_creates_the_stack_config_file_if_there_is_none(world, capsys, tmp_path):
    path = tmp_path / "Pulumi.new.yaml"
    code, _, err = discover(capsys, "--waba", seeded.WABA_IDS[2], "--stack-config", str(path))
    assert code == 0, err
    table = yaml.safe_load(path.read_text())["config"]["waba-webhooks:routing"]
    assert [w["wabaId"] for w in table["wabas"]] == [seeded.WABA_IDS[2]]
    assert len(table["phoneNumbers"]) == seeded.PER_WABA


def test_fails_with_metas_message_for_an_unknown_waba_and_writes_nothing(world, capsys,
                                                                        tmp_path: Path):
    path = tmp_path / "Pulumi.x.yaml"
    code, out, err = discover(capsys, "--waba", "999", "--stack-config", str(path))
    assert code == 1 and out == ""
    assert "999" in err and "code 100" in err
    assert not path.exists()
    code, _, err = discover(capsys, "--waba", "12a")
    assert code == 1 and "must be a WABA id" in err


# ---- the app's own subscription (the table's app block) ------------------------------------

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the seeded app's (tests/seeded.py: fixtures.generate)


def test_with_the_app_secret_prints_the_apps_subscription_as_the_app_block(world, capsys,
                                                                          monkeypatch):
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    code, out, err = discover(capsys, *ALL)
    assert code == 0, err
    table = yaml.safe_load(out)["config"]["waba-webhooks:routing"]
    live = world.admin.app_subscription(world.app_id)
    assert table["app"] == {"callbackUrl": seeded.APP_CALLBACK,
                            "verifyToken": "lucky-shrub-example",
                            "fields": [f["name"] for f in live["fields"]]}
    assert "messages" in table["app"]["fields"]
    # The app block replaces the informational key; the rest of the table is as without it.
    assert "appCallbackUri" not in table
    assert {k: v for k, v in table.items() if k != "app"} == {
        k: v for k, v in expected_table().items() if k != "appCallbackUri"}
    assert routing.plan(table).app.callback_url == seeded.APP_CALLBACK
    assert "app:  # the app's subscription: https://lucky-shrub.example/webhook gets" in out
    assert "pulumi config set --secret --path 'waba-webhooks:verifyTokens.lucky-shrub-example'" \
        in err
    # One more read, with the app token; no write; no secret printed.
    assert [c["path"] for c in world.admin.calls()].count(
        f"/v23.0/{world.app_id}/subscriptions") == 1
    assert world.admin.counts()["writes"] == 0
    assert APP_SECRET not in out + err and world.token not in out + err


def test_without_the_app_secret_it_prints_the_table_as_before_and_says_how_to_get_the_block(
        world, capsys, monkeypatch):
    monkeypatch.delenv("WHATSAPP_APP_SECRET", raising=False)
    code, out, err = discover(capsys, *ALL)
    assert code == 0, err
    table = yaml.safe_load(out)["config"]["waba-webhooks:routing"]
    assert table == expected_table()
    assert "note: the app's webhook subscription" in err and "WHATSAPP_APP_SECRET" in err
    assert not any(c["path"].endswith("/subscriptions") for c in world.admin.calls())


def test_says_loudly_when_the_app_does_not_subscribe_to_messages(world, capsys, monkeypatch):
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    world.admin.set_app_subscription(world.app_id, callback_url=seeded.APP_CALLBACK,
                                     fields=["message_template_status_update"])
    code, out, err = discover(capsys, *ALL)
    assert code == 0, err
    table = yaml.safe_load(out)["config"]["waba-webhooks:routing"]
    assert table["app"]["fields"] == ["message_template_status_update"]
    assert "the app does NOT subscribe to the messages field" in err
    # What the table then says: no number gets messages webhooks.
    assert {r["rule"] for r in routing.plan(table).effective.values()} == {"none"}


def test_the_dev_stack_declares_all_three_rules():
    """stacks/Pulumi.dev.yaml (bin/demo's stack): the app's subscription, WABA overrides and
    phone number overrides, each verify token in the secret map, the app secret encrypted."""
    config = yaml.safe_load(DEV_STACK.read_text())["config"]
    plan = routing.plan(config["waba-webhooks:routing"])
    assert plan.app is not None
    assert {"messages", "message_template_status_update"} <= set(plan.app.fields)
    assert {route["rule"] for route in plan.effective.values()} == {
        "phone_number", "whatsapp_business_account", "application"}
    names = {plan.app.verify_token_name, *(r.verify_token_name for r in plan.wabas + plan.phones)}
    assert names <= set(config["waba-webhooks:verifyTokens"])
    assert all(set(token) == {"secure"} for token in config["waba-webhooks:verifyTokens"].values())
    assert set(config["whatsapp:appSecret"]) == {"secure"}
    assert "EMU-APP-SECRET" not in DEV_STACK.read_text()


def test_merging_with_the_app_secret_keeps_the_dev_stacks_app_block(world, capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    path = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(DEV_STACK, path)
    code, _, err = discover(capsys, *ALL, "--stack-config", str(path))
    assert code == 0, err
    config = yaml.safe_load(path.read_text())["config"]
    table = config["waba-webhooks:routing"]
    # The table's app block is kept as it is (the table is what `pulumi up` applies); the
    # difference from what is live is reported.
    assert table["app"] == yaml.safe_load(DEV_STACK.read_text())["config"][
        "waba-webhooks:routing"]["app"]
    assert "kept as the table has it: the app's subscription" in err
    assert set(config["whatsapp:appSecret"]) == {"secure"}  # the file's other keys stay
