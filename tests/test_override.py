"""Behaviour both override resources share, run for each: check, diff, create, read, update,
delete against the emulator over HTTP, with the Graph calls each operation costs."""

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from tests.conftest import configured
from waba_webhooks.config import Settings
from waba_webhooks.errors import OverrideConflictError
from waba_webhooks.graph import GraphClient
from waba_webhooks.resources.phone import PhoneCallbackOverrideRules
from waba_webhooks.resources.waba import WabaCallbackOverrideRules
from waba_webhooks.rules.base import READ_RESULT_TAKES_INPUTS, OverrideRules


@dataclass
class Kind:
    provider_cls: type[OverrideRules]
    id_property: str
    object_id: str
    other_id: str

    def live(self, emulator) -> str | None:
        client = GraphClient(
            Settings(access_token=emulator.token, graph_url=emulator.url, app_id=emulator.app_id)
        )
        if self.provider_cls is WabaCallbackOverrideRules:
            return client.waba_override(self.object_id)[1]
        return client.webhook_configuration(self.object_id).phone_number

    def set_live(self, emulator, uri: str | None) -> None:
        if self.provider_cls is WabaCallbackOverrideRules:
            emulator.admin.set_waba_override(self.object_id, emulator.app_id, uri)
        else:
            emulator.admin.set_phone_override(self.object_id, emulator.app_id, uri)


@pytest.fixture(params=["waba", "phone"])
def kind(request, emulator) -> Kind:
    if request.param == "waba":
        return Kind(WabaCallbackOverrideRules, "waba_id", *emulator.waba_ids[:2])
    return Kind(PhoneCallbackOverrideRules, "phone_number_id", *emulator.phone_ids[:2])


@pytest.fixture
def provider(kind, emulator) -> OverrideRules:
    return configured(kind.provider_cls, emulator)


@pytest.fixture
def props(kind, callback_receiver) -> dict[str, Any]:
    return {
        kind.id_property: kind.object_id,
        "callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
    }


def writes(emulator) -> int:
    return emulator.admin.counts()["writes"]


def reads(emulator) -> int:
    return emulator.admin.counts()["reads"]


# ---- check: no API call, every failure named ---------------------------------------------------


def test_check_accepts_valid_inputs_without_calling_the_api(provider, props, emulator):
    result = provider.check({}, dict(props))
    assert result.failures == []
    assert result.inputs == props
    assert emulator.admin.counts()["total"] == 0


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("id", "12ab"),
        ("id", 12345.0),
        ("id", ""),
        ("callback_uri", "http://hooks.example.com/"),
        ("callback_uri", "https://x.example/" + "a" * 190),
        ("callback_uri", ""),
        ("verify_token", ""),
        ("verify_token", None),
        ("adopt_existing", "yes"),
    ],
)
def test_check_rejects_bad_inputs_naming_the_property(provider, props, kind, emulator, prop, value):
    prop = kind.id_property if prop == "id" else prop
    result = provider.check({}, {**props, prop: value})
    assert [f.property for f in result.failures] == [prop]
    assert prop in result.failures[0].reason
    assert emulator.admin.counts()["total"] == 0


def test_check_rejects_http_loopback_unless_allowed(kind, emulator, props):
    strict = configured(kind.provider_cls, emulator, **{"whatsapp:allowHttpLoopback": "false"})
    [failure] = strict.check({}, props).failures
    assert failure.property == "callback_uri" and "allowHttpLoopback" in failure.reason


def test_check_warns_about_what_a_vendor_reports_meta_refuses(provider, props, kind, capsys):
    url = "https://hooks_east.example.com:8443/wa"
    result = provider.check({}, {**props, "callback_uri": url})
    assert result.failures == []
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("warning: ")]
    assert len(warnings) == 2
    assert all(f"{kind.object_id}: callback_uri {url}" in w for w in warnings)
    provider.check({}, dict(props))
    assert "warning" not in capsys.readouterr().err


def test_check_skips_values_unknown_until_apply(provider, props):
    assert provider.check({}, {**props, "callback_uri": UNKNOWN}).failures == []


def test_check_names_unknown_properties(provider, props):
    [failure] = provider.check({}, {**props, "callback_url": "https://x.example/"}).failures
    assert failure.property == "callback_url"


# ---- diff ---------------------------------------------------------------------------------------


def test_diff_no_change_when_inputs_equal(provider, props):
    outs = {**props, "adopt_existing": False, "app_id": "1", "effective_callback_uri": "x"}
    result = provider.diff(props[provider.id_property], outs, dict(props))
    assert result.changes is False and result.replaces == []


def test_diff_id_change_replaces(provider, props, kind):
    result = provider.diff(kind.object_id, props, {**props, kind.id_property: kind.other_id})
    assert result.changes is True and result.replaces == [kind.id_property]


@pytest.mark.parametrize("prop", ["callback_uri", "verify_token"])
def test_diff_url_or_token_change_updates_in_place(provider, props, prop):
    result = provider.diff("1", props, {**props, prop: props[prop] + "x"})
    assert result.changes is True and result.replaces == []


# ---- create / read / update / delete --------------------------------------------------------


def test_create_sets_the_override_with_one_read_and_one_write(
    provider, props, kind, emulator, callback_receiver
):
    result = provider.create(dict(props))
    assert result.id == kind.object_id
    assert result.outs["callback_uri"] == callback_receiver.url
    assert result.outs["verify_token"] == callback_receiver.verify_token
    assert kind.live(emulator) == callback_receiver.url
    assert callback_receiver.challenges, "Meta's verification call never reached the callback"
    assert (reads(emulator), writes(emulator)) == (1 + 1, 1)  # + the check read in kind.live


def test_create_adopts_the_same_url_without_writing(provider, props, kind, emulator):
    kind.set_live(emulator, props["callback_uri"])
    provider.create(dict(props))
    assert writes(emulator) == 0


def test_create_refuses_to_take_over_another_override(provider, props, kind, emulator):
    kind.set_live(emulator, "https://someone-else.example/hook")
    with pytest.raises(OverrideConflictError) as caught:
        provider.create(dict(props))
    message = str(caught.value)
    assert "https://someone-else.example/hook" in message
    assert "callback_uri='https://someone-else.example/hook'" in message
    assert "adopt_existing=True" in message
    assert writes(emulator) == 0
    assert kind.live(emulator) == "https://someone-else.example/hook"


def test_create_with_adopt_existing_replaces_the_other_override(provider, props, kind, emulator):
    kind.set_live(emulator, "https://someone-else.example/hook")
    provider.create({**props, "adopt_existing": True})
    assert kind.live(emulator) == props["callback_uri"]


def test_read_returns_live_state(provider, props, kind, emulator):
    provider.create(dict(props))
    before = reads(emulator)
    result = provider.read(kind.object_id, dict(props))
    assert result.id == kind.object_id
    assert result.outs["callback_uri"] == props["callback_uri"]
    if READ_RESULT_TAKES_INPUTS:  # the SDK's ReadResult takes inputs (tests/test_protocol.py)
        assert result.inputs[kind.id_property] == kind.object_id
    assert reads(emulator) - before == 1


def test_read_reports_drift(provider, props, kind, emulator):
    provider.create(dict(props))
    kind.set_live(emulator, "https://changed-by-hand.example/hook")
    result = provider.read(kind.object_id, dict(props))
    assert result.outs["callback_uri"] == "https://changed-by-hand.example/hook"


def test_read_of_a_removed_override_returns_an_empty_id(provider, props, kind, emulator):
    provider.create(dict(props))
    kind.set_live(emulator, None)
    assert provider.read(kind.object_id, dict(props)).id == ""


def test_read_for_import_works_with_the_id_alone(provider, kind, emulator):
    kind.set_live(emulator, "https://adopt-me.example/hook")
    result = provider.read(kind.object_id, {})
    assert result.id == kind.object_id
    assert result.outs[kind.id_property] == kind.object_id
    assert result.outs["callback_uri"] == "https://adopt-me.example/hook"


def test_update_changes_the_url_in_place_with_one_write(
    provider, props, kind, emulator, callback_receiver
):
    provider.create(dict(props))
    new_url = callback_receiver.url + "/v2"
    before = writes(emulator)
    result = provider.update(kind.object_id, dict(props), {**props, "callback_uri": new_url})
    assert result.outs["callback_uri"] == new_url
    assert writes(emulator) - before == 1
    assert kind.live(emulator) == new_url


def test_update_without_url_or_token_change_writes_nothing(provider, props, kind, emulator):
    provider.create(dict(props))
    before = writes(emulator)
    provider.update(kind.object_id, dict(props), {**props, "adopt_existing": True})
    assert writes(emulator) == before


def test_delete_clears_the_override_with_one_read_and_one_write(provider, props, kind, emulator):
    provider.create(dict(props))
    before = (reads(emulator), writes(emulator))
    provider.delete(kind.object_id, dict(props))
    assert (reads(emulator) - before[0], writes(emulator) - before[1]) == (1, 1)
    assert kind.live(emulator) is None


def test_delete_leaves_an_override_changed_outside_the_stack(
    provider, props, kind, emulator, capsys
):
    provider.create(dict(props))
    kind.set_live(emulator, "https://changed-by-hand.example/hook")
    before = writes(emulator)
    provider.delete(kind.object_id, dict(props))
    assert writes(emulator) == before
    assert kind.live(emulator) == "https://changed-by-hand.example/hook"
    warning = capsys.readouterr().err
    assert "https://changed-by-hand.example/hook" in warning and props["callback_uri"] in warning


def test_delete_of_an_already_removed_override_is_a_no_op(provider, props, kind, emulator):
    provider.delete(kind.object_id, dict(props))
    assert writes(emulator) == 0


# ---- serialization --------------------------------------------------------------------------


def test_provider_pickles_by_reference_in_under_200_bytes(kind):
    serialized = serialize_provider(kind.provider_cls())
    assert len(serialized) < 200
    # A reference to the installed class, not its code: new provider code serves old state.
    assert kind.provider_cls.__module__.encode() in base64.b64decode(serialized)
