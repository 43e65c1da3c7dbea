"""Tables for the terminal, BENCHMARKS.md and the PNG plot, from the results dict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .stack import STEP_LABELS, STEPS

NOTES = Path(__file__).resolve().parent / "notes.md"


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _ops(calls: dict[str, Any]) -> str:
    ops = calls.get("by_operation") or {}
    return ", ".join(f"{op} {count}" for op, count in ops.items()) or "none"


def _targets_short(step: dict[str, Any]) -> str:
    return " ".join(f"{name}:{'ok' if t['met'] else 'NO'}" for name, t in step["targets"].items())


# --------------------------------------------------------------------------- terminal


def text_table(result: dict[str, Any]) -> str:
    n = result["n"]
    head = (f"{'step':20} {'ours s':>8} {'floor s':>8} {'x floor':>7} {'graph s':>8} "
            f"{'budget s':>8} {'B/res':>6} {'x in':>5} {'conc':>4} {'conns':>5}  calls; targets")
    lines = [f"\nN = {n} (median of {result['repeats']})", head, "-" * len(head)]
    for step in STEPS:
        s = result["steps"][step]
        ours, floor = s["ours"], s["floor"]
        state = ours["state"]
        lines.append(
            f"{STEP_LABELS[step]:20} {ours['wall_s']:8.2f} {floor['wall_s']:8.2f} "
            f"{s['ratio_to_floor'] or 0:7.2f} {s['graph_s']:8.2f} {s['budget_s']:8.2f} "
            f"{state.get('entry_bytes', 0):6.0f} {state.get('ratio_to_inputs', 0):5.1f} "
            f"{ours['in_flight_max']:4} {ours['connections']:5}  "
            f"{_ops(ours['graph'])}; {_targets_short(s)}"
        )
    return "\n".join(lines)


def profile_step_text(step: str, kind: str, summary: dict[str, Any], n: int) -> str:
    lines = [f"\n-- {STEP_LABELS[step]} / {kind}: wall {summary['wall_s']:.2f} s, "
             f"Graph calls {summary['graph']['total']}, connections {summary['connections']}"]
    for proc in ("provider", "program"):
        p = summary.get(proc) or {}
        if not p.get("processes"):
            continue
        lines.append(f"   {proc}: {p['processes']} process(es), CPU {p['cpu_s']:.2f} s "
                     f"({1000 * p['cpu_s'] / max(1, n):.2f} ms/resource), "
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
    """Time per step against N, log-log: ours solid, the floor dashed; and ours against the
    floor plus the Graph-call time, with the 1.2 target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    ns = [r["n"] for r in sizes]
    colors = dict(zip(STEPS, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"),
                      strict=True))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5),
                                      gridspec_kw={"width_ratios": [3, 2]})
    for step in STEPS:
        ours = [r["steps"][step]["ours"]["wall_s"] for r in sizes]
        floor = [r["steps"][step]["floor"]["wall_s"] for r in sizes]
        left.plot(ns, ours, "-o", color=colors[step], label=f"{STEP_LABELS[step]}: ours")
        left.plot(ns, floor, "--x", color=colors[step], alpha=0.8,
                  label=f"{STEP_LABELS[step]}: floor")
        ratio = [r["steps"][step]["ratio_to_floor_plus_graph"] for r in sizes]
        right.plot(ns, ratio, "-o", color=colors[step], label=STEP_LABELS[step])
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("N (phone overrides in the stack)")
    left.set_ylabel("wall time of the step (s)")
    left.set_title(f"Time per step: ours (solid) vs floor (dashed), "
                   f"Graph latency {results['latency_ms']:g} ms")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7.5, ncol=2, loc="upper left")
    right.axhline(1.2, color="black", linestyle=":", label="target 1.2")
    right.set_xscale("log")
    right.set_xlabel("N")
    right.set_ylabel("ours / (floor + Graph-call time)")
    right.set_title(f"Against the floor + calls x latency / {results['concurrency']['effective']}")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- markdown


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve().parent)


def markdown(results: dict[str, Any], plot_path: Path, out: Path, json_path: Path) -> str:
    m, conc = results["machine"], results["concurrency"]
    lat = results["latency_ms"]
    lines = [
        "# Benchmarks",
        "",
        "What `PhoneCallbackOverride` costs at solution-provider scale (issue 5), against the "
        "floor: the same stack shape on a no-op dynamic resource (`benchmarks/noop.py`: same "
        "inputs, the verify token a secret, pickled by reference, no HTTP). Generated by the "
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
        "**Method.** For each N the emulator is seeded with N phone numbers (10 per WABA) and a "
        f"latency of {lat:g} ms per Graph call; a webhook receiver answers Meta's verification "
        "call. Ours and the floor are separate stacks with identical inputs; their steps "
        "alternate (floor, ours, and the other way round on the next lifecycle). Wall time is "
        "`time.perf_counter()` around the Automation API call (CLI start, program, engine, "
        "provider process, state writes). Graph calls are the emulator's counters (delta per "
        "step); *in flight* is the most Graph calls the emulator served at once, *conns* the "
        "TCP connections they came on. State bytes are each resource's entry in "
        "`pulumi stack export` as compact JSON, against the compact JSON of its declared inputs "
        "(`phone_number_id`, `callback_uri`, `verify_token`).",
        "",
        f"**Concurrency.** The engine runs up to {conc['engine_parallel']} resource operations "
        f"at once ({conc['engine_parallel_source']}: `defaultParallel()` in "
        "pkg/cmd/pulumi/operations/up.go, also for preview/refresh/destroy), but the dynamic "
        "provider process serves gRPC with `futures.ThreadPoolExecutor(max_workers="
        f"{conc['provider_workers']})` (pulumi/dynamic/__main__.py), so at most "
        f"**{conc['effective']}** provider calls, hence Graph calls, run at once. Graph-call "
        f"time = calls x {lat:g} ms / {conc['effective']}. Budget = {1.2} x (floor + Graph-call "
        "time).",
        "",
        f"![time per step against N]({_rel(plot_path, out)})",
        "",
        "## Targets",
        "",
        "| N | step | Graph calls | time | state |",
        "| ---: | --- | --- | --- | --- |",
    ]
    for r in results["sizes"]:
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
    lines += ["", "## Results", ""]
    for r in results["sizes"]:
        n = r["n"]
        lines += [
            f"### N = {n}",
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
    variant = results.get("app_id_variant")
    if variant:
        lines += [
            f"## `whatsapp:appId` set or looked up (N = {variant['n']})",
            "",
            "| step | GET /app without appId | GET /app with appId | all Graph calls without "
            "/ with |",
            "| --- | ---: | ---: | --- |",
        ]
        for step in STEPS:
            lines.append(f"| {STEP_LABELS[step]} | {variant['without_app_id'][step]} | "
                         f"{variant['with_app_id'][step]} | {variant['total_without'][step]} / "
                         f"{variant['total_with'][step]} |")
        lines.append("")
    if profile:
        lines += _profile_markdown(profile)
    if NOTES.exists() and not results.get("engine_env"):  # the notes are about the main run
        lines += ["## Analysis", "", NOTES.read_text().strip(), ""]
    lines += [f"Raw results: `{_rel(json_path, out)}`.", ""]
    return "\n".join(lines)


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
        "| step | wall s ours / floor | provider CPU s ours / floor | ours - floor per "
        "resource | program CPU s ours / floor | Graph calls | conns |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step in STEPS:
        entry = profile["steps"].get(step) or {}
        ours, floor = entry.get("ours") or {}, entry.get("floor") or {}
        if not ours:
            continue
        po, pf = ours.get("provider") or {}, floor.get("provider") or {}
        go, gf = ours.get("program") or {}, floor.get("program") or {}
        diff = (po.get("cpu_s", 0) - pf.get("cpu_s", 0)) * 1000 / max(1, n)
        lines.append(
            f"| {STEP_LABELS[step]} | {ours['wall_s']:.2f} / {floor.get('wall_s', 0):.2f} | "
            f"{po.get('cpu_s', 0):.2f} / {pf.get('cpu_s', 0):.2f} | {diff:+.2f} ms | "
            f"{go.get('cpu_s', 0):.2f} / {gf.get('cpu_s', 0):.2f} | "
            f"{ours['graph']['total']} | {ours['connections']} |"
        )
    lines.append("")
    for step in STEPS:
        entry = profile["steps"].get(step) or {}
        for proc in ("provider", "program"):
            ours = (entry.get("ours") or {}).get(proc) or {}
            floor = (entry.get("floor") or {}).get(proc) or {}
            if not ours.get("processes"):
                continue
            lines += [
                f"**{STEP_LABELS[step]}, {proc} process** (CPU ours {ours['cpu_s']:.2f} s, "
                f"floor {floor.get('cpu_s', 0):.2f} s; SDK rows are the SDK's functions in that "
                "stack's process):",
                "",
                "| stack | function | calls | cumulative s | ms per call |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            picks = [("ours", r) for r in (ours.get("ours_by_cumulative") or [])[:7]]
            picks += [("ours", r) for r in (ours.get("sdk_entry_points") or [])[:4]]
            picks += [("ours", r) for r in (ours.get("http") or [])[:2]]
            picks += [("floor", r) for r in (floor.get("ours_by_cumulative") or [])[:2]]
            picks += [("floor", r) for r in (floor.get("sdk_entry_points") or [])[:3]]
            for stack, row in picks:
                lines.append(f"| {stack} | `{row['function']}` | {row['calls']} | "
                             f"{row['cum_s']:.3f} | {row['cum_ms_per_call']:.3f} |")
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
