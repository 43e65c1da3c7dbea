"""`waba-webhooks shards`: its arguments, and how a set's runs are reported (the runs themselves
are in tests/e2e/test_shards.py)."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from waba_webhooks.commands import reshard, shards, stack_set, stack_state
from waba_webhooks.commands.stack_set import SetError, StackRun
from waba_webhooks.resources import PHONE, WABA, WABA_ROUTING, Kind, routing


def test_the_set_is_named_stacks_or_a_prefix_and_count():
    assert shards.stack_names(["a", "b"], None, None) == ["a", "b"]
    assert shards.stack_names([], "prod", 3) == ["prod-1", "prod-2", "prod-3"]


@pytest.mark.parametrize(("stacks", "prefix", "count", "words"), [
    (["a"], "prod", 2, "not both"),
    ([], None, None, "name the stacks"),
    ([], "prod", None, "--count"),
    ([], "prod", 0, "--count must be at least 1"),
    (["a", "a"], None, None, "named twice"),
])
def test_a_bad_set_names_the_argument(stacks, prefix, count, words):
    with pytest.raises(SetError) as caught:
        shards.stack_names(stacks, prefix, count)
    assert words in str(caught.value)


@pytest.mark.parametrize(("args", "words"), [
    (["up"], "name the stacks"),
    (["up", "--stack", "a", "--set-shard"], "--set-shard needs --prefix"),
    (["preview", "--prefix", "p", "--count", "2", "--parallel", "0"], "--parallel"),
    (["up", "--stack", "a", "--routing", "/nonexistent/table.yaml"], "--routing"),
    (["up", "--stack", "a", "--door", "yaml"], "argument --door: invalid choice: 'yaml'"),
    (["reshard", "--prefix", "p", "--from", "4", "--to", "4"], "nothing to move"),
    (["reshard", "--prefix", "p", "--from", "0", "--to", "4"], "--from and --to"),
])
def test_bad_arguments_exit_2_before_any_stack_runs(emulator, tmp_path, args, words):
    done = run_cli(emulator, "shards", *args, "--cwd", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert "stacks succeeded" not in done.stdout


def test_a_routing_file_is_checked_before_any_stack_runs(emulator, tmp_path):
    table = tmp_path / "table.yaml"
    table.write_text("wabas:\n  - wabaId: 12\n")
    done = run_cli(emulator, "shards", "up", "--stack", "a", "--routing", str(table),
                   "--cwd", str(tmp_path))
    assert done.returncode == 2
    assert "wabas[0].wabaId must be a quoted string of digits" in done.stderr
    # A stack config file holding the table is read too.
    table.write_text('config:\n  waba-webhooks:routing:\n    wabas:\n      - wabaId: "12"\n')
    assert shards.read_table(table) == '{"wabas": [{"wabaId": "12"}]}'


def test_the_summary_has_a_row_per_stack_and_every_failure():
    runs = [StackRun("prod-1", "up", ok=True, changes={"create": 3}, unchanged=1, wall_s=2.04),
            StackRun("prod-2", "up", ok=False, wall_s=1.5,
                     error="error: the stack is currently locked by 1 lock(s)")]
    text = stack_set.summary(runs, 2.5)
    assert "| prod-1 | up | ok | 3 create | 1 | 2.0 s |" in text
    assert "| prod-2 | up | FAILED | - | 0 | 1.5 s |" in text
    assert "1 of 2 stacks succeeded in 2.5 s." in text
    assert "prod-2 failed:\n    error: the stack is currently locked" in text


def test_a_failed_operation_reports_its_diagnostics_and_errors():
    stdout = ("Updating (prod-3):\n  pulumi:pulumi:Stack ...\nDiagnostics:\n"
              "  pulumi-python:dynamic:WabaRouting (waba-routing-2):\n"
              "    error: 1 of 10 writes failed: 3000 (#2200) Callback verification failed\n"
              "\nResources:\n    + 3 created\n\nDuration: 3s\n")
    error = Exception(f"\n code: 255\n stdout: {stdout}\n stderr: error: update failed\n")
    assert stack_set.error_text(error).splitlines() == [
        "  pulumi-python:dynamic:WabaRouting (waba-routing-2):",
        "    error: 1 of 10 writes failed: 3000 (#2200) Callback verification failed",
        "error: update failed"]


def test_reshard_says_which_wabas_move_where():
    table = {"wabas": [{"wabaId": str(200_000_000_000_000 + i)} for i in range(1000)]}
    grow = reshard.moves(table, 4, 5)
    assert set(grow) == {(i, 5) for i in range(1, 5)}  # only to the new stack
    assert 150 < sum(grow.values()) < 250  # about 1 in 5
    shrink = reshard.moves(table, 5, 3)
    assert {a for a, _ in shrink} == {4, 5}  # only from the stacks that go


# ---- reading the stacks' states: both doors ------------------------------------------------

ENCRYPTED = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
             "ciphertext": "v1:abc"}


def state(*resources: dict) -> dict:
    """A ``pulumi stack export`` deployment holding the stack, a provider and `resources`."""
    return {"resources": [
        {"urn": "urn:pulumi:prod-1::waba-webhooks::pulumi:pulumi:Stack::waba-webhooks-prod-1",
         "type": "pulumi:pulumi:Stack"},
        {"urn": "urn:pulumi:prod-1::waba-webhooks::pulumi:providers:whatsapp::default",
         "type": "pulumi:providers:whatsapp", "id": "x"},
        *resources]}


def resource(kind: Kind, door: str, name: str, id_: str, **props) -> dict:
    """One resource as the `door` records it: its type, its spelling of the property names."""
    type_token = kind.token if door == routing.NATIVE else kind.dynamic_type
    bag = kind.to_wire(props) if door == routing.NATIVE else props
    return {"urn": f"urn:pulumi:prod-1::waba-webhooks::{type_token}::{name}", "type": type_token,
            "id": id_, "inputs": bag, "outputs": bag}


@pytest.mark.parametrize("door", routing.DOORS)
def test_a_state_reads_alike_whichever_door_made_it(door):
    found = stack_state.recorded(state(
        resource(WABA_ROUTING, door, "waba-routing-100", "100", waba_id="100",
                 phone_numbers={"101": "https://hooks.example.com/vip"},
                 verify_token=ENCRYPTED, verify_tokens=ENCRYPTED),
        resource(PHONE, door, "phone-201", "201", phone_number_id="201",
                 callback_uri="https://hooks.example.com/p")))
    assert [(r.kind, r.door, r.name, r.id) for r in found] == [
        (WABA_ROUTING, door, "waba-routing-100", "100"), (PHONE, door, "phone-201", "201")]
    assert found[0].inputs == {"waba_id": "100",
                               "phone_numbers": {"101": "https://hooks.example.com/vip"},
                               "verify_token": stack_state.SECRET,
                               "verify_tokens": stack_state.SECRET}
    assert found[1].outputs["callback_uri"] == "https://hooks.example.com/p"


def test_a_native_resource_just_moved_keeps_the_dynamic_outputs_and_reads_the_same():
    moved = resource(WABA_ROUTING, routing.NATIVE, "waba-routing-100", "100", waba_id="100")
    moved["outputs"] = {"waba_id": "100", "__provider": "pickled", "subscribed": True}
    [found] = stack_state.recorded(state(moved))
    assert found.door == routing.NATIVE
    assert found.inputs["waba_id"] == found.outputs["waba_id"] == "100"


def test_an_unknown_type_of_ours_is_an_error_naming_the_resource():
    odd = {"urn": "urn:pulumi:prod-1::waba-webhooks::whatsapp:index:WabaRoute::w",
           "type": "whatsapp:index:WabaRoute", "id": "1"}
    with pytest.raises(stack_state.StateError) as caught:
        stack_state.recorded(state(odd))
    assert "whatsapp:index:WabaRoute::w) is of type whatsapp:index:WabaRoute" in str(caught.value)
    other = {**odd, "type": "aws:s3/bucket:Bucket"}
    assert stack_state.recorded(state(other)) == []


def test_the_reshard_check_finds_a_waba_in_two_stacks_or_in_the_wrong_one():
    table = {"wabas": [{"wabaId": w} for w in ("200000000000000", "200000000000001")],
             "phoneNumbers": [{"phoneNumberId": "31", "wabaId": "200000000000001"}]}
    # Under 2 shards the first WABA is shard 1's, the second shard 2's.
    states = {
        "prod-1": stack_state.recorded(state(
            resource(WABA_ROUTING, routing.NATIVE, "waba-routing-x", "200000000000000"))),
        "prod-2": stack_state.recorded(state(
            resource(WABA, routing.DYNAMIC, "waba-y", "200000000000001"))),
    }
    found = reshard.owners(table, states)
    assert found == {"200000000000000": ["prod-1"], "200000000000001": ["prod-2"]}
    assert reshard.misplaced(found, "prod", 2) == []
    states["prod-1"] += stack_state.recorded(state(
        resource(PHONE, routing.NATIVE, "phone-31", "31")))
    assert reshard.misplaced(reshard.owners(table, states), "prod", 2) == [
        "WABA 200000000000001 is in prod-1, prod-2, not only in prod-2"]
    assert reshard.misplaced(found, "prod", 1) == [
        "WABA 200000000000001 is in prod-2, not only in prod-1"]
