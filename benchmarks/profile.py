"""``python -m benchmarks profile``: where each step's time goes through the native plugin, on
both sides of the gRPC line (issue 27).

For each stack of ``--kinds`` (default: the native `WabaRouting` and per-number stacks and the
native floor) at ``--n`` resources and no Graph latency, each step (create, no-change preview,
no-change up, refresh, destroy) is run once by the pulumi CLI itself with:

- **the engine's side**: ``pulumi --profiling PREFIX`` (the CLI writes a Go CPU profile,
  ``PREFIX.<pid>.cpu``, read here with ``go tool pprof -top``);
- **the Python side**: cProfile in the plugin process (every thread) and in the program,
  through the ``sitecustomize`` of `benchmarks.profiling`, which the processes load only when
  the benchmark sets ``BENCH_PROFILE_DIR``.

cProfile slows Python down (by about 2x on this code), so the profiles say where the time goes,
not how long a step takes. Writes, under ``--out`` (default ``benchmarks/results/profile``):
``<kind>/<step>-engine.txt`` (pprof's top functions, flat and cumulative), ``<kind>/<step>-
engine.cpu`` (the pprof file), ``<kind>/<step>-plugin.txt`` and ``-program.txt`` (pstats: CPU
by package, then the top functions by own and by cumulative time), and ``summary.md`` with the
top five costs of each step on each side.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import profiling
from .stack import BENCH_DIR, STEP_LABELS, STEPS

KINDS = ("native-routing", "native-ours", "native-floor-routing", "native-floor")
RESULTS = BENCH_DIR / "results" / "profile"
#: Top functions kept in each text summary.
TOP = 25


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100,
                        help="resources per stack (default: 100; WabaRoutings of 10 numbers)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"stacks to profile (default: {','.join(KINDS)}; any kind of "
                             "python -m benchmarks doors)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="Graph latency (default 0: CPU only)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- the engine side


def pprof_top(cpu_file: Path, cumulative: bool = False) -> str:
    """``go tool pprof -top`` of a Go CPU profile (the pulumi CLI's own symbols are in it)."""
    done = subprocess.run(
        ["go", "tool", "pprof", "-top", f"-nodecount={TOP}", *(["-cum"] if cumulative else []),
         str(cpu_file)],
        capture_output=True, text=True, check=False, env={**os.environ, "PPROF_TMPDIR":
                                                          str(cpu_file.parent)})
    return done.stdout if done.returncode == 0 else f"(go tool pprof failed: {done.stderr})"


def pprof_rows(text: str) -> list[dict[str, Any]]:
    """The rows of a ``pprof -top`` listing: flat seconds, flat %, cumulative seconds, name."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[1].endswith("%") and parts[4].endswith("%"):
            rows.append({"flat": parts[0], "flat_pct": parts[1], "cum": parts[3],
                         "function": " ".join(parts[5:])})
    return rows


# --------------------------------------------------------------------------- the Python side


def pstats_text(files: list[Path], title: str) -> tuple[str, dict[str, Any]]:
    """A process kind's profiles as text (CPU by package, then the top functions by own and by
    cumulative time), and the attribution (`profiling.attribute`)."""
    stats = profiling.load_stats(files)
    if stats is None:
        return f"{title}: no profile was written\n", {}
    summary = profiling.attribute(stats)
    out = io.StringIO()
    out.write(f"{title}\n\nown time by package (s): "
              + ", ".join(f"{k} {v:.3f}" for k, v in summary["self_s_by_category"].items())
              + "\n\n")
    for order in ("tottime", "cumulative"):
        stream = io.StringIO()
        stats.stream = stream  # type: ignore[attr-defined]  # where print_stats writes
        stats.sort_stats(order).print_stats(TOP)
        body = stream.getvalue()
        body = body[body.find("   ncalls"):] if "   ncalls" in body else body
        out.write(f"--- top {TOP} by {order} ---\n")
        out.write("\n".join(_short(line) for line in body.splitlines()) + "\n\n")
    return out.getvalue(), summary


def _short(line: str) -> str:
    """A pstats line without this machine's folders."""
    head, sep, where = line.rpartition(" ")
    if "/" in where and "(" in where:
        path, _, rest = where.partition(":")
        return f"{head}{sep}{profiling.short_path(path)}:{rest}"
    return line


def top_own(summary: dict[str, Any], stats_files: list[Path], limit: int = 5) -> list[str]:
    """The ``limit`` functions with the most own time, waiting left out."""
    stats = profiling.load_stats(stats_files)
    if stats is None:
        return []
    raw = stats.stats  # type: ignore[attr-defined]
    rows = sorted(((func, v[2], v[1]) for func, v in raw.items()
                   if not (func[0] == "~" and (profiling.IDLE.search(func[2])
                                               or profiling.NETWORK.search(func[2])))),
                  key=lambda item: item[1], reverse=True)
    return [f"{profiling._label(func)} {own:.3f} s ({calls} calls)"
            for func, own, calls in rows[:limit]]


# --------------------------------------------------------------------------- the run


def run_kind(kind: str, args: argparse.Namespace, home: Path, tmp: Path,
             site: Path) -> dict[str, Any]:
    from .__main__ import Graph, _config, bench_stack, receiver
    from .doors import shape

    numbers, per_waba = shape(kind, args.n)
    out = args.out / kind
    out.mkdir(parents=True, exist_ok=True)
    collect = tmp / f"collect-{kind}"
    collect.mkdir()
    hooks = receiver()
    graph = Graph(numbers, args.latency_ms, hooks, per_waba=per_waba)
    stack = bench_stack(kind, tmp / kind, home, profiling.env_for(collect, site))
    result: dict[str, Any] = {}
    try:
        stack.configure(numbers, hooks.base_url, _config(kind, graph), per_waba=per_waba)
        for step in STEPS:
            prefix = collect / f"{step}-engine"
            cpu_before = _children_cpu()
            wall = stack.run_cli(step, "--profiling", str(prefix))
            cpu = _children_cpu() - cpu_before
            profiling.wait_for_dumps(collect, {
                "provider": 1, "program": 1 if step in ("create", "preview", "update") else 0})
            row: dict[str, Any] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
            # The engine's side: the CLI's CPU profile (its memory profile and trace are
            # left out: large, and not what this asks).
            for path in collect.glob(f"{step}-engine.*.cpu"):
                shutil.move(str(path), out / f"{step}-engine.cpu")
            for path in collect.glob(f"{step}-engine.*"):
                path.unlink()
            engine_cpu = out / f"{step}-engine.cpu"
            if engine_cpu.exists():
                flat, cum = pprof_top(engine_cpu), pprof_top(engine_cpu, cumulative=True)
                (out / f"{step}-engine.txt").write_text(
                    f"pulumi CLI (engine), {kind}, {STEP_LABELS[step]}, N = {args.n}\n\n"
                    f"--- flat ---\n{flat}\n--- cumulative ---\n{cum}")
                row["engine_top"] = pprof_rows(flat)[:5]
            # The Python side: the plugin and the program.
            for process, name in (("provider", "plugin"), ("program", "program")):
                files = sorted(collect.glob(f"{process}-*.prof"))
                metas = [json.loads(p.read_text()) for p in collect.glob(f"{process}-*.json")]
                text, summary = pstats_text(files, f"{name} process(es), {kind}, "
                                                   f"{STEP_LABELS[step]}, N = {args.n}")
                (out / f"{step}-{name}.txt").write_text(text)
                row[name] = {"processes": len(metas),
                             "cpu_s": round(sum(m["cpu_s"] for m in metas), 3),
                             "by_package_s": summary.get("self_s_by_category", {}),
                             "top_own": top_own(summary, files)}
                for path in [*files, *collect.glob(f"{process}-*.json")]:
                    path.unlink()
            result[step] = row
            print(f"  {kind:21} {STEP_LABELS[step]:20} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                  f"plugin cpu {row['plugin']['cpu_s']:.2f} s  engine top: "
                  + "; ".join(r["function"] for r in row.get("engine_top", [])[:2]), flush=True)
    finally:
        try:
            stack.remove()
        except Exception as error:  # cleanup goes on; the run is reported
            print(f"  (could not remove the stack: {error})", file=sys.stderr)
        graph.close()
        hooks.stop()
    return result


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Where each step's time goes through the native plugin (profiled)",
        "",
        f"`{results['command']}`, started {results['started']}; load average "
        f"{m['loadavg_start'][0]:.2f} at the start"
        + (f", {m['loadavg_end'][0]:.2f} at the end" if m.get("loadavg_end") else "")
        + f"; {m['nproc']} CPUs, pulumi {m['pulumi_cli']}. N = {results['n']} resources per "
        f"stack, Graph latency {results['latency_ms']:g} ms. Profiled processes run slower: "
        "these say where the time goes, not how long it takes. Per step: the whole process "
        "tree's CPU, the plugin's and the program's CPU (own measure of each process), and the "
        "top five functions by own time on each side (the engine: `go tool pprof -top` of the "
        "CLI; the plugin: cProfile, waiting left out). The full listings are beside this file.",
        "",
    ]
    for kind, profiled in results["kinds"].items():
        run = profiled["run"]
        lines += [f"## {kind}", "", f"Profiled {run['started']} at N = {run['n']}, load average "
                  f"{run['loadavg_start']:.2f} at that run's start.", ""]
        for step, row in profiled["steps"].items():
            plugin, program = row.get("plugin", {}), row.get("program", {})
            lines += [f"### {STEP_LABELS[step]}: wall {row['wall_s']} s, CPU {row['cpu_s']} s "
                      f"(plugin {plugin.get('cpu_s', 0)} s, program {program.get('cpu_s', 0)} s)",
                      "",
                      "- plugin, own time by package: " + ", ".join(
                          f"{k} {v:.2f} s" for k, v in list(
                              plugin.get("by_package_s", {}).items())[:6]),
                      "- plugin, top five: " + "; ".join(
                          f"`{t}`" for t in plugin.get("top_own", [])),
                      "- engine, top five (flat): " + "; ".join(
                          f"`{r['function']}` {r['flat']} ({r['flat_pct']})"
                          for r in row.get("engine_top", [])),
                      ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from . import deps
    from .doors import selected

    args = parse_args(sys.argv[1:] if argv is None else argv)
    kinds = selected(args.kinds)
    results = deps.begin("profile", sys.argv[1:] if argv is None else argv, go=True, n=args.n,
                         latency_ms=args.latency_ms, kinds={})
    if results is None:
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="waba-bench-profile-"))
    home = tmp / "pulumi-home"
    home.mkdir()
    site = tmp / "site"
    profiling.install_sitecustomize(site)
    started = time.perf_counter()
    earlier = args.out / "summary.json"
    if earlier.exists():  # kinds profiled by an earlier run into --out are kept
        before = json.loads(earlier.read_text())
        for kind, profiled in before.get("kinds", {}).items():
            results["kinds"][kind] = profiled if "run" in profiled else {
                "run": {"started": before["started"], "n": before["n"],
                        "loadavg_start": before["machine"]["loadavg_start"][0]},
                "steps": profiled}
    try:
        for kind in kinds:
            row = run_kind(kind, args, home, tmp, site)
            results["kinds"][kind] = {"run": {"started": results["started"], "n": args.n,
                                              "loadavg_start": results["machine"][
                                                  "loadavg_start"][0]}, "steps": row}
            (args.out / "summary.json").write_text(json.dumps(results, indent=2))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["duration_s"] = round(time.perf_counter() - started, 1)
    (args.out / "summary.json").write_text(json.dumps(results, indent=2))
    text = render(results)
    (args.out / "summary.md").write_text(text)
    print("\n" + text + f"\nwrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
