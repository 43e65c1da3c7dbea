"""What only the phone number override does: report the fallbacks and the effective callback."""

from tests.conftest import configured
from waba_webhooks.phone import PhoneCallbackOverrideProvider


def test_outputs_report_fallbacks_and_the_effective_callback(emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    waba = emulator.waba_of(phone)
    emulator.admin.set_waba_override(waba, emulator.app_id, "https://waba-fallback.example/h")
    provider = configured(PhoneCallbackOverrideProvider, emulator)
    result = provider.create(
        {
            "phone_number_id": phone,
            "callback_uri": callback_receiver.url,
            "verify_token": callback_receiver.verify_token,
        }
    )
    assert result.outs["waba_callback_uri"] == "https://waba-fallback.example/h"
    assert result.outs["app_callback_uri"] == emulator.app_callback_url
    assert result.outs["effective_callback_uri"] == callback_receiver.url


def test_update_refreshes_the_fallbacks(emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    provider = configured(PhoneCallbackOverrideProvider, emulator)
    props = {
        "phone_number_id": phone,
        "callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }
    provider.create(dict(props))
    emulator.admin.set_waba_override(
        emulator.waba_of(phone), emulator.app_id, "https://waba-later.example/h"
    )
    result = provider.update(phone, props, {**props, "callback_uri": callback_receiver.url + "/2"})
    assert result.outs["waba_callback_uri"] == "https://waba-later.example/h"


def test_a_messages_webhook_follows_the_override(emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    provider = configured(PhoneCallbackOverrideProvider, emulator)
    provider.create(
        {
            "phone_number_id": phone,
            "callback_uri": callback_receiver.url,
            "verify_token": callback_receiver.verify_token,
        }
    )
    delivery = emulator.admin.deliver(phone, text="hello")
    assert delivery["delivered_to"] == callback_receiver.url
    assert delivery["rule"] == "phone_number"
    assert callback_receiver.received, "the receiver got no webhook"
