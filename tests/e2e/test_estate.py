"""A business's whole estate, end to end with the real engine and the `waba-webhooks` console
script: a business of 3 owned and 7 client WABAs (one refusing reads with Meta's (#200)), routed
by hand; `discover --business` writes what it can read into the stack's config file and exits
partial naming the refusing WABA; `pulumi up` of the routing program (`stacks/`) adopts the table
with 0 Graph writes, and the next preview shows no change.

Steps, as a list like the lifecycle tests: discover -> up -> preview."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.conftest import EmulatorHandle, run_cli
from tests.e2e.conftest import ROUTING_PROGRAM, E2EStack, changes
from waba_webhooks.emulator import (
    DEFAULT_APP_ID,
    DEFAULT_TOKEN,
    EmulatorAdmin,
    EmulatorServer,
    fixtures,
)

VERIFY_TOKEN = "e2e-estate-verify-token-7a42"
BUSINESS = fixtures.DEFAULT_BUSINESS_ID
OWNED, CLIENT, PER_WABA = 3, 7, 4
#: A client WABA whose reads answer (#200) Permissions error.
REFUSING_INDEX = 5
WABA_OVERRIDE = "https://hooks.example.com/estate"
PHONE_OVERRIDE = "https://vip.example.com/estate"


def waba_id(w: int) -> str:
    return str(200_000_000_000_000 + w)


def phone_id(w: int, n: int) -> str:
    return str(300_000_000_000_000 + w * PER_WABA + n)


@dataclass
class Estate:
    emulator: EmulatorHandle
    stack: E2EStack
    discover: subprocess.CompletedProcess[str]
    discover_counts: dict[str, Any]


@pytest.fixture(scope="module")
def estate(engine: str, tmp_path_factory: pytest.TempPathFactory,
           pulumi_home: Any) -> Iterator[Estate]:
    """The business routed by hand -- a WABA override on every owned WABA, a phone override on
    the first number of every client WABA -- discovered into a new stack's config file, with the
    verify tokens discover asked for set."""
    fixture = fixtures.generate(wabas=OWNED + CLIENT, phones_per_waba=PER_WABA)
    fixtures.with_business(fixture, owned=OWNED, refusing=[waba_id(REFUSING_INDEX)])
    with EmulatorServer(fixture) as server:
        admin = EmulatorAdmin(server.url)
        emulator = EmulatorHandle(server.url, admin, DEFAULT_TOKEN, DEFAULT_APP_ID)
        for w in range(OWNED):
            admin.set_waba_override(waba_id(w), DEFAULT_APP_ID, f"{WABA_OVERRIDE}/{w}")
        for w in range(OWNED, OWNED + CLIENT):
            admin.set_phone_override(phone_id(w, 0), DEFAULT_APP_ID, f"{PHONE_OVERRIDE}/{w}")
        stack = E2EStack(tmp_path_factory.mktemp("estate"), emulator, pulumi_home, VERIFY_TOKEN,
                         program=ROUTING_PROGRAM, project_name="waba-webhooks")
        before = admin.counts()["total"]
        found = run_cli(emulator, "discover", "--business", BUSINESS,
                        "--stack-config", str(stack.config_file))
        counts = admin.counts()
        counts["total"] -= before
        for name in re.findall(r"--path 'waba-webhooks:verifyTokens\.([^']+)'", found.stderr):
            stack.stack.set_config(f"waba-webhooks:verifyTokens.{name}",
                                   auto.ConfigValue(VERIFY_TOKEN, secret=True), path=True)
        try:
            yield Estate(emulator, stack, found, counts)
        finally:
            stack.stack.workspace.remove_stack("test", force=True)
            assert stack.leaked(DEFAULT_TOKEN, VERIFY_TOKEN) == []
            admin.close()


def step_discover(estate: Estate) -> None:
    """Partial (exit 3): the refusing WABA named with Meta's reason, on stderr and in the file;
    every other WABA and number in the table; only reads."""
    found = estate.discover
    refusing = waba_id(REFUSING_INDEX)
    assert found.returncode == 3, found.stderr
    assert f"not read: WABA {refusing} (client, 'WABA 6'): (#200) Permissions error" \
        in found.stderr
    text = estate.stack.config_file.read_text()
    assert f"# discover: not read, so not in the table: WABA {refusing}" in text
    table = yaml.safe_load(text)["config"]["waba-webhooks:routing"]
    readable = [waba_id(w) for w in range(OWNED + CLIENT) if w != REFUSING_INDEX]
    assert [w["wabaId"] for w in table["wabas"]] == readable
    assert len(table["phoneNumbers"]) == len(readable) * PER_WABA
    assert "secure" in yaml.safe_load(text)["config"]["whatsapp:accessToken"]
    assert estate.discover_counts["writes"] == 0
    # 2 list pages (owned, client), 2 calls per WABA, 1 GET /app.
    assert estate.discover_counts["total"] <= 2 + 2 * (OWNED + CLIENT) + 1


def step_up_adopts_with_no_write(estate: Estate) -> None:
    before = estate.emulator.admin.counts()["writes"]
    up = estate.stack.up()
    readable = OWNED + CLIENT - 1
    # One WabaRouting per WABA of the table, and the provider.
    assert changes(up.summary.resource_changes) == {"create": readable + 1}
    assert estate.emulator.admin.counts()["writes"] == before == 0
    routing = up.outputs["routing"].value
    assert routing[phone_id(0, 1)] == {"callbackUri": f"{WABA_OVERRIDE}/0",
                                       "rule": "whatsapp_business_account"}
    assert routing[phone_id(OWNED, 0)] == {"callbackUri": f"{PHONE_OVERRIDE}/{OWNED}",
                                           "rule": "phone_number"}


def step_preview_shows_no_change(estate: Estate) -> None:
    assert changes(estate.stack.preview().change_summary) == {}
    assert estate.emulator.admin.counts()["writes"] == 0


STEPS = [step_discover, step_up_adopts_with_no_write, step_preview_shows_no_change]


def test_discover_a_business_then_adopt_it_with_no_write(estate: Estate) -> None:
    for step in STEPS:
        step(estate)
