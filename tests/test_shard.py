"""Shard stacks: which stack of a set declares which WABA (`waba-webhooks:shard: "I/K"`)."""

from collections import Counter

import pytest

from tests.test_routing import declared
from waba_webhooks.tables import routing, shard

WABAS = [str(200_000_000_000_000 + i) for i in range(1000)]


def test_every_waba_belongs_to_exactly_one_shard_and_shards_are_balanced():
    for count in (1, 4, 8, 16):
        owners = {w: [i for i in range(1, count + 1) if shard.Shard(i, count).owns(w)]
                  for w in WABAS}
        assert all(len(found) == 1 for found in owners.values())
        sizes = Counter(found[0] for found in owners.values())
        assert len(sizes) == count
        # Within half of the fair share either way (the hash is uniform; 1,000 is plenty).
        assert all(0.5 * 1000 / count < n < 1.5 * 1000 / count for n in sizes.values()), sizes


def test_the_assignment_is_stable_across_runs_and_machines():
    # sha256 of "<WABA id>/<shard>", not Python's salted hash(): a WABA never changes stack
    # because a runner started another Python. These values must never change.
    assert [shard.shard_of(w, 4) for w in WABAS[:8]] == [4, 2, 3, 3, 4, 2, 3, 1]


@pytest.mark.parametrize(("before", "after"), [(4, 5), (5, 4), (8, 16), (16, 8)])
def test_changing_the_number_of_shards_moves_as_few_wabas_as_possible(before, after):
    moved = [w for w in WABAS if shard.shard_of(w, before) != shard.shard_of(w, after)]
    if after > before:
        # Only to the new shards, and about the share they take.
        assert all(shard.shard_of(w, after) > before for w in moved)
        share = (after - before) / after
    else:
        # Only from the shards that go.
        assert all(shard.shard_of(w, before) > after for w in moved)
        share = (before - after) / before
    assert 0.7 * share * len(WABAS) < len(moved) < 1.3 * share * len(WABAS)


@pytest.mark.parametrize("value", ["0/4", "5/4", "x", "1/0", "", "3", "1/4/2", "-1/4", 3])
def test_bad_shard_values_are_errors_naming_the_key(value):
    with pytest.raises(shard.ShardError) as caught:
        shard.parse(value)
    assert "waba-webhooks:shard" in str(caught.value)
    assert repr(value) in str(caught.value)


def test_good_shard_values():
    assert shard.parse("3/8") == shard.Shard(3, 8)
    assert shard.parse(" 1/1 ") == shard.Shard(1, 1)
    assert str(shard.Shard(2, 5)) == "2/5"
    assert shard.Shard(1, 4).owns_app_wide and not shard.Shard(2, 4).owns_app_wide


@pytest.mark.parametrize("value", ["0", "x", "-2", ""])
def test_bad_reshard_counts_name_the_key(value):
    with pytest.raises(shard.ShardError) as caught:
        shard.parse_count(value, "waba-webhooks:reshardTo")
    assert "waba-webhooks:reshardTo" in str(caught.value)


def table(wabas: int = 12) -> dict:
    """``wabas`` WABAs with an override each and two numbers each, one with its own override;
    one more number without a WABA."""
    ids = WABAS[:wabas]
    return {
        "wabas": [{"wabaId": w, "callbackUri": f"https://hooks.example.com/{w}",
                   "verifyToken": "east"} for w in ids],
        "phoneNumbers": [
            *({"phoneNumberId": f"{w}1", "wabaId": w, "callbackUri": "https://hooks.example.com/v",
               "verifyToken": "vip"} for w in ids),
            *({"phoneNumberId": f"{w}2", "wabaId": w} for w in ids),
            {"phoneNumberId": "999"},
        ],
    }


def test_a_shard_plans_its_wabas_with_their_numbers_and_shard_1_the_rest():
    full = routing.plan(table())
    parts = [routing.in_shard(full, shard.Shard(i, 3)) for i in (1, 2, 3)]
    assert sorted(w for p in parts for w in p.waba_ids) == sorted(full.waba_ids)
    assert sorted(r.object_id for p in parts for r in p.phones) == sorted(
        r.object_id for r in full.phones)
    for i, part in enumerate(parts, start=1):
        assert all(shard.shard_of(w, 3) == i for w in part.waba_ids)
        assert {part.waba_of[r.object_id] for r in part.phones} <= set(part.waba_ids)
        assert set(part.effective) == {
            p for p, w in full.waba_of.items() if w in part.waba_ids} | (
            {"999"} if i == 1 else set())
    assert routing.in_shard(full, None) is full


@pytest.mark.parametrize("door", routing.DOORS)
@pytest.mark.parametrize("form", [routing.PER_WABA, routing.PER_OVERRIDE])
def test_each_stack_of_a_set_declares_only_its_shard(form, door):
    names = [set(declared(form, table(), door, shard=shard.Shard(i, 3))) for i in (1, 2, 3)]
    everything = set(declared(form, table(), door))
    assert set().union(*names) == everything
    assert sum(len(n) for n in names) == len(everything)
    for i, found in enumerate(names, start=1):
        assert all(shard.shard_of(name.rsplit("-", 1)[-1][:15], 3) == i for name in found)
