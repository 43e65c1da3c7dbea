"""`waba-webhooks discover --business`: a business's whole estate read from the emulator over real
HTTP -- owned and client WABAs, one refusing with Meta's (#200), one out of budget -- printed as
one table or merged into an existing one; bad input; progress on a terminal and in a log. (The
table adopted by `pulumi up` with no write: tests/e2e/test_estate.py.)"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONSOLE_SCRIPT, EmulatorHandle
from waba_webhooks.commands import cli
from waba_webhooks.emulator import fixtures
from waba_webhooks.graph import client as graph

BUSINESS = fixtures.DEFAULT_BUSINESS_ID
KEY = "waba-webhooks:routing"
PER_WABA = 3


@pytest.fixture
def estate(emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> EmulatorHandle:
    """3 owned and 7 client WABAs of 3 numbers; the 5th WABA (a client one) refuses reads; a
    WABA override on the 1st, a phone override on the 4th's first number. Settings in the
    environment as the provider reads them."""
    fixture = fixtures.generate(wabas=10, phones_per_waba=PER_WABA, other_apps=1)
    fixtures.with_business(fixture, owned=3, refusing=[fixture["wabas"][4]["id"]])
    emulator.admin.seed(fixture)
    ids = emulator.waba_ids
    emulator.admin.set_waba_override(ids[0], emulator.app_id, "https://hooks.example.com/main")
    emulator.admin.set_phone_override(number(ids[3]), emulator.app_id,
                                      "https://vip.example.com/line")
    # Each run of the command is a new process with a new client; in this process the client
    # (and what its pacer learnt of each WABA's budget) would outlive a test.
    graph.client_for.cache_clear()
    for key in ("WHATSAPP_APP_ID", "WHATSAPP_API_VERSION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", emulator.token)
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", emulator.url)
    return emulator


def number(waba_id: str, n: int = 0) -> str:
    """The n-th phone number id of a generated WABA."""
    w = int(waba_id) - 200_000_000_000_000
    return str(300_000_000_000_000 + w * PER_WABA + n)


def discover(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["discover", *args])
    out, err = capsys.readouterr()
    return code, out, err


def table_of(text: str) -> dict:
    return yaml.safe_load(text)["config"][KEY]


def test_prints_one_table_for_the_estate_and_names_the_waba_it_could_not_read(estate, capsys):
    code, out, err = discover(capsys, "--business", BUSINESS)
    ids, refusing = estate.waba_ids, estate.waba_ids[4]
    assert code == 3, err  # partial
    table = table_of(out)
    assert [w["wabaId"] for w in table["wabas"]] == [w for w in ids if w != refusing]
    assert table["wabas"][0] == {"wabaId": ids[0], "callbackUri": "https://hooks.example.com/main",
                                 "verifyToken": "hooks-example-com"}
    assert len(table["phoneNumbers"]) == 9 * PER_WABA
    assert {"phoneNumberId": number(ids[3]), "wabaId": ids[3],
            "callbackUri": "https://vip.example.com/line",
            "verifyToken": "vip-example-com"} in table["phoneNumbers"]
    reason = "(#200) Permissions error (code 200)"
    assert (f"# discover: not read, so not in the table: WABA {refusing} (client, 'WABA 5'): "
            f"{reason}") in out
    assert f"not read: WABA {refusing} (client, 'WABA 5'): {reason}" in err
    assert "discover: business 400000000000001: 3 owned, 7 client WABAs" in err
    assert "exit status 3" in err
    # Reads only: 2 list pages, 2 calls per WABA, 1 GET /app.
    assert estate.admin.counts()["writes"] == 0
    assert len(estate.admin.calls()) <= 2 + 2 * 10 + 1


def test_owned_and_client_narrow_and_waba_adds(estate, capsys):
    ids = estate.waba_ids
    code, out, _ = discover(capsys, "--business", BUSINESS, "--owned")
    assert code == 0
    assert [w["wabaId"] for w in table_of(out)["wabas"]] == ids[:3]
    listed = [c["path"] for c in estate.admin.calls() if "business_accounts" in c["path"]]
    assert listed == [f"/v23.0/{BUSINESS}/owned_whatsapp_business_accounts"]
    code, out, _ = discover(capsys, "--business", BUSINESS, "--client", "--waba", ids[1])
    assert code == 3
    assert [w["wabaId"] for w in table_of(out)["wabas"]] == [*ids[3:4], *ids[5:], ids[1]]


def test_a_waba_out_of_budget_is_named_with_metas_wait_and_the_rest_is_read(estate, capsys):
    spent = estate.waba_ids[6]
    estate.admin.set_hourly_budget(spent, 200)
    estate.admin.spend(spent, 200)
    code, out, err = discover(capsys, "--business", BUSINESS)
    assert code == 3
    assert spent not in [w["wabaId"] for w in table_of(out)["wabas"]]
    assert re.search(rf"not read: WABA {spent} \(client, 'WABA 7'\): .*\(code 80007\)", err)
    assert len(table_of(out)["wabas"]) == 8


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (["--business", "12x"], None, "--business must be a business id (digits), got '12x'"),
        (["--business", BUSINESS], "EMU-TOKEN-other-1",
         "Meta refused to list its WABAs: (#200) Requires business_management permission"),
        (["--business", "999"], None, "999"),
        (["--owned"], None, "--owned and --client narrow --business"),
        ([], None, "give --business ID and/or --waba ID"),
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_written(estate, capsys, tmp_path, monkeypatch,
                                                           args, token, message):
    if token:
        monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", token)
    path = tmp_path / "Pulumi.x.yaml"
    code, out, err = discover(capsys, *args, "--stack-config", str(path))
    assert code == 1 and out == ""
    assert message in err
    assert not path.exists()
    assert estate.token not in err and "EMU-TOKEN-other-1" not in err


EXISTING = """\
encryptionsalt: v1:salt
config:
  whatsapp:accessToken:
    secure: v1:the-encrypted-token==
  # The routing table: reviewed in pull requests.
  waba-webhooks:routing:
    wabas:
      # Reviewed by the platform team.
      - wabaId: "{owned}"  # the main WABA, routed by hand
        callbackUri: https://hooks.example.com/main
        verifyToken: main-hooks
      # A WABA this business no longer has:
      - wabaId: "299999999999999"
        callbackUri: https://old.example.com/x
        verifyToken: old
    phoneNumbers:
      - phoneNumberId: "{vip}"  # the VIP line
        wabaId: "{vip_waba}"
        callbackUri: https://vip.example.com/next-line
        verifyToken: vip
      - phoneNumberId: "399999999999999"  # deleted in the WhatsApp Manager
        wabaId: "{owned}"
  waba-webhooks:verifyTokens:
    main-hooks:
      secure: v1:encrypted-main==
    vip:
      secure: v1:encrypted-vip==
"""


def test_merges_into_an_existing_table_keeping_entries_and_flagging_what_is_gone(
        estate, capsys, tmp_path):
    ids = estate.waba_ids
    path = tmp_path / "Pulumi.prod.yaml"
    old = EXISTING.format(owned=ids[0], vip=number(ids[3]), vip_waba=ids[3])
    path.write_text(old)
    code, _, err = discover(capsys, "--business", BUSINESS, "--stack-config", str(path))
    assert code == 3, err
    new = path.read_text()
    table = table_of(new)
    # Kept: entries, their order, token names, comments, and every secure value.
    assert table["wabas"][:2] == table_of(old)["wabas"]
    assert table["phoneNumbers"][:2] == table_of(old)["phoneNumbers"]
    for line in ["    secure: v1:the-encrypted-token==", "  # The routing table: reviewed in",
                 "      # A WABA this business no longer has:", "      secure: v1:encrypted-vip=="]:
        assert line in new
    # Added: the other readable WABAs and their numbers, new URLs with new token names.
    assert [w["wabaId"] for w in table["wabas"][2:]] == [w for w in ids[1:] if w != ids[4]]
    added = {e["phoneNumberId"] for e in table["phoneNumbers"][2:]}
    assert number(ids[3]) not in added and number(ids[0], 1) in added
    # Gone: kept and flagged in the file and on stderr, never dropped.
    assert (f'- wabaId: "{ids[0]}"  # the main WABA, routed by hand\n') in new
    assert ("- wabaId: \"299999999999999\"  # discover: no longer live: not among business "
            f"{BUSINESS}'s WABAs") in new
    assert ('- phoneNumberId: "399999999999999"  # discover: no longer live: not a number of '
            f"WABA {ids[0]} any more | deleted in the WhatsApp Manager") in new
    assert "kept, but no longer live: WABA 299999999999999" in err
    assert "kept, but no longer live: phone number 399999999999999" in err
    assert re.findall(r"--path 'waba-webhooks:verifyTokens\.([^']+)'", err) == ["old"]
    # A route the table declares differently from what is live stays as the table has it.
    assert (f"kept as the table has it: phone number {number(ids[3])}: the table says "
            "https://vip.example.com/next-line, live it is https://vip.example.com/line") in err
    # Once the number is back and a new customer onboarded, a second run adds the new WABA and
    # takes away only the note that no longer applies.
    estate.admin.add_client_waba(
        BUSINESS, {"id": "210000000000001", "name": "New customer",
                   "apps_with_access": [estate.app_id], "subscriptions": {estate.app_id: None}},
        [{"id": "399999999999999", "waba_id": "210000000000001",
          "display_phone_number": "+1 555 0100", "verified_name": "New customer"}])
    code, _, err = discover(capsys, "--business", BUSINESS, "--stack-config", str(path))
    assert code == 3
    again = path.read_text()
    assert '- phoneNumberId: "399999999999999"  # deleted in the WhatsApp Manager\n' in again
    assert table_of(again)["wabas"][-1] == {"wabaId": "210000000000001"}
    assert "kept, but no longer live: phone number 399999999999999" not in err
    # The refusing WABA is named once, not once per run.
    assert again.count(f"# discover: not read, so not in the table: WABA {ids[4]}") == 1
    assert again.count("      # Reviewed by the platform team.\n") == 1


def test_progress_is_plain_lines_in_a_log(estate, capsys):
    _, _, err = discover(capsys, "--business", BUSINESS)
    lines = [line for line in err.splitlines() if line.startswith("discover: read ")]
    assert lines[-1] == "discover: read 10/10 WABAs"
    assert "\r" not in err


def test_progress_is_a_bar_on_a_terminal(estate):
    """The real console script with stderr on a pseudo-terminal: tqdm draws a bar (carriage
    returns), and the summary follows it."""
    controller, terminal = pty.openpty()
    # A terminal of 24 rows and 100 columns (a new pseudo-terminal has none: 0 x 0).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATSAPP_")}
    env.update(WHATSAPP_ACCESS_TOKEN=estate.token, WHATSAPP_GRAPH_URL=estate.url)
    process = subprocess.Popen([CONSOLE_SCRIPT, "discover", "--business", BUSINESS],
                               stdout=subprocess.DEVNULL, stderr=terminal, env=env)
    os.close(terminal)
    shown = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=60) == 3
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    text = shown.decode(errors="replace")
    assert "reading WABAs" in text and "\r" in text
    assert "discover: read 10/10" not in text  # no plain lines on a terminal
    assert "not read: WABA" in text


def test_the_whole_estate_at_once_is_written_to_a_new_file(estate, capsys, tmp_path: Path):
    path = tmp_path / "Pulumi.new.yaml"
    code, out, _ = discover(capsys, "--business", BUSINESS, "--stack-config", str(path))
    assert code == 3 and out == ""
    assert len(table_of(path.read_text())["wabas"]) == 9


@pytest.mark.parametrize("routing", ["    wabas: 3\n", "    - not a table\n",
                                     "    wabas:\n      - callbackUri: https://x.example/h\n"])
def test_a_table_it_cannot_merge_into_is_left_as_it_is(estate, capsys, tmp_path, routing):
    path = tmp_path / "Pulumi.x.yaml"
    text = "config:\n  waba-webhooks:routing:\n" + routing
    path.write_text(text)
    code, _, err = discover(capsys, "--business", BUSINESS, "--stack-config", str(path))
    assert code == 1
    assert "edit it by hand" in err
    assert path.read_text() == text


def test_parallel_must_be_positive(estate, capsys):
    code, _, err = discover(capsys, "--business", BUSINESS, "--parallel", "0")
    assert code == 1 and "--parallel must be at least 1" in err
    assert estate.admin.calls() == []


def test_read_live_reads_the_named_wabas_in_order_once_each(estate):
    from waba_webhooks.commands import discover as command
    from waba_webhooks.config import Settings
    from waba_webhooks.graph import GraphClient

    client = GraphClient(Settings(access_token=estate.token, graph_url=estate.url))
    ids = estate.waba_ids
    live = command.read_live(client, [ids[1], ids[0], ids[1]])
    assert [w.waba_id for w in live] == [ids[1], ids[0]]
    assert live[1].override == "https://hooks.example.com/main"
    assert len(live[0].numbers) == PER_WABA
