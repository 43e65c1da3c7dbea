"""Token rotation with the real CLI, as docs/operations.md's runbook tells it: Meta revokes the
access token (then the team resets the app secret), the team sets the new one, and `preview`,
`up`, `refresh` and `destroy` work again, with nobody editing state.

Three ways a program meets the provider: the default provider (``whatsapp:*`` stack config)
through the dynamic and the native door, and an explicit `native.Provider` whose token and
secret are its inputs (recorded in state, so refresh and destroy see the old ones until an `up`
or ``--run-program``). Each run: the old credential fails with a message that names the setting
to change; the new one reaches every operation; every write is made with the new token; no
credential appears in what the runs printed or in state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import E2EStack, changes

PROGRAM = Path(__file__).resolve().parent / "one_app_program"
WABA, PHONE = "102290129340398", "106540352242922"
OLD_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's app
NEW_TOKEN = "EMU-TOKEN-lucky-shrub-2"
NEW_SECRET = "EMU-APP-SECRET-lucky-shrub-2"


@pytest.fixture
def rotation(engine, tmp_path, emulator, callback_receiver, pulumi_home,
             request) -> Iterator[E2EStack]:
    door, explicit = request.param
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     program=PROGRAM, project_name="one-app", app_secret=OLD_SECRET)
    stack.stack.set_all_config({
        "app:door": auto.ConfigValue(door),
        "app:explicit": auto.ConfigValue("true" if explicit else "false"),
        "app:graphUrl": auto.ConfigValue(emulator.url),
        "app:allowHttpLoopback": auto.ConfigValue("true"),
        "app:verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
    })
    if explicit:
        # Only the explicit provider holds the credentials: nothing else could act.
        stack.stack.remove_all_config(["whatsapp:accessToken", "whatsapp:appSecret"])
        stack.stack.set_all_config({
            "app:accessToken": auto.ConfigValue(emulator.token, secret=True),
            "app:appSecret": auto.ConfigValue(OLD_SECRET, secret=True),
        })
    stack.explicit = explicit  # type: ignore[attr-defined]
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, NEW_TOKEN, OLD_SECRET, NEW_SECRET,
                        callback_receiver.verify_token) == []


def urls(stack: E2EStack, receiver, version: str) -> None:
    stack.stack.set_all_config({
        f"app:{name}Url": auto.ConfigValue(receiver.url_for(f"{name}/{version}"))
        for name in ("waba", "phone", "app")})


def set_credential(stack: E2EStack, setting: str, value: str) -> None:
    """What the team does: `pulumi config set --secret` of the key the error named."""
    namespace = "app" if stack.explicit else "whatsapp"  # type: ignore[attr-defined]
    stack.stack.set_config(f"{namespace}:{setting}", auto.ConfigValue(value, secret=True))


def failed(stack: E2EStack, operation: str, **options) -> str:
    with pytest.raises(auto.CommandError) as caught:
        stack.run(operation, **options)
    return str(caught.value)


def refresh_after_rotation(stack: E2EStack, names: tuple[str, ...]) -> None:
    """The runbook's refresh right after setting the new credential. An explicit provider's
    refresh uses the inputs the state recorded (the old credential) unless the program runs."""
    if stack.explicit:  # type: ignore[attr-defined]
        message = failed(stack, "refresh")
        assert all(name in message for name in names), message
        stack.refresh(run_program=True)
    else:
        stack.refresh()


def writes_by(emulator, since: int) -> set[str]:
    """The app ids that made the accepted writes after the first `since` calls."""
    return {call["app_id"] for call in emulator.admin.calls()[since:]
            if call["method"] in ("POST", "DELETE") and call["status"] == 200}


@pytest.mark.parametrize("rotation", [("dynamic", False), ("native", False), ("native", True)],
                         ids=["dynamic-default", "native-default", "native-explicit"],
                         indirect=True)
def test_rotating_the_access_token_and_the_app_secret(rotation, emulator, callback_receiver):
    stack, admin, url = rotation, emulator.admin, callback_receiver.url_for
    urls(stack, callback_receiver, "v1")
    stack.up()
    assert emulator.phone_override(PHONE) == url("phone/v1")

    # Meta revokes the access token; the team has a new one.
    admin.revoke_access_token(emulator.token)
    admin.add_access_token(emulator.app_id, NEW_TOKEN)
    message = failed(stack, "refresh")
    assert "Meta no longer accepts this access token" in message, message
    for setting in ("whatsapp:accessToken", "WHATSAPP_ACCESS_TOKEN", "accessToken input"):
        assert setting in message, message

    set_credential(stack, "accessToken", NEW_TOKEN)
    refresh_after_rotation(stack, ("accessToken",))
    urls(stack, callback_receiver, "v2")
    assert changes(stack.preview().change_summary).get("update", 0) >= 3
    mark = len(admin.calls())
    stack.up()
    assert emulator.phone_override(PHONE) == url("phone/v2")
    assert emulator.waba_override(WABA) == url("waba/v2")
    assert writes_by(emulator, mark) == {emulator.app_id}
    stack.refresh()
    assert changes(stack.preview().change_summary) == {}

    # The app secret is reset in the App Dashboard.
    admin.reset_app_secret(emulator.app_id, NEW_SECRET)
    message = failed(stack, "refresh")
    for setting in ("whatsapp:appSecret", "WHATSAPP_APP_SECRET", "appSecret input"):
        assert setting in message, message
    set_credential(stack, "appSecret", NEW_SECRET)
    refresh_after_rotation(stack, ("appSecret",))
    urls(stack, callback_receiver, "v3")
    assert changes(stack.preview().change_summary).get("update", 0) >= 3
    stack.up()
    assert admin.app_subscription(emulator.app_id)["callback_url"] == url("app/v3")
    stack.refresh()
    # The state holds no credential in plaintext (an explicit provider's, as ciphertext).
    state = stack.export()
    assert NEW_TOKEN not in state and NEW_SECRET not in state
    if stack.explicit:  # type: ignore[attr-defined]
        assert "ciphertext" in stack.inputs("app")["accessToken"]

    # Destroy clears every override and removes the subscription, with the new credentials.
    mark = len(admin.calls())
    stack.destroy()
    assert emulator.phone_override(PHONE) is None and emulator.waba_override(WABA) is None
    assert admin.app_subscription(emulator.app_id) is None
    assert writes_by(emulator, mark) == {emulator.app_id}
