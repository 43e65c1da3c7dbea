"""The live check against the emulator: it refuses without its inputs, only reads by default,
and after --write always puts back what was there, a failure in the middle included."""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import REPO_ROOT, CallbackReceiver, EmulatorHandle
from waba_webhooks import config
from waba_webhooks.commands import live_check

RESTORE_ENV = live_check.RESTORE_TOKEN_ENV
VERIFY_ENV = live_check.VERIFY_TOKEN_ENV
#: Every variable the check reads: cleared before each test, then set as the test says.
ENV = (*(env for _, env in config.KEYS.values()), "CI", live_check.WABA_ENV,
       live_check.PHONE_ENV, VERIFY_ENV, RESTORE_ENV)


@dataclass
class Result:
    status: int
    output: str


Check = Callable[..., Result]


@pytest.fixture
def check(monkeypatch, emulator: EmulatorHandle, capsys) -> Check:
    """Run the live check in-process as our app against the emulator: positional arguments
    are the command line after the ids, keywords the environment (None: unset)."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    phone = emulator.phone_ids[0]
    base = {"WHATSAPP_ACCESS_TOKEN": emulator.token, "WHATSAPP_GRAPH_URL": emulator.url,
            "WHATSAPP_ALLOW_HTTP_LOOPBACK": "true", "WHATSAPP_RETRY_BUDGET_SECONDS": "2"}

    def run(*argv: str, ids: tuple[str, ...] | None = None, **env: str | None) -> Result:
        for name, value in {**base, **env}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        if ids is None:
            ids = ("--waba-id", emulator.waba_of(phone), "--phone-number-id", phone)
        parser = argparse.ArgumentParser()
        live_check.configure_parser(parser)
        status = live_check.run(parser.parse_args([*ids, *argv]))
        captured = capsys.readouterr()
        return Result(status, captured.out + captured.err)

    return run


def writes(emulator: EmulatorHandle) -> int:
    return emulator.admin.counts()["writes"]


def fail_nth(emulator: EmulatorHandle, method: str, phone: str, nth: int, status: int,
             code: int, message: str) -> None:
    """Let the first ``nth - 1`` calls of ``method`` on the number through, fail the nth with a
    Graph error that is never retried."""
    path = f"/{phone}$"
    if nth > 1:  # a latency-only rule: those calls pass, each using it up
        emulator.admin.add_fault(method=method, path=path, count=nth - 1, latency_ms=1)
    emulator.admin.add_fault(method=method, path=path, status=status,
                             error={"code": code, "message": message})


# ---- refusals: nothing is called ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "words"),
    [
        ((), {"WHATSAPP_ACCESS_TOKEN": None}, "WHATSAPP_ACCESS_TOKEN"),
        (("--waba-id", "12ab"), {}, "--waba-id must be a string of digits"),
        (("--write", "https://hooks.example.com/wa"), {}, VERIFY_ENV),
        (("--write", "ftp://hooks.example.com/wa"), {VERIFY_ENV: "t"}, "--write must use"),
        ((), {"WHATSAPP_API_VERSION": "23"}, "whatsapp:apiVersion"),
    ],
    ids=["no token", "bad id", "no verify token", "bad url", "bad setting"],
)
def test_refuses_to_run_without_its_inputs(check, emulator, argv, env, words):
    result = check(*argv, **env)
    assert result.status == live_check.REFUSED
    assert "refused, nothing was called" in result.output and words in result.output
    assert emulator.admin.counts()["total"] == 0


def test_refuses_without_ids(check, emulator):
    result = check(ids=())
    assert result.status == live_check.REFUSED
    assert "--waba-id is required" in result.output
    assert "--phone-number-id is required" in result.output


def test_never_runs_in_ci_against_meta(check, emulator):
    result = check(CI="true", WHATSAPP_GRAPH_URL=None)
    assert result.status == live_check.REFUSED
    assert "never runs in CI against https://graph.facebook.com" in result.output
    # Against a local emulator (this test suite in CI) it runs.
    assert check(CI="true").status == live_check.OK


def test_ids_may_come_from_the_environment(check, emulator):
    phone = emulator.phone_ids[0]
    result = check(ids=(), WHATSAPP_WABA_ID=emulator.waba_of(phone),
                   WHATSAPP_PHONE_NUMBER_ID=phone)
    assert result.status == live_check.OK


# ---- reading ------------------------------------------------------------------------------------


def test_reads_and_prints_the_routing_without_writing(check, emulator):
    phone = emulator.phone_ids[0]
    waba = emulator.waba_of(phone)
    emulator.admin.set_waba_override(waba, emulator.app_id, "https://waba.example/hook")
    emulator.admin.set_phone_override(phone, emulator.app_id, "https://phone.example/hook")
    result = check()
    assert result.status == live_check.OK
    for line in (
        f"app {emulator.app_id} (the access token's)",
        f"WABA {waba}: 2 subscribed app(s)",
        f"{emulator.app_id} Lucky Shrub (ours): https://waba.example/hook",
        "phone_number               https://phone.example/hook",
        "whatsapp_business_account  https://waba.example/hook",
        f"application                {emulator.app_callback_url}",
        "messages webhooks go to    https://phone.example/hook (phone_number)",
        "this number's routing agrees with the per-number read",
    ):
        assert line in result.output
    assert writes(emulator) == 0
    assert emulator.token not in result.output


def test_a_waba_our_app_never_subscribed_to_is_reported(check, emulator):
    [waba] = emulator.never_subscribed_waba_ids
    phone = next(p for p in emulator.phone_ids if emulator.waba_of(p) == waba)
    result = check(ids=("--waba-id", waba, "--phone-number-id", phone))
    assert result.status == live_check.OK
    assert f"WABA {waba}: 0 subscribed app(s)" in result.output
    assert "our app is not subscribed" in result.output
    assert "(nowhere)" not in result.output  # the app's callback URL is still listed


def test_a_number_of_another_waba_is_reported(check, emulator):
    phone = emulator.phone_ids[0]
    other = next(w for w in emulator.waba_ids if w != emulator.waba_of(phone))
    result = check(ids=("--waba-id", other, "--phone-number-id", phone))
    assert result.status == live_check.OK
    assert "this number is NOT listed" in result.output


def test_a_failed_read_fails_the_check(check, emulator):
    emulator.admin.add_fault(method="GET", path="subscribed_apps", status=400,
                             error={"code": 100, "message": "(#100) injected"})
    result = check()
    assert result.status == live_check.CHECK_FAILED
    assert "a read failed: (#100) injected" in result.output
    assert writes(emulator) == 0


# ---- writing and restoring -----------------------------------------------------------------------


def test_write_sets_reads_back_and_clears_again(check, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    result = check("--write", callback_receiver.url, **{VERIFY_ENV: callback_receiver.verify_token})
    assert result.status == live_check.OK, result.output
    assert f"read back: {callback_receiver.url}" in result.output
    assert "restored: the number has no override again" in result.output
    assert callback_receiver.challenges, "Meta's verification call never reached the receiver"
    assert emulator.phone_override(phone) is None
    assert writes(emulator) == 2  # the override, then clearing it
    assert callback_receiver.verify_token not in result.output


def test_write_refuses_when_an_override_is_set_and_its_token_is_unknown(
    check, emulator, callback_receiver
):
    phone = emulator.phone_ids[0]
    emulator.admin.set_phone_override(phone, emulator.app_id, callback_receiver.url_for("before"))
    result = check("--write", callback_receiver.url, **{VERIFY_ENV: callback_receiver.verify_token})
    assert result.status == live_check.REFUSED
    assert "--write refused, nothing was changed" in result.output and RESTORE_ENV in result.output
    assert writes(emulator) == 0


def test_write_refuses_when_the_restore_token_would_not_verify(check, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    before = callback_receiver.url_for("before")
    emulator.admin.set_phone_override(phone, emulator.app_id, before)
    result = check("--write", callback_receiver.url, **{
        VERIFY_ENV: callback_receiver.verify_token, RESTORE_ENV: "not-the-token-of-before"})
    assert result.status == live_check.REFUSED
    assert f"does not verify with the current override {before}" in result.output
    assert "HTTP Status Code = 403" in result.output
    assert "not-the-token-of-before" not in result.output
    assert writes(emulator) == 0
    assert emulator.phone_override(phone) == before


def test_write_puts_the_previous_override_back(check, emulator):
    phone = emulator.phone_ids[0]
    with CallbackReceiver("token-of-before") as old, CallbackReceiver("token-of-new") as new:
        emulator.admin.set_phone_override(phone, emulator.app_id, old.url)
        result = check("--write", new.url,
                       **{VERIFY_ENV: "token-of-new", RESTORE_ENV: "token-of-before"})
        assert result.status == live_check.OK, result.output
        assert f"read back: {new.url}" in result.output
        assert f"restored: the number has {old.url} again" in result.output
        assert emulator.phone_override(phone) == old.url
        assert writes(emulator) == 2
        assert "token-of-" not in result.output


def test_a_failure_in_the_middle_still_restores(check, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    # The first read of the number goes through; the read-back after the write fails.
    fail_nth(emulator, "GET", phone, 2, 400, 100, "(#100) injected read failure")
    result = check("--write", callback_receiver.url, **{VERIFY_ENV: callback_receiver.verify_token})
    assert result.status == live_check.CHECK_FAILED
    assert "write check failed: (#100) injected read failure" in result.output
    assert "restored: the number has no override again" in result.output
    assert emulator.phone_override(phone) is None


def test_restore_goes_ahead_when_its_first_read_fails(check, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    # The read and the read-back go through; the restore's first read fails.
    fail_nth(emulator, "GET", phone, 3, 400, 100, "(#100) injected read failure")
    result = check("--write", callback_receiver.url, **{VERIFY_ENV: callback_receiver.verify_token})
    assert result.status == live_check.OK, result.output
    assert "restore: could not read the override first" in result.output
    assert "restored: the number has no override again" in result.output
    assert emulator.phone_override(phone) is None


def test_a_refused_write_changes_nothing_and_restores_nothing(check, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    result = check("--write", callback_receiver.url, **{VERIFY_ENV: "not-the-receivers-token"})
    assert result.status == live_check.CHECK_FAILED
    assert f"Meta could not verify the callback URL {callback_receiver.url}" in result.output
    assert "restore: nothing to do, the number has no override as before" in result.output
    assert emulator.phone_override(phone) is None
    assert "not-the-receivers-token" not in result.output


def test_a_failed_restore_says_what_is_left_and_what_to_do(check, emulator, callback_receiver):
    phone = emulator.phone_ids[0]
    # The write goes through; putting the number back is refused.
    fail_nth(emulator, "POST", phone, 2, 403, 200, "(#200) Permissions error")
    result = check("--write", callback_receiver.url, **{VERIFY_ENV: callback_receiver.verify_token})
    assert result.status == live_check.NOT_RESTORED
    assert "restore FAILED: (#200) Permissions error" in result.output
    assert (f"NOT RESTORED: phone number {phone} should have no override, it has "
            f"{callback_receiver.url}") in result.output
    assert '{"override_callback_uri": ""}' in result.output
    assert emulator.phone_override(phone) == callback_receiver.url


# ---- bin/live-check ----------------------------------------------------------------------------


def test_bin_live_check_runs_the_module(emulator):
    phone = emulator.phone_ids[0]
    env = {key: value for key, value in os.environ.items() if key not in ENV}
    command = [str(REPO_ROOT / "bin" / "live-check"),
               "--waba-id", emulator.waba_of(phone), "--phone-number-id", phone]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60,
                             check=False)
    assert refused.returncode == live_check.REFUSED
    assert "WHATSAPP_ACCESS_TOKEN" in refused.stderr
    env.update(WHATSAPP_ACCESS_TOKEN=emulator.token, WHATSAPP_GRAPH_URL=emulator.url)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == live_check.OK, done.stderr
    assert "this number's routing agrees with the per-number read" in done.stdout


# ---- the app's own subscription ------------------------------------------------------------------


def app_secret(emulator: EmulatorHandle) -> str:
    """The secret of our app in the emulator's fixture."""
    return next(a["app_secret"] for a in emulator.admin.state()["apps"]
                if a["id"] == emulator.app_id)


def test_with_the_app_secret_reads_and_prints_the_apps_subscription(check, emulator):
    secret = app_secret(emulator)
    live = emulator.admin.app_subscription(emulator.app_id)
    result = check(WHATSAPP_APP_SECRET=secret)
    assert result.status == live_check.OK, result.output
    assert "app subscription (whatsapp_business_account):" in result.output
    assert f"callback URL               {live['callback_url']}" in result.output
    assert "active                     yes" in result.output
    names = [f["name"] for f in live["fields"]]
    assert f"fields                     {', '.join(names)}" in result.output
    assert "messages field is NOT subscribed" not in result.output
    calls = emulator.admin.calls()
    assert [c["method"] for c in calls if c["path"].endswith("/subscriptions")] == ["GET"]
    assert writes(emulator) == 0
    # Neither the secret nor the app token it forms is printed.
    assert secret not in result.output and f"{emulator.app_id}|" not in result.output


def test_without_the_app_secret_says_it_did_not_read_the_subscription(check, emulator):
    result = check()
    assert result.status == live_check.OK
    assert "app subscription: not read" in result.output and "WHATSAPP_APP_SECRET" in result.output
    assert not any(c["path"].endswith("/subscriptions") for c in emulator.admin.calls())


def test_an_app_without_the_messages_field_is_reported(check, emulator):
    emulator.admin.set_app_subscription(emulator.app_id,
                                        callback_url=emulator.app_callback_url,
                                        fields=["account_update"])
    result = check(WHATSAPP_APP_SECRET=app_secret(emulator))
    assert result.status == live_check.OK
    assert "fields                     account_update" in result.output
    assert "the messages field is NOT subscribed" in result.output


def test_a_refused_subscription_read_fails_the_check_after_the_other_reads(check, emulator):
    """Meta's Graph reference still says the edge does not serve WhatsApp (code 100): exactly
    what the live check is there to find out."""
    emulator.admin.add_fault(method="GET", path="subscriptions", status=400, error={
        "code": 100, "message": "(#100) Webhooks for WhatsApp is not supported (injected)"})
    result = check(WHATSAPP_APP_SECRET=app_secret(emulator))
    assert result.status == live_check.CHECK_FAILED
    assert "app subscription: the read FAILED" in result.output
    assert "Webhooks for WhatsApp is not supported" in result.output
    # The number's routing was still read and printed.
    assert "messages webhooks go to" in result.output
    assert writes(emulator) == 0
