"""The benchmark's stacks (`benchmarks.__main__.KINDS`): the native rows beside the dynamic ones,
the --kinds choice, and the state sizes of entries the native plugin writes (camelCase, no
pickled provider)."""

from __future__ import annotations

import json

import pytest
from benchmarks import report
from benchmarks.__main__ import KINDS, selected
from benchmarks.stack import PHONE_ID_START, VERIFY_TOKEN, declared_inputs, state_size

BASE = "http://127.0.0.1:9/hooks"


def test_native_kinds_sit_beside_the_dynamic_ones():
    assert KINDS["native-routing"].native and KINDS["native-ours"].native
    assert not any(KINDS[k].native for k in ("routing", "ours", "floor"))
    assert KINDS["native-routing"].resources(1000, 100) == 100
    assert KINDS["native-ours"].resources(1000, 100) == 1000
    assert set(report.KIND_LABELS) == set(KINDS)


def test_kinds_are_run_in_table_order_and_unknown_ones_refused():
    assert selected("floor, native-ours,routing", "--kinds") == ["routing", "native-ours",
                                                                 "floor"]
    with pytest.raises(SystemExit, match="unknown nope"):
        selected("routing,nope", "--kinds")


def _entry(kind_type: str, inputs: dict, outputs: dict, resource_id: str) -> dict:
    return {"urn": f"urn:pulumi:bench::p::{kind_type}::x", "custom": True, "id": resource_id,
            "type": kind_type, "inputs": inputs, "outputs": outputs}


def test_state_of_a_native_waba_routing_counts_its_numbers_in_camel_case():
    numbers = {str(PHONE_ID_START + i): f"{BASE}/phone-{i:05d}" for i in range(10)}
    entry = _entry("whatsapp:index:WabaRouting",
                   {"wabaId": "200", "phoneNumbers": numbers, "verifyToken": "x"},
                   {"wabaId": "200", "phoneNumbers": numbers, "unlistedOverrides": {}},
                   "200")
    export = json.dumps({"deployment": {"resources": [entry]}})
    state = state_size(export, "whatsapp:index:WabaRouting", BASE)
    assert state["numbers"] == 10
    assert state["entry_provider_bytes"] == 0
    assert state["added_bytes_per_number"] > 0
    assert set(declared_inputs(entry, BASE)) == {"wabaId", "phoneNumbers", "verifyToken"}


def test_declared_inputs_of_a_native_phone_override_are_camel_case():
    entry = _entry("whatsapp:index:PhoneCallbackOverride", {}, {}, str(PHONE_ID_START + 3))
    assert declared_inputs(entry, BASE) == {
        "phoneNumberId": str(PHONE_ID_START + 3), "callbackUri": f"{BASE}/phone-00003",
        "verifyToken": VERIFY_TOKEN}
