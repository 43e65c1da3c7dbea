"""What only the WABA override does: app id output, and deleting never unsubscribes the app."""

from tests.conftest import configured
from waba_webhooks.waba import WabaCallbackOverrideProvider


def test_outputs_name_the_app_the_override_belongs_to(emulator, callback_receiver):
    provider = configured(WabaCallbackOverrideProvider, emulator)
    waba = emulator.waba_ids[0]
    result = provider.create(
        {
            "waba_id": waba,
            "callback_uri": callback_receiver.url,
            "verify_token": callback_receiver.verify_token,
        }
    )
    assert result.outs["app_id"] == emulator.app_id
    assert result.outs["waba_id"] == waba


def test_delete_keeps_the_app_subscribed_and_never_calls_delete(emulator, callback_receiver):
    provider = configured(WabaCallbackOverrideProvider, emulator)
    waba = emulator.waba_ids[0]
    props = {
        "waba_id": waba,
        "callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    provider.create(dict(props))
    provider.delete(waba, props)
    assert provider.client.waba_override(waba) == (True, None)
    assert all(call["method"] != "DELETE" for call in emulator.admin.calls())


def test_app_id_is_found_with_one_lookup_when_not_configured(emulator, callback_receiver):
    provider = configured(WabaCallbackOverrideProvider, emulator, **{"whatsapp:appId": ""})
    for waba in emulator.waba_ids[:2]:
        provider.create(
            {
                "waba_id": waba,
                "callback_uri": callback_receiver.url,
                "verify_token": callback_receiver.verify_token,
            }
        )
    assert emulator.admin.counts()["by_operation"].get("GET app") == 1
