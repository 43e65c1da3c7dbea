"""Token rotation with the real CLI, as docs/operations.md's runbook tells it: Meta revokes the
access token (later the app secret is reset, then the token revoked again), the team sets the
new one, and `preview`, `up`, `refresh` and `destroy` work again, with nobody editing state.

Where the credentials live decides the steps, and each way is run here:

- ``whatsapp:*`` stack config, dynamic resources: refresh and destroy configure the provider
  from the config the state recorded at the last `up`, so right after the change a plain
  refresh still fails; with the program run (``--run-program``) they take the new one.
- ``whatsapp:*`` stack config, native resources, and an explicit `native.Provider`'s inputs:
  the same, but ``--run-program`` does not help (the engine refreshes with the provider
  recorded in state); one `pulumi up` records the new credential, then everything works.
- ``WHATSAPP_*`` environment variables: the state records no credential, so every operation
  takes the new one at once.

Each time the old credential fails with a message that names the setting to change; the writes
after the change are made with the new token; no credential appears in what the runs printed or
in state.
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
NEWEST_TOKEN = "EMU-TOKEN-lucky-shrub-3"
VARIABLES = {"accessToken": "WHATSAPP_ACCESS_TOKEN", "appSecret": "WHATSAPP_APP_SECRET"}
#: How the error names each setting, whichever way it is set.
NAMES = {"accessToken": ("whatsapp:accessToken", "WHATSAPP_ACCESS_TOKEN", "accessToken input"),
         "appSecret": ("whatsapp:appSecret", "WHATSAPP_APP_SECRET", "appSecret input")}


class Rotation:
    """One stack of the one-app program, and how its team sets a credential (`way`)."""

    def __init__(self, stack: E2EStack, door: str, way: str,
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.stack, self.door, self.way, self.monkeypatch = stack, door, way, monkeypatch

    def set(self, setting: str, value: str) -> None:
        """What the team does with the new credential."""
        if self.way == "environment":
            self.monkeypatch.setenv(VARIABLES[setting], value)
        else:
            namespace = "app" if self.way == "explicit" else "whatsapp"
            self.stack.stack.set_config(f"{namespace}:{setting}",
                                        auto.ConfigValue(value, secret=True))

    def catch_up(self, setting: str) -> None:
        """The runbook's step between setting the new credential and refreshing."""
        if self.way == "environment":
            return  # nothing recorded: the next operation reads the variable
        names = NAMES[setting]
        # A plain refresh configures the provider from the state: still the old credential.
        message = failed(self.stack, "refresh")
        assert all(name in message for name in names), message
        if self.door == "dynamic":
            self.stack.refresh(run_program=True)
            return
        message = failed(self.stack, "refresh", run_program=True)
        assert all(name in message for name in names), message
        self.stack.up()  # records the new credential: an update of the provider alone

    def destroy_right_after_a_change(self) -> None:
        if self.way == "environment":
            self.stack.destroy()
        elif self.door == "dynamic":
            self.stack.destroy(run_program=True)
        else:
            self.stack.up()
            self.stack.destroy()


@pytest.fixture
def rotation(engine, tmp_path, emulator, callback_receiver, pulumi_home, monkeypatch,
             request) -> Iterator[Rotation]:
    door, way = request.param
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     program=PROGRAM, project_name="one-app", app_secret=OLD_SECRET)
    stack.stack.set_all_config({
        "app:door": auto.ConfigValue(door),
        "app:explicit": auto.ConfigValue(str(way == "explicit").lower()),
        "app:graphUrl": auto.ConfigValue(emulator.url),
        "app:allowHttpLoopback": auto.ConfigValue("true"),
        "app:verifyToken": auto.ConfigValue(callback_receiver.verify_token, secret=True),
    })
    if way != "config":
        # Only the explicit provider, or only the environment, holds the credentials.
        stack.stack.remove_all_config(["whatsapp:accessToken", "whatsapp:appSecret"])
    rotation = Rotation(stack, door, way, monkeypatch)
    if way != "config":
        rotation.set("accessToken", emulator.token)
        rotation.set("appSecret", OLD_SECRET)
    yield rotation
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, NEW_TOKEN, NEWEST_TOKEN, OLD_SECRET, NEW_SECRET,
                        callback_receiver.verify_token) == []


def urls(stack: E2EStack, receiver, version: str) -> None:
    stack.stack.set_all_config({
        f"app:{name}Url": auto.ConfigValue(receiver.url_for(f"{name}/{version}"))
        for name in ("waba", "phone", "app")})


def failed(stack: E2EStack, operation: str, **options) -> str:
    with pytest.raises(auto.CommandError) as caught:
        stack.run(operation, **options)
    return str(caught.value)


def writes_by(emulator, since: int) -> set[str]:
    """The app ids that made the accepted writes after the first `since` calls."""
    return {call["app_id"] for call in emulator.admin.calls()[since:]
            if call["method"] in ("POST", "DELETE") and call["status"] == 200}


@pytest.mark.parametrize(
    "rotation",
    [("dynamic", "config"), ("native", "config"), ("native", "explicit"),
     ("native", "environment")],
    ids=["dynamic-config", "native-config", "native-explicit", "native-environment"],
    indirect=True)
def test_rotating_the_access_token_and_the_app_secret(rotation, emulator, callback_receiver):
    stack, admin, url = rotation.stack, emulator.admin, callback_receiver.url_for
    urls(stack, callback_receiver, "v1")
    stack.up()
    assert emulator.phone_override(PHONE) == url("phone/v1")

    # Meta revokes the access token; the team has a new one.
    admin.revoke_access_token(emulator.token)
    admin.add_access_token(emulator.app_id, NEW_TOKEN)
    message = failed(stack, "refresh")
    assert "Meta no longer accepts this access token" in message, message
    assert all(name in message for name in NAMES["accessToken"]), message

    rotation.set("accessToken", NEW_TOKEN)
    rotation.catch_up("accessToken")
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
    assert all(name in message for name in NAMES["appSecret"]), message
    rotation.set("appSecret", NEW_SECRET)
    rotation.catch_up("appSecret")
    urls(stack, callback_receiver, "v3")
    assert changes(stack.preview().change_summary).get("update", 0) >= 3
    stack.up()
    assert admin.app_subscription(emulator.app_id)["callback_url"] == url("app/v3")
    stack.refresh()
    # The state holds no credential in plaintext (an explicit provider's, as ciphertext).
    state = stack.export()
    assert NEW_TOKEN not in state and NEW_SECRET not in state
    if rotation.way == "explicit":
        assert "ciphertext" in stack.inputs("app")["accessToken"]

    # The token is revoked again and the stack is destroyed right after the change: every
    # override is cleared and the subscription removed, with the newest token.
    admin.revoke_access_token(NEW_TOKEN, "expired")
    admin.add_access_token(emulator.app_id, NEWEST_TOKEN)
    rotation.set("accessToken", NEWEST_TOKEN)
    mark = len(admin.calls())
    rotation.destroy_right_after_a_change()
    assert emulator.phone_override(PHONE) is None and emulator.waba_override(WABA) is None
    assert admin.app_subscription(emulator.app_id) is None
    assert writes_by(emulator, mark) == {emulator.app_id}
