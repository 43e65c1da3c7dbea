"""The rules' diff per property (`waba_webhooks.rules.diff`): what ``preview --diff`` shows for
each kind, decided by the rules alone, and the native door's detailed diff as its translation
(wire names, per-key paths) of the same changes. No Graph call: a diff reads state alone."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.provider.experimental import provider as api

from waba_webhooks.plugin.adapter import detailed_diff
from waba_webhooks.resources import APP_SUBSCRIPTION, PHONE, WABA, WABA_ROUTING
from waba_webhooks.rules.diff import ChangeKind, Diff
from waba_webhooks.rules.kind import Kind

A, B, C = "106540352242922", "106540352242923", "106540352242924"
WABA_ID = "102290129340398"
URL = "https://hooks.example.com/"

ROUTING: dict[str, Any] = {
    "waba_id": WABA_ID, "callback_uri": URL + "waba", "phone_numbers": {A: URL + "a", B: URL + "b"},
    "verify_token": "token", "unlisted": "keep", "adopt_existing": False,
}
PHONE_OVERRIDE: dict[str, Any] = {
    "phone_number_id": A, "callback_uri": URL + "a", "verify_token": "token",
    "adopt_existing": False,
}
SUBSCRIPTION: dict[str, Any] = {
    "callback_url": URL + "app", "verify_token": "token",
    "fields": ["messages", "account_update"], "include_values": True, "adopt_existing": False,
    "remove_on_destroy": False,
}

ADD, UPDATE, DELETE = ChangeKind.ADD, ChangeKind.UPDATE, ChangeKind.DELETE

#: A change as a test writes it: (wire path, kind, whether it replaces, whether an input).
Shown = tuple[str, ChangeKind, bool, bool]
#: (case, kind, recorded outputs, new inputs, the changes).
CASES: list[tuple[str, Kind, dict[str, Any], dict[str, Any], list[Shown]]] = [
    ("no change", WABA_ROUTING, ROUTING, dict(ROUTING), []),
    ("one number moved, one added, one dropped", WABA_ROUTING, ROUTING,
     {**ROUTING, "phone_numbers": {A: URL + "a/v2", C: URL + "c"}},
     [(f'phoneNumbers["{A}"]', UPDATE, False, True),
      (f'phoneNumbers["{B}"]', DELETE, False, True),
      (f'phoneNumbers["{C}"]', ADD, False, True)]),
    ("another WABA replaces", WABA_ROUTING, ROUTING, {**ROUTING, "waba_id": "102290129340399"},
     [("wabaId", UPDATE, True, True)]),
    ("the WABA's override removed", WABA_ROUTING, ROUTING, {**ROUTING, "callback_uri": None},
     [("callbackUri", DELETE, False, True)]),
    ("absent maps and unlisted are their defaults", WABA_ROUTING,
     {**ROUTING, "phone_numbers": {}, "verify_tokens": None},
     {**ROUTING, "phone_numbers": None, "unlisted": None, "adopt_existing": None}, []),
    ("a verify token where none was recorded (an import) is no change", WABA_ROUTING,
     {**ROUTING, "verify_token": None}, ROUTING, []),
    ("another verify token for one number", WABA_ROUTING, ROUTING,
     {**ROUTING, "verify_tokens": {B: "other"}}, [(f'verifyTokens["{B}"]', ADD, False, True)]),
    ("a URL known only at up", WABA_ROUTING, ROUTING,
     {**ROUTING, "phone_numbers": {A: Unknown(), B: URL + "b"}},
     [(f'phoneNumbers["{A}"]', UPDATE, False, True)]),
    ("overrides to clear that no input shows", WABA_ROUTING,
     {**ROUTING, "unlisted_overrides": {C: URL + "c"}, "subscribed": True},
     {**ROUTING, "unlisted": "clear"},
     [("unlisted", UPDATE, False, True), ("unlistedOverrides", DELETE, False, False)]),
    ("an app unsubscribed by hand", WABA_ROUTING, {**ROUTING, "subscribed": False}, ROUTING,
     [("subscribed", UPDATE, False, False)]),
    ("another number replaces", PHONE, PHONE_OVERRIDE, {**PHONE_OVERRIDE, "phone_number_id": B},
     [("phoneNumberId", UPDATE, True, True)]),
    ("a new token updates", PHONE, PHONE_OVERRIDE, {**PHONE_OVERRIDE, "verify_token": "new"},
     [("verifyToken", UPDATE, False, True)]),
    ("adopt_existing absent is false", WABA,
     {**PHONE_OVERRIDE, "waba_id": WABA_ID, "adopt_existing": None},
     {**PHONE_OVERRIDE, "waba_id": WABA_ID, "adopt_existing": False}, []),
    ("adopt_existing set", WABA, {**PHONE_OVERRIDE, "waba_id": WABA_ID},
     {**PHONE_OVERRIDE, "waba_id": WABA_ID, "adopt_existing": True},
     [("adoptExisting", UPDATE, False, True)]),
    ("fields in another order are no change", APP_SUBSCRIPTION, SUBSCRIPTION,
     {**SUBSCRIPTION, "fields": ["account_update", "messages"], "include_values": None,
      "remove_on_destroy": None}, []),
    ("a field added", APP_SUBSCRIPTION, SUBSCRIPTION,
     {**SUBSCRIPTION, "fields": ["messages", "account_update", "security"]},
     [("fields", UPDATE, False, True)]),
    ("a field known only at up", APP_SUBSCRIPTION, SUBSCRIPTION,
     {**SUBSCRIPTION, "fields": ["messages", Unknown()]}, [("fields", UPDATE, False, True)]),
    ("include_values turned off", APP_SUBSCRIPTION, SUBSCRIPTION,
     {**SUBSCRIPTION, "include_values": False}, [("includeValues", UPDATE, False, True)]),
]


@pytest.mark.parametrize(("kind", "olds", "news", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_rules_diff_names_each_changed_property(kind, olds, news, expected):
    result = kind.rules().diff("id", dict(olds), dict(news))
    assert isinstance(result, Diff)
    shown = detailed_diff(kind, result.properties)
    assert [(path, change.kind, change.replace, change.input)
            for path, change in zip(shown, result.properties, strict=True)] == expected
    # The dynamic door hands the engine what the same changes say, nothing else.
    assert result.changes is bool(expected)
    assert result.replaces == [kind.python_names[path] for path, _, replace, _ in expected
                               if replace]


def test_the_native_door_only_translates_names_and_kinds():
    result = WABA_ROUTING.rules().diff(
        WABA_ID, dict(ROUTING), {**ROUTING, "waba_id": "102290129340399",
                                 "phone_numbers": {A: URL + "a", B: URL + "b/v2"}})
    shown = detailed_diff(WABA_ROUTING, result.properties)
    assert {path: (diff.kind, diff.input_diff) for path, diff in shown.items()} == {
        "wabaId": (api.PropertyDiffKind.UPDATE_REPLACE, True),
        f'phoneNumbers["{B}"]': (api.PropertyDiffKind.UPDATE, True),
    }
