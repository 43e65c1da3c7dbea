"""The dev stack's routing table (`stacks/Pulumi.dev.yaml`, what `bin/demo` applies), end to end
on free ports with the real engine: all three of Meta's rules as code.

The table is the dev stack's own, its receiver URLs (127.0.0.1:18090) moved to a receiver of the
test's. The first `up` takes over the emulator's App Dashboard setting (the table says
`adoptExisting: true`), every number's message and a template-status webhook arrive where the
table routes them, a second `up` changes nothing, and destroy clears the overrides but leaves the
app's subscription as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pulumi import automation as auto

from tests.conftest import EmulatorHandle
from tests.e2e.conftest import REPO, ROUTING_PROGRAM, E2EStack, changes
from waba_webhooks.emulator.receiver import WebhookReceiver

DEV_STACK = REPO / "stacks" / "Pulumi.dev.yaml"
#: Where the dev stack's table sends webhooks: bin/demo's receiver.
DEV_RECEIVER = "http://127.0.0.1:18090"
VERIFY_TOKEN = "e2e-dev-stack-verify-token-31b8"
TEMPLATE_FIELD = "message_template_status_update"


def live_app(emulator: EmulatorHandle) -> tuple[str, list[str]]:
    """Our app's subscription in the emulator: callback URL and field names."""
    live = emulator.admin.app_subscription(emulator.app_id)
    assert live is not None
    return live["callback_url"], [f["name"] for f in live["fields"]]


def app_secret(emulator: EmulatorHandle) -> str:
    return next(a["app_secret"] for a in emulator.admin.state()["apps"]
                if a["id"] == emulator.app_id)


@pytest.fixture
def receiver(emulator: EmulatorHandle) -> Iterator[WebhookReceiver]:
    """A webhook receiver that answers the one verify token and checks Meta's signatures."""
    with WebhookReceiver([VERIFY_TOKEN], app_secret=app_secret(emulator)) as running:
        yield running


@pytest.fixture
def dev_stack(engine, tmp_path, emulator, receiver, pulumi_home) -> Iterator[
        tuple[E2EStack, dict[str, Any]]]:
    """The routing program with the dev stack's table (URLs on our receiver, every verify token
    name set to one token), and the table."""
    config = yaml.safe_load(DEV_STACK.read_text())["config"]
    table = json.loads(json.dumps(config["waba-webhooks:routing"]).replace(
        DEV_RECEIVER, receiver.base_url.rstrip("/")))
    stack = E2EStack(tmp_path, emulator, pulumi_home, VERIFY_TOKEN, name="dev",
                     program=ROUTING_PROGRAM, project_name="waba-webhooks")
    stack.stack.set_config("waba-webhooks:routing", auto.ConfigValue(json.dumps(table)))
    for name in config["waba-webhooks:verifyTokens"]:
        stack.stack.set_config(f"waba-webhooks:verifyTokens.{name}",
                               auto.ConfigValue(VERIFY_TOKEN, secret=True), path=True)
    stack.stack.set_config("whatsapp:appId", auto.ConfigValue(emulator.app_id))
    stack.stack.set_config("whatsapp:appSecret",
                           auto.ConfigValue(app_secret(emulator), secret=True))
    yield stack, table
    stack.export()
    stack.stack.workspace.remove_stack("dev", force=True)
    assert stack.leaked(emulator.token, VERIFY_TOKEN, app_secret(emulator)) == []


def deliver_all(emulator: EmulatorHandle, receiver: WebhookReceiver,
                routing: dict[str, Any], table: dict[str, Any]) -> dict[str, str]:
    """Deliver a message per number and one template-status webhook; return what arrived where
    (phone number id, or the field, -> path)."""
    arrived = {}
    for phone_id in sorted(routing):
        before = len(receiver.received)
        emulator.admin.deliver(phone_id, text=f"hello from {phone_id}")
        [webhook] = receiver.received[before:]
        assert webhook.signature_ok, phone_id
        arrived[phone_id] = webhook.path
    before = len(receiver.received)
    emulator.admin.deliver(field=TEMPLATE_FIELD, waba_id=table["wabas"][0]["wabaId"])
    [webhook] = receiver.received[before:]
    assert webhook.signature_ok
    arrived[TEMPLATE_FIELD] = webhook.path
    return arrived


def test_the_dev_stack_routes_all_three_rules_and_a_second_up_changes_nothing(
        dev_stack, emulator, receiver):
    stack, table = dev_stack
    app = table["app"]
    up = stack.up()
    # Two WabaRoutings, the app's subscription and the stack.
    assert changes(up.summary.resource_changes) == {"create": 4}
    url, fields = live_app(emulator)
    assert url == app["callbackUrl"] and sorted(fields) == sorted(app["fields"])
    assert any(c.path == urlsplit(app["callbackUrl"]).path for c in receiver.challenges), \
        "Meta's verification of the app's new callback URL never reached the receiver"

    routing = up.outputs["routing"].value
    assert {route["rule"] for route in routing.values()} == {
        "phone_number", "whatsapp_business_account", "application"}
    arrived = deliver_all(emulator, receiver, routing, table)
    expected = {phone: urlsplit(route["callbackUri"]).path for phone, route in routing.items()}
    expected[TEMPLATE_FIELD] = urlsplit(app["callbackUrl"]).path
    assert arrived == expected
    assert up.outputs["app"].value == {"callbackUrl": app["callbackUrl"], "active": True,
                                       "fields": app["fields"]}

    writes = emulator.admin.counts()["writes"]
    again = stack.up()
    assert changes(again.summary.resource_changes) == {}
    assert emulator.admin.counts()["writes"] == writes
    print(f"\ndev stack: first up {writes} Graph writes, second up 0")


def test_destroying_the_dev_stack_leaves_the_apps_subscription(dev_stack, emulator):
    stack, table = dev_stack
    stack.up()
    stack.destroy()
    url, fields = live_app(emulator)
    assert url == table["app"]["callbackUrl"] and sorted(fields) == sorted(table["app"]["fields"])
    for entry in table["phoneNumbers"]:
        assert emulator.phone_override(entry["phoneNumberId"]) is None
    for entry in table["wabas"]:
        assert emulator.waba_override(entry["wabaId"]) is None
