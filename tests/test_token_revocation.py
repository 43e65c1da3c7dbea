"""Meta revokes a token, or the app secret is reset: what the emulator answers (Graph's envelope,
code 190 with a subcode, checked against Meta's OpenAPI description) and what the Graph client
makes of it (an error that says which setting to change, never the token)."""

from __future__ import annotations

import pytest

from waba_webhooks import errors
from waba_webhooks.config import Settings
from waba_webhooks.emulator.admin import EmulatorAdminError
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID, DEFAULT_TOKEN
from waba_webhooks.graph.client import GraphClient

NEW_TOKEN = "EMU-TOKEN-lucky-shrub-rotated"
WABA = "102290129340398"


@pytest.mark.parametrize(("reason", "subcode"), [("invalidated", 460), ("expired", 463)])
def test_a_revoked_token_answers_190_with_its_subcode(emulator, openapi, reason, subcode):
    assert emulator.call("GET", "app").status_code == 200
    assert emulator.admin.revoke_access_token(DEFAULT_TOKEN, reason) == DEFAULT_APP_ID

    answer = emulator.call("GET", "app")
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (190, subcode,
                                                                      "OAuthException")
    assert error["message"].startswith("Error validating access token: ")
    openapi.validate_schema("ErrorObject", error)
    # An unknown token still answers without a subcode: the two are told apart.
    unknown = emulator.call("GET", "app", headers={"Authorization": "Bearer EMU-nope"})
    assert "error_subcode" not in unknown.json()["error"]


def test_the_new_token_works_and_the_old_one_stays_revoked(emulator):
    emulator.admin.revoke_access_token(DEFAULT_TOKEN)
    emulator.admin.add_access_token(DEFAULT_APP_ID, NEW_TOKEN)
    new = {"Authorization": f"Bearer {NEW_TOKEN}"}
    assert emulator.call("GET", "app", headers=new).json()["id"] == DEFAULT_APP_ID
    assert emulator.call("GET", "app").json()["error"]["error_subcode"] == 460
    state = next(a for a in emulator.admin.state()["apps"] if a["id"] == DEFAULT_APP_ID)
    assert NEW_TOKEN in state["access_tokens"] and DEFAULT_TOKEN not in state["access_tokens"]
    assert state["revoked_tokens"] == {DEFAULT_TOKEN: "invalidated"}
    # The state round-trips as a fixture.
    emulator.admin.seed(emulator.admin.state())
    assert emulator.call("GET", "app").json()["error"]["error_subcode"] == 460


def test_revoking_checks_its_arguments(emulator):
    with pytest.raises(EmulatorAdminError):
        emulator.admin.revoke_access_token("EMU-not-a-token")
    with pytest.raises(EmulatorAdminError):
        emulator.admin.revoke_access_token(DEFAULT_TOKEN, "stolen")
    with pytest.raises(EmulatorAdminError):
        emulator.admin.add_access_token(DEFAULT_APP_ID, DEFAULT_TOKEN)  # already a token


def test_the_client_names_the_setting_to_change_for_a_revoked_token(emulator):
    emulator.admin.revoke_access_token(DEFAULT_TOKEN)
    client = GraphClient(Settings(access_token=DEFAULT_TOKEN, graph_url=emulator.url))
    with pytest.raises(errors.InvalidTokenError) as caught:
        client.subscribed_apps(WABA)
    error = caught.value
    assert error.ended and (error.code, error.subcode) == (190, 460)
    message = str(error)
    assert message.startswith("Meta no longer accepts this access token (revoked or expired)")
    for setting in ("whatsapp:accessToken", "WHATSAPP_ACCESS_TOKEN", "accessToken input"):
        assert setting in message
    assert DEFAULT_TOKEN not in message and DEFAULT_TOKEN not in repr(error.__dict__)


def test_an_unknown_token_is_not_called_revoked(emulator):
    client = GraphClient(Settings(access_token="EMU-never-issued", graph_url=emulator.url))
    with pytest.raises(errors.InvalidTokenError) as caught:
        client.subscribed_apps(WABA)
    assert not caught.value.ended
    assert "no longer accepts" not in str(caught.value)


def test_after_an_app_secret_reset_the_old_secret_names_the_app_secret(emulator):
    app = next(a for a in emulator.admin.state()["apps"] if a["id"] == DEFAULT_APP_ID)
    old, new = app["app_secret"], "EMU-APP-SECRET-rotated"
    emulator.admin.reset_app_secret(DEFAULT_APP_ID, new)

    stale = GraphClient(Settings(access_token=DEFAULT_TOKEN, app_id=DEFAULT_APP_ID,
                                 app_secret=old, graph_url=emulator.url))
    with pytest.raises(errors.AppTokenRequiredError) as caught:
        stale.app_subscription(DEFAULT_APP_ID)
    message = str(caught.value)
    for setting in ("whatsapp:appSecret", "WHATSAPP_APP_SECRET", "appSecret input"):
        assert setting in message
    assert old not in message and new not in message
    assert "no longer accepts this access token" not in message

    fresh = GraphClient(Settings(access_token=DEFAULT_TOKEN, app_id=DEFAULT_APP_ID,
                                 app_secret=new, graph_url=emulator.url))
    assert fresh.app_subscription(DEFAULT_APP_ID) is not None
