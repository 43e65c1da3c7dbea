"""``python -m benchmarks discover``: what ``waba-webhooks discover --business`` costs for a
solution provider's estate (issue 14).

One emulator holds a business of ``--wabas`` WABAs (``--owned`` of them owned, the rest client
WABAs) of ``--per-waba`` numbers each, with a latency per Graph call and a budget per WABA that
never throttles; the real console script runs against it as a user would (a new process each
time, stdout to a file, stderr not a terminal), ``--repeat`` times. Reported per run: wall time
around the process, Graph calls (the emulator's counter), the most in flight at once and the TCP
connections they came on (`meter.ConcurrencyMeter`). Targets: under 15 s, and at most
``pages + 2 x WABAs + 1`` calls (the list pages, a ``subscribed_apps`` and a ``phone_numbers``
call per WABA, one ``GET /app``).

Results go to ``benchmarks/discover.json`` and to the "discover --business" section of
BENCHMARKS.md (replaced in place; `report.markdown` keeps it when the main benchmark rewrites
the file).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from waba_webhooks.emulator import EmulatorAdmin, EmulatorServer
from waba_webhooks.emulator.fixtures import (
    DEFAULT_BUSINESS_ID,
    DEFAULT_TOKEN,
    generate,
    with_business,
)

from .meter import ConcurrencyMeter

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "discover.json"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
CONSOLE_SCRIPT = Path(sys.executable).with_name("waba-webhooks")
START, END = "<!-- discover-business:start -->", "<!-- discover-business:end -->"
TARGET_SECONDS = 15.0
PAGE_SIZE = 100
UNTHROTTLED_HOURLY_BUDGET = 10_000_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks discover", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wabas", type=int, default=300)
    parser.add_argument("--owned", type=int, default=100)
    parser.add_argument("--per-waba", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs; the median wall time is reported (default: 3)")
    parser.add_argument("--parallel", type=int, default=None,
                        help="discover --parallel (default: the command's own)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=BENCHMARKS_MD)
    parser.add_argument("--render-only", action="store_true",
                        help="re-render the section of --out from an existing --json")
    return parser.parse_args(argv)


def call_budget(wabas: int, owned: int) -> tuple[int, int]:
    """(list pages, the most calls discover may make): pages + 2 x WABAs + 1."""
    pages = math.ceil(owned / PAGE_SIZE) + math.ceil((wabas - owned) / PAGE_SIZE)
    return pages, pages + 2 * wabas + 1


def run_once(server_url: str, meter: ConcurrencyMeter, admin: EmulatorAdmin,
             parallel: int | None, tmp: Path) -> dict[str, Any]:
    """One ``discover --business`` process; its wall time and what the emulator saw."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHATSAPP_")}
    env.update(WHATSAPP_ACCESS_TOKEN=DEFAULT_TOKEN, WHATSAPP_GRAPH_URL=server_url)
    command = [str(CONSOLE_SCRIPT), "discover", "--business", DEFAULT_BUSINESS_ID]
    if parallel:
        command += ["--parallel", str(parallel)]
    before = admin.counts()["total"]
    meter.reset()
    with (tmp / "table.yaml").open("w") as out, (tmp / "stderr.txt").open("w") as err:
        started = time.perf_counter()
        code = subprocess.run(command, stdout=out, stderr=err, env=env, timeout=600,
                              check=False).returncode
        wall = time.perf_counter() - started
    seen = meter.snapshot()
    return {
        "exit": code,
        "wall_s": round(wall, 2),
        "graph_calls": admin.counts()["total"] - before,
        "max_in_flight": seen["max_in_flight"],
        "connections": seen["connections"],
        "graph_busy_s": seen.get("timeline", {}).get("busy_s"),
        "first_call_s": seen.get("timeline", {}).get("first_call_s"),
        "after_last_call_s": seen.get("timeline", {}).get("after_last_call_s"),
        "table_bytes": (tmp / "table.yaml").stat().st_size,
    }


def measure(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    fixture = with_business(
        generate(wabas=args.wabas, phones_per_waba=args.per_waba,
                 hourly_budget=UNTHROTTLED_HOURLY_BUDGET),
        owned=args.owned)
    # Seeded at start, not through EmulatorAdmin.seed (which refuses bodies over 64 KB).
    server = EmulatorServer(fixture)
    meter = ConcurrencyMeter(server.app)
    server.app = meter  # type: ignore[assignment]
    server.start()
    admin = EmulatorAdmin(server.url, timeout=60)
    runs = []
    try:
        admin.set_latency(args.latency_ms)
        with tempfile.TemporaryDirectory(prefix="waba-bench-discover-") as tmp:
            for i in range(args.repeat):
                result = run_once(server.url, meter, admin, args.parallel, Path(tmp))
                print(f"run {i + 1}/{args.repeat}: {result}", flush=True)
                if result["exit"] != 0:
                    print((Path(tmp) / "stderr.txt").read_text(), file=sys.stderr)
                runs.append(result)
    finally:
        admin.close()
        server.stop()
    pages, most = call_budget(args.wabas, args.owned)
    median = statistics.median(r["wall_s"] for r in runs)
    calls = max(r["graph_calls"] for r in runs)
    return {
        "command": " ".join(["python -m benchmarks discover", *argv]),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "loadavg": os.getloadavg()},
        "wabas": args.wabas, "owned": args.owned, "client": args.wabas - args.owned,
        "per_waba": args.per_waba, "numbers": args.wabas * args.per_waba,
        "latency_ms": args.latency_ms, "parallel": args.parallel,
        "pages": pages, "call_budget": most,
        "median_wall_s": median, "max_graph_calls": calls,
        "max_in_flight": max(r["max_in_flight"] for r in runs),
        "wall_ok": median < TARGET_SECONDS, "calls_ok": calls <= most,
        "runs": runs,
    }


def markdown(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md section, between its markers."""
    r = results
    yes = {True: "yes", False: "**no**"}
    lines = [
        START,
        "## Issue 14: `discover --business` of a solution provider's estate",
        "",
        f"`waba-webhooks discover --business` (the real console script, a new process per run, "
        f"stderr not a terminal) against one emulator holding a business of {r['wabas']} WABAs "
        f"({r['owned']} owned, {r['client']} client) of {r['per_waba']} numbers each "
        f"({r['numbers']:,} numbers), {r['latency_ms']:.0f} ms per Graph call, no WABA near its "
        "budget. Wall time is around the process (Python start included); Graph calls are the "
        "emulator's counter; *in flight* the most calls it served at once; *first call* the "
        "time from starting the process to its first Graph call (Python start and imports); "
        f"*after last call* from the last Graph call to the process's exit (building and "
        f"printing the table, {r['runs'][0]['table_bytes'] / 1000:.0f} kB of YAML with a "
        "comment per WABA and per number, through ruamel.yaml). Reproduce:",
        "",
        "```sh",
        "bin/setup >/dev/null",
        f".venv/bin/python -m benchmarks discover --wabas {r['wabas']} --owned {r['owned']} "
        f"--per-waba {r['per_waba']} --latency-ms {r['latency_ms']:g} --repeat {len(r['runs'])}"
        + (f" --parallel {r['parallel']}" if r["parallel"] else ""),
        "```",
        "",
        f"Run {r['started']} on {r['machine']['nproc']} CPUs (shared; load average "
        f"{r['machine']['loadavg'][0]:.2f}).",
        "",
        "| run | wall (s) | Graph calls | most in flight | connections | first call (s) | "
        "after last call (s) | exit |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, run in enumerate(r["runs"], 1):
        lines.append(f"| {i} | {run['wall_s']:.2f} | {run['graph_calls']} | "
                     f"{run['max_in_flight']} | {run['connections']} | {run['first_call_s']} | "
                     f"{run['after_last_call_s']} | {run['exit']} |")
    lines += [
        "",
        "| target | measured | met |",
        "| --- | ---: | :---: |",
        f"| wall time under {TARGET_SECONDS:.0f} s | {r['median_wall_s']:.2f} s (median) | "
        f"{yes[r['wall_ok']]} |",
        f"| Graph calls at most pages + 2 x WABAs + 1 = {r['pages']} + 2 x {r['wabas']} + 1 "
        f"= {r['call_budget']} | {r['max_graph_calls']} | {yes[r['calls_ok']]} |",
        "",
        "The two lists are read at once, then up to 32 WABAs (`--parallel`) at a time, one "
        "worker per WABA, so no WABA ever has more than one call in flight and each is paced by "
        "its own hourly budget. The Graph part (*busy*: "
        + ", ".join(f"{run['graph_busy_s']:.1f}" for run in r["runs"])
        + " s with a call in flight) is bound by latency; the rest is CPU -- Python start and "
        "the package's imports before the first call, building and emitting the YAML after the "
        "last -- and grows with the machine's load (the machine is shared; compare the load "
        "average above). Raw results: `benchmarks/discover.json`.",
        END,
    ]
    return "\n".join(lines)


def section_from_file(path: Path = RESULTS) -> list[str]:
    """The section's lines from saved results (none when there are none), for `report`."""
    if not path.exists():
        return []
    return [markdown(json.loads(path.read_text())), ""]


def write_section(out: Path, section: str) -> None:
    """Replace the section between its markers in ``out``, or append it."""
    text = out.read_text() if out.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.render_only:
        write_section(args.out, markdown(json.loads(args.json.read_text())))
        return 0
    results = measure(args, argv)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    write_section(args.out, markdown(results))
    print(markdown(results))
    print(f"\nwrote {args.json} and the section of {args.out}")
    return 0 if results["wall_ok"] and results["calls_ok"] else 1
