"""Tables for the terminal, BENCHMARKS.md and the PNG plot, from the results dict."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from . import discover
from .stack import STEP_LABELS, STEPS
from .targets import (
    ROUTING_CREATE_S,
    ROUTING_N,
    ROUTING_REFRESH_S,
    ROUTING_STATE_BYTES_PER_NUMBER,
    numbers_for,
)

NOTES = Path(__file__).resolve().parent / "notes.md"
#: The shard benchmark's section (`benchmarks.shards`), included when it exists.
SHARDS = Path(__file__).resolve().parent / "shards.md"


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _ops(calls: dict[str, Any]) -> str:
    ops = calls.get("by_operation") or {}
    return ", ".join(f"{op} {count}" for op, count in ops.items()) or "none"


def _targets_short(step: dict[str, Any]) -> str:
    return " ".join(f"{name}:{'ok' if t['met'] else 'NO'}" for name, t in step["targets"].items())


# --------------------------------------------------------------------------- terminal

#: The stacks, in the order the report shows them, and their names there.
KIND_LABELS = {"routing": "WabaRouting", "native-routing": "native WabaRouting",
               "ours": "per-number", "native-ours": "native per-number", "floor": "floor"}
KIND_COLORS = {"routing": "tab:green", "native-routing": "tab:olive", "ours": "tab:blue",
               "native-ours": "tab:cyan", "floor": "tab:gray"}


def kinds_of(result: dict[str, Any]) -> list[str]:
    """The stacks a size's results hold (older results have no ``routing``)."""
    return [kind for kind in KIND_LABELS if kind in result["steps"]["create"]]


def text_table(result: dict[str, Any]) -> str:
    n = result["n"]
    kinds = kinds_of(result)
    head = (f"{'step':20} " + " ".join(f"{KIND_LABELS[k][:11]:>11}" for k in kinds)
            + "  " + " ".join(f"{'calls ' + KIND_LABELS[k][:8]:>14}" for k in kinds[:-1])
            + f" {'in flight':>9} " + " ".join(f"{'B/num ' + KIND_LABELS[k][:5]:>11}"
                                               for k in kinds)
            + "  issue 5 (per-number)")
    lines = [f"\nN = {n} (median of {result['repeats']})", head, "-" * len(head)]
    for step in STEPS:
        s = result["steps"][step]
        lines.append(
            f"{STEP_LABELS[step]:20} "
            + " ".join(f"{s[k]['wall_s']:11.2f}" for k in kinds) + "  "
            + " ".join(f"{s[k]['graph']['total']:14}" for k in kinds[:-1])
            + f" {'/'.join(str(s[k]['in_flight_max']) for k in kinds[:-1]):>9} "
            + " ".join(f"{s[k]['state'].get('bytes_per_number', 0):11.0f}" for k in kinds)
            + f"  {_targets_short(s)}"
        )
    for name, target in (result.get("routing_targets") or {}).items():
        lines.append(f"  issue 10 {name}: {'met' if target['met'] else 'NOT MET'}: "
                     f"{target['got']} (want {target['want']})")
    return "\n".join(lines)


def profile_step_text(step: str, kind: str, summary: dict[str, Any], n: int) -> str:
    lines = [f"\n-- {STEP_LABELS[step]} / {kind}: wall {summary['wall_s']:.2f} s, "
             f"Graph calls {summary['graph']['total']}, connections {summary['connections']}"]
    for proc in ("provider", "program"):
        p = summary.get(proc) or {}
        if not p.get("processes"):
            continue
        lines.append(f"   {proc}: {p['processes']} process(es), CPU {p['cpu_s']:.2f} s "
                     f"({1000 * p['cpu_s'] / max(1, summary.get('resources', n)):.2f} "
                     "ms/resource), "
                     f"alive {p['lifetime_s']:.2f} s")
        cats = p.get("self_s_by_category") or {}
        lines.append("     self time: " + ", ".join(f"{k} {v:.2f}" for k, v in cats.items()
                                                     if v >= 0.005))
        for row in (p.get("ours_by_cumulative") or [])[:8]:
            lines.append(f"     own   {row['cum_s']:7.3f} s cum {row['calls']:6} calls "
                         f"{row['cum_ms_per_call']:8.3f} ms/call  {row['function']}")
        for row in (p.get("sdk_entry_points") or [])[:6]:
            lines.append(f"     sdk   {row['cum_s']:7.3f} s cum {row['calls']:6} calls "
                         f"{row['cum_ms_per_call']:8.3f} ms/call  {row['function']}")
        for row in (p.get("http") or [])[:4]:
            lines.append(f"     http  {row['cum_s']:7.3f} s cum {row['calls']:6} calls "
                         f"{row['cum_ms_per_call']:8.3f} ms/call  {row['function']}")
    return "\n".join(lines)


def imports_text(imports: dict[str, Any]) -> str:
    lines = []
    for label, entry in imports.items():
        lines.append(f"   {label}: import {entry['module']} {1000 * entry['import_s']:.0f} ms "
                     f"(after the SDK's own {1000 * entry['sdk_import_s']:.0f} ms); new "
                     f"packages: {', '.join(entry['new_top_level']) or 'none'}")
        for row in entry["largest"][:10]:
            lines.append(f"      {row['cumulative_ms']:7.1f} ms cumulative "
                         f"{row['self_ms']:6.1f} ms self  {row['module']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plot


def plot(results: dict[str, Any], path: Path) -> None:
    """One panel per step: wall time against N for each stack (log-log), issue 10's time
    targets marked; WabaRouting's state per number against its numbers per WABA; and the Graph
    calls in flight during WabaRouting's create and refresh at the largest N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    ns = [r["n"] for r in sizes]
    kinds = kinds_of(sizes[0])
    fig = plt.figure(figsize=(16, 8.5))
    grid = fig.add_gridspec(2, 4)
    panels = [fig.add_subplot(grid[0, i]) for i in range(4)] + [fig.add_subplot(grid[1, 0])]
    limits = {"create": ROUTING_CREATE_S, "refresh": ROUTING_REFRESH_S}
    for ax, step in zip(panels, STEPS, strict=True):
        for kind in kinds:
            walls = [r["steps"][step][kind]["wall_s"] for r in sizes]
            ax.plot(ns, walls, "-o", color=KIND_COLORS[kind], label=KIND_LABELS[kind])
        if step in limits and ROUTING_N in ns:
            ax.plot([ROUTING_N], [limits[step]], "r_", markersize=22, markeredgewidth=2,
                    label=f"target {limits[step]:g} s (WabaRouting)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ns, [str(n) for n in ns])
        _log_labels(ax.yaxis)
        ax.set_title(STEP_LABELS[step])
        ax.set_xlabel("N (phone numbers, 10 per WABA)")
        ax.set_ylabel("wall time (s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    _plot_state(fig.add_subplot(grid[1, 1]), results)
    _plot_timeline(fig.add_subplot(grid[1, 2:]), sizes[-1])
    fig.suptitle(f"WabaRouting vs per-number PhoneCallbackOverride vs no-op floor, Graph "
                 f"latency {results['latency_ms']:g} ms per call", fontsize=13)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _log_labels(axis: Any) -> None:
    """Plain numbers on a log axis: every power of ten, and 2 and 5 times it between."""
    from matplotlib import ticker

    def label(value: float, _pos: int) -> str:
        mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
        return f"{value:g}" if mantissa in (1, 2, 5) else ""

    axis.set_major_formatter(ticker.FuncFormatter(label))
    axis.set_minor_formatter(ticker.FuncFormatter(label))


def _plot_state(ax: Any, results: dict[str, Any]) -> None:
    from matplotlib import ticker

    sweep = results.get("state_sweep") or []
    if sweep:
        ks = [row["per_waba"] for row in sweep]
        ax.plot(ks, [row["bytes_per_number"] for row in sweep], "-o",
                color=KIND_COLORS["routing"], label="WabaRouting (one per WABA)")
    for kind in ("ours", "native-ours", "floor"):
        states = [r["steps"]["create"][kind]["state"] for r in results["sizes"]
                  if kind in r["steps"]["create"]
                  and r["steps"]["create"][kind]["state"].get("bytes_per_number")]
        if states:
            ax.axhline(states[-1]["bytes_per_number"], color=KIND_COLORS[kind], linestyle="--",
                       label=f"{KIND_LABELS[kind]} (one per number)")
    ax.axhline(ROUTING_STATE_BYTES_PER_NUMBER, color="red", linestyle=":",
               label=f"target {ROUTING_STATE_BYTES_PER_NUMBER:.0f} B")
    ax.axvline(10, color="black", alpha=0.3, linewidth=1, label="10: the benchmark's WABAs")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    _log_labels(ax.yaxis)
    ax.set_xlabel("numbers per WABA")
    ax.set_ylabel("state bytes per number (after create)")
    ax.set_title("State per phone number")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def _plot_timeline(ax: Any, result: dict[str, Any]) -> None:
    for kind, (step, style) in ((k, s) for k in ("routing", "native-routing")
                                for s in (("create", "-"), ("refresh", "--"))):
        entry = result["steps"][step].get(kind) or {}
        timeline = entry.get("timeline")
        if not timeline:
            continue
        width = timeline["curve_slice_s"]
        xs = [(i + 0.5) * width for i in range(len(timeline["curve"]))]
        ax.plot(xs, timeline["curve"], style, color=KIND_COLORS[kind],
                label=f"{KIND_LABELS[kind]} {STEP_LABELS[step]}: {entry['wall_s']:.1f} s, "
                      f"{entry['graph']['total']} calls")
        ax.axvline(timeline["first_call_s"], color=KIND_COLORS[kind], linestyle=style,
                   alpha=0.35)
    ax.set_xlabel("seconds since the step started (vertical lines: first Graph call)")
    ax.set_ylabel("Graph calls in flight (mean per slice)")
    wabas = result.get("wabas", 0)
    ax.set_title(f"WabaRouting at N = {result['n']} ({wabas} WABA{'s' if wabas != 1 else ''}): "
                 "Graph calls in flight")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


# --------------------------------------------------------------------------- markdown


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve().parent)


def markdown(results: dict[str, Any], plot_path: Path, out: Path, json_path: Path) -> str:
    m, conc = results["machine"], results["concurrency"]
    lat = results["latency_ms"]
    three_way = all("routing" in r["steps"]["create"] for r in results["sizes"])
    lines = [
        "# Benchmarks",
        "",
        "What routing N phone numbers costs at solution-provider scale, three ways with the "
        "same callback URIs: **WabaRouting**, one `WabaRouting` per WABA (issue 10); "
        "**per-number**, one `PhoneCallbackOverride` per number (issue 5); and the **floor**, "
        "the per-number stack shape on a no-op dynamic resource (`benchmarks/noop.py`: same "
        "inputs, the verify token a secret, pickled by reference, no HTTP). The first two "
        "also through the native plugin (**native WabaRouting**, **native per-number**: "
        "`waba_webhooks.native`, served by `pulumi-resource-whatsapp`) when the run has them "
        "(`--kinds`). Generated by the "
        "benchmark; do not edit by hand (analysis lives in `benchmarks/notes.md`, included "
        "below).",
        "",
        "Reproduce (the pinned engine on PATH, from the repository root):",
        "",
        "```sh",
        "bin/setup >/dev/null && .venv/bin/pip install -q -e '.[bench]'  # matplotlib: the plot",
        'export PATH="$(tools/install-engine | tail -n1):$PWD/.venv/bin:$PATH" '
        "PULUMI_SKIP_UPDATE_CHECK=true",
        f".venv/bin/{results['command']}",
    ]
    profile = results.get("profile")
    if profile and profile.get("command") and profile["command"] != results["command"]:
        lines.append(f".venv/bin/{profile['command']}")
    lines += [
        "```",
        "",
        f"Run {results['started']} on {m['nproc']} CPUs ({m['cpu_model']}), "
        f"{m['memory_gib']} GiB, Python {m['python']}, pulumi CLI {m['pulumi_cli']} "
        f"(SDK {m['pulumi_sdk']}), file backend, passphrase secrets; load average "
        f"{m['loadavg_start'][0]:.2f} at the start"
        + (f", {m['loadavg_end'][0]:.2f} at the end" if m.get("loadavg_end") else "")
        + (f"; engine environment {results['engine_env']}" if results.get("engine_env") else "")
        + ". The machine is shared and noisy: sizes up to the repeat limit are the median of "
        "several lifecycles (the `runs` column).",
        "",
        "**Method.** For each N, every stack has its own emulator seeded with the same N phone "
        f"numbers (10 per WABA) and a latency of {lat:g} ms per Graph call; one webhook "
        "receiver answers Meta's verification calls for all, so the callback URIs are the "
        "same. The stacks take turns step by step, in an order that rotates each lifecycle. "
        "Wall time is `time.perf_counter()` around the Automation API call (CLI start, "
        "program, engine, provider process, state writes). Graph calls are the emulator's "
        "counters (delta per step); *in flight* is the most Graph calls the emulator served at "
        "once, *conns* the TCP connections they came on. State bytes are each resource's entry "
        "in `pulumi stack export` as compact JSON; *per number* divides a `WabaRouting`'s "
        "entry by the numbers it lists, and splits it into what the entry pays once "
        "(*fixed*: the entry with its per-number maps emptied) and what each number adds.",
        "",
        f"**Concurrency.** The engine runs up to {conc['engine_parallel']} resource operations "
        f"at once ({conc['engine_parallel_source']}: `defaultParallel()` in "
        "pkg/cmd/pulumi/operations/up.go, also for preview/refresh/destroy), but the dynamic "
        "provider process serves gRPC with `futures.ThreadPoolExecutor(max_workers="
        f"{conc['provider_workers']})` (pulumi/dynamic/__main__.py), so at most "
        f"**{conc['effective']}** provider calls run at once. A `PhoneCallbackOverride` makes "
        f"its Graph calls one after the other, so at most {conc['effective']} are in flight; a "
        "`WabaRouting` writes on a pool of `whatsapp:writeConcurrency` "
        f"({conc.get('routing_write_concurrency', 8)} here), so up to "
        f"{conc['effective'] * conc.get('routing_write_concurrency', 8)}. The native plugin "
        "(`pulumi-resource-whatsapp`) runs each provider call on a pool of "
        f"{conc.get('native_provider_workers', 64)} threads, so the engine's "
        f"{conc['engine_parallel']} are its limit (measured: the native section). For the "
        "issue-5 "
        f"table, Graph-call time = calls x {lat:g} ms / {conc['effective']} and budget = "
        "1.2 x (floor + Graph-call time).",
        "",
        f"![time per step against N]({_rel(plot_path, out)})",
        "",
    ]
    if three_way:
        lines += _routing_targets_markdown(results)
        lines += _three_way_markdown(results)
        lines += _routing_variant_markdown(results)
        lines += _state_sweep_markdown(results)
    lines += _native_markdown(results)
    lines += _issue5_markdown(results)
    variant = results.get("app_id_variant")
    if variant:
        # Older results hold one stack's counts at the top level.
        per_kind = variant.get("kinds") or {"ours": variant}
        lines += [
            f"## `whatsapp:appId` set or looked up (N = {variant['n']})",
            "",
            "| step | stack | GET /app without appId | GET /app with appId | all Graph calls "
            "without / with |",
            "| --- | --- | ---: | ---: | --- |",
        ]
        for step in STEPS:
            for kind, counts in per_kind.items():
                lines.append(f"| {STEP_LABELS[step]} | {KIND_LABELS.get(kind, kind)} | "
                             f"{counts['without_app_id'][step]} | "
                             f"{counts['with_app_id'][step]} | {counts['total_without'][step]} "
                             f"/ {counts['total_with'][step]} |")
        lines.append("")
    if profile:
        lines += _profile_markdown(profile)
    if SHARDS.exists():  # python -m benchmarks.shards writes it
        lines += [SHARDS.read_text().strip(), ""]
    if NOTES.exists() and not results.get("engine_env"):  # the notes are about the main run
        lines += ["## Analysis", "", NOTES.read_text().strip(), ""]
    lines += [f"Raw results: `{_rel(json_path, out)}`.", ""]
    lines += discover.section_from_file()  # issue 14's figure, measured on its own
    return "\n".join(lines)



#: (dynamic, native) stacks of the same resources.
NATIVE_PAIRS = (("routing", "native-routing"), ("ours", "native-ours"))


def _cpu_per_resource(r: dict[str, Any], step: str, kind: str) -> float | None:
    """CPU ms per resource of ``kind``'s step (every process of the step, unprofiled)."""
    entry = r["steps"][step].get(kind) or {}
    resources = (r.get("resources") or {}).get(kind)
    if "cpu_s" not in entry or not resources:
        return None
    return 1000 * entry["cpu_s"] / resources


def _native_markdown(results: dict[str, Any]) -> list[str]:
    sizes = [r for r in results["sizes"]
             if any(native in r["steps"]["create"] for _, native in NATIVE_PAIRS)]
    if not sizes:
        return []
    conc = results["concurrency"]
    lines = [
        "## Native plugin against the dynamic provider",
        "",
        "The same resources declared through `waba_webhooks.native` (the "
        "`pulumi-resource-whatsapp` plugin, `benchmarks/native-routing` and "
        "`benchmarks/native-ours`) beside the dynamic ones, in the same run and the same "
        "rotation. *CPU* is the user + system time of every process the step ran (the CLI and "
        "engine, the language host, the program, the provider: `RUSAGE_CHILDREN` around the "
        "Automation API call, unprofiled), so it includes the CLI's fixed start-up; *per "
        "resource* divides it by the stack's resources (a `WabaRouting` per WABA, else one per "
        "number), and */ floor* by the floor's CPU per resource in the same step.",
        "",
    ]
    for r in sizes:
        kinds = kinds_of(r)
        lines += [
            f"### N = {r['n']} ({r['wabas']} WABA{'s' if r['wabas'] != 1 else ''}, median of "
            f"{r['repeats']})",
            "",
            "| step | stack | resources | wall s | Graph calls | in flight | CPU s | "
            "CPU ms per resource | / floor |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for step in STEPS:
            floor = _cpu_per_resource(r, step, "floor")
            for kind in kinds:
                entry = r["steps"][step][kind]
                mine = _cpu_per_resource(r, step, kind)
                ratio = f"{mine / floor:.2f}" if mine is not None and floor else "-"
                lines.append(
                    f"| {STEP_LABELS[step]} | {KIND_LABELS[kind]} | "
                    f"{(r.get('resources') or {}).get(kind, '')} | {entry['wall_s']:.2f} | "
                    f"{entry['graph']['total']} | {entry['in_flight_max']} | "
                    f"{entry.get('cpu_s', 0):.2f} | "
                    + (f"{mine:.1f}" if mine is not None else "-") + f" | {ratio} |")
        lines += [
            "",
            "| stack | B per resource after create | B per number | `__provider` B (inputs + "
            "outputs) | entry / declared inputs | export B |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for kind in kinds:
            state = r["steps"]["create"][kind]["state"]
            if not state.get("entry_bytes"):
                continue
            lines.append(f"| {KIND_LABELS[kind]} | {state['entry_bytes']:.0f} | "
                         f"{state['bytes_per_number']:.0f} | {state['entry_provider_bytes']:.0f}"
                         f" | {state['ratio_to_inputs']:.1f} | {state['export_bytes']} |")
        lines.append("")
        for dynamic, native in NATIVE_PAIRS:
            if dynamic not in kinds or native not in kinds:
                continue
            peak = {k: max(r["steps"][step][k]["in_flight_max"] for step in STEPS)
                    for k in (dynamic, native)}
            lines.append(
                f"- **Calls in flight, {KIND_LABELS[dynamic]} against {KIND_LABELS[native]}:** "
                f"at most {peak[dynamic]} against {peak[native]} over the steps (engine "
                f"--parallel {conc['engine_parallel']}; the dynamic provider's gRPC pool "
                f"{conc['provider_workers']}, the plugin's {conc.get('native_provider_workers')}"
                ").")
        lines.append("")
    return lines


def _issue5_markdown(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Issue 5: per-number resources against the floor",
        "",
        "*Ours* here is the per-number `PhoneCallbackOverride` stack.",
        "",
        "### Targets",
        "",
        "| N | step | Graph calls | time | state |",
        "| ---: | --- | --- | --- | --- |",
    ]
    sizes = [r for r in results["sizes"] if "targets" in r["steps"]["create"]]
    for r in sizes:
        for step in STEPS:
            s = r["steps"][step]
            t = s["targets"]
            cells = []
            for name in ("calls", "time", "state"):
                if name == "state" and name in t:
                    so, sf = s["ours"]["state"], s["floor"]["state"]
                    cells.append(f"{_yes(t[name]['met'])}: {so['entry_bytes']:.0f} B = "
                                 f"{so['ratio_to_inputs']:.1f} x inputs (floor "
                                 f"{sf.get('ratio_to_inputs', 0):.1f} x; want <= 1.5 x = "
                                 f"{1.5 * so['declared_inputs_bytes']:.0f} B)")
                elif name in t:
                    cells.append(f"{_yes(t[name]['met'])}: {t[name]['got']} "
                                 f"(want {t[name]['want']})")
                else:
                    cells.append("-")
            lines.append(f"| {r['n']} | {STEP_LABELS[step]} | " + " | ".join(cells) + " |")
    lines += ["", "### Results", ""]
    for r in sizes:
        n = r["n"]
        lines += [
            f"#### N = {n}",
            "",
            "| step | ours s | floor s | ours / floor | Graph-call s | budget s | "
            "ours / (floor + Graph) | over budget s | Graph calls by kind | reads / writes | "
            "in flight | conns | runs (ours) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: "
            "| --- |",
        ]
        for step in STEPS:
            s = r["steps"][step]
            ours, floor = s["ours"], s["floor"]
            calls = ours["graph"]
            lines.append(
                f"| {STEP_LABELS[step]} | {ours['wall_s']:.2f} | {floor['wall_s']:.2f} | "
                f"{s['ratio_to_floor']:.2f} | {s['graph_s']:.2f} | {s['budget_s']:.2f} | "
                f"{s['ratio_to_floor_plus_graph']:.2f} | "
                f"{ours['wall_s'] - s['budget_s']:+.2f} | {_ops(calls)} | "
                f"{calls['reads']} / {calls['writes']} | {ours['in_flight_max']} | "
                f"{ours['connections']} | "
                f"{', '.join(f'{w:.1f}' for w in ours.get('wall_s_all', []))} |"
            )
        lines += [
            "",
            "| state after | ours B/resource | floor B/resource | declared inputs B | "
            "ours / inputs | floor / inputs | ours: inputs / outputs / `__provider` (both) / "
            "rest | export bytes ours / floor |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for step in ("create", "update", "refresh"):
            so = r["steps"][step]["ours"]["state"]
            sf = r["steps"][step]["floor"]["state"]
            if not so.get("entry_bytes"):
                continue
            lines.append(
                f"| {STEP_LABELS[step]} | {so['entry_bytes']:.0f} | "
                f"{sf.get('entry_bytes', 0):.0f} | {so['declared_inputs_bytes']:.0f} | "
                f"{so['ratio_to_inputs']:.1f} | {sf.get('ratio_to_inputs', 0):.1f} | "
                f"{so['entry_inputs_bytes']:.0f} / {so['entry_outputs_bytes']:.0f} / "
                f"{so['entry_provider_bytes']:.0f} / {so['entry_other_bytes']:.0f} | "
                f"{so['export_bytes']} / {sf['export_bytes']} |"
            )
        first = r["steps"]["create"]["ours"]["state"]
        if first.get("output_keys"):
            floor_keys = r["steps"]["create"]["floor"]["state"].get("output_keys", [])
            lines += ["", f"Output properties, ours: `{', '.join(first['output_keys'])}`; "
                      f"floor: `{', '.join(floor_keys)}`."]
        lines.append("")
    return lines


def _routing_targets_markdown(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Issue 10: WabaRouting targets",
        "",
        f"Command: `{results['command']}` (Graph latency {results['latency_ms']:g} ms per "
        "call). Time targets apply at N = 1000 (100 WABAs of 10); the others at every N.",
        "",
        "| N | WABAs | target | want | measured | met |",
        "| ---: | ---: | --- | --- | --- | --- |",
    ]
    for r in results["sizes"]:
        for name, target in (r.get("routing_targets") or {}).items():
            lines.append(f"| {r['n']} | {r['wabas']} | {name} | {target['want']} | "
                         f"{target['got']} | {_yes(target['met'])} |")
    if not any(r["n"] == ROUTING_N for r in results["sizes"]):
        lines.append(f"| {ROUTING_N} | | create time, refresh time | | not run | |")
    lines.append("")
    return lines


def _three_way_markdown(results: dict[str, Any]) -> list[str]:
    lines = ["## Three ways: WabaRouting, per-number resources, floor", ""]
    for r in results["sizes"]:
        n, kinds = r["n"], kinds_of(r)
        callers = [k for k in kinds if k != "floor"]
        lines += [
            f"### N = {n} ({r['wabas']} WABA{'s' if r['wabas'] != 1 else ''} of "
            f"{r['per_waba']})",
            "",
            "| step | " + " | ".join(f"{KIND_LABELS[k]} s" for k in kinds)
            + " | WabaRouting Graph calls | Graph calls "
            + " / ".join(KIND_LABELS[k] for k in callers)
            + f" | in flight {' / '.join(KIND_LABELS[k] for k in callers)} | "
            f"conns {' / '.join(KIND_LABELS[k] for k in callers)} | "
            f"runs {'; '.join(KIND_LABELS[k] for k in kinds)} |",
            "| --- | " + " | ".join("---:" for _ in kinds) + " | --- | ---: | ---: | ---: | --- |",
        ]
        for step in STEPS:
            s = r["steps"][step]
            runs = "; ".join(", ".join(f"{w:.1f}" for w in s[k].get("wall_s_all", []))
                             for k in kinds)
            lines.append(
                f"| {STEP_LABELS[step]} | "
                + " | ".join(f"{s[k]['wall_s']:.2f}" for k in kinds)
                + f" | {s['routing']['graph']['total']}: {_ops(s['routing']['graph'])} | "
                + " / ".join(str(s[k]["graph"]["total"]) for k in callers) + " | "
                + " / ".join(str(s[k]["in_flight_max"]) for k in callers) + " | "
                + " / ".join(str(s[k]["connections"]) for k in callers) + f" | {runs} |"
            )
        lines += [
            "",
            "| state after | " + " | ".join(f"{KIND_LABELS[k]} B/number" for k in kinds)
            + " | WabaRouting entry: fixed + per number | export B "
            + " / ".join(KIND_LABELS[k] for k in kinds) + " |",
            "| --- | " + " | ".join("---:" for _ in kinds) + " | --- | --- |",
        ]
        for step in ("create", "update", "refresh"):
            states = {k: r["steps"][step][k]["state"] for k in kinds}
            st = states["routing"]
            if not st.get("bytes_per_number"):
                continue
            per_resource = st["numbers"] / max(1, st["resources"])
            lines.append(
                f"| {STEP_LABELS[step]} | "
                + " | ".join(f"{states[k].get('bytes_per_number', 0):.0f}" for k in kinds)
                + f" | {st['entry_bytes']:.0f} B = {st['fixed_bytes_per_resource']:.0f} + "
                f"{per_resource:g} x {st['added_bytes_per_number']:.0f} | "
                + " / ".join(str(states[k]["export_bytes"]) for k in kinds) + " |"
            )
        lines += ["", *_timeline_markdown(r), ""]
    return lines


def _timeline_markdown(r: dict[str, Any]) -> list[str]:
    """When each Graph-calling stack's steps wait on Graph (the emulator's view)."""
    lines = [
        "When Graph works (from the emulator: seconds from the step's start to the first Graph "
        "call, seconds with at least one call in flight, seconds after the last call ended, "
        "and the mean in flight while any is):",
        "",
        "| step | stack | wall s | before first call s | Graph busy s | after last call s | "
        "mean in flight while busy |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step in ("create", "refresh", "destroy"):
        for kind in ("routing", "native-routing", "ours", "native-ours"):
            entry = r["steps"][step].get(kind) or {}
            t = entry.get("timeline")
            if not t:
                continue
            mean = t["call_s"] / t["busy_s"] if t["busy_s"] else 0
            lines.append(f"| {STEP_LABELS[step]} | {KIND_LABELS[kind]} | {entry['wall_s']:.2f} | "
                         f"{t['first_call_s']:.2f} | {t['busy_s']:.2f} | "
                         f"{t['after_last_call_s']:.2f} | {mean:.1f} |")
    return lines


def _routing_variant_markdown(results: dict[str, Any]) -> list[str]:
    variant = results.get("routing_variant")
    if not variant:
        return []
    config = ", ".join(f"`{k}: {v}`" for k, v in variant["config"].items())
    lines = [
        f"## WabaRouting with {config} (N = {variant['n']})",
        "",
        "The WabaRouting stack once more, after the main run, with this provider config:",
        "",
        "| step | wall s | main run s | Graph calls | in flight | before first call s | "
        "Graph busy s | after last call s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step, entry in variant["steps"].items():
        t = entry.get("timeline") or {}
        lines.append(f"| {STEP_LABELS[step]} | {entry['wall_s']:.2f} | {entry['main_wall_s']:.2f}"
                     f" | {entry['graph']['total']} | {entry['in_flight_max']} | "
                     f"{t.get('first_call_s', 0):.2f} | {t.get('busy_s', 0):.2f} | "
                     f"{t.get('after_last_call_s', 0):.2f} |")
    lines.append("")
    return lines


def _state_sweep_markdown(results: dict[str, Any]) -> list[str]:
    sweep = results.get("state_sweep") or []
    if not sweep:
        return []
    lines = [
        "## WabaRouting state per number against numbers per WABA",
        "",
        "One `WabaRouting` listing k numbers (its own emulator, no latency), created, exported "
        "and destroyed, for each k:",
        "",
        "| numbers per WABA | entry B | fixed B | added B per number | B per number | "
        f"under {ROUTING_STATE_BYTES_PER_NUMBER:.0f} B | export B per number |",
        "| ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for row in sweep:
        lines.append(f"| {row['per_waba']} | {row['entry_bytes']:.0f} | "
                     f"{row['fixed_bytes_per_resource']:.0f} | "
                     f"{row['added_bytes_per_number']:.0f} | {row['bytes_per_number']:.0f} | "
                     f"{_yes(row['bytes_per_number'] < ROUTING_STATE_BYTES_PER_NUMBER)} | "
                     f"{row['export_bytes_per_number']:.0f} |")
    big = max(sweep, key=lambda row: row["per_waba"])
    k = numbers_for(big["fixed_bytes_per_resource"], big["added_bytes_per_number"])
    lines += [
        "",
        f"From the largest entry ({big['per_waba']} numbers: {big['fixed_bytes_per_resource']:.0f}"
        f" B fixed, {big['added_bytes_per_number']:.0f} B per number), the state is under "
        f"{ROUTING_STATE_BYTES_PER_NUMBER:.0f} B per number from "
        + (f"**{k} numbers per WABA** on." if k else "no number of numbers per WABA.")
        + " The export's bytes per number also count the stack's own entries and the export's "
        "indentation.",
        "",
    ]
    parts = big.get("fixed_parts")
    if parts:
        lines += [
            f"What an entry pays once ({big['fixed_bytes_per_resource']:.0f} B; each number "
            "adds its id and URI to `phone_numbers` in the inputs and again in the outputs, "
            f"{big['added_bytes_per_number']:.0f} B):",
            "",
            "| part | bytes |",
            "| --- | ---: |",
            *(f"| {name} | {value:.0f} |" for name, value in sorted(
                parts.items(), key=lambda kv: kv[1], reverse=True)),
            "",
        ]
    return lines


def _profile_markdown(profile: dict[str, Any]) -> list[str]:
    n = profile["n"]
    lines = [
        f"## Where the time goes (profile, N = {n}, Graph latency {profile['latency_ms']:g} ms)",
        "",
        "Every Python process a step starts was profiled (cProfile in every thread, via a "
        "`sitecustomize` on PYTHONPATH; see `benchmarks/profiling.py`). cProfile slows Python "
        "down, so these wall times are not the benchmark's; CPU is the process's user + system "
        "time (self time by category is in the JSON, `self_s_by_category`).",
        "",
        "| step | stack | wall s | provider CPU s | provider CPU ms per number | "
        "provider CPU ms per resource | / floor | provider self time by category s | "
        "program CPU s | Graph calls | conns |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    kinds = profile.get("kinds") or ["ours", "floor"]

    def per_resource(summary: dict[str, Any] | None) -> float | None:
        if not summary or not (summary.get("provider") or {}).get("processes"):
            return None
        cpu = (summary.get("provider") or {}).get("cpu_s", 0)
        return 1000 * cpu / max(1, summary.get("resources", n))

    for step in STEPS:
        entry = profile["steps"].get(step) or {}
        floor = per_resource(entry.get("floor"))
        for kind in kinds:
            summary = entry.get(kind)
            if not summary:
                continue
            prov, prog = summary.get("provider") or {}, summary.get("program") or {}
            cats = ", ".join(f"{name} {value:.2f}" for name, value in
                             list((prov.get("self_s_by_category") or {}).items())[:5])
            mine = per_resource(summary) or 0.0
            cpu = (f"{prov.get('cpu_s', 0):.2f} | {1000 * prov.get('cpu_s', 0) / max(1, n):.2f}"
                   f" | {mine:.2f} | " + (f"{mine / floor:.2f}" if floor else "-")
                   if prov.get("processes") else "no profile written | - | - | -")
            lines.append(
                f"| {STEP_LABELS[step]} | {KIND_LABELS.get(kind, kind)} | "
                f"{summary['wall_s']:.2f} | {cpu} | {cats} | "
                f"{prog.get('cpu_s', 0):.2f} | {summary['graph']['total']} | "
                f"{summary['connections']} |")
    lines.append("")
    for step in STEPS:
        entry = profile["steps"].get(step) or {}
        for proc in ("provider", "program"):
            present = [k for k in kinds
                       if ((entry.get(k) or {}).get(proc) or {}).get("processes")]
            if not present:
                continue
            lines += [
                f"**{STEP_LABELS[step]}, {proc} process** (CPU "
                + ", ".join(f"{KIND_LABELS.get(k, k)} {entry[k][proc]['cpu_s']:.2f} s"
                            for k in present)
                + "; SDK rows are the SDK's functions in that stack's process):",
                "",
                "| stack | function | calls | cumulative s | ms per call |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            for kind in present:
                summary = entry[kind][proc]
                own, sdk, http = (7, 4, 2) if kind != "floor" else (2, 3, 0)
                picks = (list(summary.get("ours_by_cumulative") or [])[:own]
                         + list(summary.get("sdk_entry_points") or [])[:sdk]
                         + list(summary.get("http") or [])[:http])
                for row in picks:
                    lines.append(f"| {KIND_LABELS.get(kind, kind)} | `{row['function']}` | "
                                 f"{row['calls']} | {row['cum_s']:.3f} | "
                                 f"{row['cum_ms_per_call']:.3f} |")
            lines.append("")
    imports = profile.get("imports")
    if imports:
        lines += [
            "**Import cost in the provider process** (after what `pulumi.dynamic.__main__` "
            "imports; median of 5 fresh interpreters; the program process pays it too):",
            "",
            "| stack | module | SDK imports ms | our imports ms | new packages | largest |",
            "| --- | --- | ---: | ---: | --- | --- |",
        ]
        for label, entry in imports.items():
            largest = ", ".join(f"{row['module']} {row['cumulative_ms']:.0f} ms"
                                for row in entry["largest"][:8])
            lines.append(
                f"| {label} | `{entry['module']}` | {1000 * entry['sdk_import_s']:.0f} | "
                f"{1000 * entry['import_s']:.0f} | {', '.join(entry['new_top_level'])} | "
                f"{largest} |")
        lines.append("")
    calls = profile.get("client")
    if calls:
        lines += [
            "**One Graph call, client alone** (`benchmarks/client.py`: the same GET on loopback "
            "with no latency, to a minimal keep-alive HTTP/1.1 stub unless said otherwise; "
            f"median of 3 rounds of {calls['calls_per_round']} calls):",
            "",
            "| how | us per call | connections opened |",
            "| --- | ---: | --- |",
        ]
        for name, entry in calls.items():
            if isinstance(entry, dict):
                conns = (f"{entry['connections']} for {entry['calls']} calls"
                         if "connections" in entry else "")
                lines.append(f"| {name} | {entry['us_per_call']:.1f} | {conns} |")
        lines.append("")
    return lines
