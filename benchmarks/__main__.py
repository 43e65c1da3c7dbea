"""``python -m benchmarks``: what the provider costs at scale, against the floor.

For each N: an emulator seeded with N phone numbers (10 per WABA) and a simulated Graph latency,
a webhook receiver for Meta's verification call, and two stacks of N resources with the same
inputs, ours (`PhoneCallbackOverride`) and the floor (`benchmarks.noop`), each taken through
create, no-change preview, no-change up, refresh and destroy with the real pulumi CLI. The two
stacks' steps alternate, so machine noise hits both alike. See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from waba_webhooks.emulator import EmulatorAdmin, EmulatorServer
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID, DEFAULT_TOKEN, generate
from waba_webhooks.emulator.receiver import WebhookReceiver

from . import client, profiling, report
from .meter import ConcurrencyMeter
from .stack import REPO, STEP_LABELS, STEPS, VERIFY_TOKEN, BenchStack, state_size

OURS_TYPE = "dynamic/waba-webhooks:PhoneCallbackOverride"
FLOOR_TYPE = "dynamic/bench:NoopPhoneOverride"
KINDS = {"ours": ("program", OURS_TYPE), "floor": ("floor", FLOOR_TYPE)}
#: Calls per hour per WABA in the benchmark's emulator (Meta's are 200 or 5,000).
UNTHROTTLED_HOURLY_BUDGET = 10_000_000
#: Targets of issue 5.
TIME_FACTOR = 1.2
STATE_FACTOR = 1.5


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000",
                        help="comma-separated stack sizes N (default: 10,100,1000)")
    parser.add_argument("--latency-ms", type=float, default=150.0,
                        help="simulated Graph API latency per call (default: 150)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="lifecycles per size for sizes up to --repeat-up-to; the median "
                             "wall time is reported (default: 3)")
    parser.add_argument("--repeat-up-to", type=int, default=100,
                        help="larger sizes run once (default: 100)")
    parser.add_argument("--parallel", type=int, default=None,
                        help="pulumi --parallel (default: the engine's own, 4 x GOMAXPROCS)")
    parser.add_argument("--engine-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for the pulumi CLI of both stacks (repeatable), e.g. "
                             "PULUMI_SKIP_CHECKPOINTS=true")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--plot", type=Path, default=REPO / "benchmarks" / "results.png")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results.json")
    parser.add_argument("--no-app-id-variant", action="store_true",
                        help="skip the extra lifecycle at the smallest N with whatsapp:appId set")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the provider and program processes (see --profile-n)")
    parser.add_argument("--profile-only", action="store_true",
                        help="only the profile; merged into an existing --json, and the report "
                             "re-rendered")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render --out and --plot from an existing --json (e.g. after "
                             "editing benchmarks/notes.md)")
    parser.add_argument("--profile-n", type=int, default=100)
    parser.add_argument("--profile-latency-ms", type=float, default=0.0,
                        help="Graph latency of the profiled run (default 0: CPU cost only)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- machine facts


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
                              ).stdout.strip()
    except OSError:
        return ""


def cpus() -> int:
    """CPUs the engine sees: the affinity mask, capped by a cgroup quota (Go's GOMAXPROCS)."""
    count = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def concurrency(parallel: int | None) -> dict[str, Any]:
    """How many resource operations can run at once: the engine's --parallel (default
    4 x GOMAXPROCS, pkg/cmd/pulumi/operations/up.go defaultParallel) and the dynamic provider
    process's gRPC worker pool (pulumi/dynamic/__main__.py)."""
    import pulumi.dynamic

    source = (Path(pulumi.dynamic.__file__).parent / "__main__.py").read_text()
    match = re.search(r"ThreadPoolExecutor\(\s*max_workers\s*=\s*(\d+)", source)
    workers = int(match.group(1)) if match else 0
    env_parallel = int(os.environ.get("PULUMI_PARALLEL", "0") or 0)
    engine = parallel or env_parallel or 4 * cpus()
    return {
        "engine_parallel": engine,
        "engine_parallel_source": "--parallel" if parallel else (
            "PULUMI_PARALLEL" if env_parallel else "default 4 x GOMAXPROCS"),
        "provider_workers": workers,
        "effective": min(engine, workers) if workers else engine,
    }


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpus_for_engine": cpus(),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pulumi_cli": _run(["pulumi", "version"]),
        "pulumi_sdk": importlib.metadata.version("pulumi"),
        "loadavg_start": os.getloadavg(),
    }


# --------------------------------------------------------------------------- the Graph side


class Graph:
    """The emulator seeded with ``n`` phone numbers, with latency, a concurrency meter and a
    webhook receiver for the verification calls."""

    def __init__(self, n: int, latency_ms: float) -> None:
        per_waba = max(1, min(n, 10))
        # Meta's hourly call budget is not what this measures: give every WABA one that the
        # repeated lifecycles cannot come near, so no call is paced or refused.
        self.server = EmulatorServer(generate(wabas=max(1, math.ceil(n / per_waba)),
                                              phones_per_waba=per_waba,
                                              hourly_budget=UNTHROTTLED_HOURLY_BUDGET))
        self.meter = ConcurrencyMeter(self.server.app)
        self.server.app = self.meter  # type: ignore[assignment]
        self.server.start()
        self.admin = EmulatorAdmin(self.server.url, timeout=60)
        self.admin.set_latency(latency_ms)
        self.receiver = WebhookReceiver([VERIFY_TOKEN]).start()

    def config(self, app_id: str | None = None) -> dict[str, tuple[str, bool]]:
        config = {
            "whatsapp:accessToken": (DEFAULT_TOKEN, True),
            "whatsapp:graphUrl": (self.server.url, False),
            "whatsapp:allowHttpLoopback": ("true", False),
        }
        if app_id:
            config["whatsapp:appId"] = (app_id, False)
        return config

    def close(self) -> None:
        self.receiver.stop()
        self.admin.close()
        self.server.stop()


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    ops = {
        op: after["by_operation"].get(op, 0) - before["by_operation"].get(op, 0)
        for op in after["by_operation"]
    }
    return {
        "total": after["total"] - before["total"],
        "reads": after["reads"] - before["reads"],
        "writes": after["writes"] - before["writes"],
        "by_operation": {op: count for op, count in sorted(ops.items()) if count},
        "verifications": after.get("verifications", 0) - before.get("verifications", 0),
    }


def measured_step(stack: BenchStack, step: str, graph: Graph, type_suffix: str,
                  parallel: int | None) -> dict[str, Any]:
    """Run one step; the emulator's counters before/after give its Graph calls."""
    before = graph.admin.counts()
    graph.meter.reset()
    run = stack.run(step, parallel)
    calls = _delta(before, graph.admin.counts())
    meter = graph.meter.snapshot()
    state = state_size(stack.export(), type_suffix, graph.receiver.base_url)
    return {"wall_s": round(run.wall_s, 3), "summary": run.summary, "graph": calls,
            "in_flight_max": meter["max_in_flight"], "connections": meter["connections"],
            "state": state}


# --------------------------------------------------------------------------- targets


def evaluate(step: str, n: int, ours: dict[str, Any], floor: dict[str, Any],
             latency_s: float, effective: int) -> dict[str, Any]:
    """Graph-call time, the time budget, and each target of issue 5 for this step."""
    calls = ours["graph"]
    graph_s = calls["total"] * latency_s / effective
    budget = TIME_FACTOR * (floor["wall_s"] + graph_s)
    targets: dict[str, dict[str, Any]] = {}
    reads, writes = calls["reads"], calls["writes"]
    if step == "preview":
        targets["calls"] = {"met": calls["total"] == 0, "want": "0 Graph calls",
                            "got": f"{calls['total']} calls"}
    elif step == "update":
        targets["calls"] = {"met": writes == 0, "want": "0 writes", "got": f"{writes} writes"}
    elif step in ("create", "destroy"):
        targets["calls"] = {
            "met": writes <= n and reads <= n,
            "want": f"<= 1 write and <= 1 read per resource (<= {n} each)",
            "got": f"{writes} writes, {reads} reads",
        }
    elif step == "refresh":
        targets["calls"] = {"met": reads == n and writes == 0,
                            "want": f"1 read per resource ({n})",
                            "got": f"{reads} reads, {writes} writes"}
    targets["time"] = {
        "met": ours["wall_s"] <= budget,
        "want": f"<= {TIME_FACTOR} x (floor + Graph-call time) = {budget:.2f} s",
        "got": f"{ours['wall_s']:.2f} s",
    }
    state = ours["state"]
    if state.get("entry_bytes"):
        limit = STATE_FACTOR * state["declared_inputs_bytes"]
        targets["state"] = {"met": state["entry_bytes"] <= limit,
                            "want": f"<= {STATE_FACTOR} x inputs = {limit:.0f} B/resource",
                            "got": f"{state['entry_bytes']:.0f} B/resource"}
    return {
        "graph_s": round(graph_s, 3),
        "budget_s": round(budget, 3),
        "ratio_to_floor": round(ours["wall_s"] / floor["wall_s"], 2) if floor["wall_s"] else None,
        "ratio_to_floor_plus_graph": round(ours["wall_s"] / (floor["wall_s"] + graph_s), 2),
        "overhead_s": round(ours["wall_s"] - floor["wall_s"] - graph_s, 3),
        "targets": targets,
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, with every wall time beside it."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["wall_s"] = round(statistics.median(r["wall_s"] for r in runs), 3)
    chosen["wall_s_all"] = [r["wall_s"] for r in runs]
    return chosen


# --------------------------------------------------------------------------- runs


def engine_env(args: argparse.Namespace) -> dict[str, str]:
    """``--engine-env NAME=VALUE`` pairs."""
    pairs = dict(item.split("=", 1) for item in args.engine_env)
    if "PYTHONPATH" in pairs:
        raise SystemExit("--engine-env cannot set PYTHONPATH")
    return pairs


def run_size(n: int, args: argparse.Namespace, home: Path, tmp: Path,
             conc: dict[str, Any]) -> dict[str, Any]:
    repeats = args.repeat if n <= args.repeat_up_to else 1
    print(f"\n== N = {n}: {repeats} lifecycle(s), Graph latency {args.latency_ms:g} ms, "
          f"effective concurrency {conc['effective']}", flush=True)
    graph = Graph(n, args.latency_ms)
    stacks: dict[str, BenchStack] = {}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        kind: {step: [] for step in STEPS} for kind in KINDS
    }
    try:
        for kind, (program, _type) in KINDS.items():
            stacks[kind] = BenchStack(tmp / f"{kind}-{n}", program, home,
                                      extra_env=engine_env(args))
            stacks[kind].configure(n, graph.receiver.base_url,
                                   graph.config() if kind == "ours" else None)
        for rep in range(repeats):
            order = list(KINDS) if rep % 2 == 0 else list(reversed(KINDS))
            for step in STEPS:
                for kind in order:
                    result = measured_step(stacks[kind], step, graph, KINDS[kind][1],
                                           args.parallel)
                    runs[kind][step].append(result)
                    calls = result["graph"]
                    print(f"  [{rep + 1}/{repeats}] {kind:5} {STEP_LABELS[step]:20} "
                          f"{result['wall_s']:8.2f} s  graph {calls['total']:5} "
                          f"(r {calls['reads']}, w {calls['writes']})  "
                          f"changes {result['summary']}", flush=True)
    finally:
        for stack in stacks.values():
            try:
                stack.remove()
            except Exception as exc:  # cleanup only
                print(f"  (could not remove a stack: {exc})", file=sys.stderr)
        graph.close()
    steps: dict[str, Any] = {}
    for step in STEPS:
        ours, floor = _median_run(runs["ours"][step]), _median_run(runs["floor"][step])
        steps[step] = {"ours": ours, "floor": floor,
                       **evaluate(step, n, ours, floor, args.latency_ms / 1000,
                                  conc["effective"])}
    result = {"n": n, "repeats": repeats, "steps": steps}
    print(report.text_table(result), flush=True)
    return result


def run_app_id_variant(n: int, args: argparse.Namespace, home: Path, tmp: Path,
                       without: dict[str, Any]) -> dict[str, Any]:
    """One more lifecycle of ours at size n with ``whatsapp:appId`` set: GET /app per step."""
    print(f"\n== N = {n} with whatsapp:appId set (GET /app count)", flush=True)
    graph = Graph(n, args.latency_ms)
    stack = BenchStack(tmp / f"ours-appid-{n}", "program", home, extra_env=engine_env(args))
    counts: dict[str, Any] = {"with_app_id": {}, "without_app_id": {}, "total_with": {},
                              "total_without": {}}
    try:
        stack.configure(n, graph.receiver.base_url, graph.config(app_id=DEFAULT_APP_ID))
        for step in STEPS:
            result = measured_step(stack, step, graph, OURS_TYPE, args.parallel)
            ops = result["graph"]["by_operation"]
            counts["with_app_id"][step] = ops.get("GET app", 0)
            counts["total_with"][step] = result["graph"]["total"]
            old = without["steps"][step]["ours"]["graph"]
            counts["without_app_id"][step] = old["by_operation"].get("GET app", 0)
            counts["total_without"][step] = old["total"]
            print(f"  {STEP_LABELS[step]:20} GET /app: with appId "
                  f"{counts['with_app_id'][step]}, without {counts['without_app_id'][step]}; "
                  f"all calls {counts['total_with'][step]} vs {counts['total_without'][step]}",
                  flush=True)
    finally:
        stack.remove()
        graph.close()
    return {"n": n, **counts}


def run_profile(args: argparse.Namespace, home: Path, tmp: Path) -> dict[str, Any]:
    """A lifecycle of each stack at --profile-n with every Python process profiled."""
    n = args.profile_n
    print(f"\n== profile: N = {n}, Graph latency {args.profile_latency_ms:g} ms", flush=True)
    site = tmp / "profile-site"
    profiling.install_sitecustomize(site)
    result: dict[str, Any] = {"n": n, "latency_ms": args.profile_latency_ms, "steps": {}}
    graph = Graph(n, args.profile_latency_ms)
    try:
        for kind, (program, type_suffix) in KINDS.items():
            collect = tmp / f"profile-{kind}"
            collect.mkdir()
            stack = BenchStack(tmp / f"profiled-{kind}", program, home,
                               extra_env=profiling.env_for(collect, site))
            try:
                stack.configure(n, graph.receiver.base_url,
                                graph.config() if kind == "ours" else None)
                for step in STEPS:
                    measured = measured_step(stack, step, graph, type_suffix, args.parallel)
                    profiling.wait_for_dumps(collect, {
                        "provider": 1,
                        "program": 1 if step in ("create", "preview", "update") else 0,
                    })
                    folder = collect / step
                    folder.mkdir()
                    for path in list(collect.glob("*-*.*")):
                        shutil.move(str(path), folder / path.name)
                    summary = profiling.summarize_dir(folder)
                    summary["wall_s"] = measured["wall_s"]
                    summary["graph"] = measured["graph"]
                    summary["connections"] = measured["connections"]
                    result["steps"].setdefault(step, {})[kind] = summary
                    print(report.profile_step_text(step, kind, summary, n), flush=True)
            finally:
                stack.remove()
    finally:
        graph.close()
    print("\n== import cost in a provider process that already has the SDK loaded", flush=True)
    result["imports"] = profiling.import_costs(
        {"ours": "waba_webhooks.phone", "floor": "benchmarks.noop"})
    print(report.imports_text(result["imports"]), flush=True)
    print("\n== one Graph call, client alone (loopback, no latency)", flush=True)
    result["client"] = client.measure()
    print(client.text(result["client"]), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    if args.render_only:
        results = json.loads(args.json.read_text())
        report.plot(results, args.plot)
        args.out.write_text(report.markdown(results, args.plot, args.out, args.json))
        print(f"wrote {args.out} and {args.plot}")
        return 0
    if shutil.which("pulumi") is None:
        print("the pulumi CLI is not on PATH: export PATH=\"$(tools/install-engine | tail -n1)"
              ":.venv/bin:$PATH\" PULUMI_SKIP_UPDATE_CHECK=true", file=sys.stderr)
        return 2
    command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    results: dict[str, Any] = {}
    if args.profile_only and args.json.exists():
        results = json.loads(args.json.read_text())
    tmp = Path(tempfile.mkdtemp(prefix="waba-bench-"))
    home = tmp / "pulumi-home"
    home.mkdir()
    conc = concurrency(args.parallel)
    try:
        if not args.profile_only:
            sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
            results = {
                "command": command,
                "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "latency_ms": args.latency_ms,
                "machine": machine(),
                "concurrency": conc,
                "engine_env": engine_env(args),
                "sizes": [],
            }
            print(f"machine: {results['machine']}\nconcurrency: {conc}", flush=True)
            for n in sizes:
                results["sizes"].append(run_size(n, args, home, tmp, conc))
                args.json.write_text(json.dumps(results, indent=2))  # partial results too
            if not args.no_app_id_variant and sizes:
                results["app_id_variant"] = run_app_id_variant(
                    min(sizes), args, home, tmp, results["sizes"][0])
            results["machine"]["loadavg_end"] = os.getloadavg()
        if args.profile or args.profile_only:
            results["profile"] = run_profile(args, home, tmp)
            results["profile"]["command"] = command
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    if results.get("sizes"):
        report.plot(results, args.plot)
        args.out.write_text(report.markdown(results, args.plot, args.out, args.json))
        print(f"\nwrote {args.out}, {args.plot} and {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
