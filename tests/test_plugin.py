"""The ``whatsapp`` plugin as the engine drives it: the real ``pulumi-resource-whatsapp``
executable spoken to over gRPC (GetSchema, CheckConfig, Configure, Check, Diff, Create, Read,
Update, Delete), against the emulator, with camelCase wire names. bin/test runs this file with
the newest and the oldest supported SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2
from pulumi.runtime.rpc import UNKNOWN

from tests.plugins import PluginProcess
from waba_webhooks.plugin import schema
from waba_webhooks.plugin.adapter import plain_value, wire_value

TYPE = "whatsapp:index:{}"


def plugin_path() -> str:
    """The console script `pip install` put beside this interpreter."""
    path = Path(sys.executable).with_name("pulumi-resource-whatsapp")
    assert path.exists(), f"{path} is missing: the package's console script was not installed"
    return str(path)


class WhatsAppPlugin(PluginProcess):
    """`pulumi-resource-whatsapp` and a gRPC stub to it."""

    def __init__(self, engine: str = "127.0.0.1:9") -> None:
        # The engine's address: by default nothing listens there, so the plugin watches no
        # engine and logs to its stderr.
        super().__init__([plugin_path(), engine])


def struct(props: dict[str, Any], secrets: tuple[str, ...] = ()) -> Any:
    return PropertyValue.marshal_map({k: wire_value(v, k in secrets) for k, v in props.items()})


def values(message: Any) -> dict[str, Any]:
    return {k: plain_value(v) for k, v in PropertyValue.unmarshal_map(message).items()}


def secret_keys(message: Any) -> set[str]:
    return {k for k, v in PropertyValue.unmarshal_map(message).items() if v.is_secret}


def test_values_cross_the_wire_and_back_as_the_rules_wrote_them():
    """What the rules return reaches the engine in its wire form and comes back equal: maps of
    numbers, lists, numbers as floats, unknowns (also inside a map), secrets marked."""
    written = {"phoneNumbers": {"1": "https://a.example/x", "2": UNKNOWN}, "fields": ["messages"],
               "count": 3, "flag": True, "none": None, "token": UNKNOWN}
    sent = PropertyValue.unmarshal_map(struct(written, secrets=("phoneNumbers",)))
    assert sent["count"].value == 3.0 and isinstance(sent["count"].value, float)
    assert sent["phoneNumbers"].is_secret and not sent["fields"].is_secret
    back = {k: plain_value(v) for k, v in sent.items()}
    assert back == {**written, "count": 3.0}


def urn(kind: str, name: str = "r") -> str:
    return f"urn:pulumi:test::proj::{TYPE.format(kind)}::{name}"


def settings(emulator, token: str | None = None) -> dict[str, Any]:
    return {"accessToken": token or emulator.token, "graphUrl": emulator.url,
            "allowHttpLoopback": "true"}


@pytest.fixture
def plugin(emulator) -> Iterator[WhatsAppPlugin]:
    process = WhatsAppPlugin()
    try:
        process.stub.Configure(provider_pb2.ConfigureRequest(
            args=struct(settings(emulator), secrets=("accessToken",)), acceptSecrets=True))
        yield process
    finally:
        process.stop()


def test_schema_json_is_generated_from_the_resource_kinds():
    assert schema.checked_in() == schema.render(), (
        "provider/waba_webhooks/plugin/schema.json is stale: run "
        "`.venv/bin/python -m waba_webhooks.plugin.schema > "
        "provider/waba_webhooks/plugin/schema.json`")


def test_the_plugin_starts_without_what_only_a_graph_call_or_a_check_needs():
    """The engine starts the plugin at every step and waits for its port: the start loads
    neither the HTTP stack and retry library (loaded at the first Graph call), nor the URI
    parser (at the first check), nor the emulator or the commands."""
    code = ("import sys; from waba_webhooks.plugin import main, adapter; adapter.WhatsAppPlugin(); "
            "print(__import__('json').dumps(sorted(sys.modules)))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                           capture_output=True, text=True).stdout))
    assert "waba_webhooks.plugin.adapter" in loaded and "grpc" in loaded
    for name in ("requests", "urllib3", "tenacity", "rfc3986", "waba_webhooks.emulator",
                 "waba_webhooks.commands"):
        assert name not in loaded


def test_get_schema_serves_it_and_marks_secrets(plugin):
    served = plugin.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema
    assert served == schema.checked_in()
    loaded = schema.schema()
    assert set(loaded["resources"]) == {TYPE.format(k) for k in (
        "WabaCallbackOverride", "PhoneCallbackOverride", "WabaRouting", "AppWebhookSubscription")}
    routing = loaded["resources"][TYPE.format("WabaRouting")]
    assert routing["inputProperties"]["verifyTokens"]["secret"] is True
    assert routing["inputProperties"]["wabaId"]["willReplaceOnChanges"] is True
    assert loaded["config"]["variables"]["accessToken"]["secret"] is True
    assert loaded["provider"]["inputProperties"]["appSecret"]["secret"] is True


def test_check_config_names_the_bad_key(plugin):
    answer = plugin.stub.CheckConfig(provider_pb2.CheckRequest(
        urn="urn:pulumi:test::proj::pulumi:providers:whatsapp::p", olds=struct({}),
        news=struct({"graphUrl": "http://graph.example.com"})))
    assert [f.property for f in answer.failures] == ["graphUrl"]
    assert "loopback" in answer.failures[0].reason


@pytest.mark.parametrize("kind,id_key", [("WabaCallbackOverride", "wabaId"),
                                         ("PhoneCallbackOverride", "phoneNumberId")])
def test_override_lifecycle_over_grpc(plugin, emulator, callback_receiver, kind, id_key):
    object_id = (emulator.waba_ids if id_key == "wabaId" else emulator.routable_phone_ids)[0]
    stub, u = plugin.stub, urn(kind)
    news = {id_key: object_id, "callbackUri": callback_receiver.url,
            "verifyToken": callback_receiver.verify_token}

    bad = stub.Check(provider_pb2.CheckRequest(
        urn=u, olds=struct({}), news=struct({**news, "callbackUri": "http://x.example/"})))
    assert [f.property for f in bad.failures] == ["callbackUri"]
    assert "callbackUri" in bad.failures[0].reason and "callback_uri" not in \
        bad.failures[0].reason
    unknown = stub.Check(provider_pb2.CheckRequest(
        urn=u, olds=struct({}), news=struct({**news, "callbackUri": UNKNOWN})))
    assert list(unknown.failures) == [], "an unknown value is checked once it is known"
    assert emulator.admin.counts()["total"] == 0, "check must not call the Graph API"

    checked = stub.Check(provider_pb2.CheckRequest(urn=u, olds=struct({}),
                                                   news=struct(news)))
    assert list(checked.failures) == []
    assert "verifyToken" in secret_keys(checked.inputs)

    created = stub.Create(provider_pb2.CreateRequest(urn=u, properties=checked.inputs))
    assert created.id == object_id
    state = values(created.properties)
    assert state["callbackUri"] == callback_receiver.url
    assert "verifyToken" in secret_keys(created.properties)

    same = stub.Diff(provider_pb2.DiffRequest(id=object_id, urn=u, olds=created.properties,
                                              news=checked.inputs))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

    new_url = callback_receiver.url + "/v2"
    changed = struct({**news, "callbackUri": new_url}, secrets=("verifyToken",))
    diff = stub.Diff(provider_pb2.DiffRequest(id=object_id, urn=u, olds=created.properties,
                                              news=changed))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    assert dict(diff.detailedDiff) == {
        "callbackUri": provider_pb2.PropertyDiff(kind=provider_pb2.PropertyDiff.UPDATE,
                                                 inputDiff=True)}
    moved = stub.Diff(provider_pb2.DiffRequest(id=object_id, urn=u, olds=created.properties,
                                               news=struct({**news, id_key: "123456789"})))
    assert list(moved.replaces) == [id_key]

    updated = stub.Update(provider_pb2.UpdateRequest(id=object_id, urn=u,
                                                     olds=created.properties, news=changed))
    assert values(updated.properties)["callbackUri"] == new_url

    read = stub.Read(provider_pb2.ReadRequest(id=object_id, urn=u,
                                              properties=updated.properties))
    assert read.id == object_id and values(read.properties)["callbackUri"] == new_url
    assert "verifyToken" in secret_keys(read.properties)

    stub.Delete(provider_pb2.DeleteRequest(id=object_id, urn=u, properties=updated.properties))
    gone = stub.Read(provider_pb2.ReadRequest(id=object_id, urn=u,
                                              properties=updated.properties))
    assert gone.id == ""


def test_import_reads_without_a_token_and_checks_clean(plugin, emulator):
    phone = emulator.routable_phone_ids[0]
    emulator.admin.set_phone_override(phone, emulator.app_id, "https://live.example/hook")
    u = urn("PhoneCallbackOverride")
    # What `pulumi import` sends: an id, no state, no inputs.
    read = plugin.stub.Read(provider_pb2.ReadRequest(id=phone, urn=u, properties=struct({}),
                                                     inputs=struct({})))
    assert read.id == phone
    inputs = values(read.inputs)
    assert inputs == {"phoneNumberId": phone, "callbackUri": "https://live.example/hook",
                      "adoptExisting": False}
    checked = plugin.stub.Check(provider_pb2.CheckRequest(urn=u, olds=read.inputs,
                                                          news=read.inputs))
    assert list(checked.failures) == [], "Meta never returns a verify token"
    # The program then declares the same override with its token: no change.
    declared = struct({**inputs, "verifyToken": "t0ken"}, secrets=("verifyToken",))
    diff = plugin.stub.Diff(provider_pb2.DiffRequest(id=phone, urn=u, olds=read.properties,
                                                     news=declared))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    writes = emulator.admin.counts()["writes"]
    assert writes == 0


@pytest.mark.parametrize("kind,object_id,words", [
    ("WabaCallbackOverride", "102290129340400", "nothing to import"),
    ("PhoneCallbackOverride", "999999999999", "does not exist"),
])
def test_import_of_nothing_fails_with_the_reason(plugin, kind, object_id, words):
    with pytest.raises(grpc.RpcError) as caught:
        plugin.stub.Read(provider_pb2.ReadRequest(id=object_id, urn=urn(kind),
                                                  properties=struct({}), inputs=struct({})))
    assert words in caught.value.details()


def test_waba_routing_diff_has_a_line_per_number(plugin, emulator, callback_receiver):
    waba = emulator.waba_ids[0]
    numbers = [p for p in emulator.routable_phone_ids if emulator.waba_of(p) == waba]
    u = urn("WabaRouting")
    news = {"wabaId": waba, "verifyToken": callback_receiver.verify_token,
            "phoneNumbers": {numbers[0]: callback_receiver.url}}
    checked = plugin.stub.Check(provider_pb2.CheckRequest(urn=u, olds=struct({}),
                                                          news=struct(news)))
    assert list(checked.failures) == []
    created = plugin.stub.Create(provider_pb2.CreateRequest(urn=u, properties=checked.inputs))
    assert values(created.properties)["phoneNumbers"] == {numbers[0]: callback_receiver.url}

    later = {**news, "phoneNumbers": {numbers[0]: callback_receiver.url + "/a",
                                      numbers[1]: callback_receiver.url + "/b"}}
    diff = plugin.stub.Diff(provider_pb2.DiffRequest(id=waba, urn=u, olds=created.properties,
                                                     news=struct(later)))
    assert dict(diff.detailedDiff) == {
        f'phoneNumbers["{numbers[0]}"]': provider_pb2.PropertyDiff(
            kind=provider_pb2.PropertyDiff.UPDATE, inputDiff=True),
        f'phoneNumbers["{numbers[1]}"]': provider_pb2.PropertyDiff(
            kind=provider_pb2.PropertyDiff.ADD, inputDiff=True),
    }
    bad = plugin.stub.Check(provider_pb2.CheckRequest(
        urn=u, olds=struct({}),
        news=struct({**news, "phoneNumbers": {numbers[0]: "ftp://x.example/"}})))
    assert [f.property for f in bad.failures] == [f"phoneNumbers['{numbers[0]}']"]


def test_a_secret_output_that_is_none_is_left_out(plugin, emulator, callback_receiver):
    """A `WabaRouting` without ``verifyTokens`` returns none (the engine would store a secret
    null, a ciphertext of nothing, for each); one that declares them gets them back secret."""
    waba = emulator.waba_ids[0]
    number = next(p for p in emulator.routable_phone_ids if emulator.waba_of(p) == waba)
    u = urn("WabaRouting")
    news = {"wabaId": waba, "verifyToken": callback_receiver.verify_token,
            "phoneNumbers": {number: callback_receiver.url}}
    created = plugin.stub.Create(provider_pb2.CreateRequest(
        urn=u, properties=struct(news, secrets=("verifyToken",))))
    outputs = values(created.properties)
    assert "verifyTokens" not in outputs
    assert outputs["callbackUri"] is None, "a None that is no secret is still returned"
    assert "verifyToken" in secret_keys(created.properties)

    declared = {**news, "verifyTokens": {number: callback_receiver.verify_token}}
    updated = plugin.stub.Update(provider_pb2.UpdateRequest(
        id=waba, urn=u, olds=created.properties,
        news=struct(declared, secrets=("verifyToken", "verifyTokens"))))
    assert values(updated.properties)["verifyTokens"] == declared["verifyTokens"]
    assert {"verifyToken", "verifyTokens"} <= secret_keys(updated.properties)


def test_get_effective_routing_reads_live_and_writes_nothing(plugin, emulator,
                                                           callback_receiver):
    """``getEffectiveRouting`` answers, for every number of a WABA, the callback Meta follows
    and which rule chose it, from Graph reads only; a `WabaRouting` no longer stores that map
    in its outputs."""
    waba = emulator.waba_ids[0]
    vip, *others = [p for p in emulator.routable_phone_ids if emulator.waba_of(p) == waba]
    routing = {"wabaId": waba, "verifyToken": callback_receiver.verify_token,
               "callbackUri": callback_receiver.url + "/waba",
               "phoneNumbers": {vip: callback_receiver.url + "/vip"}}
    created = plugin.stub.Create(provider_pb2.CreateRequest(
        urn=urn("WabaRouting"), properties=struct(routing, secrets=("verifyToken",))))
    assert "effective" not in values(created.properties)

    before = len(emulator.admin.calls())
    answer = plugin.stub.Invoke(provider_pb2.InvokeRequest(
        tok=TYPE.format("getEffectiveRouting"), args=struct({"wabaId": waba})))
    assert list(answer.failures) == []
    result = values(getattr(answer, "return"))
    assert result["wabaId"] == waba
    assert result["effective"][vip] == {"callbackUri": callback_receiver.url + "/vip",
                                        "rule": "phone_number"}
    assert others and all(result["effective"][number] == {
        "callbackUri": callback_receiver.url + "/waba", "rule": "whatsapp_business_account"}
        for number in others)
    made = emulator.admin.calls()[before:]
    assert made and {call["method"] for call in made} == {"GET"}


@pytest.mark.parametrize("args,failure", [({"wabaId": "12ab"}, "wabaId"), ({}, "wabaId"),
                                          ({"wabaId": "1", "phoneId": "2"}, "phoneId")])
def test_get_effective_routing_names_a_bad_input_before_any_call(plugin, emulator, args,
                                                                 failure):
    before = len(emulator.admin.calls())
    answer = plugin.stub.Invoke(provider_pb2.InvokeRequest(
        tok=TYPE.format("getEffectiveRouting"), args=struct(args)))
    assert [f.property for f in answer.failures] == [failure]
    assert failure in answer.failures[0].reason
    assert len(emulator.admin.calls()) == before


def test_two_instances_use_their_own_tokens(emulator, callback_receiver):
    """Two provider processes (two apps) each act with their own token."""
    other_token = next(app["access_tokens"][0] for app in emulator.admin.state()["apps"]
                       if app["id"] != emulator.app_id)
    processes = [WhatsAppPlugin(), WhatsAppPlugin()]
    try:
        for process, token in zip(processes, (emulator.token, other_token), strict=True):
            process.stub.Configure(provider_pb2.ConfigureRequest(
                args=struct(settings(emulator, token), secrets=("accessToken",)),
                acceptSecrets=True))
        waba = emulator.waba_ids[0]
        for process, path in zip(processes, ("/a", "/b"), strict=True):
            props = struct({"wabaId": waba, "callbackUri": callback_receiver.url + path,
                            "verifyToken": callback_receiver.verify_token})
            process.stub.Create(provider_pb2.CreateRequest(urn=urn("WabaCallbackOverride"),
                                                           properties=props))
        apps = {call["app_id"] for call in emulator.admin.calls() if call["method"] == "POST"}
        assert len(apps) == 2
    finally:
        for process in processes:
            process.stop()


@pytest.mark.parametrize("allow,accepted", [(True, True), (False, False), ("true", True),
                                            ("false", False)])
def test_configure_takes_typed_settings_as_the_python_sdk_sends_them(
        plugin, emulator, callback_receiver, allow, accepted):
    """An explicit `native.Provider(allow_http_loopback=True, max_retries=2)` reaches Configure
    with a bool and a number in ``args`` (stack config sends strings): both are taken."""
    args = {**settings(emulator), "allowHttpLoopback": allow, "maxRetries": 2}
    plugin.stub.Configure(provider_pb2.ConfigureRequest(
        args=struct(args, secrets=("accessToken",)), acceptSecrets=True))
    checked = plugin.stub.Check(provider_pb2.CheckRequest(
        urn=urn("PhoneCallbackOverride"), olds=struct({}),
        news=struct({"phoneNumberId": emulator.routable_phone_ids[0],
                     "callbackUri": callback_receiver.url,  # http://127.0.0.1:...
                     "verifyToken": callback_receiver.verify_token})))
    assert [f.property for f in checked.failures] == ([] if accepted else ["callbackUri"])


class EngineLog(engine_pb2_grpc.EngineServicer):
    """The engine's log service, keeping what a provider logs: (severity, message)."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str]] = []

    def Log(self, request, context):
        self.logs.append((request.severity, request.message))
        return empty_pb2.Empty()


@pytest.fixture
def engine_log() -> Iterator[tuple[EngineLog, str]]:
    """A stand-in engine on a free loopback port, and its address."""
    servicer = EngineLog()
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        server.stop(None)


def test_warnings_of_the_rules_reach_the_engine(emulator, engine_log):
    """The engine hides a native plugin's stderr (it shows only a dynamic provider's), so the
    rules' warnings go to its log service: here the one of a destroy that leaves the app's
    subscription, which says how to remove it."""
    servicer, address = engine_log
    process = WhatsAppPlugin(engine=address)
    try:
        process.stub.Configure(provider_pb2.ConfigureRequest(
            args=struct({**settings(emulator), "appSecret": "EMU-APP-SECRET-lucky-shrub"},
                        secrets=("accessToken", "appSecret")), acceptSecrets=True))
        process.stub.Delete(provider_pb2.DeleteRequest(
            id=emulator.app_id, urn=urn("AppWebhookSubscription"),
            properties=struct({"callbackUrl": "https://hooks.example.com/app",
                               "fields": ["messages"]})))
    finally:
        stderr = process.stop()
    warnings = [message for severity, message in servicer.logs
                if severity == engine_pb2.WARNING]
    assert any("left the app's webhook subscription" in m and "remove_on_destroy" in m
               for m in warnings), (servicer.logs, stderr)
    assert emulator.admin.counts()["writes"] == 0
