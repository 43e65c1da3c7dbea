"""``python -m benchmarks scale``: one stack of N native `WabaRouting`s of 10 numbers each
(default 1,000: 10,000 numbers) through the ``whatsapp`` plugin at 150 ms per Graph call, and
the same table as ten shard stacks of N/10 run side by side, in the same run (issue 27); then,
unless ``--no-floor``, the native floor of the same shape (N no-op resources of
`benchmarks.noop_plugin`, which call nothing): what the engine, the SDK and the framework alone
take for a stack that size on this machine.

Each configuration gets a fresh emulator holding the whole table with **Meta's own hourly call
budget** (5,000 calls per hour per WABA with a registered number), so a run that spent a WABA's
budget would be refused there and fail. The shard stacks declare their WABAs as ``stacks/``
does (``waba-webhooks:shard: "I/K"``, ``benchmarks/native-routing``); all stacks of a step run
at once, one thread each, as ``waba-webhooks shards`` runs them (`benchmarks.shards.measured`).

Per step (create, no-change preview, refresh, destroy): wall time, Graph calls and the most in
flight at once (the emulator counts them), CPU, the plugin's peak RSS (one process, and all the
set's at once: `benchmarks.rss`), each stack's checkpoint file, and the most calls any WABA had
in the emulator's rolling hour against its budget; then issue 27's targets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .stack import BENCH_DIR, PER_WABA, STEP_LABELS, BenchStack

STEPS = ("create", "preview", "refresh", "destroy")
RESULTS = BENCH_DIR / "results"
PLUGIN = "pulumi-resource-whatsapp"
FLOOR_KIND = "native-floor-routing"
#: Issue 27's targets for the one stack of 10,000 numbers.
TARGET_WALL_S = {"preview": 10.0, "refresh": 60.0}
TARGET_RSS_MIB = 500 * 1000**2 / 1024**2  # 500 MB


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wabas", type=int, default=1000,
                        help=f"WabaRoutings of {PER_WABA} numbers in the table (default: 1000)")
    parser.add_argument("--shards", type=int, default=10,
                        help="shard stacks side by side to compare with (default: 10; 0: none)")
    parser.add_argument("--latency-ms", type=float, default=150.0,
                        help="simulated Graph API latency per call (default: 150)")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the native floor's stack of the same shape")
    parser.add_argument("--json", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--md", type=Path, default=RESULTS / "scale.md")
    parser.add_argument("--render-only", action="store_true",
                        help="print and write --md again from --json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    return parser.parse_args(argv)


def budget(admin: Any) -> dict[str, Any]:
    """The most calls any WABA had in the emulator's rolling hour, and its budget."""
    rows = admin.usage()
    top = max(rows, key=lambda row: row["calls"] / row["hourly_budget"], default=None)
    if top is None:
        return {"max_calls": 0, "hourly_budget": None, "max_percent": 0, "respected": True}
    return {"max_calls": top["calls"], "hourly_budget": top["hourly_budget"],
            "max_percent": round(100 * top["calls"] / top["hourly_budget"], 1),
            "respected": top["calls"] < top["hourly_budget"]}


def run_config(k: int, args: argparse.Namespace, home: Path, tmp: Path, *,
               floor: bool = False) -> dict[str, Any]:
    """Every step of one stack (k = 1) or of k shard stacks side by side, on a fresh emulator
    with Meta's budget; with `floor`, one stack of the native floor's no-op resources of the
    same shape instead (no Graph call)."""
    from . import noop_plugin
    from .__main__ import Graph, bench_stack, receiver
    from .rss import PeakRss
    from .shards import CpuClock, measured

    numbers = args.wabas * PER_WABA
    name = "native floor, one stack" if floor else "one stack" if k == 1 else f"{k} shard stacks"
    what = "no-op resources of a WabaRouting's shape" if floor else "native WabaRoutings"
    print(f"\n== {name}: {args.wabas} {what}, {numbers} numbers, Graph latency "
          f"{args.latency_ms:g} ms, Meta's hourly budget", flush=True)
    hooks = receiver()
    graph = Graph(numbers, args.latency_ms, hooks, per_waba=PER_WABA, hourly_budget=None)
    stacks: list[BenchStack] = []
    result: dict[str, Any] = {"k": k, "label": name, "floor": floor, "steps": {}}
    plugin = f"pulumi-resource-{noop_plugin.PACKAGE}" if floor else PLUGIN
    try:
        if floor:
            stack = bench_stack(FLOOR_KIND, tmp / "floor", home, {})
            stack.configure(numbers, hooks.base_url, per_waba=PER_WABA)
            stacks.append(stack)
        else:
            for i in range(1, k + 1):
                stack = BenchStack(tmp / f"k{k}-{i}", "native-routing", home,
                                   name=f"shard-{i}", native=True)
                config = graph.config()
                if k > 1:
                    config["waba-webhooks:shard"] = (f"{i}/{k}", False)
                stack.configure(numbers, hooks.base_url, config, per_waba=PER_WABA)
                stacks.append(stack)
        clock = CpuClock()
        for step in STEPS:
            with PeakRss(plugin) as rss:
                row = measured(stacks, step, graph, clock)
            row["plugin_rss"] = rss.result()
            row["budget"] = budget(graph.admin)
            result["steps"][step] = row
            print(f"  {STEP_LABELS[step]:20} {row['wall_s']:8.2f} s  graph {row['graph_calls']:6}"
                  f"  in flight {row['in_flight_max']:4}  cpu {row['cpu']['stacks_s']:7.1f} s"
                  f"  plugin peak {row['plugin_rss']['peak_mib']:6.1f} MiB (all "
                  f"{row['plugin_rss']['sum_peak_mib']:.1f})  state/stack "
                  f"{row['state_bytes_max']:>10,} B  budget {row['budget']['max_percent']}%"
                  f"  failed {row['failed']}", flush=True)
    finally:
        for stack in stacks:
            try:
                stack.remove()
            except Exception as error:  # cleanup goes on; the run is reported
                print(f"  could not remove {stack.stack.name}: {error}", file=sys.stderr)
        graph.close()
        hooks.stop()
    return result


def verdicts(config: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(what, target, measured, met) for one configuration."""
    steps = config["steps"]
    found = [(f"{STEP_LABELS[step]} wall time", f"< {limit:g} s",
              f"{steps[step]['wall_s']:.1f} s", steps[step]["wall_s"] < limit)
             for step, limit in TARGET_WALL_S.items() if step in steps]
    peak = max(row["plugin_rss"]["peak_mib"] for row in steps.values())
    found.append(("the plugin's peak RSS", "< 500 MB", f"{peak * 1024**2 / 1000**2:.0f} MB",
                  peak < TARGET_RSS_MIB))
    worst = max((row["budget"] for row in steps.values()), key=lambda b: b["max_percent"])
    found.append(("Graph's hourly budget, busiest WABA", "< 100 %",
                  f"{worst['max_calls']} of {worst['hourly_budget']} calls "
                  f"({worst['max_percent']} %)", worst["respected"]))
    failed = sum(row["failed"] for row in steps.values())
    found.append(("stacks that failed a step", "0", str(failed), failed == 0))
    return found


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# {results['wabas'] * PER_WABA:,} numbers through the native plugin: one stack "
        f"against {results['shards']} shard stacks",
        "",
        f"`{results['command']}`, started {results['started']}; load average "
        f"{m['loadavg_start'][0]:.2f} at the start"
        + (f", {m['loadavg_end'][0]:.2f} at the end" if m.get("loadavg_end") else "")
        + f"; {m['nproc']} CPUs, pulumi {m['pulumi_cli']}. {results['wabas']:,} `WabaRouting`s "
        f"of {PER_WABA} numbers, Graph latency {results['latency_ms']:g} ms, Meta's hourly "
        "budget per WABA. Plugin RSS: the largest peak of one plugin process (and of all the "
        "set's at once); state: the largest stack's checkpoint file.",
        "",
        "| configuration | step | wall s | slowest stack s | Graph calls | most in flight | "
        "CPU s | plugin peak MiB (all) | state per stack | busiest WABA's hour | failed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for config in results["configs"]:
        for step in STEPS:
            row = config["steps"].get(step)
            if row is None:
                continue
            walls = list(row["stack_wall_s"].values()) or [0.0]
            lines.append(
                f"| {config['label']} | {STEP_LABELS[step]} | {row['wall_s']:.1f} | "
                f"{max(walls):.1f} | {row['graph_calls']:,} | {row['in_flight_max']} | "
                f"{row['cpu']['stacks_s']:.0f} | {row['plugin_rss']['peak_mib']:.0f} "
                f"({row['plugin_rss']['sum_peak_mib']:.0f}) | {row['state_bytes_max']:,} B | "
                f"{row['budget']['max_percent']} % | {row['failed']} |")
    for config in results["configs"]:
        if config.get("floor"):
            continue
        lines += ["", f"Issue 27's targets, {config['label']}:", "",
                  "| what | target | measured | met |", "| --- | --- | ---: | --- |"]
        lines += [f"| {what} | {target} | {value} | {'yes' if met else '**no**'} |"
                  for what, target, value, met in verdicts(config)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render_only:
        text = render(json.loads(args.json.read_text()))
        args.md.write_text(text)
        print(text)
        return 0
    from . import deps

    results = deps.begin("scale", sys.argv[1:] if argv is None else argv, wabas=args.wabas,
                         shards=args.shards, latency_ms=args.latency_ms, configs=[])
    if results is None:
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="waba-bench-scale-"))
    home = tmp / "pulumi-home"
    home.mkdir()
    try:
        configs = [(1, False)] + ([(args.shards, False)] if args.shards > 1 else []) + (
            [] if args.no_floor else [(1, True)])
        for k, floor in configs:
            results["configs"].append(run_config(k, args, home, tmp, floor=floor))
            args.json.write_text(json.dumps(results, indent=2))  # partial results too
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return deps.finish(results, args.json, args.md, render)


if __name__ == "__main__":
    sys.exit(main())
