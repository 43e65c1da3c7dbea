"""A business's WABAs in the emulator over real HTTP: the owned and client lists with Graph's
cursor paging and fields, their errors, ``debug_token``, and the admin calls that onboard a new
client WABA and subscribe our app to it by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import EmulatorHandle
from waba_webhooks.emulator import EmulatorAdminError, GraphAPIError, GraphBackend, fixtures
from waba_webhooks.emulator.models import CLIENT, OWNED

BUSINESS = fixtures.DEFAULT_BUSINESS_ID
OTHER_TOKEN = "EMU-TOKEN-other-1"


@pytest.fixture
def estate(emulator: EmulatorHandle) -> EmulatorHandle:
    """A business owning 3 WABAs and serving 7 client ones (the 5th refuses reads); another
    app exists but has no access to the business."""
    fixture = fixtures.generate(wabas=10, phones_per_waba=2, other_apps=1)
    refusing = fixture["wabas"][4]["id"]
    emulator.admin.seed(fixtures.with_business(fixture, owned=3, refusing=[refusing]))
    return emulator


def listing(emulator: EmulatorHandle, relation: str, **params: Any) -> dict[str, Any]:
    response = emulator.call("GET", f"{BUSINESS}/{relation}_whatsapp_business_accounts",
                             params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def every_page(emulator: EmulatorHandle, relation: str, **params: Any) -> list[list[str]]:
    pages, after = [], None
    while True:
        body = listing(emulator, relation, **params, **({"after": after} if after else {}))
        pages.append([waba["id"] for waba in body["data"]])
        if "next" not in body.get("paging", {}):
            return pages
        after = body["paging"]["cursors"]["after"]


def test_owned_and_client_lists_split_the_estate(estate: EmulatorHandle) -> None:
    ids = estate.waba_ids
    owned = listing(estate, "owned")
    assert [w["id"] for w in owned["data"]] == ids[:3]
    assert set(owned["data"][0]) == {"id", "name"}  # Graph's default fields on an edge
    assert "next" not in owned["paging"]  # one page: no next link
    client = listing(estate, "client")
    assert [w["id"] for w in client["data"]] == ids[3:]


def test_cursor_paging_follows_next_until_absent(estate: EmulatorHandle) -> None:
    pages = every_page(estate, "client", limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [waba for page in pages for waba in page] == estate.waba_ids[3:]
    first = listing(estate, "client", limit=3)
    assert first["paging"]["next"].endswith(f"after={first['paging']['cursors']['after']}")
    assert "access_token" not in first["paging"]["next"]


def test_page_size_defaults_to_25_and_is_capped_at_100(emulator: EmulatorHandle) -> None:
    emulator.admin.seed(fixtures.with_business(fixtures.generate(wabas=130), owned=0))
    assert [len(p) for p in every_page(emulator, "client")] == [25] * 5 + [5]
    assert [len(p) for p in every_page(emulator, "client", limit=500)] == [100, 30]


def test_fields_beyond_id_and_name(estate: EmulatorHandle) -> None:
    body = listing(estate, "client", fields="id,name,ownership_type,timezone_id")
    assert body["data"][0]["ownership_type"] == "CLIENT_OWNED"
    assert set(body["data"][0]) == {"id", "name", "ownership_type", "timezone_id"}
    assert listing(estate, "owned", fields="ownership_type")["data"][0] == {
        "ownership_type": "SELF_OWNED", "id": estate.waba_ids[0]}
    unknown = estate.call("GET", f"{BUSINESS}/owned_whatsapp_business_accounts",
                          params={"fields": "id,phone_count"})
    assert unknown.status_code == 400
    assert "phone_count" in unknown.json()["error"]["message"]


@pytest.mark.parametrize(
    ("business", "token", "status", "code"),
    [
        ("not-a-business", None, 400, 100),     # not digits
        ("999999", None, 400, 100),             # no such business
        (BUSINESS, OTHER_TOKEN, 403, 200),      # the token's app has no access to it
        (BUSINESS, "EMU-TOKEN-nobody", 401, 190),
    ],
)
def test_errors(estate: EmulatorHandle, business: str, token: str | None, status: int,
                code: int) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else estate.headers
    for relation in ("owned", "client"):
        response = estate.call("GET", f"{business}/{relation}_whatsapp_business_accounts",
                               headers=headers)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code


def test_a_refusing_waba_is_listed_but_its_reads_answer_200(estate: EmulatorHandle) -> None:
    refusing = estate.waba_ids[4]
    assert refusing in [w["id"] for w in listing(estate, "client")["data"]]
    for path in (f"{refusing}/subscribed_apps", f"{refusing}/phone_numbers"):
        response = estate.call("GET", path)
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "(#200) Permissions error"
    phone = next(p["id"] for p in estate.admin.state()["phone_numbers"]
                 if p["waba_id"] == refusing)
    assert estate.call("GET", phone).json()["error"]["code"] == 200
    assert estate.call("GET", f"{estate.waba_ids[3]}/subscribed_apps").status_code == 200


def test_debug_token_names_the_app_and_the_targets(estate: EmulatorHandle) -> None:
    response = estate.call("GET", "debug_token", params={"input_token": estate.token})
    data = response.json()["data"]
    assert data["app_id"] == estate.app_id and data["is_valid"] is True
    assert data["type"] == "SYSTEM_USER"
    scopes = {s["scope"]: s["target_ids"] for s in data["granular_scopes"]}
    assert scopes["business_management"] == [BUSINESS]
    assert estate.waba_ids[4] not in scopes["whatsapp_business_management"]
    assert estate.waba_ids[0] in scopes["whatsapp_business_management"]
    unknown = estate.call("GET", "debug_token", params={"input_token": "EMU-TOKEN-nobody"})
    assert unknown.json()["data"]["is_valid"] is False
    foreign = estate.call("GET", "debug_token", params={"input_token": OTHER_TOKEN})
    assert foreign.status_code == 400 and foreign.json()["error"]["code"] == 100
    # The input token is a secret: the call log never shows it.
    logged = [c for c in estate.admin.calls() if c["path"].endswith("/debug_token")]
    assert logged and all(c["query"]["input_token"] == "***" for c in logged)


def test_a_new_client_waba_onboards_unsubscribed_and_is_subscribed_by_hand(
    estate: EmulatorHandle,
) -> None:
    waba = {"id": "210000000000001", "name": "New customer", "apps_with_access": [estate.app_id]}
    phone = {"id": "310000000000001", "waba_id": waba["id"], "display_phone_number": "+1 555 0100",
             "verified_name": "New customer"}
    estate.admin.add_client_waba(BUSINESS, waba, [phone])
    assert listing(estate, "client")["data"][-1] == {"id": waba["id"], "name": "New customer"}
    assert estate.call("GET", f"{waba['id']}/subscribed_apps").json() == {"data": []}
    estate.admin.subscribe_app(waba["id"])
    apps = estate.call("GET", f"{waba['id']}/subscribed_apps").json()["data"]
    assert [a["whatsapp_business_api_data"]["id"] for a in apps] == [estate.app_id]
    with pytest.raises(EmulatorAdminError, match="duplicate id"):
        estate.admin.add_client_waba(BUSINESS, waba)
    estate.admin.reset()  # onboarding is not part of the baseline
    assert waba["id"] not in estate.waba_ids


def test_fixture_checks_businesses(emulator: EmulatorHandle) -> None:
    fixture = fixtures.with_business(fixtures.generate(wabas=2), owned=1)
    fixture["businesses"][0]["client_wabas"].append("123")
    with pytest.raises(EmulatorAdminError, match="unknown waba"):
        emulator.admin.seed(fixture)


# --------------------------------------------------------------------------- the model, no HTTP


def backend_with_business(wabas: int = 5, owned: int = 2) -> GraphBackend:
    fixture = fixtures.with_business(fixtures.generate(wabas=wabas, other_apps=1), owned=owned)
    return GraphBackend(fixture, verifier=lambda url, token: None)


def test_model_pages_a_business_list_by_cursor() -> None:
    backend = backend_with_business(wabas=7, owned=2)
    first = backend.list_business_wabas(fixtures.DEFAULT_APP_ID, BUSINESS, CLIENT, limit=3)
    assert first.has_more and len(first.data) == 3
    last = backend.list_business_wabas(fixtures.DEFAULT_APP_ID, BUSINESS, CLIENT, limit=3,
                                       after=first.after)
    assert [w["id"] for w in last.data] == ["200000000000005", "200000000000006"]
    assert not last.has_more
    with pytest.raises(GraphAPIError) as bad_cursor:
        backend.list_business_wabas(fixtures.DEFAULT_APP_ID, BUSINESS, OWNED, after="bm9wZQ==")
    assert bad_cursor.value.code == 100
    with pytest.raises(GraphAPIError) as no_access:
        backend.list_business_wabas("880000000000001", BUSINESS, OWNED)
    assert (no_access.value.code, no_access.value.http_status) == (200, 403)


def test_model_onboarding_checks_the_new_waba_like_a_fixture() -> None:
    backend = backend_with_business()
    with pytest.raises(GraphAPIError, match="unknown app"):
        backend.add_client_waba(BUSINESS, {"id": "210000000000001", "name": "X",
                                           "apps_with_access": ["1"]})
    with pytest.raises(GraphAPIError) as unknown:
        backend.add_client_waba("999", {"id": "210000000000001", "name": "X",
                                        "apps_with_access": []})
    assert unknown.value.code == 100
    assert [b["client_wabas"] for b in backend.to_fixture()["businesses"]] == [
        ["200000000000002", "200000000000003", "200000000000004"]]
