"""Each resource through its whole life with the real engine: one table of steps, run in order
for both resource types, as Terraform's acceptance tests do. bin/test runs it with the newest
and the oldest supported pulumi SDK."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import changes
from waba_webhooks.override import READ_RESULT_TAKES_INPUTS


@dataclass
class Kind:
    name: str
    key: str  # the e2e program's config list: "wabas" or "phones"
    ids: list[str]

    def declare(self, stack, **spec) -> None:
        stack.declare(**{self.key: [{"name": "main", **spec}]})

    def live(self, emulator, object_id: str) -> str | None:
        """Our app's override on the object, as the Graph API reports it."""
        if self.key == "wabas":
            return emulator.waba_override(object_id)
        return emulator.phone_override(object_id)

    def set_live(self, emulator, object_id: str, uri: str | None) -> None:
        setter = (
            emulator.admin.set_waba_override
            if self.key == "wabas"
            else emulator.admin.set_phone_override
        )
        setter(object_id, emulator.app_id, uri)


@pytest.fixture(params=["wabas", "phones"])
def kind(request, emulator) -> Kind:
    if request.param == "wabas":
        # First a WABA our app has never subscribed to, as a new customer's: create subscribes
        # the app first (Meta refuses an override otherwise); then subscribed ones.
        ids = emulator.never_subscribed_waba_ids + [
            w for w in emulator.waba_ids if emulator.is_subscribed(w)]
    else:
        ids = emulator.routable_phone_ids
    return Kind(request.param, request.param, ids)


@dataclass
class World:
    stack: object
    kind: Kind
    emulator: object
    receiver: object


def step_create(w: World) -> None:
    w.kind.declare(w.stack, id=w.kind.ids[0], callbackUri=w.receiver.url)
    result = w.stack.up()
    assert changes(result.summary.resource_changes) == {"create": 2}  # stack + override
    assert w.kind.live(w.emulator, w.kind.ids[0]) == w.receiver.url
    assert w.receiver.challenges, "Meta's verification call never reached the callback"


def step_no_perpetual_diff(w: World) -> None:
    assert changes(w.stack.preview().change_summary) == {}
    assert changes(w.stack.refresh().summary.resource_changes) == {}
    assert changes(w.stack.preview().change_summary) == {}


def step_url_change_updates_in_place(w: World) -> None:
    new_url = w.receiver.url + "/v2"
    w.kind.declare(w.stack, id=w.kind.ids[0], callbackUri=new_url)
    preview = w.stack.preview()
    assert changes(preview.change_summary) == {"update": 1}
    assert "callback_uri" in preview.stdout
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.kind.live(w.emulator, w.kind.ids[0]) == new_url


def step_id_change_replaces(w: World) -> None:
    url = w.receiver.url + "/v2"
    w.kind.declare(w.stack, id=w.kind.ids[1], callbackUri=url)
    assert changes(w.stack.preview().change_summary) == {"replace": 1}
    assert changes(w.stack.up().summary.resource_changes) == {"replace": 1}
    assert w.kind.live(w.emulator, w.kind.ids[1]) == url
    assert w.kind.live(w.emulator, w.kind.ids[0]) is None


def step_drift_is_reported_and_restored(w: World) -> None:
    w.kind.set_live(w.emulator, w.kind.ids[1], "https://changed-by-hand.example/hook")
    assert changes(w.stack.refresh().summary.resource_changes) == {"update": 1}
    # SDKs whose ReadResult takes inputs record the drift in the state's inputs too; with older
    # ones the inputs stay as declared. Either way the outputs hold it and `up` restores it.
    recorded = w.stack.inputs("main")["callback_uri"]
    assert recorded == ("https://changed-by-hand.example/hook" if READ_RESULT_TAKES_INPUTS
                        else w.receiver.url + "/v2")
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.kind.live(w.emulator, w.kind.ids[1]) == w.receiver.url + "/v2"


def step_removed_outside_is_recreated(w: World) -> None:
    w.kind.set_live(w.emulator, w.kind.ids[1], None)
    assert changes(w.stack.refresh().summary.resource_changes) == {"delete": 1}
    assert changes(w.stack.up().summary.resource_changes) == {"create": 1}
    assert w.kind.live(w.emulator, w.kind.ids[1]) == w.receiver.url + "/v2"


def step_adopt_an_existing_override(w: World) -> None:
    """Adoption: `import_` cannot work for dynamic resources (pulumi/pulumi#16175), so an
    override set by hand is adopted by declaring it with its current URL: the create takes it
    over without a write, and from then on the stack manages it."""
    adopted = w.receiver.url + "/adopted"
    w.kind.set_live(w.emulator, w.kind.ids[0], adopted)
    main = {"name": "main", "id": w.kind.ids[1], "callbackUri": w.receiver.url + "/v2"}
    w.stack.declare(**{w.kind.key: [
        main, {"name": "adopted", "id": w.kind.ids[0], "callbackUri": adopted}]})
    writes_before = w.emulator.admin.counts()["writes"]
    assert changes(w.stack.up().summary.resource_changes) == {"create": 1}
    assert w.emulator.admin.counts()["writes"] == writes_before, "adopting must not write"
    assert changes(w.stack.preview().change_summary) == {}
    w.stack.declare(**{w.kind.key: [
        main,
        {"name": "adopted", "id": w.kind.ids[0], "callbackUri": w.receiver.url + "/managed"},
    ]})
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.kind.live(w.emulator, w.kind.ids[0]) == w.receiver.url + "/managed"


def step_import_option_fails_clearly(w: World) -> None:
    w.stack.declare(**{w.kind.key: [
        {"name": "main", "id": w.kind.ids[1], "callbackUri": w.receiver.url + "/v2"},
        {"name": "imported", "id": "123456789", "callbackUri": w.receiver.url,
         "import": "123456789"}]})
    with pytest.raises(CommandError) as caught:
        w.stack.preview()
    assert "pulumi/pulumi#16175" in str(caught.value) and "adopt_existing" in str(caught.value)


def step_state_holds_no_plaintext_secret(w: World) -> None:
    exported = w.stack.export()
    assert w.emulator.token not in exported
    assert w.receiver.verify_token not in exported


def step_destroy_removes_every_override(w: World) -> None:
    w.stack.destroy()
    for object_id in w.kind.ids[:2]:
        assert w.kind.live(w.emulator, object_id) is None
    if w.kind.key == "wabas":
        for waba in w.kind.ids[:2]:
            assert w.emulator.is_subscribed(waba), "destroy unsubscribed the app"
        assert all(c["method"] != "DELETE" for c in w.emulator.admin.calls())


STEPS: list[Callable[[World], None]] = [
    step_create,
    step_no_perpetual_diff,
    step_url_change_updates_in_place,
    step_no_perpetual_diff,
    step_id_change_replaces,
    step_drift_is_reported_and_restored,
    step_removed_outside_is_recreated,
    step_adopt_an_existing_override,
    step_import_option_fails_clearly,
    step_state_holds_no_plaintext_secret,
    step_destroy_removes_every_override,
]


def test_lifecycle(e2e_stack, kind, emulator, callback_receiver):
    world = World(e2e_stack, kind, emulator, callback_receiver)
    for step in STEPS:
        try:
            step(world)
        except AssertionError as failure:
            raise AssertionError(f"{kind.name}: {step.__name__}: {failure}") from failure


BAD_INPUTS = [
    ("callback_uri", {"callbackUri": "http://hooks.example.com/webhook"}),
    ("callback_uri", {"callbackUri": "https://hooks.example.com/" + "a" * 176}),
    ("verify_token", {"verifyToken": ""}),
    ("id", {"id": "12ab34"}),
]


@pytest.mark.parametrize(
    ("prop", "spec"), BAD_INPUTS, ids=[b[0] + str(i) for i, b in enumerate(BAD_INPUTS)]
)
def test_bad_input_fails_preview_naming_the_property(
    e2e_stack, kind, emulator, callback_receiver, prop, spec
):
    prop = ("waba_id" if kind.key == "wabas" else "phone_number_id") if prop == "id" else prop
    kind.declare(e2e_stack, **{"id": kind.ids[0], "callbackUri": callback_receiver.url, **spec})
    with pytest.raises(CommandError) as caught:
        e2e_stack.preview()
    assert prop in str(caught.value)
    assert emulator.admin.counts()["writes"] == 0
