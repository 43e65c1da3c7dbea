"""What a stack's state holds of each secret, in which form, door by door: the facts
docs/installation.md ("Secrets, told exactly") states.

One `up` per door (dynamic resources, native plugin) and per way the default provider gets the
access token and the app secret (stack config, or ``WHATSAPP_*`` variables), with a
`WabaCallbackOverride` and an `AppWebhookSubscription`, then `pulumi stack export` as a user runs
it. Explicit providers are `tests/e2e/test_native_providers.py`'s (the access token in the
provider's inputs as ciphertext).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CallbackReceiver
from tests.e2e.conftest import E2EStack
from waba_webhooks.emulator import fixtures

ACCESS_TOKEN = "EAAG-STATE-ACCESS-91c2d7e04f"
VERIFY_TOKEN = "STATE-VERIFY-5b0e8a13f6"
APP_SECRET = "STATE-APPSECRET-2f7c94d1ab"
#: The key Pulumi's secret values carry in a state file (its "secret signature").
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"

#: The default provider's type, and how its inputs name the two settings, per door. The
#: dynamic door's default provider is the SDK's, and the engine hands it every stack config key
#: with its namespace; the plugin's gets the ``whatsapp:*`` keys without it.
DEFAULT_PROVIDER = {
    "dynamic": ("pulumi:providers:pulumi-python", "whatsapp:accessToken", "whatsapp:appSecret"),
    "native": ("pulumi:providers:whatsapp", "accessToken", "appSecret"),
}


def ciphertext(value: Any) -> bool:
    """Whether a state value is a secret as Pulumi stores it: encrypted, never the plaintext."""
    return (isinstance(value, dict) and value.get(SECRET_SIGNATURE) is not None
            and isinstance(value.get("ciphertext"), str))


def by_name(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in deployment["resources"]}


@pytest.mark.parametrize("source", ["config", "environment"])
@pytest.mark.parametrize("door", ["dynamic", "native"])
def test_what_the_state_holds_of_each_secret(engine, tmp_path, emulator, pulumi_home, door,
                                             source):
    fixture = fixtures.generate(wabas=1, phones_per_waba=1, token=ACCESS_TOKEN,
                                app_secret=APP_SECRET)
    emulator.admin.seed(fixture)
    app_token = f"{fixture['apps'][0]['id']}|{APP_SECRET}"
    with CallbackReceiver(verify_token=VERIFY_TOKEN) as receiver:
        stack = E2EStack(tmp_path, emulator, pulumi_home, VERIFY_TOKEN,
                         access_token=ACCESS_TOKEN, app_secret=APP_SECRET)
        if source == "environment":
            stack.stack.remove_all_config(["whatsapp:accessToken", "whatsapp:appSecret"])
            stack.stack.workspace.env_vars.update({"WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
                                                   "WHATSAPP_APP_SECRET": APP_SECRET})
        stack.declare(wabas=[{"name": "w", "id": fixture["wabas"][0]["id"],
                              "callbackUri": receiver.url}],
                      apps=[{"name": "a", "callbackUrl": receiver.url_for("app"), "adopt": True,
                             "fields": ["messages"]}],
                      door=door)
        stack.up()
        deployment = stack.deployment()
        stack.export()  # what the secret scan below searches: the export and the backend files

    resources = by_name(deployment)
    provider_type, token_key, secret_key = DEFAULT_PROVIDER[door]
    # The default provider: `default`, or `default_<version>` where the program asks for the
    # plugin's version (the native classes do).
    [provider] = [r for name, r in resources.items() if r["type"] == provider_type
                  and (name == "default" or name.startswith("default_"))]
    inputs = provider.get("inputs", {})
    if source == "config":
        # Stack config reaches the state: the default provider records it as its inputs.
        assert ciphertext(inputs.get(token_key)), inputs.get(token_key)
        assert ciphertext(inputs.get(secret_key)), inputs.get(secret_key)
    else:
        # Read by the provider process from its environment: nowhere in the state.
        assert token_key not in inputs and secret_key not in inputs, sorted(inputs)
    if door == "dynamic":
        # The SDK's dynamic provider gets every stack config key, other namespaces' too: the
        # program's own secret (here the verify token) is among its recorded inputs.
        assert ciphertext(inputs.get("e2e:verifyToken")), sorted(inputs)
    # The verify tokens: the resources' inputs and outputs hold them as ciphertext (the
    # dynamic resources' properties keep their Python names).
    verify_token = "verify_token" if door == "dynamic" else "verifyToken"
    for name in ("w", "a"):
        for section in ("inputs", "outputs"):
            assert ciphertext(resources[name][section][verify_token]), (name, section)
    # Nothing holds any of them in plaintext, the app token included.
    assert stack.leaked(ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, app_token) == []
