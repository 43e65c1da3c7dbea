"""Reports that can be posted at any size: `review` and `drift` on a WABA of 450 numbers, over
real HTTP against the emulator.

GitHub refuses an issue or comment body past 65,536 characters. Numbers that move the same way
share one row; when they each move their own way the printed report leaves rows out, says so,
and `--full-report FILE` holds all of it. The documents are the real preview / refresh JSON of
the golden files with one `WabaRouting` step widened to 450 numbers.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import EmulatorHandle, run_cli
from waba_webhooks.commands import drift, fit, preview, review
from waba_webhooks.config import Settings
from waba_webhooks.emulator import (
    DEFAULT_APP_ID,
    DEFAULT_TOKEN,
    EmulatorAdmin,
    EmulatorServer,
    fixtures,
)
from waba_webhooks.graph import GraphClient

GOLDEN = Path(__file__).resolve().parent / "golden"
NUMBERS = 450
WABA = "200000000000000"
PHONES = [str(300_000_000_000_000 + n) for n in range(NUMBERS)]
WABA_URI, WABA_URI_V2 = "https://hooks.example.com/waba", "https://hooks.example.com/waba-v2"


def line(n: int) -> str:
    return f"https://hooks.example.com/line/{n}"


@contextmanager
def serve(phone_overrides: dict[str, str] | None = None) -> Iterator[EmulatorHandle]:
    """An emulator of its own (a fixture this size is past the admin API's body limit): one
    WABA of 450 numbers with our WABA override, and the given phone overrides."""
    fixture = fixtures.generate(wabas=1, phones_per_waba=NUMBERS)
    fixture["wabas"][0]["subscriptions"][DEFAULT_APP_ID] = WABA_URI
    for phone in fixture["phone_numbers"]:
        if phone["id"] in (phone_overrides or {}):
            phone["overrides"] = {DEFAULT_APP_ID: phone_overrides[phone["id"]]}
    with EmulatorServer(fixture) as server:
        admin = EmulatorAdmin(server.url)
        try:
            yield EmulatorHandle(server.url, admin, DEFAULT_TOKEN, DEFAULT_APP_ID)
        finally:
            admin.close()


def client_of(emulator: EmulatorHandle) -> GraphClient:
    return GraphClient(Settings(access_token=emulator.token, graph_url=emulator.url,
                                allow_http_loopback=True))


def routing_step(document: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in document["steps"] if s["urn"].endswith(f"::waba-routing-{WABA}")
                and s["op"] in ("update", "refresh"))


def review_document(new_phones: dict[str, str], new_waba: str) -> dict[str, Any]:
    """A preview of one `WabaRouting` update on the WABA: from no phone override and
    `WABA_URI` to `new_phones` and `new_waba`."""
    document = json.loads((GOLDEN / "preview_waba_change.json").read_text())
    step = copy.deepcopy(routing_step(document))
    step["oldState"]["inputs"].update(callback_uri=WABA_URI, phone_numbers={})
    step["newState"]["inputs"].update(callback_uri=new_waba, phone_numbers=new_phones)
    document["steps"] = [s for s in document["steps"] if s["op"] == "same"] + [step]
    return document


def drift_document() -> dict[str, Any]:
    """The refresh record of a `WabaRouting` of the WABA: its override `WABA_URI`, no number
    with its own."""
    document = json.loads((GOLDEN / "refresh_owned.json").read_text())
    step = routing_step(document)
    step["oldState"]["outputs"].update(callback_uri=WABA_URI, waba_callback_uri=WABA_URI,
                                       phone_numbers={}, unlisted_overrides={},
                                       numbers_without_override=PHONES, subscribed=True)
    document["steps"] = [step]
    return document


def shared_rows(report: str) -> list[str]:
    return [r for r in report.splitlines() if r.startswith("| <details>")]


def test_a_waba_override_change_over_450_numbers_is_one_row():
    with serve() as emulator:
        report = review.report_for(review_document({}, WABA_URI_V2), client_of(emulator))
    print(f"\nreview, WABA override change over {NUMBERS} numbers: {len(report):,} characters")
    assert len(report) < 10_000
    [row] = shared_rows(report)
    assert f"<summary>{NUMBERS} numbers of WABA {WABA}</summary>" in row
    assert f"… and {NUMBERS - review.FOLDED} more (in the full report)" in row
    assert f"`{WABA_URI}` | `{WABA_URI_V2}` | WABA | via WABA override |" in row
    assert "left out" not in report


def test_450_numbers_each_moving_its_own_way_fit_and_the_full_report_has_all(tmp_path):
    document = review_document({p: line(n) for n, p in enumerate(PHONES)}, WABA_URI)
    with serve() as emulator:
        client = client_of(emulator)
        whole = review.render(review.build(preview.parse(document), client), limit=None)
        report = review.report_for(document, client)
        path, full = tmp_path / "preview.json", tmp_path / "review-full.md"
        path.write_text(json.dumps(document))
        done = run_cli(emulator, "review", str(path), "--full-report", str(full))
    listed = set(re.findall(r"^\| (\d{15}) \(", report, re.M))
    print(f"\nreview, {NUMBERS} numbers each to its own URL: {len(whole):,} characters whole, "
          f"{len(report):,} printed with {len(listed)} number rows")
    assert len(whole) > fit.GITHUB_LIMIT >= len(report)
    # The numbers come first and all fit; the overrides table (one row per number too) is cut.
    assert listed == set(PHONES)
    kept = report.count("| phone number 3")
    assert 0 < kept < NUMBERS
    assert f"*… {NUMBERS - kept} more override rows left out to fit a GitHub comment.*" in report
    assert report.splitlines()[2].startswith("> **Cut to fit a GitHub comment (65,536")
    # The steps table after it still shows the one step, with the numbers counted.
    assert (f"| update | `waba-routing-{WABA}` | WabaRouting | WABA {WABA} → WABA {WABA}, "
            f"{NUMBERS} phone numbers | {WABA_URI} → {NUMBERS + 1} callback URIs |") in report
    # The command names the file with everything, and writes it.
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) <= fit.GITHUB_LIMIT
    assert ("more override rows left out to fit a GitHub comment. The full report is in "
            f"`{full}`.*") in done.stdout
    assert set(re.findall(r"^\| (\d{15}) \(", full.read_text(), re.M)) == set(PHONES)
    assert "left out" not in full.read_text()


def test_drift_of_450_numbers_fits_and_groups(tmp_path):
    # Removed by hand: all 450 numbers follow the WABA override to the app: one row.
    with serve() as emulator:
        emulator.admin.set_waba_override(WABA, DEFAULT_APP_ID, None)
        report, status = drift.report_for([drift_document()], client_of(emulator))
    assert status == drift.DRIFT
    [row] = shared_rows(report)
    assert f"{NUMBERS} numbers of WABA {WABA}" in row and "via WABA override (removed by hand)" \
        in row
    # Each number given its own override by hand: 450 rows and 450 overrides, cut to fit.
    path, full = tmp_path / "refresh.json", tmp_path / "drift-full.md"
    path.write_text(json.dumps(drift_document()))
    with serve({p: line(n) for n, p in enumerate(PHONES)}) as emulator:
        done = run_cli(emulator, "drift", str(path), "--full-report", str(full))
    assert done.returncode == drift.DRIFT, done.stderr
    printed, whole = done.stdout, full.read_text()
    print(f"\ndrift, {NUMBERS} numbers changed by hand: {len(whole):,} characters whole, "
          f"{len(printed):,} printed")
    assert len(whole) > fit.GITHUB_LIMIT >= len(printed)
    assert "left out to fit a GitHub comment" in printed and f"in `{full}`" in printed
    assert set(re.findall(r"^\| (\d{15}) \(", whole, re.M)) == set(PHONES)
    assert whole.count("| phone number 3") == NUMBERS
