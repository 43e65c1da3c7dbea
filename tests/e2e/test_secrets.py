"""Secrets never show: a full lifecycle with recognisable tokens and the engine at debug
verbosity, then a search of everything the run produced."""

from __future__ import annotations

import json

import pytest
from pulumi.automation.errors import CommandError

from tests.conftest import CallbackReceiver
from tests.e2e.conftest import E2EStack
from waba_webhooks.emulator import fixtures

ACCESS_TOKEN = "EAAG-SCAN-ACCESS-7f3a9c1e55b0"
VERIFY_TOKEN = "SCAN-VERIFY-4e9d77a2c8"
APP_SECRET = "SCAN-APPSECRET-b81f0d3e6a"
# -v=9, the engine's most verbose level: the engine of v3.260.0 logged every marshaled property
# value there, secrets included (pulumi/pulumi#22420); the pinned one (tools/engine/go.mod) does
# not. Nothing of ours logs a secret at any level.
DEBUG = {"log_verbosity": 9, "log_to_std_err": True, "debug": True}


@pytest.mark.parametrize("door", ["dynamic", "native"])
def test_no_token_in_any_output_at_debug_verbosity(engine, tmp_path, emulator, pulumi_home,
                                                   door):
    fixture = fixtures.generate(wabas=2, phones_per_waba=1, token=ACCESS_TOKEN,
                                app_secret=APP_SECRET)
    emulator.admin.seed(fixture)
    # The app token, {app-id}|{app-secret}: an AppWebhookSubscription's calls carry it.
    app_token = f"{fixture['apps'][0]['id']}|{APP_SECRET}"
    waba, phone = fixture["wabas"][0]["id"], fixture["phone_numbers"][0]["id"]
    # A WabaRouting on the other WABA: its verify tokens, one in a map, cross the engine too.
    routed_waba, routed_phone = fixture["wabas"][1]["id"], fixture["phone_numbers"][1]["id"]
    with CallbackReceiver(verify_token=VERIFY_TOKEN) as receiver:
        stack = E2EStack(tmp_path, emulator, pulumi_home, VERIFY_TOKEN,
                         access_token=ACCESS_TOKEN, app_secret=APP_SECRET)
        # The app's subscription too: it replaces the fixture's (adopt_existing), so its
        # verify token crosses the engine and reaches Meta's verification call.
        app = {"name": "a", "callbackUrl": receiver.url_for("app"), "adopt": True,
               "fields": ["messages", "account_update"]}
        stack.declare(wabas=[{"name": "w", "id": waba, "callbackUri": receiver.url}],
                      phones=[{"name": "p", "id": phone, "callbackUri": receiver.url}],
                      routings=[{"name": "r", "id": routed_waba, "callbackUri": receiver.url,
                                 "phones": {routed_phone: receiver.url},
                                 "ownTokens": [routed_phone]}],
                      apps=[app], door=door)
        stack.preview(**DEBUG)
        stack.up(**DEBUG)
        stack.refresh(**DEBUG)
        # Failures too: a retried rate limit, then a rejected update with Meta's message.
        emulator.admin.add_fault(count=1, status=429, error={"code": 4, "message": "slow down"})
        emulator.admin.add_fault(count=1, method="POST", status=400,
                                 error={"code": 100, "message": "(#100) rejected"})
        stack.declare(wabas=[{"name": "w", "id": waba, "callbackUri": receiver.url + "/2"}],
                      phones=[{"name": "p", "id": phone, "callbackUri": receiver.url + "/2"}],
                      routings=[{"name": "r", "id": routed_waba, "callbackUri": receiver.url,
                                 "phones": {routed_phone: receiver.url + "/2"},
                                 "ownTokens": [routed_phone]}],
                      apps=[{**app, "callbackUrl": receiver.url_for("app/2")}], door=door)
        with pytest.raises(CommandError):
            stack.up(**DEBUG)
        # The app token refused (a wrong secret at Meta's end): an error that names settings.
        emulator.admin.add_fault(count=1, path="subscriptions", status=400, error={
            "code": 190, "message": "(#190) Application Secret required"})
        with pytest.raises(CommandError) as refused:
            stack.refresh(**DEBUG)
        assert "whatsapp:appSecret" in str(refused.value)
        stack.declare(apps=[{**app, "removeOnDestroy": True}], door=door)
        stack.up(**DEBUG)
        stack.destroy(**DEBUG)
        stack.export()
        stack.outputs.append(json.dumps(emulator.admin.calls()))
        stack.outputs.append(json.dumps(emulator.admin.verifications()))

    assert stack.leaked(ACCESS_TOKEN, VERIFY_TOKEN, APP_SECRET, app_token) == []
    assert emulator.admin.app_subscription(fixture["apps"][0]["id"]) is None
    assert any("(#100) rejected" in text for text in stack.outputs), "the failure was not seen"
    scanned = sum(len(text) for text in stack.outputs)
    print(f"\nsecret scan: {len(stack.outputs)} outputs, {scanned} characters (engine stdout and "
          f"stderr at -v={DEBUG['log_verbosity']} with --logtostderr and --debug, error texts, "
          "stack export, backend "
          "files, the emulator's call log and verification log): no access token, app secret, "
          "app token or verify token found")
