"""The provider as the engine drives it: a real `python -m pulumi.dynamic` process spoken to
over gRPC (Configure, Check, Diff, Create, Read, Update, Delete) with the serialized provider,
against the emulator. bin/test runs this file with the newest and the oldest supported SDK."""

import asyncio
import socket
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

from tests.plugins import PluginProcess
from waba_webhooks.resources.app_subscription import AppWebhookSubscriptionRules
from waba_webhooks.resources.phone import PhoneCallbackOverrideRules
from waba_webhooks.resources.waba import WabaCallbackOverrideRules
from waba_webhooks.resources.waba_routing import WabaRoutingRules
from waba_webhooks.rules.base import READ_RESULT_TAKES_INPUTS

URN_TYPE = "pulumi-python:dynamic/waba-webhooks:{}"


class ProviderProcess(PluginProcess):
    """`python -m pulumi.dynamic` and a gRPC stub to it."""

    def __init__(self, *args: str) -> None:
        super().__init__([sys.executable, "-u", "-m", "pulumi.dynamic", *args])


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return asyncio.run(rpc.serialize_properties(props, {}))


def plain(value: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(value)


def configure(process: ProviderProcess, emulator) -> None:
    """Configure the provider as the engine does, with the emulator's settings."""
    process.stub.Configure(
        provider_pb2.ConfigureRequest(
            args=struct(
                {
                    "whatsapp:accessToken": emulator.token,
                    "whatsapp:graphUrl": emulator.url,
                    "whatsapp:allowHttpLoopback": "true",
                }
            ),
            acceptSecrets=False,
        )
    )


@pytest.fixture
def process(emulator) -> Iterator[ProviderProcess]:
    process = ProviderProcess()
    try:  # stopped even when Configure fails
        configure(process, emulator)
        yield process
    finally:
        process.stop()


@pytest.mark.parametrize("cls", [WabaCallbackOverrideRules, PhoneCallbackOverrideRules])
def test_full_lifecycle_over_grpc(process, emulator, callback_receiver, cls):
    id_prop = cls.id_property
    object_id = (emulator.waba_ids if cls is WabaCallbackOverrideRules else emulator.phone_ids)[
        0
    ]
    name = (
        "WabaCallbackOverride" if cls is WabaCallbackOverrideRules else ("PhoneCallbackOverride")
    )
    urn = f"urn:pulumi:test::waba-webhooks::{URN_TYPE.format(name)}::r"
    provider = serialize_provider(cls())
    news = {
        id_prop: object_id,
        "callback_uri": callback_receiver.url,
        "verify_token": callback_receiver.verify_token,
        "__provider": provider,
    }
    stub = process.stub

    bad = stub.Check(
        provider_pb2.CheckRequest(
            urn=urn, olds=struct({}), news=struct({**news, "callback_uri": "http://x.example/"})
        )
    )
    assert [f.property for f in bad.failures] == ["callback_uri"]
    assert emulator.admin.counts()["total"] == 0, "check must not call the Graph API"

    checked = stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []
    inputs = plain(checked.inputs)

    created = stub.Create(provider_pb2.CreateRequest(urn=urn, properties=checked.inputs))
    assert created.id == object_id
    state = plain(created.properties)
    assert state["callback_uri"] == callback_receiver.url
    assert len(state["__provider"]) < 200

    same = stub.Diff(
        provider_pb2.DiffRequest(
            id=object_id, urn=urn, olds=created.properties, news=checked.inputs
        )
    )
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

    new_url = callback_receiver.url + "/v2"
    changed_inputs = struct({**inputs, "callback_uri": new_url})
    diff = stub.Diff(
        provider_pb2.DiffRequest(
            id=object_id, urn=urn, olds=created.properties, news=changed_inputs
        )
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    moved = stub.Diff(
        provider_pb2.DiffRequest(
            id=object_id,
            urn=urn,
            olds=created.properties,
            news=struct({**inputs, id_prop: "123456789"}),
        )
    )
    assert list(moved.replaces) == [id_prop]

    updated = stub.Update(
        provider_pb2.UpdateRequest(
            id=object_id, urn=urn, olds=created.properties, news=changed_inputs
        )
    )
    assert plain(updated.properties)["callback_uri"] == new_url

    read = stub.Read(provider_pb2.ReadRequest(id=object_id, urn=urn, properties=updated.properties))
    assert read.id == object_id and plain(read.properties)["callback_uri"] == new_url

    imported = stub.Read(
        provider_pb2.ReadRequest(id=object_id, urn=urn, properties=struct({"__provider": provider}))
    )
    assert imported.id == object_id
    assert plain(imported.properties)["callback_uri"] == new_url

    # Drift: a refresh reports it in the outputs; SDKs whose ReadResult takes inputs record it
    # in the inputs too, older ones leave the engine the inputs it has.
    set_live = (emulator.admin.set_waba_override if cls is WabaCallbackOverrideRules
                else emulator.admin.set_phone_override)
    set_live(object_id, emulator.app_id, "https://changed-by-hand.example/hook")
    drifted = stub.Read(
        provider_pb2.ReadRequest(id=object_id, urn=urn, properties=updated.properties)
    )
    assert plain(drifted.properties)["callback_uri"] == "https://changed-by-hand.example/hook"
    assert drifted.HasField("inputs") is READ_RESULT_TAKES_INPUTS
    if READ_RESULT_TAKES_INPUTS:
        recorded = plain(drifted.inputs)
        assert recorded["callback_uri"] == "https://changed-by-hand.example/hook"
        assert recorded["__provider"] == provider
    set_live(object_id, emulator.app_id, new_url)

    stub.Delete(provider_pb2.DeleteRequest(id=object_id, urn=urn, properties=updated.properties))
    gone = stub.Read(provider_pb2.ReadRequest(id=object_id, urn=urn, properties=updated.properties))
    assert gone.id == ""


def test_errors_reach_the_engine_with_metas_fields_and_no_token(
    process, emulator, callback_receiver
):
    urn = f"urn:pulumi:test::waba-webhooks::{URN_TYPE.format('WabaCallbackOverride')}::r"
    props = {
        "waba_id": emulator.waba_ids[0],
        "callback_uri": callback_receiver.url,
        "verify_token": "wrong-token-for-this-receiver",
        "__provider": serialize_provider(WabaCallbackOverrideRules()),
    }
    with pytest.raises(grpc.RpcError) as caught:
        process.stub.Create(provider_pb2.CreateRequest(urn=urn, properties=struct(props)))
    # Newer SDKs send the traceback, older ones "Exception calling application: <message>":
    # either way the engine shows Meta's code and fbtrace_id.
    details = caught.value.details()
    assert "2200" in details and "fbtrace_id" in details
    assert emulator.token not in details
    assert "wrong-token-for-this-receiver" not in details


def test_waba_routing_lifecycle_over_grpc(process, emulator, callback_receiver):
    """One provider call writes every number of the WABA; diff needs no Graph call; a failed
    write reaches the engine listing the number and Meta's message, and no token."""
    urn = f"urn:pulumi:test::waba-webhooks::{URN_TYPE.format('WabaRouting')}::r"
    waba = emulator.waba_ids[0]
    numbers = [p for p in emulator.phone_ids if emulator.waba_of(p) == waba]
    news = {
        "waba_id": waba,
        "callback_uri": callback_receiver.url,
        "phone_numbers": {n: callback_receiver.url_for(f"p/{n}") for n in numbers},
        "verify_token": callback_receiver.verify_token,
        "__provider": serialize_provider(WabaRoutingRules()),
    }
    stub = process.stub
    bad = stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(
        {**news, "phone_numbers": {numbers[0]: "http://x.example/"}})))
    assert [f.property for f in bad.failures] == [f"phone_numbers[{numbers[0]!r}]"]
    checked = stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []

    created = stub.Create(provider_pb2.CreateRequest(urn=urn, properties=checked.inputs))
    assert created.id == waba
    state = plain(created.properties)
    assert state["phone_numbers"] == news["phone_numbers"]
    assert state["numbers_without_override"] == []
    assert emulator.admin.counts()["writes"] == 1 + len(numbers)

    calls = emulator.admin.counts()["total"]
    same = stub.Diff(provider_pb2.DiffRequest(id=waba, urn=urn, olds=created.properties,
                                              news=checked.inputs))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    moved = {**plain(checked.inputs), "phone_numbers": {
        **news["phone_numbers"], numbers[0]: callback_receiver.url_for("moved")}}
    diff = stub.Diff(provider_pb2.DiffRequest(id=waba, urn=urn, olds=created.properties,
                                              news=struct(moved)))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    assert emulator.admin.counts()["total"] == calls, "diff must not call the Graph API"

    emulator.admin.add_fault(method="POST", path=f"/{numbers[0]}$", status=400,
                             error={"code": 100, "message": "(#100) refused"})
    with pytest.raises(grpc.RpcError) as caught:
        stub.Update(provider_pb2.UpdateRequest(id=waba, urn=urn, olds=created.properties,
                                               news=struct(moved)))
    details = caught.value.details()
    # (Older SDKs send the message without the exception's class name.)
    assert f"phone number {numbers[0]}: (#100) refused" in details
    assert emulator.token not in details and callback_receiver.verify_token not in details

    updated = stub.Update(provider_pb2.UpdateRequest(id=waba, urn=urn, olds=created.properties,
                                                     news=struct(moved)))
    assert plain(updated.properties)["phone_numbers"] == moved["phone_numbers"]
    read = stub.Read(provider_pb2.ReadRequest(id=waba, urn=urn, properties=updated.properties))
    assert plain(read.properties)["phone_numbers"] == moved["phone_numbers"]
    stub.Delete(provider_pb2.DeleteRequest(id=waba, urn=urn, properties=updated.properties))
    assert emulator.waba_override(waba) is None
    assert all(emulator.phone_override(n) is None for n in numbers)
    assert emulator.is_subscribed(waba)


@pytest.mark.parametrize("cls", [WabaCallbackOverrideRules, PhoneCallbackOverrideRules])
def test_check_passes_values_known_only_after_apply(process, emulator, cls):
    """A callback URI computed from another resource's output is unknown at preview: the
    provider process hands check() an `Unknown`, which must pass (it is checked at `up`)."""
    name = cls.__name__.removesuffix("Provider")
    urn = f"urn:pulumi:test::waba-webhooks::{URN_TYPE.format(name)}::r"
    news = {cls.id_property: "123456789", "callback_uri": rpc.UNKNOWN,
            "verify_token": "a-verify-token", "__provider": serialize_provider(cls())}
    checked = process.stub.Check(
        provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []
    assert checked.inputs.fields["callback_uri"].string_value == rpc.UNKNOWN
    assert emulator.admin.counts()["total"] == 0


APP_SECRET = "EMU-APP-SECRET-lucky-shrub"


@pytest.fixture
def app_process(emulator) -> Iterator[ProviderProcess]:
    """A provider process configured as our app with its app secret (stack config)."""
    process = ProviderProcess()
    process.stub.Configure(provider_pb2.ConfigureRequest(args=struct({
        "whatsapp:accessToken": emulator.token, "whatsapp:graphUrl": emulator.url,
        "whatsapp:allowHttpLoopback": "true", "whatsapp:appSecret": APP_SECRET,
    }), acceptSecrets=False))
    yield process
    process.stop()


def test_app_subscription_lifecycle_over_grpc(app_process, emulator, callback_receiver):
    """Check (no Graph call), create, diff, update (add before drop), read with drift, a
    destroy that leaves the subscription, and no secret in anything the engine gets."""
    urn = f"urn:pulumi:test::waba-webhooks::{URN_TYPE.format('AppWebhookSubscription')}::r"
    emulator.admin.set_app_subscription(emulator.app_id, None, None)
    provider = serialize_provider(AppWebhookSubscriptionRules())
    news = {"callback_url": callback_receiver.url, "verify_token": callback_receiver.verify_token,
            "fields": ["messages", "account_update"], "__provider": provider}
    stub = app_process.stub

    bad = stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(
        {**news, "fields": ["messages", "messages"]})))
    assert [f.property for f in bad.failures] == ["fields[1]"]
    unknown = stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(
        {**news, "callback_url": rpc.UNKNOWN})))
    assert list(unknown.failures) == []
    assert emulator.admin.counts()["total"] == 0, "check must not call the Graph API"
    checked = stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []

    created = stub.Create(provider_pb2.CreateRequest(urn=urn, properties=checked.inputs))
    assert created.id == emulator.app_id
    state = plain(created.properties)
    assert state["live_fields"] == ["messages", "account_update"] and state["active"] is True
    assert len(state["__provider"]) < 200

    same = stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=urn, olds=created.properties,
                                              news=checked.inputs))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    changed = struct({**plain(checked.inputs), "fields": ["messages", "calls"]})
    diff = stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=urn, olds=created.properties,
                                              news=changed))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []

    before = len(emulator.admin.calls())
    updated = stub.Update(provider_pb2.UpdateRequest(id=created.id, urn=urn,
                                                     olds=created.properties, news=changed))
    assert plain(updated.properties)["live_fields"] == ["messages", "calls"]
    writes = [c["method"] for c in emulator.admin.calls()[before:] if c["method"] != "GET"]
    assert writes == ["POST", "DELETE"], "new fields are added before old ones are dropped"

    emulator.admin.set_app_subscription(emulator.app_id, callback_receiver.url, ["calls"])
    drifted = stub.Read(provider_pb2.ReadRequest(id=created.id, urn=urn,
                                                 properties=updated.properties))
    assert plain(drifted.properties)["fields"] == ["calls"]
    assert drifted.HasField("inputs") is READ_RESULT_TAKES_INPUTS

    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=urn, properties=updated.properties))
    assert emulator.admin.app_subscription(emulator.app_id) is not None, "destroy left it"
    everything = "".join(str(m) for m in (created, updated, drifted)) + str(
        emulator.admin.calls())
    assert APP_SECRET not in everything and f"{emulator.app_id}|" not in everything


def test_the_provider_process_ends_when_its_engine_is_gone(emulator, callback_receiver):
    """A run whose engine died (a lost CI runner) must not go on writing: the provider process
    watches the engine address it was started with and exits once nothing answers there."""
    engine = socket.create_server(("127.0.0.1", 0))  # stands in for the engine's gRPC port
    address = f"127.0.0.1:{engine.getsockname()[1]}"
    process = ProviderProcess(address)
    try:
        configure(process, emulator)
        phone = emulator.routable_phone_ids[0]
        urn = f"urn:pulumi:test::waba-webhooks::{URN_TYPE.format('PhoneCallbackOverride')}::r"
        news = struct({"phone_number_id": phone, "callback_uri": callback_receiver.url,
                       "verify_token": callback_receiver.verify_token,
                       "__provider": serialize_provider(PhoneCallbackOverrideRules())})
        checked = process.stub.Check(provider_pb2.CheckRequest(urn=urn, olds=struct({}),
                                                               news=news))
        process.stub.Create(provider_pb2.CreateRequest(urn=urn, properties=checked.inputs))
        assert process.proc.poll() is None, "the provider stopped while its engine was alive"
        engine.close()
        assert process.proc.wait(timeout=120) == 70
    finally:
        engine.close()
        err = process.stop()
    assert f"the Pulumi engine at {address} is gone" in err
    assert emulator.token not in err and callback_receiver.verify_token not in err
