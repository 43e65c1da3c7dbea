"""Profiles of the Python processes a step starts (the dynamic provider process and the program),
and the import cost of our package in the provider process.

How: a ``sitecustomize.py`` in a temporary folder put first on ``PYTHONPATH`` (which the engine
passes on to the program and to the provider process it launches). In a process started as
``python -m pulumi.dynamic`` (the dynamic provider), as ``pulumi-resource-whatsapp`` (the native
plugin; any ``pulumi-resource-*``, so the native floor's too) or through
``pulumi-language-python-exec`` (the program) it starts a `cProfile.Profile` in the main thread
and, through `threading.setprofile`, one in every thread started later (the gRPC server's worker
pool, the plugin's), and at exit (the engine stops a provider with SIGINT) dumps them merged into
``<kind>-<pid>.prof`` with the process's CPU time and lifetime beside it. cProfile slows Python
code down, so profiled runs are for attribution, not for timing.
"""

from __future__ import annotations

import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

SITECUSTOMIZE = r'''
"""Written by benchmarks.profiling: profile pulumi's Python processes (see that module)."""
import os
import sys


def _bench_kind():
    argv = list(getattr(sys, "orig_argv", []))
    if "-m" in argv and argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["pulumi.dynamic"]:
        return "provider"
    if any(os.path.basename(str(a)).startswith("pulumi-resource-") for a in argv[:2]):
        return "provider"  # a native plugin: ours, or the native floor
    if any(str(a).endswith("pulumi-language-python-exec") for a in argv):
        return "program"
    return None


_BENCH_DIR = os.environ.get("BENCH_PROFILE_DIR")
_BENCH_KIND = _bench_kind() if _BENCH_DIR else None

if _BENCH_KIND:
    import atexit
    import cProfile
    import gc
    import json
    import pstats
    import threading
    import time

    _bench_t0 = time.perf_counter()
    _bench_profiles = []
    _bench_lock = threading.Lock()
    _bench_local = threading.local()
    # Profiles of threads that have ended, merged as they end: a process that starts many
    # short-lived threads (a pool per resource) would otherwise merge them all at its exit, and
    # the engine kills a plugin that has not exited 5 s after its interrupt.
    _bench_ended = []

    def _bench_start():
        profile = cProfile.Profile()
        _bench_local.profile = profile
        with _bench_lock:
            _bench_profiles.append(profile)
        profile.enable()

    def _bench_thread_hook(frame, event, arg):
        # Runs once in each new thread; enabling the profiler replaces this hook there.
        _bench_start()

    threading.setprofile(_bench_thread_hook)
    _bench_run = threading.Thread.run

    def _bench_run_then_fold(self):
        try:
            _bench_run(self)
        finally:
            profile = getattr(_bench_local, "profile", None)
            if profile is not None:
                profile.disable()
                try:
                    stats = pstats.Stats(profile)
                except (TypeError, ValueError):
                    stats = None
                with _bench_lock:
                    if profile in _bench_profiles:
                        _bench_profiles.remove(profile)
                    if stats is not None:
                        if _bench_ended:
                            _bench_ended[0].add(stats)
                        else:
                            _bench_ended.append(stats)

    threading.Thread.run = _bench_run_then_fold
    _bench_start()

    def _bench_dump():
        # No import and no garbage collection here: at the native plugin's exit, a collection
        # runs grpc.aio's Server.__del__, which joins a thread that never ends.
        gc.disable()
        lifetime = time.perf_counter() - _bench_t0
        times = os.times()
        with _bench_lock:
            profiles = list(_bench_profiles)
            merged = _bench_ended[0] if _bench_ended else None
        for profile in profiles:
            try:
                profile.disable()
                stats = pstats.Stats(profile)
            except (TypeError, ValueError):
                continue  # a thread that recorded nothing
            if merged is None:
                merged = stats
            else:
                merged.add(stats)
        base = os.path.join(_BENCH_DIR, f"{_BENCH_KIND}-{os.getpid()}")
        if merged is not None:
            merged.dump_stats(base + ".prof")
        with open(base + ".json", "w") as handle:
            json.dump({"kind": _BENCH_KIND, "pid": os.getpid(), "lifetime_s": lifetime,
                       "cpu_s": times.user + times.system, "threads": len(profiles)}, handle)

    atexit.register(_bench_dump)
'''


def install_sitecustomize(folder: Path) -> None:
    """Write the profiling ``sitecustomize.py`` into ``folder`` (to go first on PYTHONPATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.lstrip())


# --------------------------------------------------------------------------- attribution

#: Builtins where a thread waits rather than works.
IDLE = re.compile(r"acquire|SimpleQueue|\bpoll\b|select|sleep|\bwait\b|_thread.lock|epoll")
#: Builtins where the provider waits on the Graph API (the emulator).
NETWORK = re.compile(r"recv|connect|sendall|send\b|getaddrinfo|socket")

CATEGORIES = ("ours", "bench-noop", "pulumi", "grpc", "protobuf", "dill", "http", "tenacity",
              "rfc3986", "asyncio", "stdlib", "other")


def category(filename: str) -> str:
    """Who a function belongs to, from its file."""
    name = filename.replace("\\", "/")
    checks = (
        ("/waba_webhooks/", "ours"),
        ("/benchmarks/", "bench-noop"),
        ("/site-packages/pulumi/", "pulumi"),
        ("/grpc/", "grpc"),
        ("/google/protobuf/", "protobuf"),
        ("/dill/", "dill"),
        ("/requests/", "http"),
        ("/urllib3/", "http"),
        ("/http/client.py", "http"),
        ("/charset_normalizer/", "http"),
        ("/idna/", "http"),
        ("/tenacity/", "tenacity"),
        ("/rfc3986/", "rfc3986"),
        ("/asyncio/", "asyncio"),
    )
    for needle, label in checks:
        if needle in name:
            return label
    if "site-packages" in name:
        return "other"
    return "stdlib"


def _label(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    return f"{short_path(filename)}:{line}({name})"


def short_path(filename: str) -> str:
    """A source path without this machine's folders: relative to site-packages, the repository
    or the Python installation; any other file (a script of the engine's or of a temporary
    folder) by its name alone."""
    short = filename.split("site-packages/")[-1].split("/provider/")[-1]
    if short.startswith(str(REPO) + "/"):
        return short[len(str(REPO)) + 1:]
    stdlib = sysconfig.get_paths()["stdlib"]
    if short.startswith(stdlib + "/"):
        return "stdlib/" + short[len(stdlib) + 1:]
    return Path(short).name if short.startswith("/") else short


def load_stats(files: list[Path]) -> pstats.Stats | None:
    stats: pstats.Stats | None = None
    for path in files:
        try:
            if stats is None:
                stats = pstats.Stats(str(path))
            else:
                stats.add(str(path))
        except (OSError, TypeError, EOFError):
            continue
    return stats


def attribute(stats: pstats.Stats) -> dict[str, Any]:
    """Self time by category (a builtin's time goes to the category of the function that called
    it; waiting builtins go to ``idle`` or ``network wait``), and the top functions."""
    by_category: dict[str, float] = defaultdict(float)
    raw = stats.stats  # type: ignore[attr-defined]
    for func, (_cc, _nc, tt, _ct, callers) in raw.items():
        filename, _line, name = func
        if filename == "~":
            if IDLE.search(name):
                by_category["idle"] += tt
                continue
            if NETWORK.search(name):
                by_category["network wait"] += tt
                continue
            for caller, value in callers.items():
                caller_tt = value[2] if isinstance(value, tuple) else 0.0
                by_category[category(caller[0])] += caller_tt
            continue
        by_category[category(filename)] += tt
    ours = sorted(
        ((func, v) for func, v in raw.items() if category(func[0]) in ("ours", "bench-noop")),
        key=lambda item: item[1][3], reverse=True,
    )
    sdk_names = ("get_provider", "deserialize_properties", "serialize_properties",
                 "new_event_loop", "run_until_complete", "loads", "dumps", "configure",
                 "Create", "Read", "Check", "Diff", "Delete", "Update", "Configure",
                 "serialize_provider", "_get_stack_trace", "extract_stack", "register_resource",
                 "_serialize", "secret")
    sdk = sorted(
        ((func, v) for func, v in raw.items()
         if category(func[0]) in ("pulumi", "dill", "stdlib") and func[2] in sdk_names
         and not (category(func[0]) == "stdlib" and func[2] not in (
             "extract_stack", "new_event_loop", "run_until_complete", "dumps", "loads"))),
        key=lambda item: item[1][3], reverse=True,
    )
    http = sorted(
        ((func, v) for func, v in raw.items()
         if category(func[0]) == "http" and func[2] in (
             "request", "send", "_new_conn", "urlopen", "_make_request", "json", "getresponse",
             "prepare_request", "merge_environment_settings", "get_environ_proxies")),
        key=lambda item: item[1][3], reverse=True,
    )

    def rows(items: list[tuple[Any, Any]], limit: int) -> list[dict[str, Any]]:
        return [
            {"function": _label(func), "calls": v[1], "self_s": round(v[2], 4),
             "cum_s": round(v[3], 4), "cum_ms_per_call": round(1000 * v[3] / max(1, v[1]), 3)}
            for func, v in items[:limit]
        ]

    return {
        "self_s_by_category": {k: round(v, 4) for k, v in sorted(
            by_category.items(), key=lambda kv: kv[1], reverse=True)},
        "ours_by_cumulative": rows(ours, 15),
        "sdk_entry_points": rows(sdk, 15),
        "http": rows(http, 10),
    }


def wait_for_dumps(folder: Path, expected: dict[str, int], timeout: float = 20.0) -> None:
    """Wait until the processes of a step have written their profiles (a process may still be
    exiting when the CLI returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(list(folder.glob(f"{kind}-*.json"))) >= count
               for kind, count in expected.items()):
            break
        time.sleep(0.2)
    time.sleep(0.3)


def summarize_dir(folder: Path) -> dict[str, Any]:
    """Every process profiled in ``folder``: CPU time and lifetime by kind, and attribution."""
    result: dict[str, Any] = {}
    for kind in ("provider", "program"):
        metas = [json.loads(p.read_text()) for p in sorted(folder.glob(f"{kind}-*.json"))]
        stats = load_stats(sorted(folder.glob(f"{kind}-*.prof")))
        entry: dict[str, Any] = {
            "processes": len(metas),
            "cpu_s": round(sum(m["cpu_s"] for m in metas), 3),
            "lifetime_s": round(sum(m["lifetime_s"] for m in metas), 3),
        }
        if stats is not None:
            entry.update(attribute(stats))
        result[kind] = entry
    return result


# --------------------------------------------------------------------------- import time

_IMPORT_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import dill, grpc, pulumi, pulumi.dynamic, pulumi.runtime, pulumi.runtime.proto
from pulumi.runtime.proto import provider_pb2_grpc
t1 = time.perf_counter()
before = set(sys.modules)
sys.stderr.write("BENCH-MARK\n")
sys.stderr.flush()
import {module}
t2 = time.perf_counter()
new = sorted({{m.split(".")[0] for m in set(sys.modules) - before}})
print(json.dumps({{"sdk_s": t1 - t0, "ours_s": t2 - t1, "new_top_level": new}}))
"""


def import_costs(modules: dict[str, str], runs: int = 5) -> dict[str, Any]:
    """What importing each module costs a provider process that already has what
    ``pulumi.dynamic.__main__`` imports: median seconds over ``runs`` fresh interpreters, the new
    top-level packages, and the largest imports under it (``-X importtime``)."""
    out: dict[str, Any] = {}
    for label, module in modules.items():
        code = _IMPORT_PROBE.format(module=module)
        samples = []
        first: dict[str, Any] = {}
        for _ in range(runs):
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True)
            first = json.loads(done.stdout.strip().splitlines()[-1])
            samples.append(first)
        timed = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                               capture_output=True, text=True, check=True)
        after = timed.stderr.split("BENCH-MARK\n", 1)[-1]
        heavy = []
        for line in after.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
            if match:
                name = match.group(3)
                # Packages it pulls in (top-level names) and our own modules.
                if "." not in name or name.startswith(("waba_webhooks.", "benchmarks.")):
                    heavy.append((int(match.group(2)), int(match.group(1)), name))
        out[label] = {
            "module": module,
            "sdk_import_s": round(statistics.median(s["sdk_s"] for s in samples), 4),
            "import_s": round(statistics.median(s["ours_s"] for s in samples), 4),
            "new_top_level": [m for m in first.get("new_top_level", [])
                              if not m.startswith("_")],
            "largest": [{"module": name, "cumulative_ms": round(cum / 1000, 1),
                         "self_ms": round(own / 1000, 1)}
                        for cum, own, name in sorted(heavy, reverse=True)[:12]],
        }
    return out


def env_for(folder: Path, sitecustomize_dir: Path) -> dict[str, str]:
    """Environment for a profiled stack: the sitecustomize first on PYTHONPATH."""
    return {"BENCH_PROFILE_DIR": str(folder), "PYTHONPATH": os.pathsep.join(
        [str(sitecustomize_dir), *filter(None, [os.environ.get("PYTHONPATH")])])}
