"""Each resource through its whole life with the real engine: one table of steps, run in order
for every resource kind, as Terraform's acceptance tests do (`WabaRouting` adds the steps of
overrides it does not list), through both doors: the dynamic resources and the native
``whatsapp`` plugin's. bin/test runs it with the newest and the oldest supported pulumi SDK."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import changes
from waba_webhooks.rules.base import READ_RESULT_TAKES_INPUTS
from waba_webhooks.rules.kind import camel


@dataclass
class Kind:
    """One resource kind of the e2e program, and how to see its overrides in the emulator."""

    name: str
    key: str  # the e2e program's config list: "wabas", "phones" or "routings"
    ids: list[str]
    #: WABA id -> its phone number ids (a `WabaRouting` lists the first; the second is unlisted).
    numbers_of: dict[str, list[str]] = field(default_factory=dict)
    #: What a refresh and the next up do after the override is removed outside Pulumi.
    removed_outside: tuple[dict[str, int], dict[str, int]] = ({"delete": 1}, {"create": 1})

    @property
    def authoritative(self) -> bool:
        return self.key == "routings"

    def listed(self, waba_id: str) -> str:
        return self.numbers_of[waba_id][0]

    def unlisted(self, waba_id: str) -> str:
        return self.numbers_of[waba_id][1]

    def entry(self, name: str, object_id: str, callback_uri: str, **extra) -> dict:
        """One resource of the program: a `WabaRouting` routes its WABA and first number to
        the URI."""
        spec = {"name": name, "id": object_id, "callbackUri": callback_uri, **extra}
        if self.authoritative and object_id in self.numbers_of:
            spec["phones"] = {self.listed(object_id): callback_uri}
        return spec

    def declare(self, stack, *entries: dict, door: str = "dynamic") -> None:
        stack.declare(**{self.key: list(entries)}, door=door)

    def live(self, emulator, object_id: str) -> object:
        """Our app's override on the object as the Graph API reports it (for a `WabaRouting`,
        the one URI on its WABA and listed number, or both when they differ)."""
        if self.key == "wabas":
            return emulator.waba_override(object_id)
        if self.key == "phones":
            return emulator.phone_override(object_id)
        waba, phone = (emulator.waba_override(object_id),
                       emulator.phone_override(self.listed(object_id)))
        return waba if waba == phone else (waba, phone)

    def set_live(self, emulator, object_id: str, uri: str | None) -> None:
        if self.key in ("wabas", "routings"):
            emulator.admin.set_waba_override(object_id, emulator.app_id, uri)
        if self.key == "phones":
            emulator.admin.set_phone_override(object_id, emulator.app_id, uri)
        if self.key == "routings":
            emulator.admin.set_phone_override(self.listed(object_id), emulator.app_id, uri)


@pytest.fixture(params=["wabas", "phones", "routings"])
def kind(request, emulator) -> Kind:
    if request.param == "wabas":
        # First a WABA our app has never subscribed to, as a new customer's: create subscribes
        # the app first (Meta refuses an override otherwise); then subscribed ones.
        ids = emulator.never_subscribed_waba_ids + [
            w for w in emulator.waba_ids if emulator.is_subscribed(w)]
        return Kind(request.param, request.param, ids)
    if request.param == "phones":
        return Kind(request.param, request.param, emulator.routable_phone_ids)
    numbers: dict[str, list[str]] = {}
    for phone in emulator.phone_ids:
        numbers.setdefault(emulator.waba_of(phone), []).append(phone)
    # A WabaRouting lists one number of its WABA and leaves another unlisted: WABAs with two.
    wabas = [w for w in emulator.waba_ids if len(numbers.get(w, [])) >= 2]
    return Kind(request.param, request.param, wabas, numbers,
                removed_outside=({"update": 1}, {"update": 1}))


@pytest.fixture(params=["dynamic", "native"])
def door(request) -> str:
    return request.param


@dataclass
class World:
    stack: object
    kind: Kind
    emulator: object
    receiver: object
    door: str = "dynamic"

    def declare(self, *entries: dict) -> None:
        self.kind.declare(self.stack, *entries, door=self.door)

    def prop(self, name: str) -> str:
        """A property's name as this door's preview and state show it."""
        return camel(name) if self.door == "native" else name

    @property
    def recorded_drift(self) -> bool:
        """Whether a refresh records drift in the inputs: the native door always does, the
        dynamic one where the SDK's ReadResult takes inputs."""
        return self.door == "native" or READ_RESULT_TAKES_INPUTS


def step_create(w: World) -> None:
    w.declare(w.kind.entry("main", w.kind.ids[0], w.receiver.url))
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
    w.declare(w.kind.entry("main", w.kind.ids[0], new_url))
    preview = w.stack.preview()
    assert changes(preview.change_summary) == {"update": 1}
    assert w.prop("callback_uri") in preview.stdout
    if w.kind.authoritative:
        # The engine shows a map input's change per key: one line per number that changes.
        line = f'~ {w.kind.listed(w.kind.ids[0])}: "{w.receiver.url}" => "{new_url}"'
        assert line in preview.stdout, preview.stdout
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.kind.live(w.emulator, w.kind.ids[0]) == new_url


def step_id_change_replaces(w: World) -> None:
    url = w.receiver.url + "/v2"
    w.declare(w.kind.entry("main", w.kind.ids[1], url))
    assert changes(w.stack.preview().change_summary) == {"replace": 1}
    assert changes(w.stack.up().summary.resource_changes) == {"replace": 1}
    assert w.kind.live(w.emulator, w.kind.ids[1]) == url
    assert w.kind.live(w.emulator, w.kind.ids[0]) is None


def step_drift_is_reported_and_restored(w: World) -> None:
    w.kind.set_live(w.emulator, w.kind.ids[1], "https://changed-by-hand.example/hook")
    assert changes(w.stack.refresh().summary.resource_changes) == {"update": 1}
    # SDKs whose ReadResult takes inputs record the drift in the state's inputs too; with older
    # ones the inputs stay as declared. Either way the outputs hold it and `up` restores it.
    recorded = w.stack.inputs("main")[w.prop("callback_uri")]
    assert recorded == ("https://changed-by-hand.example/hook" if w.recorded_drift
                        else w.receiver.url + "/v2")
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.kind.live(w.emulator, w.kind.ids[1]) == w.receiver.url + "/v2"


def step_removed_outside_is_recreated(w: World) -> None:
    w.kind.set_live(w.emulator, w.kind.ids[1], None)
    on_refresh, on_up = w.kind.removed_outside
    assert changes(w.stack.refresh().summary.resource_changes) == on_refresh
    assert changes(w.stack.up().summary.resource_changes) == on_up
    assert w.kind.live(w.emulator, w.kind.ids[1]) == w.receiver.url + "/v2"


def step_unlisted_overrides_are_kept_and_reported(w: World) -> None:
    """An override of ours set by hand on a number the routing does not list: refresh reports
    it, `up` leaves it (unlisted="keep")."""
    stray = w.kind.unlisted(w.kind.ids[1])
    w.emulator.admin.set_phone_override(stray, w.emulator.app_id, "https://stray.example/hook")
    # The engine asks the provider's diff whether the refreshed state changes what `up` does:
    # under "keep" it does not, so the refresh records it as no change.
    assert changes(w.stack.refresh().summary.resource_changes) == {}
    assert changes(w.stack.preview().change_summary) == {}
    writes = w.emulator.admin.counts()["writes"]
    w.stack.up()
    assert w.emulator.admin.counts()["writes"] == writes
    assert w.emulator.phone_override(stray) == "https://stray.example/hook"
    outputs = w.stack.stack.outputs()
    assert outputs["main.unlisted"].value == {stray: "https://stray.example/hook"}
    assert outputs["main.effective"].value[stray] == {
        "callbackUri": "https://stray.example/hook", "rule": "phone_number"}


def step_unlisted_overrides_are_cleared_on_request(w: World) -> None:
    stray = w.kind.unlisted(w.kind.ids[1])
    main = w.kind.entry("main", w.kind.ids[1], w.receiver.url + "/v2")
    w.declare({**main, "unlisted": "clear"})
    preview = w.stack.preview()
    assert changes(preview.change_summary) == {"update": 1}
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.emulator.phone_override(stray) is None
    outputs = w.stack.stack.outputs()
    assert outputs["main.unlisted"].value == {}
    assert outputs["main.effective"].value[stray] == {
        "callbackUri": w.receiver.url + "/v2", "rule": "whatsapp_business_account"}
    # Set again by hand: a refresh finds it, and the preview shows the update (and, where the
    # SDK records a read's inputs, that number going).
    w.emulator.admin.set_phone_override(stray, w.emulator.app_id, "https://stray.example/again")
    w.stack.refresh()
    preview = w.stack.preview()
    assert changes(preview.change_summary) == {"update": 1}
    if w.recorded_drift:
        assert f'- {stray}: "https://stray.example/again"' in preview.stdout, preview.stdout
    w.stack.up()
    assert w.emulator.phone_override(stray) is None
    # Back to "keep": an input change only, no write.
    w.declare(main)
    writes = w.emulator.admin.counts()["writes"]
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.emulator.admin.counts()["writes"] == writes


def step_adopt_an_existing_override(w: World) -> None:
    """Adoption: `import_` cannot work for dynamic resources (pulumi/pulumi#16175), so an
    override set by hand is adopted by declaring it with its current URL: the create takes it
    over without a write, and from then on the stack manages it."""
    adopted = w.receiver.url + "/adopted"
    w.kind.set_live(w.emulator, w.kind.ids[0], adopted)
    main = w.kind.entry("main", w.kind.ids[1], w.receiver.url + "/v2")
    w.declare(main, w.kind.entry("adopted", w.kind.ids[0], adopted))
    writes_before = w.emulator.admin.counts()["writes"]
    assert changes(w.stack.up().summary.resource_changes) == {"create": 1}
    assert w.emulator.admin.counts()["writes"] == writes_before, "adopting must not write"
    assert changes(w.stack.preview().change_summary) == {}
    w.declare(main,
                   w.kind.entry("adopted", w.kind.ids[0], w.receiver.url + "/managed"))
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.kind.live(w.emulator, w.kind.ids[0]) == w.receiver.url + "/managed"


def step_import_option(w: World) -> None:
    """The dynamic door cannot import (pulumi/pulumi#16175) and says how to adopt instead; the
    native one imports a live override with no write, and manages it from then on."""
    main = w.kind.entry("main", w.kind.ids[1], w.receiver.url + "/v2")
    if w.door == "dynamic":
        w.declare(main, w.kind.entry("imported", "123456789", w.receiver.url,
                                     **{"import": "123456789"}))
        with pytest.raises(CommandError) as caught:
            w.stack.preview()
        assert "pulumi/pulumi#16175" in str(caught.value) and "adopt_existing" in str(caught.value)
        return
    w.declare(main)
    w.stack.up()  # "adopted" goes, and clears what it set
    live = w.receiver.url + "/by-hand"
    w.kind.set_live(w.emulator, w.kind.ids[0], live)
    writes = w.emulator.admin.counts()["writes"]
    w.declare(main, w.kind.entry("imported", w.kind.ids[0], live, **{"import": w.kind.ids[0]}))
    assert changes(w.stack.up().summary.resource_changes) == {"import": 1}
    assert w.emulator.admin.counts()["writes"] == writes, "importing must not write"
    assert changes(w.stack.preview().change_summary) == {}
    w.declare(main)
    w.stack.up()


def step_state_holds_no_plaintext_secret(w: World) -> None:
    exported = w.stack.export()
    assert w.emulator.token not in exported
    assert w.receiver.verify_token not in exported


def step_destroy_removes_every_override(w: World) -> None:
    w.stack.destroy()
    for object_id in w.kind.ids[:2]:
        assert w.kind.live(w.emulator, object_id) is None
    if w.kind.key in ("wabas", "routings"):
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
    step_import_option,
    step_state_holds_no_plaintext_secret,
    step_destroy_removes_every_override,
]


#: Steps only a resource that owns a whole WABA has, after `step_removed_outside_is_recreated`.
AUTHORITATIVE_STEPS: list[Callable[[World], None]] = [
    step_unlisted_overrides_are_kept_and_reported,
    step_unlisted_overrides_are_cleared_on_request,
]


def steps_for(kind: Kind) -> list[Callable[[World], None]]:
    if not kind.authoritative:
        return STEPS
    at = STEPS.index(step_removed_outside_is_recreated) + 1
    return [*STEPS[:at], *AUTHORITATIVE_STEPS, *STEPS[at:]]


def test_lifecycle(e2e_stack, kind, door, emulator, callback_receiver):
    world = World(e2e_stack, kind, emulator, callback_receiver, door)
    for step in steps_for(kind):
        try:
            step(world)
        except AssertionError as failure:
            raise AssertionError(f"{kind.name} ({door}): {step.__name__}: {failure}") \
                from failure


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
    e2e_stack, kind, door, emulator, callback_receiver, prop, spec
):
    prop = ("phone_number_id" if kind.key == "phones" else "waba_id") if prop == "id" else prop
    prop = camel(prop) if door == "native" else prop
    main = kind.entry("main", kind.ids[0], callback_receiver.url)
    kind.declare(e2e_stack, {**main, **spec}, door=door)
    with pytest.raises(CommandError) as caught:
        e2e_stack.preview()
    assert prop in str(caught.value)
    assert emulator.admin.counts()["writes"] == 0


@pytest.mark.parametrize(("prop", "spec"), [
    ("phone_numbers['12ab']", {"phones": {"12ab": "https://hooks.example.com/webhook"}}),
    ("phone_numbers[", {"phones": {"LISTED": "http://hooks.example.com/webhook"}}),
    ("unlisted", {"unlisted": "forget"}),
])
def test_bad_routing_input_fails_preview_naming_the_entry(
        e2e_stack, emulator, callback_receiver, prop, spec):
    waba = emulator.waba_ids[0]
    listed = next(p for p in emulator.phone_ids if emulator.waba_of(p) == waba)
    spec = {k: ({listed: v["LISTED"]} if isinstance(v, dict) and "LISTED" in v else v)
            for k, v in spec.items()}
    e2e_stack.declare(routings=[{"name": "main", "id": waba, **spec}])
    with pytest.raises(CommandError) as caught:
        e2e_stack.preview()
    assert prop in str(caught.value)
    assert emulator.admin.counts()["total"] == 0
