"""What only the phone number override does: report the fallbacks and the effective callback,
and say what to do when Meta refuses a number."""

import pytest

from tests.conftest import configured
from waba_webhooks import errors
from waba_webhooks.emulator import fixtures
from waba_webhooks.resources.phone import PhoneCallbackOverrideRules
from waba_webhooks.resources.waba import WabaCallbackOverrideRules


def test_outputs_report_fallbacks_and_the_effective_callback(emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    waba = emulator.waba_of(phone)
    emulator.admin.set_waba_override(waba, emulator.app_id, "https://waba-fallback.example/h")
    provider = configured(PhoneCallbackOverrideRules, emulator)
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
    provider = configured(PhoneCallbackOverrideRules, emulator)
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
    provider = configured(PhoneCallbackOverrideRules, emulator)
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


def phone_of(emulator, waba_id: str) -> str:
    return next(p for p in emulator.phone_ids if emulator.waba_of(p) == waba_id)


def test_a_number_of_a_waba_the_app_is_not_subscribed_to_fails_with_what_to_do(
    emulator, callback_receiver
):
    [waba] = emulator.never_subscribed_waba_ids
    phone = phone_of(emulator, waba)
    props = {"phone_number_id": phone, "callback_uri": callback_receiver.url,
             "verify_token": callback_receiver.verify_token}
    provider = configured(PhoneCallbackOverrideRules, emulator)
    with pytest.raises(errors.PhoneOverrideRefusedError) as caught:
        provider.create(dict(props))
    text = str(caught.value)
    assert "your app must be subscribed to receive messages" in text  # Meta's message
    assert "WabaCallbackOverride" in text and "POST /{WABA_ID}/subscribed_apps" in text
    assert callback_receiver.verify_token not in text
    assert emulator.phone_override(phone) is None
    # Doing what it says works: a WabaCallbackOverride on the WABA subscribes the app.
    configured(WabaCallbackOverrideRules, emulator).create(
        {"waba_id": waba, "callback_uri": callback_receiver.url + "/waba",
         "verify_token": callback_receiver.verify_token})
    provider.create(dict(props))
    assert emulator.phone_override(phone) == callback_receiver.url


def test_a_number_of_a_customer_managed_waba_fails_naming_the_likely_cause(
    emulator, callback_receiver
):
    fixture = fixtures.load()
    phone = emulator.phone_ids[0]
    next(w for w in fixture["wabas"] if w["id"] == emulator.waba_of(phone))[
        "customer_managed"] = True
    emulator.admin.seed(fixture)
    provider = configured(PhoneCallbackOverrideRules, emulator)
    with pytest.raises(errors.PhoneNumberPermissionError) as caught:
        provider.create({"phone_number_id": phone, "callback_uri": callback_receiver.url,
                         "verify_token": callback_receiver.verify_token})
    text = str(caught.value)
    assert "(#200) Permissions error" in text and "HTTP 403" in text
    assert "customer's own Business Manager" in text
    assert sum(1 for c in emulator.admin.calls() if c["method"] == "POST") == 1, "never retried"


def test_a_failed_verification_names_the_url_and_status_but_not_the_token(
    emulator, callback_receiver
):
    phone = emulator.phone_ids[0]
    provider = configured(PhoneCallbackOverrideRules, emulator)
    with pytest.raises(errors.CallbackVerificationError) as caught:
        provider.create({"phone_number_id": phone, "callback_uri": callback_receiver.url,
                         "verify_token": "not-the-receivers-token"})
    text = str(caught.value)
    assert text.startswith(f"Meta could not verify the callback URL {callback_receiver.url}: ")
    assert "(#2200)" in text and "HTTP Status Code = 403" in text
    assert "not-the-receivers-token" not in text
