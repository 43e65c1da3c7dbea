"""``python -m benchmarks doors``: CPU per resource through each door, against that door's own
floor, in one run (issue 27).

Eight stacks: `WabaRouting` (one per WABA of 10 numbers) and `PhoneCallbackOverride` (one per
number), each through the dynamic door and the native plugin, and four floors of the same
shapes that call nothing: no-op dynamic resources (`benchmarks.noop`) and no-op resources of a
native plugin written with our plugin's framework (`benchmarks.noop_plugin`). A size N is N
resources in every stack (so N WABAs, 10 N numbers, in the `WabaRouting` stacks).

Each stack goes through create, no-change preview, no-change up, refresh and destroy with the
real pulumi CLI, ``--repeats`` times at each size, the stacks of a step in a rotating order.
CPU is the user + system time of the pulumi process tree (the CLI and every process it started
and waited for: language host, program, provider); the cost per resource is the marginal one,
(median at the larger size - median at the smaller) / (resources added), so each step's fixed
cost (the CLI and the processes starting) drops out. CPU is measured with no Graph latency
(``--cpu-latency-ms``), wall time in a second pass at 150 ms per call (``--wall-latency-ms``).
Each door's cost is printed as a ratio to its floor of the same shape, against issue 27's
targets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from .cpu_split import ROLES
from .stack import BENCH_DIR, PER_WABA, STEP_LABELS, STEPS, BenchStack

#: The stacks, in table order.
KINDS = ("routing", "native-routing", "floor-routing", "native-floor-routing",
         "ours", "native-ours", "floor", "native-floor")
LABELS = {"routing": "WabaRouting", "native-routing": "native WabaRouting",
          "floor-routing": "floor (WabaRouting shape)",
          "native-floor-routing": "native floor (WabaRouting shape)",
          "ours": "PhoneCallbackOverride", "native-ours": "native PhoneCallbackOverride",
          "floor": "floor", "native-floor": "native floor"}
#: Each of our stacks' floor: the same door, the same shape.
FLOOR_OF = {"routing": "floor-routing", "native-routing": "native-floor-routing",
            "ours": "floor", "native-ours": "native-floor"}
#: Each native stack's dynamic counterpart.
DYNAMIC_OF = {"native-routing": "routing", "native-ours": "ours"}
#: Issue 27's targets: the most CPU per resource a step may take, as a multiple of the floor's.
TARGET_RATIOS = {"create": 2.0, "preview": 1.5, "update": 1.5}
RESULTS = BENCH_DIR / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks doors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,300",
                        help="two stack sizes, resources per stack (default: 100,300)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="lifecycles per size and pass; medians are reported (default: 3)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"stacks to run (default: all: {','.join(KINDS)})")
    parser.add_argument("--cpu-latency-ms", type=float, default=0.0,
                        help="Graph latency of the CPU pass (default: 0)")
    parser.add_argument("--wall-latency-ms", type=float, default=150.0,
                        help="Graph latency of the wall-time pass (default: 150)")
    parser.add_argument("--no-wall", action="store_true", help="skip the wall-time pass")
    parser.add_argument("--parallel", type=int, default=None,
                        help="pulumi --parallel (default: the engine's own, 4 x GOMAXPROCS)")
    parser.add_argument("--json", type=Path, default=RESULTS / "doors.json")
    parser.add_argument("--md", type=Path, default=RESULTS / "doors.md")
    parser.add_argument("--render-only", action="store_true",
                        help="print and write --md again from --json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if len(args.size_list) != 2 or args.size_list[0] < 1:
        parser.error("--sizes: two different sizes, e.g. 100,300")
    if args.repeats < 1:
        parser.error("--repeats: at least 1")
    args.kind_list = selected(args.kinds)
    return args


def selected(value: str) -> list[str]:
    """The stacks a comma-separated ``--kinds`` names, in table order."""
    names = {k.strip() for k in value.split(",") if k.strip()}
    unknown = names - set(KINDS)
    if unknown:
        raise SystemExit(f"--kinds: unknown {', '.join(sorted(unknown))} (known: "
                         f"{', '.join(KINDS)})")
    return [kind for kind in KINDS if kind in names]


def shape(kind: str, size: int) -> tuple[int, int]:
    """(phone numbers, numbers per WABA) of a stack of ``kind`` with ``size`` resources."""
    from .__main__ import ALL_KINDS

    if ALL_KINDS[kind].type_suffix.endswith("WabaRouting"):
        return size * PER_WABA, PER_WABA
    return size, max(1, min(size, PER_WABA))


# --------------------------------------------------------------------------- the runs


def run_pass(latency_ms: float, args: argparse.Namespace, home: Path,
             tmp: Path) -> dict[str, Any]:
    """Every stack at both sizes, ``--repeats`` lifecycles each, at ``latency_ms``: per size,
    kind and step, every run's CPU and wall seconds, Graph calls and calls in flight."""
    from .__main__ import ALL_KINDS, Graph, _config, bench_stack, measured_step, receiver

    sizes: dict[str, Any] = {}
    for size in args.size_list:
        print(f"\n== {size} resources per stack, Graph latency {latency_ms:g} ms, "
              f"{args.repeats} lifecycle(s)", flush=True)
        hooks = receiver()
        graphs: dict[str, Any] = {}
        stacks: dict[str, BenchStack] = {}
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            kind: {step: [] for step in STEPS} for kind in args.kind_list}
        try:
            for kind in args.kind_list:
                numbers, per_waba = shape(kind, size)
                graphs[kind] = Graph(numbers, latency_ms, hooks, per_waba=per_waba)
                stacks[kind] = bench_stack(kind, tmp / f"{kind}-{latency_ms:g}-{size}", home, {})
                stacks[kind].configure(numbers, hooks.base_url, _config(kind, graphs[kind]),
                                       per_waba=per_waba)
            kinds = args.kind_list
            for rep in range(args.repeats):
                order = kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]
                for step in STEPS:
                    for kind in order:
                        result = measured_step(stacks[kind], step, graphs[kind],
                                               ALL_KINDS[kind].type_suffix, args.parallel,
                                               split=True)
                        run = {key: result[key] for key in ("cpu_s", "wall_s", "summary",
                                                            "in_flight_max")}
                        run.update({f"cpu_{name}_s": seconds
                                    for name, seconds in result["cpu_by_role"].items()})
                        run["graph_calls"] = result["graph"]["total"]
                        run["state_bytes"] = result["state"].get("export_bytes", 0)
                        runs[kind][step].append(run)
                        print(f"  [{rep + 1}/{args.repeats}] {kind:21} {STEP_LABELS[step]:20} "
                              f"cpu {run['cpu_s']:7.2f} s  wall {run['wall_s']:7.2f} s  graph "
                              f"{run['graph_calls']:5}  in flight {run['in_flight_max']:3}  "
                              f"{run['summary']}", flush=True)
        finally:
            for stack in stacks.values():
                try:
                    stack.remove()
                except Exception as error:  # cleanup goes on; the run is reported
                    print(f"  (could not remove a stack: {error})", file=sys.stderr)
            for graph in graphs.values():
                graph.close()
            hooks.stop()
        sizes[str(size)] = runs
    return {"latency_ms": latency_ms, "sizes": sizes}


# --------------------------------------------------------------------------- the figures


def medians(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def marginal(pass_: dict[str, Any], kind: str, step: str, key: str) -> float | None:
    """Seconds of ``key`` (cpu_s, wall_s) one more resource adds to ``step``: the difference
    of the medians at the two sizes over the resources between them."""
    sizes = sorted(pass_["sizes"], key=int)
    small, large = (pass_["sizes"][s].get(kind, {}).get(step) for s in sizes)
    if not small or not large or key not in small[0] or key not in large[0]:
        return None
    return (medians(large, key) - medians(small, key)) / (int(sizes[1]) - int(sizes[0]))


def table(pass_: dict[str, Any], key: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Per step and kind: the median at each size, the marginal cost per resource (ms) and its
    ratio to the door's floor (and, for a native stack, to the dynamic door's cost)."""
    sizes = sorted(pass_["sizes"], key=int)
    kinds = [k for k in KINDS if k in pass_["sizes"][sizes[0]]]
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for step in STEPS:
        row: dict[str, dict[str, Any]] = {}
        for kind in kinds:
            per = marginal(pass_, kind, step, key)
            cell: dict[str, Any] = {
                "median_s": {s: round(medians(pass_["sizes"][s][kind][step], key), 3)
                             for s in sizes},
                "per_resource_ms": None if per is None else round(per * 1000, 2),
            }
            row[kind] = cell
        for kind, cell in row.items():
            floor = row.get(FLOOR_OF.get(kind, ""), {}).get("per_resource_ms")
            if floor and cell["per_resource_ms"] is not None and floor > 0:
                cell["ratio_to_floor"] = round(cell["per_resource_ms"] / floor, 2)
            dynamic = row.get(DYNAMIC_OF.get(kind, ""), {}).get("per_resource_ms")
            if dynamic and cell["per_resource_ms"] is not None and dynamic > 0:
                cell["ratio_to_dynamic"] = round(cell["per_resource_ms"] / dynamic, 2)
        rows[step] = row
    return rows


#: The steps whose CPU `by_role` splits: those that call no Graph API.
SPLIT_STEPS = ("preview", "update")


def by_role(pass_: dict[str, Any] | None, step_only: bool = True) -> list[str]:
    """Markdown lines: the marginal CPU per resource of the no-change steps, split by process
    (`benchmarks.cpu_split`), for each stack; none for runs made before the split. Not
    `step_only`: the run's split also counted the state export that follows each step."""
    if not pass_:
        return []
    sizes = sorted(pass_["sizes"], key=int)
    kinds = [k for k in KINDS if k in pass_["sizes"][sizes[0]]]
    lines = ["## CPU per resource by process, no-change steps", "",
             "Marginal ms per resource, as above, of the engine (the pulumi CLI and its language "
             "host), the program, the provider (ours, the SDK's dynamic provider or a floor's) "
             "and the rest, sampled from /proc every 0.1 s (a little below the exact totals "
             "above)." + ("" if step_only else
                          " In this run the split also counted the `pulumi stack export` that "
                          "follows each step (to measure the state) under engine, and this "
                          "benchmark's own process (the emulator answering Graph, the webhook "
                          "receiver) under other: read engine as the step's and the export's, "
                          "and other as not the step's."), "",
             "| step | stack | " + " | ".join(ROLES) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in ROLES) + " |"]
    for step in SPLIT_STEPS:
        for kind in kinds:
            cells = [marginal(pass_, kind, step, f"cpu_{name}_s") for name in ROLES]
            if any(cell is None for cell in cells):
                return []
            lines.append(f"| {STEP_LABELS[step]} | {LABELS[kind]} | "
                         + " | ".join(f"{cell * 1000:.1f}" for cell in cells if cell is not None)
                         + " |")
    return [*lines, ""]


def verdicts(cpu: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Issue 27's CPU targets against a CPU table: each ratio to the floor with a target, and
    every native step against the dynamic door's."""
    found = []
    for step, row in cpu.items():
        for kind, cell in row.items():
            if kind in FLOOR_OF and step in TARGET_RATIOS and "ratio_to_floor" in cell:
                found.append({"step": step, "kind": kind, "what": "ratio to the door's floor",
                              "limit": TARGET_RATIOS[step], "measured": cell["ratio_to_floor"],
                              "met": cell["ratio_to_floor"] <= TARGET_RATIOS[step]})
            if "ratio_to_dynamic" in cell:
                found.append({"step": step, "kind": kind, "what": "ratio to the dynamic door",
                              "limit": 1.0, "measured": cell["ratio_to_dynamic"],
                              "met": cell["ratio_to_dynamic"] <= 1.0})
    return found


def render(results: dict[str, Any]) -> str:
    """The report as Markdown (also what is printed)."""
    m = results["machine"]
    lines = [
        "# CPU per resource through each door, against each door's floor",
        "",
        f"`{results['command']}`, started {results['started']}; load average "
        f"{m['loadavg_start'][0]:.2f} at the start"
        + (f", {m['loadavg_end'][0]:.2f} at the end" if m.get("loadavg_end") else "")
        + f"; {m['nproc']} CPUs ({m['cpu_model']}), pulumi {m['pulumi_cli']}, SDK "
        f"{m['pulumi_sdk']}. Sizes {results['sizes'][0]} and {results['sizes'][1]} resources "
        f"per stack, medians of {results['repeats']} lifecycle(s). A `WabaRouting` routes "
        f"{PER_WABA} numbers.",
        "",
    ]
    for name, key, unit in (("cpu", "cpu_s", "CPU"), ("wall", "wall_s", "wall time")):
        pass_ = results["passes"].get(name)
        if not pass_:
            continue
        rows = table(pass_, key)
        sizes = sorted(pass_["sizes"], key=int)
        kinds = [k for k in KINDS if k in rows["create"]]
        lines += [f"## {unit} per resource, Graph latency {pass_['latency_ms']:g} ms", "",
                  f"Marginal ms per resource between {sizes[0]} and {sizes[1]} resources"
                  + (" (x the door's floor of the same shape; native: x the dynamic door)"
                     if name == "cpu" else "") + "; the medians at each size, in s, below.",
                  "",
                  "| step | " + " | ".join(LABELS[k] for k in kinds) + " |",
                  "| --- | " + " | ".join("---:" for _ in kinds) + " |"]
        for step in STEPS:
            cells = []
            for kind in kinds:
                cell = rows[step][kind]
                text = "-" if cell["per_resource_ms"] is None else f"{cell['per_resource_ms']:.1f}"
                extra = [f"{cell['ratio_to_floor']:.2f}x"] if "ratio_to_floor" in cell else []
                if "ratio_to_dynamic" in cell:
                    extra.append(f"{cell['ratio_to_dynamic']:.2f}x dyn.")
                cells.append(text + (f" ({', '.join(extra)})" if extra and name == "cpu" else ""))
            lines.append(f"| {STEP_LABELS[step]} | " + " | ".join(cells) + " |")
        lines += ["", "| step, medians s | " + " | ".join(LABELS[k] for k in kinds) + " |",
                  "| --- | " + " | ".join("---:" for _ in kinds) + " |"]
        for step in STEPS:
            lines.append(f"| {STEP_LABELS[step]} | " + " | ".join(
                " / ".join(f"{rows[step][k]['median_s'][s]:.2f}" for s in sizes)
                for k in kinds) + " |")
        lines.append("")
    lines += ["A ratio is left out where the floor's marginal cost is not positive: at sizes this "
              "close, or on a loaded machine, the noise is larger than the difference.", ""]
    lines += by_role(results["passes"].get("cpu"), results.get("split_window") == "step")
    if "cpu" in results["passes"]:
        found = verdicts(table(results["passes"]["cpu"], "cpu_s"))
        if found:
            lines += ["## Issue 27's CPU targets", "",
                      "| step | stack | what | at most | measured | met |",
                      "| --- | --- | --- | ---: | ---: | --- |"]
            lines += [f"| {STEP_LABELS[v['step']]} | {LABELS[v['kind']]} | {v['what']} | "
                      f"{v['limit']:g}x | {v['measured']:.2f}x | "
                      f"{'yes' if v['met'] else '**no**'} |" for v in found]
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render_only:
        text = render(json.loads(args.json.read_text()))
        args.md.write_text(text)
        print(text)
        return 0
    from . import deps

    results = deps.begin("doors", sys.argv[1:] if argv is None else argv,
                         sizes=args.size_list, repeats=args.repeats, kinds=args.kind_list,
                         split_window="step", passes={})
    if results is None:
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="waba-bench-doors-"))
    home = tmp / "pulumi-home"
    home.mkdir()
    passes = [("cpu", args.cpu_latency_ms)] + ([] if args.no_wall else
                                                [("wall", args.wall_latency_ms)])
    try:
        for name, latency in passes:
            results["passes"][name] = run_pass(latency, args, home, tmp)
            args.json.write_text(json.dumps(results, indent=2))  # partial results too
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return deps.finish(results, args.json, args.md, render)


if __name__ == "__main__":
    sys.exit(main())
