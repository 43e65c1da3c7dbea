"""The routing table: which overrides it declares and where each number's webhooks end up."""

import pulumi
import pytest
from pulumi.runtime import rpc

from waba_webhooks.resources import routing

TABLE = {
    "appCallbackUri": "https://hooks.example.com/app",
    "wabas": [
        {"wabaId": "100", "callbackUri": "https://hooks.example.com/east", "verifyToken": "east"},
        {"wabaId": "200"},
    ],
    "phoneNumbers": [
        {
            "phoneNumberId": "101",
            "wabaId": "100",
            "callbackUri": "https://hooks.example.com/vip",
            "verifyToken": "vip",
        },
        {"phoneNumberId": "102", "wabaId": "100"},
        {"phoneNumberId": "201", "wabaId": "200"},
    ],
}


def test_plan_declares_only_routed_entries():
    plan = routing.plan(TABLE)
    assert [r.object_id for r in plan.wabas] == ["100"]
    assert [r.object_id for r in plan.phones] == ["101"]
    assert plan.phones[0].verify_token_name == "vip"


def test_effective_routing_follows_metas_precedence():
    assert routing.plan(TABLE).effective == {
        "101": {"callbackUri": "https://hooks.example.com/vip", "rule": "phone_number"},
        "102": {
            "callbackUri": "https://hooks.example.com/east",
            "rule": "whatsapp_business_account",
        },
        "201": {"callbackUri": "https://hooks.example.com/app", "rule": "application"},
    }


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ([], "must be an object"),
        ({"wabas": "x"}, "wabas must be a list"),
        ({"wabas": [{"wabaId": 100}]}, "wabas[0].wabaId"),
        ({"wabas": [{"wabaId": "1"}, {"wabaId": "1"}]}, "listed twice"),
        (
            {"phoneNumbers": [{"phoneNumberId": "1", "callbackUri": "https://x.example/"}]},
            "phoneNumbers[0].verifyToken",
        ),
    ],
)
def test_malformed_tables_name_the_entry(table, words):
    with pytest.raises(routing.RoutingTableError) as caught:
        routing.plan(table)
    assert words in str(caught.value)


def test_plan_groups_numbers_by_waba_for_the_per_waba_form():
    more_wabas = [*TABLE["wabas"], {"wabaId": "300", "unlisted": "clear"}]
    plan = routing.plan({**TABLE, "wabas": more_wabas,
                         "phoneNumbers": [*TABLE["phoneNumbers"],
                                          {"phoneNumberId": "401", "wabaId": "400"}]})
    assert plan.waba_ids == ["100", "200", "300", "400"]
    assert plan.waba_of == {"101": "100", "102": "100", "201": "200", "401": "400"}
    assert plan.unlisted == {"300": "clear"}


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"phoneNumbers": [{"phoneNumberId": "1", "callbackUri": "https://x.example/",
                            "verifyToken": "t"}]}, "phoneNumbers[0].wabaId is required"),
        ({"wabas": [{"wabaId": "1", "unlisted": "drop"}]}, "wabas[0].unlisted"),
    ],
)
def test_per_waba_needs_to_know_each_routed_numbers_waba(table, words):
    with pytest.raises(routing.RoutingTableError) as caught:
        routing.plan(table)
    assert words in str(caught.value)


class RecordingMocks(pulumi.runtime.Mocks):
    """The engine side of a Pulumi program, recording what the program declares."""

    def __init__(self) -> None:
        self.resources: dict[str, dict] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources[args.name] = {"type": args.typ, "inputs": dict(args.inputs)}
        return args.name, dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


TOKENS = {"east": "east-token", "vip": "vip-token", "west": "west-token"}


def secret(value):
    """A value as the program sends it marked secret."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def declared(form: str, table=TABLE, **options) -> dict[str, dict]:
    """The resources `routing.apply` declares, by name, as Pulumi's own test engine sees them."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, preview=False)

    @pulumi.runtime.test
    def program():
        applied = routing.apply(table, TOKENS, form=form, **options)
        return pulumi.Output.all(list(applied.waba_overrides.values()),
                                 list(applied.phone_overrides.values()))

    try:
        program()
    finally:
        # The mocks are process-wide settings (pulumi.log goes through them): put them back.
        pulumi.runtime.settings.reset_options(
            project="project", stack="stack", root_directory="root_directory",
            organization="organization")
    return mocks.resources


def test_per_waba_declares_one_routing_per_waba_with_its_tokens():
    table = {**TABLE, "phoneNumbers": [
        *TABLE["phoneNumbers"],
        {"phoneNumberId": "202", "wabaId": "200", "callbackUri": "https://hooks.example.com/w1",
         "verifyToken": "west"},
        {"phoneNumberId": "203", "wabaId": "200", "callbackUri": "https://hooks.example.com/w2",
         "verifyToken": "west"},
        {"phoneNumberId": "204", "wabaId": "200", "callbackUri": "https://hooks.example.com/v",
         "verifyToken": "vip"}]}
    resources = declared(routing.PER_WABA, table)
    assert sorted(resources) == ["waba-routing-100", "waba-routing-200"]
    east = resources["waba-routing-100"]["inputs"]
    assert east["callback_uri"] == "https://hooks.example.com/east"
    assert east["phone_numbers"] == {"101": "https://hooks.example.com/vip"}
    assert east["verify_token"] == secret("east-token")  # the WABA's own token
    assert east["verify_tokens"] == secret({"101": "vip-token"})
    west = resources["waba-routing-200"]["inputs"]
    assert "callback_uri" not in west or west["callback_uri"] is None
    assert west["verify_token"] == secret("west-token")  # the token most of its numbers use
    assert west["verify_tokens"] == secret({"204": "vip-token"})


# What retain_on_delete does to these is proven with the real engine (tests/e2e/test_migration.py).
@pytest.mark.parametrize("form", [routing.PER_OVERRIDE, routing.PER_OVERRIDE_RETAINED])
def test_per_override_forms_declare_one_resource_per_override(form):
    resources = declared(form)
    assert sorted(resources) == ["phone-101", "waba-100"]
    assert resources["phone-101"]["inputs"]["verify_token"] == secret("vip-token")
