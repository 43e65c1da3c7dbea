"""`WabaRouting` against the emulator over HTTP: check and diff without Graph calls, the Graph
calls each operation costs, the no-takeover rule per number, unlisted overrides kept or cleared,
and partial failures that the next run completes with exactly the missing writes."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from tests.conftest import configured
from waba_webhooks.emulator import fixtures
from waba_webhooks.errors import OverrideConflictError, RoutingError
from waba_webhooks.resources.waba_routing import (
    LiveRouting,
    Routing,
    RoutingWrites,
    WabaRoutingRules,
    effective_routing,
    routing_writes,
)

WABAS, NUMBERS = 2, 25


@pytest.fixture
def fleet(emulator) -> dict[str, Any]:
    """Two WABAs of 25 numbers each, our app and another subscribed to both, no override."""
    fixture = fixtures.generate(wabas=WABAS, phones_per_waba=NUMBERS, other_apps=1)
    emulator.admin.seed(fixture)
    return fixture


@pytest.fixture
def waba(fleet) -> str:
    return fleet["wabas"][0]["id"]


@pytest.fixture
def numbers(fleet, waba) -> list[str]:
    return [p["id"] for p in fleet["phone_numbers"] if p["waba_id"] == waba]


@pytest.fixture
def provider(emulator) -> WabaRoutingRules:
    return configured(WabaRoutingRules, emulator)


@pytest.fixture
def props(waba, numbers, callback_receiver) -> dict[str, Any]:
    """The WABA override and every number its own URL."""
    return {
        "waba_id": waba,
        "callback_uri": callback_receiver.url_for("waba"),
        "phone_numbers": {n: callback_receiver.url_for(f"p/{n}") for n in numbers},
        "verify_token": callback_receiver.verify_token,
    }


def counted(emulator) -> dict[str, int]:
    counts = emulator.admin.counts()
    return {"reads": counts["reads"], "writes": counts["writes"]}


def since(emulator, before: dict[str, int]) -> dict[str, int]:
    now = counted(emulator)
    return {key: now[key] - before[key] for key in now}


def live_phone_overrides(emulator, numbers: list[str]) -> dict[str, str]:
    return {n: uri for n in numbers if (uri := emulator.phone_override(n)) is not None}


# ---- routing_writes: the writes between live and wanted, without Graph ------------------------


def writes(live: LiveRouting, news: dict[str, Any], olds: dict[str, Any]) -> RoutingWrites:
    """`routing_writes` of inputs and recorded outputs (none: a create) by property name."""
    return routing_writes(live, Routing.of(news),
                          Routing.of({"waba_id": news["waba_id"], **olds}) if olds else None)


def live_of(numbers: dict[str, str | None], waba: str | None = None,
            subscribed: bool = True) -> LiveRouting:
    return LiveRouting(subscribed, waba, numbers, "https://app.example/hook")


def test_writes_writes_only_what_differs_and_adopts_equal_urls():
    live = live_of({"1": "https://a.example/", "2": None, "3": "https://c.example/"})
    news = {"waba_id": "9", "phone_numbers": {"1": "https://a.example/", "2": "https://b.example/"},
            "verify_token": "t"}
    todo = writes(live, news, {})
    assert [(w.object_id, w.callback_uri) for w in todo.writes] == [("2", "https://b.example/")]
    assert todo.conflicts == [] and todo.strangers == [] and todo.subscribe is False


def test_writes_refuses_to_take_over_unless_adopting():
    live = live_of({"1": "https://someone.example/", "2": "https://other.example/"})
    news = {"waba_id": "9", "phone_numbers": {"1": "https://a.example/", "2": "https://b.example/"},
            "verify_token": "t"}
    assert [c.object_id for c in writes(live, news, {}).conflicts] == ["1", "2"]
    adopting = writes(live, {**news, "adopt_existing": True}, {})
    assert adopting.conflicts == [] and len(adopting.writes) == 2


def test_writes_restores_drift_on_what_it_manages():
    live = live_of({"1": "https://by-hand.example/"})
    wanted = {"waba_id": "9", "phone_numbers": {"1": "https://a.example/"}, "verify_token": "t"}
    todo = writes(live, wanted, {"phone_numbers": {"1": "https://by-hand.example/"},
                                 "verify_token": "t"})
    assert todo.conflicts == [] and [w.callback_uri for w in todo.writes] == ["https://a.example/"]


def test_writes_clears_a_number_no_longer_listed_only_if_unchanged():
    live = live_of({"1": "https://a.example/", "2": "https://by-hand.example/"})
    olds = {"phone_numbers": {"1": "https://a.example/", "2": "https://b.example/"}}
    todo = writes(live, {"waba_id": "9"}, olds)
    assert [(w.object_id, w.callback_uri) for w in todo.writes] == [("1", None)]
    assert todo.left == [("phone number", "2", "https://b.example/", "https://by-hand.example/")]


def test_writes_keeps_or_clears_unlisted_overrides():
    live = live_of({"1": None, "2": "https://by-hand.example/"}, waba="https://w.example/")
    keep = writes(live, {"waba_id": "9", "phone_numbers": {}}, {})
    assert keep.writes == []
    clear = writes(live, {"waba_id": "9", "unlisted": "clear"}, {})
    assert sorted((w.noun, w.object_id) for w in clear.writes) == [
        ("WABA", "9"), ("phone number", "2")]


def test_writes_rewrites_on_a_new_verify_token():
    live = live_of({"1": "https://a.example/", "2": "https://b.example/"})
    olds = {"phone_numbers": {"1": "https://a.example/", "2": "https://b.example/"},
            "verify_token": "old"}
    news = {**olds, "waba_id": "9", "verify_tokens": {"2": "old"}, "verify_token": "new"}
    assert [w.object_id for w in writes(live, news, olds).writes] == ["1"]


def test_writes_subscribes_first_only_when_routing_an_unsubscribed_waba():
    news = {"waba_id": "9", "phone_numbers": {"1": "https://a.example/"}, "verify_token": "t"}
    assert writes(live_of({"1": None}, subscribed=False), news, {}).subscribe is True
    assert writes(live_of({"1": None}, subscribed=True), news, {}).subscribe is False
    assert writes(live_of({"1": None}, subscribed=False), {"waba_id": "9"}, {}).subscribe is False


def test_writes_names_listed_numbers_of_another_waba():
    todo = writes(live_of({"1": None}), {"waba_id": "9", "verify_token": "t",
                                         "phone_numbers": {"7": "https://x.example/"}}, {})
    assert todo.strangers == ["7"]


# ---- check and diff: no Graph call --------------------------------------------------------------


def test_check_accepts_valid_inputs_without_calling_the_api(provider, props, emulator):
    result = provider.check({}, dict(props))
    assert result.failures == [] and result.inputs == props
    assert emulator.admin.counts()["total"] == 0


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"waba_id": "12ab"}, "waba_id"),
        ({"callback_uri": "http://hooks.example.com/"}, "callback_uri"),
        ({"phone_numbers": {"12ab": "https://x.example/"}}, "phone_numbers['12ab']"),
        ({"phone_numbers": {"123": "https://x.example/" + "a" * 190}}, "phone_numbers['123']"),
        ({"phone_numbers": ["123"]}, "phone_numbers"),
        ({"verify_token": None}, "verify_token"),
        ({"verify_tokens": {"123": "t"}}, "verify_tokens['123']"),
        ({"verify_tokens": {"NUMBER": ""}}, "verify_tokens['NUMBER']"),
        ({"unlisted": "forget"}, "unlisted"),
        ({"adopt_existing": "yes"}, "adopt_existing"),
    ],
)
def test_check_rejects_bad_inputs_naming_the_property(provider, props, numbers, emulator,
                                                      change, prop):
    change = {k: ({numbers[0]: v["NUMBER"]} if isinstance(v, dict) and "NUMBER" in v else v)
              for k, v in change.items()}
    prop = prop.replace("NUMBER", numbers[0])
    failures = provider.check({}, {**props, **change}).failures
    assert [f.property for f in failures] == [prop]
    assert prop.split("[")[0] in failures[0].reason
    assert emulator.admin.counts()["total"] == 0


def test_check_needs_no_verify_token_when_nothing_is_routed(provider, waba):
    assert provider.check({}, {"waba_id": waba, "unlisted": "clear"}).failures == []


def test_check_skips_values_unknown_until_apply(provider, props, numbers):
    unknown = {**props, "phone_numbers": {numbers[0]: UNKNOWN}, "verify_token": UNKNOWN}
    assert provider.check({}, unknown).failures == []


def test_diff_uses_state_alone(provider, props, numbers, waba, emulator):
    outs = {**props, "unlisted": "keep", "adopt_existing": False, "verify_tokens": None,
            "unlisted_overrides": {}, "subscribed": True, "numbers_without_override": []}
    assert provider.diff(waba, outs, dict(props)).changes is False
    moved = provider.diff(waba, outs, {**props, "waba_id": "123"})
    assert moved.changes and moved.replaces == ["waba_id"]
    one = {**props, "phone_numbers": {**props["phone_numbers"], numbers[0]: "https://n.example/"}}
    changed = provider.diff(waba, outs, one)
    assert changed.changes is True and changed.replaces == []
    # Work a refresh found: an unlisted override, cleared only under unlisted="clear".
    found = {**outs, "unlisted_overrides": {numbers[0]: "https://x.example/"}}
    assert provider.diff(waba, found, dict(props)).changes is False
    assert provider.diff(waba, found, {**props, "unlisted": "clear"}).changes is True
    # Our app no longer subscribed to a WABA it routes.
    assert provider.diff(waba, {**outs, "subscribed": False}, dict(props)).changes is True
    assert emulator.admin.counts()["total"] == 0


# ---- create / read / update / delete against the emulator ---------------------------------------


def test_create_reads_in_two_calls_and_writes_each_override_once(
        provider, props, emulator, numbers, waba, callback_receiver):
    result = provider.create(dict(props))
    assert result.id == waba
    assert counted(emulator) == {"reads": 2, "writes": 1 + NUMBERS}
    assert emulator.waba_override(waba) == props["callback_uri"]
    assert live_phone_overrides(emulator, numbers) == props["phone_numbers"]
    assert len(callback_receiver.challenges) == 1 + NUMBERS
    outs = result.outs
    assert outs["phone_numbers"] == props["phone_numbers"]
    assert outs["numbers_without_override"] == []
    assert outs["unlisted_overrides"] == {} and outs["subscribed"] is True
    assert outs["app_id"] == emulator.app_id
    effective = effective_routing(outs)
    assert effective[numbers[3]] == {"callbackUri": props["phone_numbers"][numbers[3]],
                                     "rule": "phone_number"}


def test_create_adopts_what_is_already_set_without_writing(provider, props, emulator, waba):
    emulator.admin.set_waba_override(waba, emulator.app_id, props["callback_uri"])
    for number, uri in props["phone_numbers"].items():
        emulator.admin.set_phone_override(number, emulator.app_id, uri)
    provider.create(dict(props))
    assert counted(emulator)["writes"] == 0


def test_create_refuses_every_conflict_and_changes_nothing(provider, props, emulator, numbers):
    for number in numbers[:3]:
        emulator.admin.set_phone_override(number, emulator.app_id, f"https://team-b.example/{number}")
    with pytest.raises(OverrideConflictError) as caught:
        provider.create(dict(props))
    message = str(caught.value)
    assert all(f"https://team-b.example/{n}" in message for n in numbers[:3])
    assert "adopt_existing=True" in message
    assert counted(emulator)["writes"] == 0


def test_create_refuses_numbers_of_another_waba(provider, props, fleet, emulator):
    stranger = fleet["phone_numbers"][-1]["id"]
    with pytest.raises(RoutingError) as caught:
        provider.create({**props, "phone_numbers": {stranger: props["callback_uri"]}})
    assert stranger in str(caught.value)
    assert counted(emulator)["writes"] == 0


def test_create_on_an_unsubscribed_waba_subscribes_first(emulator, callback_receiver):
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=3, subscribed=False))
    provider = configured(WabaRoutingRules, emulator)
    waba, numbers = emulator.waba_ids[0], emulator.phone_ids
    provider.create({"waba_id": waba, "callback_uri": callback_receiver.url,
                     "phone_numbers": {numbers[0]: callback_receiver.url_for("p")},
                     "verify_token": callback_receiver.verify_token})
    posts = [c for c in emulator.admin.calls() if c["method"] == "POST"]
    assert posts[0]["path"].endswith(f"{waba}/subscribed_apps") and not posts[0]["body"]
    assert len(posts) == 3
    assert emulator.waba_override(waba) == callback_receiver.url
    assert emulator.phone_override(numbers[0]) == callback_receiver.url_for("p")


def test_read_costs_two_calls_whatever_the_number_count(provider, props, emulator, waba):
    outs = provider.create(dict(props)).outs
    before = counted(emulator)
    result = provider.read(waba, outs)
    assert since(emulator, before) == {"reads": 2, "writes": 0}
    assert result.outs["phone_numbers"] == props["phone_numbers"]
    assert result.inputs["phone_numbers"] == props["phone_numbers"]


def test_read_number_by_number_when_batch_reads_are_off(emulator, props, waba):
    provider = configured(WabaRoutingRules, emulator, **{"whatsapp:batchReads": "false"})
    provider.create(dict(props))
    before = counted(emulator)
    result = provider.read(waba, dict(props))
    assert since(emulator, before) == {"reads": 2 + NUMBERS, "writes": 0}
    assert result.outs["phone_numbers"] == props["phone_numbers"]


def test_read_reports_drift_removals_and_unlisted_overrides(
        provider, props, emulator, waba, numbers, fleet):
    listed = dict(list(props["phone_numbers"].items())[:10])
    outs = provider.create({**props, "phone_numbers": listed}).outs
    emulator.admin.set_phone_override(numbers[0], emulator.app_id, "https://by-hand.example/")
    emulator.admin.set_phone_override(numbers[1], emulator.app_id, None)
    emulator.admin.set_phone_override(numbers[20], emulator.app_id, "https://stray.example/")
    result = provider.read(waba, outs)
    assert result.outs["phone_numbers"][numbers[0]] == "https://by-hand.example/"
    assert numbers[1] not in result.outs["phone_numbers"]
    assert result.outs["unlisted_overrides"] == {numbers[20]: "https://stray.example/"}
    effective = effective_routing(result.outs)
    assert effective[numbers[1]] == {"callbackUri": props["callback_uri"],
                                     "rule": "whatsapp_business_account"}
    assert effective[numbers[20]]["callbackUri"] == "https://stray.example/"
    # The next up, from state alone, sees the work and writes exactly the two listed numbers.
    assert provider.diff(waba, result.outs, {**props, "phone_numbers": listed}).changes
    before = counted(emulator)
    provider.update(waba, result.outs, {**props, "phone_numbers": listed})
    assert since(emulator, before) == {"reads": 2, "writes": 2}
    assert emulator.phone_override(numbers[20]) == "https://stray.example/"  # kept


def test_read_of_a_waba_out_of_reach_returns_an_empty_id(provider):
    assert provider.read("123456789", {}).id == ""


def test_update_writes_only_the_changes_and_clears_removed_numbers(
        provider, props, emulator, waba, numbers, callback_receiver):
    outs = provider.create(dict(props)).outs
    wanted = dict(props["phone_numbers"])
    wanted[numbers[0]] = callback_receiver.url_for("moved")
    del wanted[numbers[1]]
    before = counted(emulator)
    result = provider.update(waba, outs, {**props, "phone_numbers": wanted})
    assert since(emulator, before) == {"reads": 2, "writes": 2}
    assert emulator.phone_override(numbers[0]) == callback_receiver.url_for("moved")
    assert emulator.phone_override(numbers[1]) is None
    assert result.outs["phone_numbers"] == wanted


def test_update_leaves_a_removed_number_changed_by_hand_and_warns(
        provider, props, emulator, waba, numbers, capsys):
    outs = provider.create(dict(props)).outs
    emulator.admin.set_phone_override(numbers[1], emulator.app_id, "https://by-hand.example/")
    wanted = {n: u for n, u in props["phone_numbers"].items() if n != numbers[1]}
    provider.update(waba, outs, {**props, "phone_numbers": wanted})
    assert emulator.phone_override(numbers[1]) == "https://by-hand.example/"
    assert "https://by-hand.example/" in capsys.readouterr().err


def test_unlisted_clear_removes_every_other_override_of_ours(
        provider, props, emulator, waba, numbers):
    emulator.admin.set_phone_override(numbers[-1], emulator.app_id, "https://stray.example/")
    other_app = next(a["id"] for a in emulator.admin.state()["apps"] if a["id"] != emulator.app_id)
    emulator.admin.set_phone_override(numbers[-2], other_app, "https://other-app.example/")
    listed = {**props, "phone_numbers": {numbers[0]: props["phone_numbers"][numbers[0]]},
              "unlisted": "clear"}
    result = provider.create(listed)
    assert live_phone_overrides(emulator, numbers) == listed["phone_numbers"]
    assert result.outs["unlisted_overrides"] == {}
    # The other app's override is not ours: untouched.
    other = next(p for p in emulator.admin.state()["phone_numbers"] if p["id"] == numbers[-2])
    assert other["overrides"] == {other_app: "https://other-app.example/"}


def test_delete_clears_what_it_set_keeps_the_rest_and_the_subscription(
        provider, props, emulator, waba, numbers):
    outs = provider.create(dict(props)).outs
    emulator.admin.set_phone_override(numbers[0], emulator.app_id, "https://by-hand.example/")
    provider.delete(waba, outs)
    assert live_phone_overrides(emulator, numbers) == {numbers[0]: "https://by-hand.example/"}
    assert emulator.waba_override(waba) is None
    assert emulator.is_subscribed(waba)
    assert all(c["method"] != "DELETE" for c in emulator.admin.calls())


# ---- partial failure ----------------------------------------------------------------------------


def test_failed_writes_are_all_listed_and_the_next_run_makes_exactly_those(
        emulator, callback_receiver):
    emulator.admin.seed(fixtures.generate(wabas=1, phones_per_waba=100))
    waba, numbers = emulator.waba_ids[0], emulator.phone_ids
    provider = configured(WabaRoutingRules, emulator)
    props = {"waba_id": waba, "verify_token": callback_receiver.verify_token,
             "phone_numbers": {n: callback_receiver.url_for(f"p/{n}") for n in numbers}}
    failing = numbers[5:100:15]  # 7 numbers, spread over the pool's batches
    for number in failing:
        emulator.admin.add_fault(method="POST", path=f"/{number}$", status=400,
                                 error={"code": 100, "message": f"(#100) refused {number}"})
    with pytest.raises(RoutingError) as caught:
        provider.create(dict(props))
    message = str(caught.value)
    assert f"{len(failing)} of {len(numbers)} writes" in message
    assert [f[1] for f in caught.value.failures] == failing
    assert all(f"(#100) refused {n}" in message for n in failing)
    assert callback_receiver.verify_token not in message and emulator.token not in message
    assert len(live_phone_overrides(emulator, numbers)) == len(numbers) - len(failing)

    # The engine keeps no state of a failed create: the next `up` creates again.
    before = counted(emulator)
    provider.create(dict(props))
    assert since(emulator, before) == {"reads": 2, "writes": len(failing)}
    assert live_phone_overrides(emulator, numbers) == props["phone_numbers"]
