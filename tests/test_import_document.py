"""`discover --import-file`: the document `pulumi import --file` reads -- its writer
(`import_document.build`) on WABAs as `estate` reads them, and the command on the seeded world
over real HTTP (reads only; the app's subscription on request; bad input). The import itself, with
the real CLI, and the code it generates: tests/e2e/test_discover_import.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests import seeded
from tests.test_discover import discover, world
from waba_webhooks.commands import cli, import_document
from waba_webhooks.commands.estate import LiveWaba
from waba_webhooks.graph import PhoneNumberRouting
from waba_webhooks.graph.client import WebhookConfiguration
from waba_webhooks.resources import APP_SUBSCRIPTION, KINDS, WABA_ROUTING

__all__ = ["world"]  # the seeded world's fixture, shared with the table's tests

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the seeded app's (tests/seeded.py: fixtures.generate)
ALL = [arg for waba in seeded.WABA_IDS for arg in ("--waba", waba)]
#: A name every language's code generator turns into an identifier as it is.
IDENTIFIER_LIKE = re.compile(r"[a-z][a-z0-9-]*")


def waba(waba_id: str, *, subscribed: bool = True, override: str | None = None,
         numbers: dict[str, str | None] | None = None) -> LiveWaba:
    return LiveWaba(waba_id, subscribed, override, [
        PhoneNumberRouting(phone_id, None, WebhookConfiguration(uri, override, None))
        for phone_id, uri in (numbers or {}).items()])


# ---- the writer ---------------------------------------------------------------------------------


def test_one_waba_routing_per_waba_with_the_waba_id_then_the_apps_subscription():
    document = import_document.build(
        [waba("11", override="https://a.example/w"), waba("22", numbers={"221": None}),
         waba("11")], app_id="777")
    assert json.loads(document.to_json()) == {"resources": [
        {"type": "whatsapp:index:WabaRouting", "name": "waba-routing-11", "id": "11"},
        {"type": "whatsapp:index:WabaRouting", "name": "waba-routing-22", "id": "22"},
        {"type": "whatsapp:index:AppWebhookSubscription", "name": "app-subscription",
         "id": "777"},
    ]}
    assert document.skipped == {}


def test_the_types_are_the_kinds_tokens():
    document = import_document.build([waba("11")], app_id="777")
    tokens = [spec["type"] for spec in document.resources]
    assert tokens == [WABA_ROUTING.token, APP_SUBSCRIPTION.token]
    assert set(tokens) <= {kind.token for kind in KINDS}


def test_without_an_app_id_only_the_wabas():
    document = import_document.build([waba("11")])
    assert [spec["name"] for spec in document.resources] == ["waba-routing-11"]


def test_names_are_stable_unique_and_valid_identifiers_in_every_language():
    wabas = [waba(str(200_000_000_000_000 + w)) for w in range(50)]
    first = import_document.build(wabas, app_id="1")
    again = import_document.build(list(reversed(wabas)), app_id="1")
    names = [spec["name"] for spec in first.resources]
    assert sorted(names) == sorted(spec["name"] for spec in again.resources)
    assert len(set(names)) == len(names)
    assert all(IDENTIFIER_LIKE.fullmatch(name) for name in names), names


def test_an_unsubscribed_waba_holding_our_overrides_is_left_out_with_the_reason():
    document = import_document.build([
        waba("11", subscribed=False, numbers={"111": "https://a.example/p"}),
        waba("22", subscribed=False, override="https://a.example/w"),
        waba("33", subscribed=False, numbers={"331": None}),  # routes nothing: imported
    ])
    assert [spec["id"] for spec in document.resources] == ["33"]
    assert set(document.skipped) == {"11", "22"}
    assert "subscribe the app" in document.skipped["11"]


# ---- the command on the seeded world ------------------------------------------------------------


def test_writes_the_document_instead_of_the_table_reading_only(world, capsys, tmp_path: Path):
    target = tmp_path / "import.json"
    code, out, err = discover(capsys, *ALL, "--import-file", str(target))
    assert code == 0, err
    assert out == ""
    resources = json.loads(target.read_text())["resources"]
    subscribed = [w for w in seeded.WABA_IDS if w != seeded.UNSUBSCRIBED]
    assert resources == [
        {"type": "whatsapp:index:WabaRouting", "name": f"waba-routing-{w}", "id": w}
        for w in subscribed]
    # The unsubscribed WABA holds an override of ours: left out, and the summary says why.
    assert f"not in the import document: WABA {seeded.UNSUBSCRIBED}: our app is not " \
           "subscribed" in err
    assert f"Import document written to {target}: {len(subscribed)} WabaRouting." in err
    assert f"pulumi import --file {target}" in err and "verifyToken" in err
    assert world.admin.counts()["writes"] == 0
    assert world.token not in out + err + target.read_text()


def test_dash_prints_the_document(world, capsys):
    code, out, err = discover(capsys, "--waba", seeded.WABA_IDS[0], "--import-file", "-")
    assert code == 0, err
    assert json.loads(out) == {"resources": [
        {"type": "whatsapp:index:WabaRouting", "name": f"waba-routing-{seeded.WABA_IDS[0]}",
         "id": seeded.WABA_IDS[0]}]}
    assert "Import document printed on stdout" in err


def test_the_apps_subscription_on_request(world, capsys, monkeypatch):
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    code, out, err = discover(capsys, "--waba", seeded.WABA_IDS[0], "--import-file", "-",
                              "--app-subscription")
    assert code == 0, err
    assert json.loads(out)["resources"][-1] == {
        "type": "whatsapp:index:AppWebhookSubscription", "name": "app-subscription",
        "id": world.app_id}
    assert "and the app's AppWebhookSubscription" in err
    assert "whatsapp:appSecret" in err
    assert APP_SECRET not in out + err
    # Without the flag, the app secret alone adds nothing to the document.
    code, out, err = discover(capsys, "--waba", seeded.WABA_IDS[0], "--import-file", "-")
    assert [r["type"] for r in json.loads(out)["resources"]] == ["whatsapp:index:WabaRouting"]


def test_the_apps_subscription_needs_the_app_secret_and_a_subscription(world, capsys, tmp_path,
                                                                        monkeypatch):
    monkeypatch.delenv("WHATSAPP_APP_SECRET", raising=False)
    target = tmp_path / "import.json"
    code, _, err = discover(capsys, *ALL, "--import-file", str(target), "--app-subscription")
    assert code == 1
    assert "WHATSAPP_APP_SECRET" in err
    monkeypatch.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    world.admin.set_app_subscription(world.app_id, None, None)
    code, _, err = discover(capsys, *ALL, "--import-file", str(target), "--app-subscription")
    assert code == 1
    assert "the app has no webhook subscription" in err and "nothing written" in err
    assert not target.exists()


@pytest.mark.parametrize(("args", "said"), [
    (["--app-subscription"], "--app-subscription goes with --import-file"),
])
def test_bad_input_writes_nothing(world, capsys, args, said):
    code, out, err = discover(capsys, *ALL, *args)
    assert (code, out) == (1, "")
    assert said in err


def test_import_file_and_stack_config_exclude_each_other(world, capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        cli.main(["discover", *ALL, "--import-file", str(tmp_path / "a.json"),
                  "--stack-config", str(tmp_path / "Pulumi.dev.yaml")])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
