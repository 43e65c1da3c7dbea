"""What only the WABA override does: app id output, subscribing first where the app is not
subscribed yet, and deleting never unsubscribes the app."""

import pytest

from tests.conftest import configured
from waba_webhooks import errors
from waba_webhooks.graph import client as graph
from waba_webhooks.resources.waba import WabaCallbackOverrideRules


def test_outputs_name_the_app_the_override_belongs_to(emulator, callback_receiver):
    provider = configured(WabaCallbackOverrideRules, emulator)
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
    provider = configured(WabaCallbackOverrideRules, emulator)
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
    # The process-wide client for these settings may already know the app id from an earlier
    # test: start from a new one, as a new provider process does.
    graph.client_for.cache_clear()
    provider = configured(WabaCallbackOverrideRules, emulator, **{"whatsapp:appId": ""})
    for waba in emulator.waba_ids[:2]:
        provider.create(
            {
                "waba_id": waba,
                "callback_uri": callback_receiver.url,
                "verify_token": callback_receiver.verify_token,
            }
        )
    assert emulator.admin.counts()["by_operation"].get("GET app") == 1


def override_writes(emulator) -> list[object]:
    """The body of every accepted POST subscribed_apps, in order (None: a plain subscribe)."""
    return [c["body"] for c in emulator.admin.calls()
            if c["operation"] == "POST subscribed_apps" and c["status"] == 200]


@pytest.mark.parametrize("adopt_existing", [False, True])
def test_create_on_a_never_subscribed_waba_subscribes_first_then_sets_the_override(
    emulator, callback_receiver, capsys, adopt_existing
):
    provider = configured(WabaCallbackOverrideRules, emulator)
    [waba] = emulator.never_subscribed_waba_ids
    provider.create({
        "waba_id": waba,
        "callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
        "adopt_existing": adopt_existing,
    })
    assert override_writes(emulator) == [
        None, {"override_callback_uri": callback_receiver.url, "verify_token": "***"}]
    assert emulator.admin.counts()["writes"] == 2
    assert emulator.is_subscribed(waba)
    assert emulator.waba_override(waba) == callback_receiver.url
    log = capsys.readouterr().err
    assert f"WABA {waba}" in log and "subscribed it first" in log
    assert callback_receiver.verify_token not in log


def test_create_on_a_subscribed_waba_writes_the_override_only(emulator, callback_receiver):
    provider = configured(WabaCallbackOverrideRules, emulator)
    waba = emulator.waba_ids[0]
    assert emulator.is_subscribed(waba)
    provider.create({"waba_id": waba, "callback_uri": callback_receiver.url,
                     "verify_token": callback_receiver.verify_token})
    assert override_writes(emulator) == [
        {"override_callback_uri": callback_receiver.url, "verify_token": "***"}]


def test_update_after_the_app_was_unsubscribed_subscribes_it_again(emulator, callback_receiver):
    provider = configured(WabaCallbackOverrideRules, emulator)
    waba = emulator.waba_ids[0]
    props = {"waba_id": waba, "callback_uri": callback_receiver.url,
             "verify_token": callback_receiver.verify_token}
    provider.create(dict(props))
    emulator.call("DELETE", f"{waba}/subscribed_apps")  # someone unsubscribed the app by hand
    new = {**props, "callback_uri": callback_receiver.url + "/v2"}
    provider.update(waba, props, new)
    assert emulator.waba_override(waba) == callback_receiver.url + "/v2"


def test_a_failed_verification_names_the_url_and_status_but_not_the_token(
    emulator, callback_receiver
):
    provider = configured(WabaCallbackOverrideRules, emulator)
    [waba] = emulator.never_subscribed_waba_ids
    with pytest.raises(errors.CallbackVerificationError) as caught:
        provider.create({"waba_id": waba, "callback_uri": callback_receiver.url,
                         "verify_token": "not-the-receivers-token"})
    text = str(caught.value)
    assert callback_receiver.url in text and "HTTP Status Code = 403" in text
    assert "not-the-receivers-token" not in text
    assert emulator.waba_override(waba) is None
