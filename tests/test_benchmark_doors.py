"""`python -m benchmarks doors`' figures: the marginal cost per resource between two sizes,
each stack against its own door's floor, the native door against the dynamic one, and issue
27's targets read from them (no pulumi run: the runs are made up)."""

from __future__ import annotations

import pytest
from benchmarks import doors
from benchmarks.__main__ import ALL_KINDS
from benchmarks.stack import STEPS


def _pass(cpu: dict[str, tuple[float, float]]) -> dict:
    """A pass at sizes 10 and 30 whose every step takes `cpu[kind]` seconds at each size, the
    first of three repeats 5 s slower (the median drops it)."""
    def runs(seconds: float) -> list[dict]:
        return [{"cpu_s": seconds + 5, "wall_s": 1.0}, {"cpu_s": seconds, "wall_s": 1.0},
                {"cpu_s": seconds, "wall_s": 1.0}]
    return {"latency_ms": 0, "sizes": {
        str(size): {kind: {step: runs(pair[i]) for step in STEPS} for kind, pair in cpu.items()}
        for i, size in enumerate((10, 30))}}


def test_each_stack_is_measured_against_its_own_doors_floor():
    pass_ = _pass({"native-routing": (2.0, 2.6), "native-floor-routing": (1.0, 1.2),
                   "routing": (2.0, 3.0), "floor-routing": (1.0, 1.4)})
    row = doors.table(pass_, "cpu_s")["preview"]
    assert row["native-routing"]["per_resource_ms"] == 30.0  # 0.6 s over 20 more resources
    assert row["native-routing"]["ratio_to_floor"] == 3.0    # the native floor's 10 ms
    assert row["routing"]["ratio_to_floor"] == 2.5           # the dynamic floor's 20 ms
    assert row["native-routing"]["ratio_to_dynamic"] == 0.6
    assert "ratio_to_floor" not in row["native-floor-routing"]


def test_targets_name_the_steps_above_them():
    pass_ = _pass({"native-ours": (2.0, 2.8), "native-floor": (1.0, 1.4),
                   "ours": (2.0, 2.5), "floor": (1.0, 1.4)})
    found = doors.verdicts(doors.table(pass_, "cpu_s"))
    by = {(v["step"], v["kind"], v["what"]): v for v in found}
    assert by[("preview", "native-ours", "ratio to the door's floor")]["met"] is False  # 2x
    assert by[("create", "native-ours", "ratio to the door's floor")]["met"] is True  # 2x
    assert by[("refresh", "native-ours", "ratio to the dynamic door")]["met"] is False  # 1.6x
    assert not any(v["step"] == "refresh" and "floor" in v["what"] for v in found)


def test_every_kind_has_a_program_and_a_floor_of_its_door():
    for kind in doors.KINDS:
        assert kind in ALL_KINDS
    for kind, floor in doors.FLOOR_OF.items():
        assert ALL_KINDS[kind].native == ALL_KINDS[floor].native
        assert ALL_KINDS[kind].resources(100, 10) == ALL_KINDS[floor].resources(100, 10)
    assert doors.shape("native-floor-routing", 30) == (300, 10)
    assert doors.shape("native-floor", 3) == (3, 3)


def test_sizes_and_kinds_are_checked_before_a_run():
    assert doors.parse_args(["--sizes", "5,2"]).size_list == [2, 5]
    with pytest.raises(SystemExit):
        doors.parse_args(["--sizes", "5"])
    with pytest.raises(SystemExit, match="unknown nope"):
        doors.selected("routing,nope")


def test_the_no_change_steps_are_split_by_process_when_the_runs_have_it():
    pass_ = _pass({"native-routing": (2.0, 2.6), "native-floor-routing": (1.0, 1.2)})
    assert doors.by_role(pass_) == []  # a run made before the split
    for size, program in (("10", 1.0), ("30", 1.4)):
        for runs in pass_["sizes"][size].values():
            for run in runs["preview"] + runs["update"]:
                run.update(cpu_engine_s=0.5, cpu_program_s=program, cpu_provider_s=0.3,
                           cpu_other_s=0.1)
    lines = doors.by_role(pass_)
    assert "| preview (no change) | native WabaRouting | 0.0 | 20.0 | 0.0 | 0.0 |" in lines
    assert "stack export" not in "\n".join(lines)
    assert "stack export" in "\n".join(doors.by_role(pass_, step_only=False))


@pytest.mark.parametrize(("argv", "expected"), [
    (["/opt/pulumi/bin/pulumi", "preview", "--stack", "bench"], "engine"),
    (["/opt/pulumi/bin/pulumi-language-python", "127.0.0.1:1"], "engine"),
    (["/v/bin/python", "-u", "/opt/pulumi/bin/pulumi-language-python-exec", "--project"],
     "program"),
    (["/v/bin/python", "/v/bin/pulumi-resource-whatsapp"], "provider"),
    (["/v/bin/python3", "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"], "provider"),
    (["/v/bin/python", "-c", "import importlib.metadata"], "other"),
])
def test_each_process_of_a_step_has_its_role(argv, expected):
    from benchmarks.cpu_split import role

    assert role(argv) == expected


def test_the_split_counts_the_processes_started_under_it():
    import subprocess
    import sys

    from benchmarks.cpu_split import CpuByRole

    with CpuByRole() as split:
        subprocess.run([sys.executable, "-c", "sum(range(20_000_000))"], check=True)
    seconds = split.result()
    assert seconds["other"] > 0.05
    assert seconds["engine"] == seconds["program"] == seconds["provider"] == 0


def test_the_split_leaves_out_the_benchmarks_own_process():
    """The emulator runs in the benchmark's process: its CPU is not the step's."""
    from benchmarks.cpu_split import CpuByRole

    with CpuByRole() as split:
        sum(range(20_000_000))  # this process's own work
    assert sum(split.result().values()) < 0.05
