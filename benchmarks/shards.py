"""``python -m benchmarks.shards``: one routing table as one stack against K shard stacks run
side by side (issue 15).

The table is N phone numbers, 10 per WABA, one `WabaRouting` per WABA (``benchmarks/routing``,
which declares only its shard's WABAs under ``waba-webhooks:shard: "I/K"``, with the same
function as ``stacks/``). For each configuration -- one stack, or K shard stacks, or one shard
of K alone (``16:1``: what one runner of a CI matrix does) -- a fresh emulator holds the whole
table with a simulated Graph latency, and the stacks go through create, no-change preview,
no-change up, refresh and destroy, all stacks of a step at once (one thread each, as
``waba-webhooks shards`` runs them). Per step: wall time of the set and of each stack, Graph
calls, most calls in flight, CPU seconds (the pulumi processes and everything they started, the
emulator, and the whole machine's busy time), and the state file of each stack.

Writes ``benchmarks/shards.json``, ``benchmarks/shards.md`` (included in BENCHMARKS.md, which
is re-rendered from ``benchmarks/results.json``) and ``benchmarks/shards.png``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import deps
from .stack import BENCH_DIR, REPO, STEP_LABELS, STEPS, BenchStack

ROUTING_TYPE = "dynamic/waba-webhooks:WabaRouting"
OUT_JSON = BENCH_DIR / "shards.json"
OUT_MD = BENCH_DIR / "shards.md"
OUT_PNG = BENCH_DIR / "shards.png"
#: The analysis of the figures, written by hand and included after the tables.
NOTES = BENCH_DIR / "shards-notes.md"

#: Issue 15's targets for the best K on this machine (seconds).
TARGETS = {"create": 30.0, "preview": 5.0, "refresh": 10.0}
#: The size the model extrapolates to: numbers, WABAs.
MODEL_NUMBERS, MODEL_WABAS = 100_000, 10_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=10_000,
                        help="phone numbers in the table, 10 per WABA (default: 10000)")
    parser.add_argument("--configs", default="1,4,8,16,16:1",
                        help="comma-separated: K (K shard stacks side by side; 1: one stack) "
                             "or K:I (shard I of K alone) (default: 1,4,8,16,16:1)")
    parser.add_argument("--latency-ms", type=float, default=150.0,
                        help="simulated Graph API latency per call (default: 150)")
    parser.add_argument("--json", type=Path, default=OUT_JSON)
    parser.add_argument("--md", type=Path, default=OUT_MD)
    parser.add_argument("--plot", type=Path, default=OUT_PNG)
    parser.add_argument("--no-plot", action="store_true",
                        help="write the tables only (no matplotlib needed)")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render --md, --plot and BENCHMARKS.md from --json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    return parser.parse_args(argv)


def parse_configs(text: str) -> list[tuple[int, list[int]]]:
    """``"1,4,16:1"`` -> [(1, [1]), (4, [1, 2, 3, 4]), (16, [1])]."""
    configs = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        count, _, only = item.partition(":")
        k = int(count)
        if k < 1 or (only and not 1 <= int(only) <= k):
            raise SystemExit(f"--configs: bad entry {item!r}")
        configs.append((k, [int(only)] if only else list(range(1, k + 1))))
    return configs


def label(k: int, shards: list[int]) -> str:
    if k == 1:
        return "one stack"
    if len(shards) == 1:
        return f"shard {shards[0]} of {k} alone"
    return f"{k} shards"


class CpuClock:
    """CPU seconds since `start`: this process (the emulator and the receiver), its reaped
    children (each pulumi CLI and what it started and waited for), and the whole machine's busy
    time over all cores (other users' work included: /proc/stat)."""

    def __init__(self) -> None:
        self.start()

    @staticmethod
    def _machine() -> float:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(f) for f in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _usage(who: int) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def start(self) -> None:
        self._self = self._usage(resource.RUSAGE_SELF)
        self._children = self._usage(resource.RUSAGE_CHILDREN)
        self._machine0 = self._machine()

    def read(self) -> dict[str, float]:
        return {
            "stacks_s": round(self._usage(resource.RUSAGE_CHILDREN) - self._children, 2),
            "emulator_s": round(self._usage(resource.RUSAGE_SELF) - self._self, 2),
            "machine_busy_s": round(self._machine() - self._machine0, 2),
        }


def state_bytes(stack: BenchStack) -> int:
    """Bytes of the stack's checkpoint file, what the backend rewrites."""
    files = list((stack.state_dir / ".pulumi" / "stacks").rglob(f"{stack.stack.name}.json*"))
    return sum(p.stat().st_size for p in files if not p.name.endswith((".bak", ".attrs")))


def run_config(k: int, shards: list[int], args: argparse.Namespace, home: Path,
               tmp: Path) -> dict[str, Any]:
    """Every step with the stacks of `shards` (of `k`) side by side, on a fresh emulator."""
    from .__main__ import Graph, receiver

    name = label(k, shards)
    print(f"\n== {name}: {args.numbers} numbers, Graph latency {args.latency_ms:g} ms",
          flush=True)
    hooks = receiver()
    graph = Graph(args.numbers, args.latency_ms, hooks)
    stacks: list[BenchStack] = []
    result: dict[str, Any] = {"k": k, "shards": shards, "label": name,
                              "wabas": graph.wabas, "steps": {}}
    try:
        for i in shards:
            stack = BenchStack(tmp / f"k{k}-{'-'.join(map(str, shards))}-{i}", "routing", home,
                               name=f"shard-{i}")
            config = graph.config()
            if k > 1:
                config["waba-webhooks:shard"] = (f"{i}/{k}", False)
            stack.configure(args.numbers, hooks.base_url, config, per_waba=graph.per_waba)
            stacks.append(stack)
        clock = CpuClock()
        for step in STEPS:
            result["steps"][step] = measured(stacks, step, graph, clock)
            row = result["steps"][step]
            print(f"  {STEP_LABELS[step]:20} {row['wall_s']:8.2f} s  graph {row['graph_calls']:6}"
                  f"  in flight {row['in_flight_max']:4}  cpu stacks {row['cpu']['stacks_s']:7.1f}"
                  f" s, emulator {row['cpu']['emulator_s']:6.1f} s, machine "
                  f"{row['cpu']['machine_busy_s']:7.1f} s  state/stack "
                  f"{row['state_bytes_max']:>10,} B  failed {row['failed']}", flush=True)
    finally:
        for stack in stacks:
            try:
                stack.remove()
            except Exception as error:  # cleanup goes on; the run is reported
                print(f"  could not remove {stack.stack.name}: {error}", file=sys.stderr)
        graph.close()
        hooks.stop()
    return result


def measured(stacks: list[BenchStack], step: str, graph: Any, clock: CpuClock) -> dict[str, Any]:
    """One step of every stack at once."""
    before = graph.admin.counts()
    graph.meter.reset()
    walls: dict[str, float] = {}
    summaries: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    lock = threading.Lock()

    def one(stack: BenchStack) -> None:
        t0 = time.perf_counter()
        try:
            summary = stack.run(step).summary
        except Exception as error:  # a failed stack is a figure of the step
            with lock:
                errors[stack.stack.name] = str(error)[-600:]
            summary = {}
        with lock:
            walls[stack.stack.name] = round(time.perf_counter() - t0, 2)
            summaries[stack.stack.name] = summary

    clock.start()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        list(pool.map(one, stacks))
    wall = time.perf_counter() - started
    cpu = clock.read()
    after = graph.admin.counts()
    meter = graph.meter.snapshot()
    sizes = {s.stack.name: state_bytes(s) for s in stacks}
    changes: dict[str, int] = {}
    for summary in summaries.values():
        for op, n in summary.items():
            changes[op] = changes.get(op, 0) + n
    return {
        "wall_s": round(wall, 2),
        "stack_wall_s": walls,
        "changes": changes,
        "graph_calls": after["total"] - before["total"],
        "graph_writes": after["writes"] - before["writes"],
        "in_flight_max": meter["max_in_flight"],
        "cpu": cpu,
        "cpu_share_of_2_cores": round(cpu["machine_busy_s"] / (wall * 2), 2),
        # Our processes alone cannot take less than this on 2 cores.
        "cpu_floor_s": round((cpu["stacks_s"] + cpu["emulator_s"]) / 2, 2),
        "our_cpu_share_of_2_cores": round(
            (cpu["stacks_s"] + cpu["emulator_s"]) / (wall * 2), 2),
        "loadavg_before": round(load, 2),
        "state_bytes": sizes,
        "state_bytes_max": max(sizes.values()) if sizes else 0,
        "failed": len(errors),
        "errors": errors,
    }


# --------------------------------------------------------------------------- report


def _row(c: dict[str, Any], step: str) -> dict[str, Any]:
    return c["steps"][step]


def model(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-runner figures x runners for MODEL_NUMBERS over MODEL_WABAS: each runner of a CI
    matrix (2 cores, like this machine) runs one shard stack alone, all at once, so the matrix
    takes as long as one runner and makes every runner's Graph calls. One row per measured
    single stack (this run's shard alone, and the main benchmark's largest `WabaRouting` stack):
    runners = MODEL_NUMBERS / its numbers."""
    points = [(shard_numbers(results, c), c) for c in results["configs"]
              if len(c["shards"]) == 1]
    points += reference_points()
    rows = []
    for n, c in sorted(points, key=lambda p: p[0]):
        runners = math.ceil(MODEL_NUMBERS / n)
        rows.append({"runners": runners, "numbers_per_runner": round(n),
                     "wabas_per_runner": round(MODEL_WABAS / runners), "source": c["label"],
                     "steps": {step: {"wall_s": _row(c, step)["wall_s"],
                                      "graph_calls_total": _row(c, step)["graph_calls"] * runners}
                               for step in STEPS}})
    return rows


def shard_numbers(results: dict[str, Any], config: dict[str, Any]) -> float:
    """Numbers the single stack of `config` holds: its shard's WABAs x 10 (shards differ in
    size: rendezvous hashing balances them only on average)."""
    from waba_webhooks.tables.shard import Shard

    from .stack import PER_WABA, WABA_ID_START

    k, (i,) = config["k"], config["shards"]
    if k == 1:
        return float(results["numbers"])
    owned = sum(Shard(i, k).owns(str(WABA_ID_START + w)) for w in range(results["wabas"]))
    return float(owned * PER_WABA)


def reference_points() -> list[tuple[float, dict[str, Any]]]:
    """The largest `WabaRouting` stack of the main benchmark (``benchmarks/results.json``) as a
    single-stack point for `model`, when this run has only one."""
    path = BENCH_DIR / "results.json"
    if not path.exists():
        return []
    sizes = json.loads(path.read_text()).get("sizes") or []
    largest = max(sizes, key=lambda r: r["n"], default=None)
    if not largest or "routing" not in largest["steps"]["create"]:
        return []
    steps = {step: {"wall_s": largest["steps"][step]["routing"]["wall_s"],
                    "graph_calls": largest["steps"][step]["routing"]["graph"]["total"]}
             for step in STEPS}
    return [(float(largest["n"]), {"k": 0, "label": f"main benchmark, N = {largest['n']}",
                                   "steps": steps})]


def markdown(results: dict[str, Any], plot_path: Path | None) -> str:
    """The section of BENCHMARKS.md."""
    m = results["machine"]
    lines = [
        "## Shard stacks: one stack against K stacks side by side (issue 15)",
        "",
        "Command (from the repository root, the pinned engine on PATH as above):",
        "",
        "```sh",
        f".venv/bin/{results['command']}",
        "```",
        "",
        f"Run {results['started']} on {m['nproc']} CPUs, Graph latency "
        f"{results['latency_ms']:g} ms per call, {results['numbers']:,} numbers over "
        f"{results['wabas']:,} WABAs (one `WabaRouting` per WABA, `benchmarks/routing` with "
        "`waba-webhooks:shard`), file backend, every stack of a step run at once. Load average "
        f"{m['loadavg_start'][0]:.2f} before and "
        + (f"{m['loadavg_end'][0]:.2f} after the run. " if m.get("loadavg_end") else
           "(run stopped before its end) ")
        + results.get("concurrent_note", ""),
        "",
        "*CPU* is seconds of processor time during the step: *stacks*, the pulumi CLIs and "
        "the processes they start (engine, language host, program, dynamic provider); "
        "*emulator*, the benchmark's own process (emulator and receiver); *machine*, every "
        "process on the machine (other users' included). *CPU floor* is our CPU (stacks + "
        "emulator) over 2 cores: the least wall time this work can take on this machine, "
        "whatever the Graph latency; where the wall time is close to it, the 2 cores, not "
        "Graph, are the limit. *Ours / machine* are our CPU and the whole machine's busy time "
        "over wall time x 2 cores (1.0: both cores busy all along; machine above ours: other "
        "work took the rest). *State* is the largest stack's checkpoint file, rewritten by the "
        "backend after every step of that stack.",
        "",
    ]
    if plot_path is not None:
        lines += [f"![shard stacks against one stack]({_rel(plot_path)})", ""]
    lines += ["| configuration | step | wall s | fastest / slowest stack s | Graph calls | most "
              "in flight | CPU stacks s | CPU emulator s | CPU floor s | CPU ours / machine "
              "| state per stack | failed |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
              "| ---: |"]
    for c in results["configs"]:
        for step in STEPS:
            r = _row(c, step)
            walls = list(r["stack_wall_s"].values()) or [0]
            lines.append(
                f"| {c['label']} | {STEP_LABELS[step]} | {r['wall_s']:.1f} | "
                f"{min(walls):.1f} / {max(walls):.1f} | {r['graph_calls']:,} | "
                f"{r['in_flight_max']} | {r['cpu']['stacks_s']:.0f} | "
                f"{r['cpu']['emulator_s']:.0f} | {r['cpu_floor_s']:.0f} | "
                f"{r['our_cpu_share_of_2_cores']:.2f} / {r['cpu_share_of_2_cores']:.2f} | "
                f"{r['state_bytes_max']:,} B | {r['failed']} |")
    lines += ["", *targets_markdown(results), *model_markdown(results)]
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    return "\n".join(lines) + "\n"


def targets_markdown(results: dict[str, Any]) -> list[str]:
    sets = [c for c in results["configs"] if len(c["shards"]) > 1]
    if not sets:
        return []
    lines = ["### Targets for the best K on this machine", "",
             "| step | target | best K | measured | met |", "| --- | --- | --- | ---: | --- |"]
    for step, limit in TARGETS.items():
        best = min(sets, key=lambda c: _row(c, step)["wall_s"])
        wall = _row(best, step)["wall_s"]
        lines.append(f"| {STEP_LABELS[step]} | < {limit:g} s | {best['k']} | {wall:.1f} s | "
                     f"{'yes' if wall < limit else '**no**'} |")
    return [*lines, ""]


def model_markdown(results: dict[str, Any]) -> list[str]:
    rows = model(results)
    if not rows:
        return []
    lines = [f"### Model: {MODEL_NUMBERS:,} numbers over {MODEL_WABAS:,} WABAs on a CI matrix",
             "",
             "One shard stack per runner (2 cores each, like this machine), all runners at once: "
             "the matrix takes as long as one runner with its share of the table, plus the "
             "runner's own start-up (checkout, Python, pulumi: not included), and makes every "
             "runner's Graph calls. Per-runner figures are measured single stacks: a shard "
             "alone in this run, and the main benchmark's largest `WabaRouting` stack (a "
             "quieter machine, see above).", "",
             "| runners | numbers / WABAs per runner | per-runner figures from | "
             + " | ".join(f"{STEP_LABELS[s]} s" for s in STEPS) + " | create Graph calls |",
             "| ---: | --- | --- | " + " | ".join("---:" for _ in STEPS) + " | ---: |"]
    for row in rows:
        lines.append(f"| {row['runners']} | {row['numbers_per_runner']:,} / "
                     f"{row['wabas_per_runner']:,} | {row['source']} | "
                     + " | ".join(f"{row['steps'][s]['wall_s']:.1f}" for s in STEPS)
                     + f" | {row['steps']['create']['graph_calls_total']:,} |")
    return [*lines, ""]


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def plot(results: dict[str, Any], path: Path) -> None:
    """Wall time per step for each configuration, and CPU busy time against wall time x 2."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = results["configs"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 5.5))
    width = 0.8 / max(1, len(configs))
    for j, c in enumerate(configs):
        xs = [i + j * width for i in range(len(STEPS))]
        bars = left.bar(xs, [_row(c, s)["wall_s"] for s in STEPS], width, label=c["label"])
        left.plot(xs, [_row(c, s)["cpu_floor_s"] for s in STEPS], "k_", markersize=10)
        right.bar(xs, [_row(c, s)["our_cpu_share_of_2_cores"] for s in STEPS], width,
                  label=c["label"], color=bars[0].get_facecolor())
        right.plot(xs, [_row(c, s)["cpu_share_of_2_cores"] for s in STEPS], "kx")
    for step, limit in TARGETS.items():
        i = STEPS.index(step)
        left.plot([i - width / 2, i + 0.8 - width / 2], [limit, limit], "r-", linewidth=2)
    for ax in (left, right):
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(STEPS))],
                      [STEP_LABELS[s] for s in STEPS], fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    from matplotlib import ticker

    left.set_yscale("log")
    left.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    left.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
    left.tick_params(axis="y", which="minor", labelsize=7)
    left.set_ylabel("wall time of the set (s, log); red: issue 15's targets; "
                    "black: CPU floor (our CPU / 2 cores)", fontsize=8)
    right.set_ylabel("our CPU / (wall x 2 cores); x: the whole machine's", fontsize=8)
    right.axhline(1.0, color="k", linewidth=0.8)
    fig.suptitle(f"{results['numbers']:,} numbers over {results['wabas']:,} WABAs: one stack "
                 f"against shard stacks side by side, Graph latency {results['latency_ms']:g} ms")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the plot (unless --no-plot), the section, and BENCHMARKS.md again."""
    plot_path = None if args.no_plot else args.plot
    if plot_path is not None:
        plot(results, plot_path)
    args.md.write_text(markdown(results, plot_path))
    print(f"wrote {args.md}" + (f" and {plot_path}" if plot_path else ""), flush=True)
    main_json = BENCH_DIR / "results.json"
    if args.md == OUT_MD and main_json.exists():
        from . import report

        report_out = REPO / "BENCHMARKS.md"
        report_out.write_text(report.markdown(json.loads(main_json.read_text()),
                                              BENCH_DIR / "results.png", report_out, main_json))
        print(f"re-rendered {report_out} with it", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    problem = deps.missing(plot=not args.no_plot, engine=not args.render_only)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.render_only:
        render(json.loads(args.json.read_text()), args)
        return 0
    from .__main__ import machine

    configs = parse_configs(args.configs)
    command = " ".join(["python -m benchmarks.shards", *(sys.argv[1:] if argv is None else argv)])
    results: dict[str, Any] = {
        "command": command,
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "latency_ms": args.latency_ms, "numbers": args.numbers,
        "wabas": -(-args.numbers // 10), "machine": machine(), "configs": [],
    }
    print(f"machine: {results['machine']}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="waba-bench-shards-"))
    home = tmp / "pulumi-home"
    home.mkdir()
    try:
        for k, shards in configs:
            results["configs"].append(run_config(k, shards, args, home, tmp))
            args.json.write_text(json.dumps(results, indent=2))  # partial results too
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["loadavg_end"] = os.getloadavg()
    args.json.write_text(json.dumps(results, indent=2))
    render(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
