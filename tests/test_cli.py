"""The installed `waba-webhooks` console script, run as a user runs it (a subprocess) against
the emulator. (`waba-webhooks emulator`: tests/test_emulator.py, beside `python -m`.)"""

from __future__ import annotations

import importlib.metadata
import subprocess

import yaml

import waba_webhooks
from tests import seeded
from tests.conftest import CONSOLE_SCRIPT, run_cli
from tests.test_review import GOLDEN, golden


def test_help_lists_the_commands(emulator):
    done = run_cli(emulator, "--help")
    assert done.returncode == 0
    for command in ("discover", "review", "emulator", "live-check"):
        assert command in done.stdout


def test_version_prints_the_package_version():
    done = subprocess.run([CONSOLE_SCRIPT, "--version"], capture_output=True, text=True,
                          check=False, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"waba-webhooks {waba_webhooks.__version__}\n")
    # One source: what the installed distribution says is what the package says.
    assert importlib.metadata.version("waba-webhooks") == waba_webhooks.__version__


def test_discover_prints_a_stack_config_and_only_reads(emulator):
    seeded.seed(emulator.admin)
    done = run_cli(emulator, "discover", "--waba", seeded.WABA_IDS[0], "--waba", seeded.WABA_IDS[1])
    assert done.returncode == 0, done.stderr
    table = yaml.safe_load(done.stdout)["config"]["waba-webhooks:routing"]
    assert [w["wabaId"] for w in table["wabas"]] == seeded.WABA_IDS[:2]
    assert len(table["phoneNumbers"]) == 2 * seeded.PER_WABA
    assert "pulumi config set --secret --path 'waba-webhooks:verifyTokens." in done.stderr
    counts = emulator.admin.counts()
    assert counts["writes"] == 0
    assert counts["total"] == 5  # our app id, then subscribed_apps and phone_numbers per WABA


def test_review_reads_a_file_or_stdin(emulator):
    seeded.seed(emulator.admin)
    path = GOLDEN / "preview_per_override.json"
    from_file = run_cli(emulator, "review", str(path))
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == golden()
    from_stdin = run_cli(emulator, "review", stdin=path.read_text())
    assert from_stdin.stdout == golden()
    assert emulator.admin.counts()["writes"] == 0


def test_review_refuses_what_is_not_preview_json(emulator):
    done = run_cli(emulator, "review", stdin="error: preview failed\n")
    assert done.returncode == 2
    assert "is not `pulumi preview --json` output" in done.stderr
    assert "Traceback" not in done.stderr


def test_graph_errors_are_one_line_without_the_token(emulator):
    done = run_cli(emulator, "discover", "--waba", seeded.WABA_IDS[0],
                   WHATSAPP_ACCESS_TOKEN="EAAG-WRONG-TOKEN-7731")
    assert done.returncode == 1
    assert "code 190" in done.stderr and "Traceback" not in done.stderr
    assert "EAAG-WRONG-TOKEN-7731" not in done.stderr


def test_live_check_reads_a_numbers_routing_without_writing(emulator):
    waba = emulator.waba_ids[0]
    phone = next(p for p in emulator.phone_ids if emulator.waba_of(p) == waba)
    refused = run_cli(emulator, "live-check")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    done = run_cli(emulator, "live-check", "--waba-id", waba, "--phone-number-id", phone)
    assert done.returncode == 0, done.stderr
    assert phone in done.stdout and emulator.app_callback_url in done.stdout
    assert emulator.admin.counts()["writes"] == 0
    assert emulator.token not in done.stdout + done.stderr
