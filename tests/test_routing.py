"""The routing table: which overrides it declares and where each number's webhooks end up."""

import pytest

from waba_webhooks import routing

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
