"""``python -m benchmarks.plugin_start``: how soon the ``whatsapp`` plugin can answer a call.

The engine starts the plugin for every step, then waits for the port it prints before it calls
it. This times that wait: from the exec of ``pulumi-resource-whatsapp`` to its port on stdout,
as the minimum, median and maximum of ``--runs`` starts after one warm-up start (a warm disk; the
bytecode is compiled first, `benchmarks.deps.warm_bytecode`). A loopback socket stands in for
the engine's address. ``--once`` makes one start and prints its seconds, for a whole-process
timer (``/usr/bin/time -v``, hyperfine) or to pair two versions of the package run by run.

``--floor`` times the native floor's plugin too (`benchmarks.noop_plugin`: the same framework,
no code of ours), start for start in turn with ours, so the difference is what our code adds.

``python -X importtime -m waba_webhooks.plugin.main 127.0.0.1:1`` shows what a start imports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def plugin_command() -> list[str]:
    """``pulumi-resource-whatsapp`` beside this Python, else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "pulumi-resource-whatsapp")
    found = beside if os.path.exists(beside) else shutil.which("pulumi-resource-whatsapp")
    if found is None:
        raise SystemExit("plugin_start: pulumi-resource-whatsapp is not installed")
    return [found]


def start_seconds(command: Sequence[str], engine: str) -> float:
    """Seconds from starting `command` with the engine's address to the port it prints; the
    plugin is stopped (and reaped) before this returns."""
    started = time.perf_counter()
    plugin = subprocess.Popen([*command, engine], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        assert plugin.stdout is not None
        line = plugin.stdout.readline()
        elapsed = time.perf_counter() - started
        if not line.strip().isdigit():
            raise SystemExit(f"plugin_start: the plugin printed {line!r}, not a port")
        return elapsed
    finally:
        plugin.terminate()
        try:
            plugin.wait(timeout=10)
        except subprocess.TimeoutExpired:
            plugin.kill()
            plugin.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plugin_start",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9, help="starts counted (default 9)")
    parser.add_argument("--once", action="store_true",
                        help="one start, no warm-up: print its seconds only")
    parser.add_argument("--floor", action="store_true",
                        help="also time the native floor's plugin, in turn with ours")
    parser.add_argument("command", nargs="*",
                        help="the plugin's command (default: pulumi-resource-whatsapp)")
    args = parser.parse_args(argv)
    from .deps import warm_bytecode

    warm_bytecode()
    commands = {"plugin": args.command or plugin_command()}
    with tempfile.TemporaryDirectory() as folder, \
            socket.create_server(("127.0.0.1", 0)) as engine:
        if args.floor:
            from .noop_plugin import PACKAGE, install

            commands["floor"] = [str(install(Path(folder)) / f"pulumi-resource-{PACKAGE}")]
        address = f"127.0.0.1:{engine.getsockname()[1]}"
        if args.once:
            print(f"{start_seconds(commands['plugin'], address):.4f}")
            return
        for command in commands.values():
            start_seconds(command, address)  # warm-up
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(max(1, args.runs)):
            for name, command in commands.items():
                times[name].append(start_seconds(command, address))
    for name, found in times.items():
        print(f"{name} start to port, {len(found)} starts: min {min(found):.3f} s, "
              f"median {statistics.median(found):.3f} s, max {max(found):.3f} s")
    if args.floor:
        pairs = [ours - floor for ours, floor in zip(times["plugin"], times["floor"],
                                                     strict=True)]
        print(f"ours - floor, start for start: median {statistics.median(pairs):+.3f} s")
    print(f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
