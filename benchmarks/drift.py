"""``python -m benchmarks.drift [--wabas N] [--per-waba N] [--latency-ms MS]``: what a nightly
``waba-webhooks drift`` costs: wall time and Graph calls for one stack of ``--wabas`` `WabaRouting`
records (each WABA of ``--per-waba`` numbers) against an emulator answering every call after
``--latency-ms``, reading one WABA at a time and ``commands.report.READ_CONCURRENCY`` at once.

The record is the real refresh JSON of tests/golden/refresh_owned.json with its `WabaRouting`
step repeated for each WABA. Prints one line per setting; a figure, not a test.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

from waba_webhooks.commands import drift, report
from waba_webhooks.config import Settings
from waba_webhooks.emulator import DEFAULT_TOKEN, EmulatorAdmin, EmulatorServer, fixtures
from waba_webhooks.graph import GraphClient

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "refresh_owned.json"


def record(wabas: int, per_waba: int) -> dict[str, Any]:
    """A refresh preview document recording one `WabaRouting` per WABA, nothing overridden."""
    document = json.loads(GOLDEN.read_text())
    template = next(s for s in document["steps"] if ":WabaRouting::" in s["urn"])
    steps = []
    for w in range(wabas):
        waba_id = str(200_000_000_000_000 + w)
        step = copy.deepcopy(template)
        step["urn"] = step["urn"].rsplit("::", 1)[0] + f"::waba-routing-{waba_id}"
        step["oldState"]["inputs"]["waba_id"] = waba_id
        step["oldState"]["outputs"].update(
            waba_id=waba_id, callback_uri=None, waba_callback_uri=None, phone_numbers={},
            unlisted_overrides={}, subscribed=True,
            numbers_without_override=[str(300_000_000_000_000 + w * per_waba + n)
                                      for n in range(per_waba)])
        steps.append(step)
    document["steps"] = steps
    return document


def main() -> None:
    """Run both settings and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drift")
    parser.add_argument("--wabas", type=int, default=100)
    parser.add_argument("--per-waba", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=150)
    args = parser.parse_args()
    document = record(args.wabas, args.per_waba)
    fixture = fixtures.generate(wabas=args.wabas, phones_per_waba=args.per_waba)
    for concurrency in (1, report.READ_CONCURRENCY):
        report.READ_CONCURRENCY = concurrency
        with EmulatorServer(fixture, latency_ms=args.latency_ms) as server:
            admin = EmulatorAdmin(server.url)
            client = GraphClient(Settings(access_token=DEFAULT_TOKEN, graph_url=server.url,
                                          allow_http_loopback=True))
            started = time.monotonic()
            _report, status = drift.report_for([document], client)
            wall = time.monotonic() - started
            print(f"drift of {args.wabas} WABAs x {args.per_waba} numbers at "
                  f"{args.latency_ms:g} ms a call, {concurrency} WABA(s) read at once: "
                  f"{wall:.1f} s, {admin.counts()['total']} Graph calls, exit {status}")
            admin.close()


if __name__ == "__main__":
    main()
