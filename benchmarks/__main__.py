"""``python -m benchmarks``: what the provider costs at scale, against the floor.

For each N: N phone numbers (10 per WABA) routed by three stacks with the same callback URIs:
``routing``, one `WabaRouting` per WABA; ``ours``, one `PhoneCallbackOverride` per number; and
the floor, one no-op dynamic resource per number (`benchmarks.noop`). Each stack has its own
emulator seeded with the N numbers and a simulated Graph latency (one webhook receiver answers
Meta's verification calls for all), and is taken through create, no-change preview, no-change
up, refresh and destroy with the real pulumi CLI. The stacks' steps alternate, in a rotating
order, so machine noise hits all alike. See BENCHMARKS.md.

Other modes, each with its own --help: ``python -m benchmarks doors`` (CPU per resource through
each door against its own floor), ``scale`` (N native WabaRoutings in one stack against shard
stacks), ``profile`` (each step through the plugin, both sides) and ``discover``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from waba_webhooks.config import Settings
from waba_webhooks.emulator import EmulatorAdmin, EmulatorServer
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID, DEFAULT_TOKEN, generate
from waba_webhooks.emulator.receiver import WebhookReceiver

from . import client, deps, profiling, report
from .cpu_split import CpuByRole
from .meter import ConcurrencyMeter
from .stack import PER_WABA, REPO, STEP_LABELS, STEPS, VERIFY_TOKEN, BenchStack, state_size
from .targets import evaluate, routing_targets

ROUTING_TYPE = "dynamic/waba-webhooks:WabaRouting"
OURS_TYPE = "dynamic/waba-webhooks:PhoneCallbackOverride"
FLOOR_TYPE = "dynamic/bench:NoopPhoneOverride"


class Kind(NamedTuple):
    """A stack the benchmark can run."""

    #: Its program folder under benchmarks/.
    program: str
    #: How the type of its resources ends in state.
    type_suffix: str
    #: Whether it calls Graph (has the ``whatsapp:*`` provider config).
    calls_graph: bool
    #: Whether its resources are a native plugin's: ``plugin``'s.
    native: bool = False
    #: The package of its plugin, when native: ``whatsapp`` (ours) or ``benchfloor`` (the
    #: native floor, `benchmarks.noop_plugin`).
    plugin: str = "whatsapp"

    def resources(self, n: int, wabas: int) -> int:
        """Its resources at size ``n`` over ``wabas`` WABAs: one per WABA or one per number."""
        return wabas if self.type_suffix.endswith("WabaRouting") else n


KINDS = {
    "routing": Kind("routing", ROUTING_TYPE, True),
    "native-routing": Kind("native-routing", "whatsapp:index:WabaRouting", True, native=True),
    "ours": Kind("program", OURS_TYPE, True),
    "native-ours": Kind("native-ours", "whatsapp:index:PhoneCallbackOverride", True,
                        native=True),
    "floor": Kind("floor", FLOOR_TYPE, False),
}
#: The floor of each door and shape, beyond ``floor`` (`benchmarks.doors` runs them).
FLOOR_KINDS = {
    "floor-routing": Kind("floor-routing", "dynamic/bench:NoopWabaRouting", False),
    "native-floor": Kind("native-floor", "benchfloor:index:NoopPhoneOverride", False,
                         native=True, plugin="benchfloor"),
    "native-floor-routing": Kind("native-floor-routing", "benchfloor:index:NoopWabaRouting",
                                 False, native=True, plugin="benchfloor"),
}
ALL_KINDS = {**KINDS, **FLOOR_KINDS}
#: Calls per hour per WABA in the benchmark's emulator (Meta's are 200 or 5,000).
UNTHROTTLED_HOURLY_BUDGET = 10_000_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000",
                        help="comma-separated stack sizes N (default: 10,100,1000)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"stacks to run, comma-separated (default: {','.join(KINDS)})")
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
    parser.add_argument("--profile-kinds", default=",".join(KINDS),
                        help=f"stacks to profile (default: {','.join(KINDS)})")
    parser.add_argument("--routing-variant", action="append", default=[], metavar="KEY=VALUE",
                        help="provider config (repeatable, e.g. whatsapp:writeConcurrency=10) "
                             "for one more WabaRouting create, refresh and destroy at the "
                             "largest N, beside the main run's")
    parser.add_argument("--state-sweep", default="1,10,25,50,100",
                        help="numbers per WABA of the one-WabaRouting stacks whose state is "
                             "measured (no latency); empty: none (default: 1,10,25,50,100)")
    parser.add_argument("--profile-latency-ms", type=float, default=0.0,
                        help="Graph latency of the profiled run (default 0: CPU cost only)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--no-plot", action="store_true",
                        help="write the tables and skip the plot (no matplotlib needed)")
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
    from waba_webhooks.plugin.adapter import WORKERS

    return {
        "routing_write_concurrency": Settings.write_concurrency,
        "engine_parallel": engine,
        "engine_parallel_source": "--parallel" if parallel else (
            "PULUMI_PARALLEL" if env_parallel else "default 4 x GOMAXPROCS"),
        "provider_workers": workers,
        "effective": min(engine, workers) if workers else engine,
        "native_provider_workers": WORKERS,
        "native_effective": min(engine, WORKERS),
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
        # Our modules' bytecode is compiled before a run (deps.warm_bytecode), whatever this is.
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
    }


# --------------------------------------------------------------------------- the Graph side


def per_waba_for(n: int) -> int:
    """Numbers per WABA at size ``n``: ``PER_WABA``, or all ``n`` in one WABA when fewer."""
    return max(1, min(n, PER_WABA))


class Graph:
    """An emulator seeded with ``n`` phone numbers, ``per_waba`` to a WABA, with latency and a
    concurrency meter; verification calls go to ``receiver`` (shared by the stacks of a size, so
    that their callback URIs are the same)."""

    def __init__(self, n: int, latency_ms: float, receiver: WebhookReceiver,
                 per_waba: int | None = None,
                 hourly_budget: int | None = UNTHROTTLED_HOURLY_BUDGET) -> None:
        self.per_waba = per_waba or per_waba_for(n)
        self.wabas = max(1, math.ceil(n / self.per_waba))
        # Meta's hourly call budget is not what this measures, unless ``hourly_budget`` is None
        # (Meta's own): give every WABA one that the repeated lifecycles cannot come near, so no
        # call is paced or refused. A big fixture is seeded here, not through
        # EmulatorAdmin.seed (which refuses bodies over 64 KB).
        self.server = EmulatorServer(generate(wabas=self.wabas, phones_per_waba=self.per_waba,
                                              hourly_budget=hourly_budget))
        self.meter = ConcurrencyMeter(self.server.app)
        self.server.app = self.meter  # type: ignore[assignment]
        self.server.start()
        self.admin = EmulatorAdmin(self.server.url, timeout=60)
        self.admin.set_latency(latency_ms)
        self.receiver = receiver

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
        self.admin.close()
        self.server.stop()


def receiver() -> WebhookReceiver:
    """The webhook receiver that answers Meta's verification calls of every stack."""
    return WebhookReceiver([VERIFY_TOKEN]).start()


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
                  parallel: int | None, *, split: bool = False) -> dict[str, Any]:
    """Run one step; the emulator's counters before/after give its Graph calls. With
    `split`, also the step's CPU by process role (`benchmarks.cpu_split`), over the step
    alone (not the state export after it)."""
    before = graph.admin.counts()
    graph.meter.reset()
    cpu_before = children_cpu_s()
    with CpuByRole() if split else contextlib.nullcontext() as by_role:
        run = stack.run(step, parallel)
    cpu = children_cpu_s() - cpu_before
    meter = graph.meter.snapshot()
    calls = _delta(before, graph.admin.counts())
    state = state_size(stack.export(), type_suffix, graph.receiver.base_url)
    result = {"wall_s": round(run.wall_s, 3), "summary": run.summary, "graph": calls,
              "in_flight_max": meter["max_in_flight"], "connections": meter["connections"],
              "cpu_s": round(cpu, 3), "state": state}
    if "timeline" in meter:
        result["timeline"] = meter["timeline"]
    if by_role is not None:
        result["cpu_by_role"] = by_role.result()
    return result


def children_cpu_s() -> float:
    """User + system CPU seconds of the processes this one has waited for: a step's delta is the
    CPU of the pulumi CLI and of everything it waited for (language host, program, provider
    processes), unprofiled."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def selected(value: str, option: str) -> list[str]:
    """The kinds a comma-separated option names, in `KINDS` order."""
    kinds = {k.strip() for k in value.split(",") if k.strip()}
    unknown = kinds - set(KINDS)
    if unknown:
        raise SystemExit(f"{option}: unknown {', '.join(sorted(unknown))} (known: "
                         f"{', '.join(KINDS)})")
    return [kind for kind in KINDS if kind in kinds]


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


def _config(kind: str, graph: Graph, app_id: str | None = None) -> dict[str, Any] | None:
    """The provider config of a stack of ``kind`` (the floor has no provider config)."""
    return graph.config(app_id) if ALL_KINDS[kind].calls_graph else None


def bench_stack(kind: str, root: Path, home: Path, env: dict[str, str]) -> BenchStack:
    """A stack of ``kind``'s program in ``root`` (`ALL_KINDS`); the native floor's plugin is
    written beside it."""
    spec = ALL_KINDS[kind]
    if spec.native and spec.plugin != "whatsapp":
        from . import noop_plugin

        return BenchStack(root, spec.program, home, extra_env=env,
                          plugins={spec.plugin: noop_plugin.install(root / "plugin")})
    return BenchStack(root, spec.program, home, extra_env=env, native=spec.native)


def run_size(n: int, args: argparse.Namespace, home: Path, tmp: Path,
             conc: dict[str, Any]) -> dict[str, Any]:
    repeats = args.repeat if n <= args.repeat_up_to else 1
    print(f"\n== N = {n}: {repeats} lifecycle(s), Graph latency {args.latency_ms:g} ms, "
          f"effective concurrency {conc['effective']}", flush=True)
    hooks = receiver()
    graphs: dict[str, Graph] = {}
    stacks: dict[str, BenchStack] = {}
    kinds = selected(args.kinds, "--kinds")
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        kind: {step: [] for step in STEPS} for kind in kinds
    }
    try:
        for kind in kinds:
            graphs[kind] = Graph(n, args.latency_ms, hooks)
            stacks[kind] = bench_stack(kind, tmp / f"{kind}-{n}", home, engine_env(args))
            stacks[kind].configure(n, hooks.base_url, _config(kind, graphs[kind]),
                                   per_waba=graphs[kind].per_waba)
        for rep in range(repeats):
            order = kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]
            for step in STEPS:
                for kind in order:
                    result = measured_step(stacks[kind], step, graphs[kind],
                                           KINDS[kind].type_suffix, args.parallel)
                    runs[kind][step].append(result)
                    calls = result["graph"]
                    print(f"  [{rep + 1}/{repeats}] {kind:14} {STEP_LABELS[step]:20} "
                          f"{result['wall_s']:8.2f} s  cpu {result['cpu_s']:7.2f} s  graph "
                          f"{calls['total']:5} (r {calls['reads']}, w {calls['writes']}, in "
                          f"flight {result['in_flight_max']})  changes {result['summary']}",
                          flush=True)
    finally:
        for stack in stacks.values():
            try:
                stack.remove()
            except Exception as exc:  # cleanup only
                print(f"  (could not remove a stack: {exc})", file=sys.stderr)
        for graph in graphs.values():
            graph.close()
        hooks.stop()
    steps: dict[str, Any] = {}
    for step in STEPS:
        chosen = {kind: _median_run(runs[kind][step]) for kind in kinds}
        steps[step] = chosen
        if "ours" in chosen and "floor" in chosen:
            steps[step].update(evaluate(step, n, chosen["ours"], chosen["floor"],
                                        args.latency_ms / 1000, conc["effective"]))
    graph = graphs[kinds[0]]
    result = {"n": n, "wabas": graph.wabas, "per_waba": graph.per_waba,
              "repeats": repeats, "kinds": kinds, "steps": steps,
              "resources": {kind: KINDS[kind].resources(n, graph.wabas) for kind in kinds}}
    if "routing" in kinds and "ours" in kinds:
        result["routing_targets"] = routing_targets(n, graph.wabas, steps)
    print(report.text_table(result), flush=True)
    return result


def run_app_id_variant(n: int, args: argparse.Namespace, home: Path, tmp: Path,
                       without: dict[str, Any]) -> dict[str, Any]:
    """One more lifecycle of each Graph-calling stack at size n with ``whatsapp:appId`` set:
    GET /app per step, against the same stack's steps without it (``without``)."""
    print(f"\n== N = {n} with whatsapp:appId set (GET /app count)", flush=True)
    result: dict[str, Any] = {"n": n, "kinds": {}}
    hooks = receiver()
    try:
        for kind in without["kinds"]:
            if not KINDS[kind].calls_graph:
                continue
            graph = Graph(n, args.latency_ms, hooks)
            stack = bench_stack(kind, tmp / f"{kind}-appid-{n}", home, engine_env(args))
            counts: dict[str, Any] = {"with_app_id": {}, "without_app_id": {},
                                      "total_with": {}, "total_without": {}}
            try:
                stack.configure(n, hooks.base_url, graph.config(app_id=DEFAULT_APP_ID),
                                per_waba=graph.per_waba)
                for step in STEPS:
                    measured = measured_step(stack, step, graph, KINDS[kind].type_suffix,
                                             args.parallel)
                    counts["with_app_id"][step] = measured["graph"]["by_operation"].get(
                        "GET app", 0)
                    counts["total_with"][step] = measured["graph"]["total"]
                    old = without["steps"][step][kind]["graph"]
                    counts["without_app_id"][step] = old["by_operation"].get("GET app", 0)
                    counts["total_without"][step] = old["total"]
                    print(f"  {kind:14} {STEP_LABELS[step]:20} GET /app: with appId "
                          f"{counts['with_app_id'][step]}, without "
                          f"{counts['without_app_id'][step]}; all calls "
                          f"{counts['total_with'][step]} vs {counts['total_without'][step]}",
                          flush=True)
            finally:
                stack.remove()
                graph.close()
            result["kinds"][kind] = counts
    finally:
        hooks.stop()
    return result


def run_routing_variant(n: int, args: argparse.Namespace, home: Path, tmp: Path,
                        main: dict[str, Any]) -> dict[str, Any]:
    """The WabaRouting stack at size n once more with ``--routing-variant`` config: create,
    refresh and destroy, beside the main run's figures (``main``)."""
    config = dict(item.split("=", 1) for item in args.routing_variant)
    print(f"\n== N = {n}: WabaRouting with {config}", flush=True)
    result: dict[str, Any] = {"n": n, "config": config, "steps": {}}
    hooks = receiver()
    graph = Graph(n, args.latency_ms, hooks)
    stack = BenchStack(tmp / f"routing-variant-{n}", "routing", home, extra_env=engine_env(args))
    try:
        stack.configure(n, hooks.base_url,
                        {**graph.config(), **{k: (v, False) for k, v in config.items()}},
                        per_waba=graph.per_waba)
        for step in ("create", "refresh", "destroy"):
            measured = measured_step(stack, step, graph, ROUTING_TYPE, args.parallel)
            measured["main_wall_s"] = main["steps"][step]["routing"]["wall_s"]
            result["steps"][step] = measured
            print(f"  {STEP_LABELS[step]:20} {measured['wall_s']:8.2f} s (main run "
                  f"{measured['main_wall_s']:.2f} s)  graph {measured['graph']['total']}, in "
                  f"flight {measured['in_flight_max']}", flush=True)
    finally:
        stack.remove()
        graph.close()
        hooks.stop()
    return result


def run_state_sweep(per_wabas: list[int], args: argparse.Namespace, home: Path,
                    tmp: Path) -> list[dict[str, Any]]:
    """State of one `WabaRouting` routing k numbers, for each k: its entry split into what the
    resource pays once and what each number adds (created with no latency, then destroyed)."""
    print(f"\n== WabaRouting state with {', '.join(map(str, per_wabas))} numbers per WABA",
          flush=True)
    rows = []
    hooks = receiver()
    try:
        for k in per_wabas:
            graph = Graph(k, 0, hooks, per_waba=k)
            stack = BenchStack(tmp / f"sweep-{k}", "routing", home, extra_env=engine_env(args))
            try:
                stack.configure(k, hooks.base_url, graph.config(), per_waba=k)
                created = measured_step(stack, "create", graph, ROUTING_TYPE, args.parallel)
                stack.run("destroy", args.parallel)
            finally:
                stack.remove()
                graph.close()
            state = created["state"]
            rows.append({"per_waba": k, **{key: state[key] for key in (
                "entry_bytes", "bytes_per_number", "fixed_bytes_per_resource",
                "added_bytes_per_number", "export_bytes_per_number", "fixed_parts")}})
            print(f"  {k:4} numbers: {state['entry_bytes']:8.0f} B = "
                  f"{state['fixed_bytes_per_resource']:.0f} B fixed + {k} x "
                  f"{state['added_bytes_per_number']:.0f} B; {state['bytes_per_number']:.0f} "
                  f"B per number", flush=True)
    finally:
        hooks.stop()
    return rows


def run_profile(args: argparse.Namespace, home: Path, tmp: Path) -> dict[str, Any]:
    """A lifecycle of each stack of --profile-kinds at --profile-n with every Python process
    profiled."""
    n = args.profile_n
    kinds = selected(args.profile_kinds, "--profile-kinds")
    print(f"\n== profile: N = {n}, Graph latency {args.profile_latency_ms:g} ms, "
          f"{', '.join(kinds)}", flush=True)
    site = tmp / "profile-site"
    profiling.install_sitecustomize(site)
    result: dict[str, Any] = {"n": n, "latency_ms": args.profile_latency_ms, "kinds": kinds,
                              "steps": {}}
    hooks = receiver()
    try:
        for kind in kinds:
            graph = Graph(n, args.profile_latency_ms, hooks)
            collect = tmp / f"profile-{kind}"
            collect.mkdir()
            stack = bench_stack(kind, tmp / f"profiled-{kind}", home,
                                profiling.env_for(collect, site))
            try:
                stack.configure(n, hooks.base_url, _config(kind, graph),
                                per_waba=graph.per_waba)
                for step in STEPS:
                    measured = measured_step(stack, step, graph, KINDS[kind].type_suffix,
                                             args.parallel)
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
                    summary["resources"] = KINDS[kind].resources(n, graph.wabas)
                    summary["graph"] = measured["graph"]
                    summary["connections"] = measured["connections"]
                    summary["timeline"] = measured.get("timeline")
                    result["steps"].setdefault(step, {})[kind] = summary
                    print(report.profile_step_text(step, kind, summary, n), flush=True)
            finally:
                stack.remove()
                graph.close()
    finally:
        hooks.stop()
    print("\n== import cost in a provider process that already has the SDK loaded", flush=True)
    result["imports"] = profiling.import_costs(
        {"routing": "waba_webhooks.resources.waba_routing", "ours": "waba_webhooks.resources.phone",
         "floor": "benchmarks.noop"})
    print(report.imports_text(result["imports"]), flush=True)
    print("\n== one Graph call, client alone (loopback, no latency)", flush=True)
    result["client"] = client.measure()
    print(client.text(result["client"]), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["discover"]:  # `python -m benchmarks discover`: see benchmarks/discover.py
        from . import discover

        return discover.main(argv[1:])
    if argv[:1] in (["doors"], ["scale"], ["profile"]):  # benchmarks/<mode>.py
        import importlib

        mode: Any = importlib.import_module(f"benchmarks.{argv[0]}")
        return int(mode.main(argv[1:]))
    args = parse_args(argv)
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    # Everything the run needs, before it starts: without the `bench` extra it used to do all
    # its work and then die at the plot.
    problem = deps.missing(plot=not args.no_plot, engine=not args.render_only)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if not args.render_only:
        deps.warm_bytecode()
    if args.no_plot:
        print("warning: --no-plot: the tables are written, the plot is not "
              f"({args.plot} keeps its previous content)", file=sys.stderr)
    if args.render_only:
        results = json.loads(args.json.read_text())
        if not args.no_plot:
            report.plot(results, args.plot)
        args.out.write_text(report.markdown(results, args.plot, args.out, args.json))
        print(f"wrote {args.out}" + ("" if args.no_plot else f" and {args.plot}"))
        return 0
    command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    for path in (args.out, args.plot, args.json):
        path.parent.mkdir(parents=True, exist_ok=True)
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
            if args.routing_variant and sizes:
                largest = max(results["sizes"], key=lambda r: r["n"])
                results["routing_variant"] = run_routing_variant(
                    largest["n"], args, home, tmp, largest)
            sweep = [int(k) for k in args.state_sweep.split(",") if k.strip()]
            if sweep:
                results["state_sweep"] = run_state_sweep(sweep, args, home, tmp)
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
        if not args.no_plot:
            report.plot(results, args.plot)
        args.out.write_text(report.markdown(results, args.plot, args.out, args.json))
        print(f"\nwrote {args.out}" + ("" if args.no_plot else f", {args.plot}")
              + f" and {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
