"""`python -m benchmarks profile`'s reading of `go tool pprof -top` (the engine's side) and the
native floor's plugin executable (no pulumi run)."""

from __future__ import annotations

import subprocess

from benchmarks import noop_plugin
from benchmarks.profile import pprof_rows

TOP = """File: pulumi
Type: cpu
Duration: 18.79s, Total samples = 1.02s ( 5.43%)
Showing nodes accounting for 0.63s, 61.76% of 1.02s total
      flat  flat%   sum%        cum   cum%
     0.13s 12.75% 12.75%      0.13s 12.75%  crypto/internal/fips140/sha256.blockSHANI
     0.01s  0.98% 55.88%      0.29s 28.43%  pbkdf2.Key[go.shape.interface { Size int }]
"""


def test_pprof_rows_are_the_functions_with_their_seconds():
    rows = pprof_rows(TOP)
    assert [r["function"] for r in rows] == [
        "crypto/internal/fips140/sha256.blockSHANI",
        "pbkdf2.Key[go.shape.interface { Size int }]"]
    assert rows[1]["flat"] == "0.01s" and rows[1]["cum"] == "0.29s"


def test_the_native_floor_plugin_starts_from_its_folder_and_prints_a_port(tmp_path):
    script = noop_plugin.install(tmp_path) / f"pulumi-resource-{noop_plugin.PACKAGE}"
    plugin = subprocess.Popen([str(script), "127.0.0.1:9"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        assert plugin.stdout is not None
        assert plugin.stdout.readline().strip().isdigit()
    finally:
        plugin.kill()
        plugin.wait()


def test_a_profiled_path_names_no_folder_of_this_machine():
    import sysconfig

    from benchmarks import profiling

    stdlib = sysconfig.get_paths()["stdlib"]
    assert profiling.short_path(f"{stdlib}/threading.py") == "stdlib/threading.py"
    assert profiling.short_path("/x/lib/python3.11/site-packages/grpc/_channel.py") == (
        "grpc/_channel.py")
    assert profiling.short_path(str(profiling.REPO / "benchmarks" / "doors.py")) == (
        "benchmarks/doors.py")
    # A script of the engine's bin folder or of a temporary folder: its name alone.
    assert profiling.short_path("/home/me/.cache/engine/bin/pulumi-language-python-exec") == (
        "pulumi-language-python-exec")
    assert profiling.short_path("/tmp/run-1/plugin/pulumi-resource-benchfloor") == (
        "pulumi-resource-benchfloor")
