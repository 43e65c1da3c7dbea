"""`AppWebhookSubscription` through its whole life with the real engine, as one table of steps
(like test_lifecycle.py), and delivery following the subscribed fields. bin/test runs this file
with the newest and the oldest supported pulumi SDK.

Each step's Graph calls (from the emulator's call log) are printed at the end (`pytest -s`):
the figures of the issue's closing note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from pulumi.automation.errors import CommandError

from tests.e2e.conftest import E2EStack, changes
from waba_webhooks.rules.base import READ_RESULT_TAKES_INPUTS

APP_SECRET = "EMU-APP-SECRET-lucky-shrub"  # the default fixture's app
PHONE = "106540352242922"  # a number of the default fixture, no override


@pytest.fixture
def app_stack(engine, tmp_path, emulator, callback_receiver, pulumi_home) -> Iterator[E2EStack]:
    """A stack of the e2e program with the app secret and app id set. Afterwards nothing its
    runs printed or exported may hold the access token, the app secret, the app token or the
    verify token."""
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token,
                     app_secret=APP_SECRET)
    stack.stack.set_config("whatsapp:appId", _value(emulator.app_id))
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, APP_SECRET, f"{emulator.app_id}|",
                        callback_receiver.verify_token) == []


def _value(text: str):
    from pulumi import automation as auto

    return auto.ConfigValue(text)


@dataclass
class World:
    stack: E2EStack
    emulator: object
    receiver: object
    #: The declared subscription (the e2e program's ``e2e:apps`` entry).
    spec: dict = field(default_factory=dict)
    #: step name -> the Graph calls it made, in order.
    calls: dict[str, list[str]] = field(default_factory=dict)

    def declare(self, **change) -> None:
        self.spec = {**self.spec, **change}
        self.stack.declare(apps=[self.spec])

    def live(self) -> dict | None:
        subscription = self.emulator.admin.app_subscription(self.emulator.app_id)
        if subscription is None:
            return None
        return {"url": subscription["callback_url"],
                "fields": [f["name"] for f in subscription["fields"]]}

    def writes(self) -> int:
        return self.emulator.admin.counts()["writes"]


def describe(call: dict) -> str:
    """One Graph call of the log, as the closing note shows it."""
    text = call["operation"]
    fields = (call["body"] or {}).get("fields") or call["query"].get("fields")
    if fields:
        text += f" [{fields}]"
    elif call["method"] == "DELETE":
        text += " [object alone: the whole subscription]"
    return text + ("" if call["status"] == 200 else f" -> {call['status']}")


def step_create(w: World) -> None:
    w.emulator.admin.set_app_subscription(w.emulator.app_id, None, None)  # none yet
    w.declare(name="app", callbackUrl=w.receiver.url, fields=["messages", "account_update"])
    assert changes(w.stack.up().summary.resource_changes) == {"create": 2}
    assert w.live() == {"url": w.receiver.url, "fields": ["messages", "account_update"]}
    assert w.receiver.challenges, "Meta's verification call never reached the callback"
    outputs = w.stack.stack.outputs()
    assert outputs["app.liveFields"].value == ["messages", "account_update"]


def step_no_change(w: World) -> None:
    assert changes(w.stack.preview().change_summary) == {}
    assert changes(w.stack.refresh().summary.resource_changes) == {}
    assert changes(w.stack.preview().change_summary) == {}


def step_update_url(w: World) -> None:
    w.declare(callbackUrl=w.receiver.url + "/v2")
    preview = w.stack.preview()
    assert changes(preview.change_summary) == {"update": 1} and "callback_url" in preview.stdout
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.live()["url"] == w.receiver.url + "/v2"


def step_add_a_field(w: World) -> None:
    w.declare(fields=["messages", "account_update", "calls"])
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.live()["fields"] == ["messages", "account_update", "calls"]


def step_drop_a_field(w: World) -> None:
    w.declare(fields=["messages", "calls"])
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.live()["fields"] == ["messages", "calls"]


def step_drift_by_hand(w: World) -> None:
    """In the App Dashboard someone points the app elsewhere and unticks messages."""
    w.emulator.admin.set_app_subscription(w.emulator.app_id, "https://by-hand.example/hook",
                                          ["calls"])
    assert changes(w.stack.refresh().summary.resource_changes) == {"update": 1}
    recorded = w.stack.inputs("app")["fields"]
    assert recorded == (["calls"] if READ_RESULT_TAKES_INPUTS else ["messages", "calls"])
    preview = w.stack.preview()
    assert changes(preview.change_summary) == {"update": 1} and "messages" in preview.stdout
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.live() == {"url": w.receiver.url + "/v2", "fields": ["calls", "messages"]}


def step_out_of_band_deletion(w: World) -> None:
    w.emulator.admin.set_app_subscription(w.emulator.app_id, None, None)
    assert changes(w.stack.refresh().summary.resource_changes) == {"delete": 1}
    assert changes(w.stack.up().summary.resource_changes) == {"create": 1}
    assert w.live() == {"url": w.receiver.url + "/v2", "fields": ["messages", "calls"]}


def step_bad_input_at_preview(w: World) -> None:
    writes = w.writes()
    good = dict(w.spec)
    for prop, change in [("fields[1]", {"fields": ["messages", "messages"]}),
                         ("fields", {"fields": []}),
                         ("callback_url", {"callbackUrl": "http://hooks.example.com/webhook"}),
                         ("verify_token", {"verifyToken": ""})]:
        w.declare(**change)
        with pytest.raises(CommandError) as caught:
            w.stack.preview()
        assert prop in str(caught.value), (prop, str(caught.value))
        w.spec = dict(good)
    # A field name this package does not know is a warning, not an error.
    w.declare(fields=["messages", "calls", "brand_new_field"])
    preview = w.stack.preview()
    shown = preview.stdout + preview.stderr
    assert "'brand_new_field', which is not a webhook field this package knows" in shown
    w.spec = dict(good)
    w.declare()
    assert w.writes() == writes, "a preview must write nothing"


def step_destroy_leaves_it_and_warns(w: World) -> None:
    before = w.live()
    result = w.stack.destroy()
    assert "left the app's webhook subscription" in result.stdout
    assert "remove_on_destroy" in result.stdout
    assert w.live() == before


def step_create_refuses_a_different_one(w: World) -> None:
    writes = w.writes()
    w.declare(callbackUrl=w.receiver.url + "/other")
    with pytest.raises(CommandError) as caught:
        w.stack.up()
    assert "already has a webhook subscription" in str(caught.value)
    assert w.writes() == writes and w.live()["url"] == w.receiver.url + "/v2"


def step_adopt(w: World) -> None:
    writes = w.writes()
    w.declare(callbackUrl=w.receiver.url + "/v2", fields=["calls", "messages"])  # any order
    assert changes(w.stack.up().summary.resource_changes) == {"create": 1}
    assert w.writes() == writes, "adopting must not write"
    assert changes(w.stack.preview().change_summary) == {}


def step_destroy_with_remove_on_destroy(w: World) -> None:
    w.declare(removeOnDestroy=True)
    writes = w.writes()
    assert changes(w.stack.up().summary.resource_changes) == {"update": 1}
    assert w.writes() == writes, "remove_on_destroy alone changes nothing at Meta"
    w.stack.destroy()
    assert w.live() is None


STEPS: list[Callable[[World], None]] = [
    step_create,
    step_no_change,
    step_update_url,
    step_no_change,
    step_add_a_field,
    step_drop_a_field,
    step_drift_by_hand,
    step_out_of_band_deletion,
    step_bad_input_at_preview,
    step_destroy_leaves_it_and_warns,
    step_create_refuses_a_different_one,
    step_adopt,
    step_destroy_with_remove_on_destroy,
]


def test_app_subscription_lifecycle(app_stack, emulator, callback_receiver):
    world = World(app_stack, emulator, callback_receiver)
    for i, step in enumerate(STEPS):
        seen = len(emulator.admin.calls())
        try:
            step(world)
        except AssertionError as failure:
            raise AssertionError(f"{step.__name__}: {failure}") from failure
        name = step.__name__.removeprefix("step_")
        world.calls[f"{i + 1:2}. {name}"] = [
            describe(c) for c in emulator.admin.calls()[seen:]]
    print("\nGraph calls per lifecycle step (AppWebhookSubscription, whatsapp:appId set; "
          "preview and diff make none):")
    for name, made in world.calls.items():
        print(f"{name}: {'; '.join(made) or 'none'}")
    # Adds come before drops in every step.
    for made in world.calls.values():
        writes = [c for c in made if not c.startswith("GET")]
        deletes = [i for i, c in enumerate(writes) if c.startswith("DELETE")]
        posts = [i for i, c in enumerate(writes) if c.startswith("POST")]
        assert not (posts and deletes) or max(posts) < min(deletes), made


def test_delivery_follows_the_subscribed_fields(app_stack, emulator, callback_receiver):
    """Unticking messages by hand stops every message webhook; a refresh shows it, `up`
    restores it, and messages flow again."""
    admin = emulator.admin
    app_url = callback_receiver.url_for("app")
    admin.set_app_subscription(emulator.app_id, None, None)
    app_stack.declare(apps=[{"name": "app", "callbackUrl": app_url,
                             "fields": ["messages", "message_template_status_update"]}])
    app_stack.up()
    assert admin.deliver(PHONE)["delivered_to"] == app_url
    template = admin.deliver(field="message_template_status_update", waba_id=admin.state()[
        "wabas"][0]["id"])
    assert template["delivered_to"] == app_url and template["status"] == 200

    admin.set_app_subscription(emulator.app_id, app_url, ["message_template_status_update"])
    stopped = admin.deliver(PHONE)
    assert stopped["delivered_to"] is None and "messages field" in stopped["error"]

    assert changes(app_stack.refresh().summary.resource_changes) == {"update": 1}
    state = next(r for r in app_stack.deployment()["resources"] if r["urn"].endswith("::app"))
    assert state["outputs"]["live_fields"] == ["message_template_status_update"]
    preview = app_stack.preview()
    assert changes(preview.change_summary) == {"update": 1} and "messages" in preview.stdout
    app_stack.up()
    restored = admin.deliver(PHONE, text="after up")
    assert restored["delivered_to"] == app_url and restored["status"] == 200
    bodies = [w.json() for w in callback_receiver.received if w.path == "/app"]
    texts = [c["value"]["messages"][0]["text"]["body"] for b in bodies for e in b["entry"]
             for c in e["changes"] if c["field"] == "messages"]
    assert texts == ["Hello from the Graph API emulator", "after up"]
