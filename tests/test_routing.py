"""The routing table: which overrides it declares and where each number's webhooks end up."""

import asyncio

import pulumi
import pytest
from pulumi.runtime import rpc

from waba_webhooks import WabaRouting
from waba_webhooks.commands.stack_state import TYPES
from waba_webhooks.tables import routing

#: Both doors: the routing table declares the same resources, by the same names, through each.
DOORS = pytest.mark.parametrize("door", routing.DOORS)

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


def with_event_loop() -> None:
    """Make sure Pulumi's mocks find a current event loop: older SDKs (3.200) take the current
    one, and an earlier `asyncio.run` in the same process (the protocol tests) leaves none.
    Where one is usable, it is left as it is."""
    try:
        if not asyncio.get_event_loop_policy().get_event_loop().is_closed():
            return
    except RuntimeError:
        pass
    asyncio.set_event_loop(asyncio.new_event_loop())


class RecordingMocks(pulumi.runtime.Mocks):
    """The engine side of a Pulumi program, recording what the program declares."""

    def __init__(self) -> None:
        self.resources: dict[str, dict] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        # Inputs by their Python names, whichever door sent them (the native classes send
        # camelCase), read through the kinds as the commands read a state.
        kind, door = TYPES[args.typ]
        self.resources[args.name] = {"type": args.typ, "door": door,
                                     "inputs": kind.from_wire(dict(args.inputs))}
        return args.name, dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


TOKENS = {"east": "east-token", "vip": "vip-token", "west": "west-token", "app": "app-token"}


def secret(value):
    """A value as the program sends it marked secret."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def run_mocked(body) -> RecordingMocks:
    """Run `body` (returning an Output to wait for) as a Pulumi program under Pulumi's own test
    engine; the mocks record what it declares."""
    mocks = RecordingMocks()
    with_event_loop()
    pulumi.runtime.set_mocks(mocks, preview=False)
    try:
        pulumi.runtime.test(body)()
    finally:
        # The mocks are process-wide settings (pulumi.log goes through them): put them back.
        pulumi.runtime.settings.reset_options(
            project="project", stack="stack", root_directory="root_directory",
            organization="organization")
    return mocks


def declared(form: str, table=TABLE, door: str = routing.DYNAMIC,
             **options) -> dict[str, dict]:
    """The resources `routing.apply` declares, by name, as Pulumi's own test engine sees them;
    each of the `door` asked for."""

    def program():
        applied = routing.apply(table, TOKENS, form=form, door=door, **options)
        return pulumi.Output.all(list(applied.waba_overrides.values()),
                                 list(applied.phone_overrides.values()))

    resources = run_mocked(program).resources
    assert {r["door"] for r in resources.values()} <= {door}
    return resources


@DOORS
def test_per_waba_declares_one_routing_per_waba_with_its_tokens(door):
    table = {**TABLE, "phoneNumbers": [
        *TABLE["phoneNumbers"],
        {"phoneNumberId": "202", "wabaId": "200", "callbackUri": "https://hooks.example.com/w1",
         "verifyToken": "west"},
        {"phoneNumberId": "203", "wabaId": "200", "callbackUri": "https://hooks.example.com/w2",
         "verifyToken": "west"},
        {"phoneNumberId": "204", "wabaId": "200", "callbackUri": "https://hooks.example.com/v",
         "verifyToken": "vip"}]}
    resources = declared(routing.PER_WABA, table, door)
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
@DOORS
@pytest.mark.parametrize("form", [routing.PER_OVERRIDE, routing.PER_OVERRIDE_RETAINED])
def test_per_override_forms_declare_one_resource_per_override(form, door):
    resources = declared(form, door=door)
    assert sorted(resources) == ["phone-101", "waba-100"]
    assert resources["phone-101"]["inputs"]["verify_token"] == secret("vip-token")


# ---- the app block: the third rule ---------------------------------------------------------

APP = {"callbackUrl": "https://hooks.example.com/app", "verifyToken": "app",
       "fields": ["messages", "message_template_status_update"]}


def with_app(**changes) -> dict:
    table = {key: value for key, value in TABLE.items() if key != "appCallbackUri"}
    return {**table, "app": {**APP, **changes}}


def test_the_app_block_declares_the_apps_subscription_and_its_url_is_the_fallback():
    plan = routing.plan(with_app(callbackUrl="https://hooks.example.com/app-v2"))
    assert plan.app == routing.AppRoute(
        callback_url="https://hooks.example.com/app-v2", verify_token_name="app",
        fields=("messages", "message_template_status_update"))
    assert plan.effective["201"] == {"callbackUri": "https://hooks.example.com/app-v2",
                                     "rule": "application"}
    # Overrides still come first.
    assert plan.effective["101"]["rule"] == "phone_number"


def test_without_the_messages_field_no_number_gets_messages_webhooks():
    plan = routing.plan(with_app(fields=["message_template_status_update"]))
    assert set(plan.effective) == {"101", "102", "201"}
    assert all(route == {"callbackUri": None, "rule": "none"}
               for route in plan.effective.values())


def test_app_callback_uri_is_still_read_and_must_agree_with_the_app_block():
    # The informational key alone: as before.
    assert routing.plan(TABLE).app is None
    assert routing.plan(TABLE).app_callback_url == "https://hooks.example.com/app"
    # Both, with the same URL: accepted.
    same = {**with_app(), "appCallbackUri": APP["callbackUrl"]}
    assert routing.plan(same).app_callback_url == APP["callbackUrl"]
    # Both, differing: refused, naming both keys and what to do.
    with pytest.raises(routing.RoutingTableError) as caught:
        routing.plan({**with_app(), "appCallbackUri": "https://old.example.com/app"})
    assert "appCallbackUri (https://old.example.com/app) and app.callbackUrl" in str(caught.value)
    assert "remove appCallbackUri" in str(caught.value)


@pytest.mark.parametrize(
    ("app", "words"),
    [
        ("https://hooks.example.com/app", "app must be an object"),
        ({"verifyToken": "app", "fields": ["messages"]}, "app.callbackUrl is required"),
        ({**APP, "verifyToken": ""}, "app.verifyToken must name"),
        ({**APP, "fields": []}, "app.fields must be a non-empty list"),
        ({**APP, "fields": "messages"}, "app.fields must be a non-empty list"),
        ({**APP, "fields": ["messages", 3]}, "app.fields must be a non-empty list"),
        ({**APP, "fields": ["messages", "messages"]}, "app.fields lists 'messages' twice"),
        ({**APP, "includeValues": "yes"}, "app.includeValues must be true or false"),
        ({**APP, "removeOnDestroy": 1}, "app.removeOnDestroy must be true or false"),
        ({**APP, "callbackUri": "https://x.example/"},
         "app.callbackUri is not a key of the app block (did you mean callbackUrl?)"),
    ],
)
def test_a_bad_app_block_is_an_error_naming_the_key(app, words):
    with pytest.raises(routing.RoutingTableError) as caught:
        routing.plan({**TABLE, "appCallbackUri": None, "app": app})
    assert words in str(caught.value)


@DOORS
@pytest.mark.parametrize("form", routing.FORMS)
def test_every_form_declares_the_app_subscription_once(form, door):
    resources = declared(form, with_app(includeValues=False, removeOnDestroy=True), door)
    app = resources["app-subscription"]
    assert app["type"].endswith("AppWebhookSubscription")
    inputs = app["inputs"]
    assert inputs["callback_url"] == APP["callbackUrl"]
    assert inputs["fields"] == APP["fields"]
    assert inputs["verify_token"] == secret("app-token")
    assert inputs["include_values"] is False and inputs["remove_on_destroy"] is True


@DOORS
def test_a_program_can_leave_the_app_subscription_to_another_stack(door):
    resources = declared(routing.PER_WABA, with_app(), door, declare_app=False)
    assert "app-subscription" not in resources
    assert sorted(resources) == ["waba-routing-100", "waba-routing-200"]


@pytest.mark.parametrize("form", routing.FORMS)
def test_both_doors_declare_the_same_resources_by_the_same_names(form):
    """What lets a stack move from one door to the other with no Graph call: the same names,
    the same kinds, the same inputs; only the type differs (the native one aliases the
    dynamic)."""
    dynamic = declared(form, with_app(), routing.DYNAMIC)
    native = declared(form, with_app(), routing.NATIVE)
    assert sorted(native) == sorted(dynamic)
    for name, resource in native.items():
        kind, _ = TYPES[resource["type"]]
        assert resource["type"] == kind.token
        assert dynamic[name]["type"] == kind.dynamic_type
        assert resource["inputs"] == {key: value for key, value in dynamic[name]["inputs"].items()
                                      if key != "__provider"}


def test_an_unknown_door_is_an_error_naming_the_doors():
    with pytest.raises(routing.RoutingTableError) as caught:
        routing.apply(TABLE, TOKENS, door="yaml")
    assert "the door must be one of dynamic, native, got 'yaml'" in str(caught.value)


def test_a_waba_routing_without_phone_numbers_still_has_its_effective_routing():
    """A WABA routed by its override alone (no ``phone_numbers``): the program can read
    ``effective`` (it once failed with AttributeError: no attribute 'phone_numbers')."""
    seen = {}

    def program():
        only_waba = WabaRouting("only-waba", waba_id="100", verify_token="t",
                                callback_uri="https://hooks.example.com/east")
        return only_waba.effective.apply(lambda value: seen.update(effective=value))

    run_mocked(program)
    assert seen == {"effective": {}}
