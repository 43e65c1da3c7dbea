"""The live check: what Meta's Graph API really says about one test number's webhook routing.

For the day someone has a Meta test account, before a release. It confirms on the live API what the
emulator assumes (docs/meta-rules.md). By default it only reads and prints: our app (from the
token), with the app secret its own webhook subscription (callback URL, active, fields: ``GET
/{APP_ID}/subscriptions`` with an app access token), the apps subscribed to the WABA with their
override callback URIs, the phone number's ``webhook_configuration`` (phone number, WABA, app) and
where its messages webhooks go, and whether the batch read of the WABA's numbers (``phone_numbers``
with ``webhook_configuration``, inferred to work) agrees with the per-number read. With ``--write
URL`` it also sets the phone number's override callback URI to URL, reads it back, and then puts
back what was there before, even when a step in between fails.

Inputs, as the provider reads its settings (`config.load()`, from the environment):

* ``WHATSAPP_ACCESS_TOKEN`` (required), ``WHATSAPP_GRAPH_URL``, ``WHATSAPP_APP_ID``... as in the
  configuration table (docs/installation.md); ``WHATSAPP_APP_SECRET`` (optional) to read the app's
  subscription;
* ``--waba-id`` / ``WHATSAPP_WABA_ID`` and ``--phone-number-id`` / ``WHATSAPP_PHONE_NUMBER_ID``:
  a WABA and a *test* phone number of it;
* with ``--write``: ``WHATSAPP_LIVE_CHECK_VERIFY_TOKEN``, the verify token URL answers to; and,
  when the number has an override already, ``WHATSAPP_LIVE_CHECK_RESTORE_VERIFY_TOKEN``, the
  verify token of that override. Meta never returns verify tokens, and it verifies a URL again
  when it is set back: without that token the override could not be restored, so the check
  refuses to write. It first calls the current override URL itself, as Meta would, to make
  sure the token works before anything changes.

Secrets come only from the environment, never from arguments (``ps`` shows those), and are
never printed. It refuses to run in CI (``CI`` set) against anything but a loopback emulator.

Exit status: 0 everything as expected; 1 a check failed (after ``--write``: what was there
before is back); 2 refused to run, nothing changed; 3 the override could NOT be restored (the
output says what is set and what to set by hand).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import config, errors, validation
from ..graph import GraphClient, WebhookConfiguration

WABA_ENV = "WHATSAPP_WABA_ID"
PHONE_ENV = "WHATSAPP_PHONE_NUMBER_ID"
VERIFY_TOKEN_ENV = "WHATSAPP_LIVE_CHECK_VERIFY_TOKEN"
RESTORE_TOKEN_ENV = "WHATSAPP_LIVE_CHECK_RESTORE_VERIFY_TOKEN"

OK = 0
CHECK_FAILED = 1
REFUSED = 2
NOT_RESTORED = 3


class Refused(Exception):
    """The inputs do not allow a safe run; nothing was called."""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the live check's arguments to ``parser`` (a subcommand's or a program's)."""
    parser.description = (
        "Read (and with --write, set and restore) one test phone number's webhook routing on "
        "the live Graph API. Secrets come from the environment only: WHATSAPP_ACCESS_TOKEN, "
        f"{VERIFY_TOKEN_ENV}, {RESTORE_TOKEN_ENV}."
    )
    parser.add_argument("--waba-id", help=f"the WABA of the test number (or {WABA_ENV})")
    parser.add_argument("--phone-number-id",
                        help=f"a test phone number id of that WABA (or {PHONE_ENV})")
    parser.add_argument(
        "--write", metavar="URL",
        help=f"also set the number's override callback URI to URL (its verify token in "
             f"{VERIFY_TOKEN_ENV}), read it back, and restore what was there before",
    )


def run(args: argparse.Namespace) -> int:
    """Run the live check; returns the exit status (see the module's docstring)."""
    try:
        target = _target(args, os.environ)
    except Refused as refusal:
        print(f"live-check: refused, nothing was called: {refusal}", file=sys.stderr)
        return REFUSED
    client = GraphClient(target.settings)
    try:
        before, app_ok = _read(client, target)
    except errors.GraphError as error:
        print(f"live-check: a read failed: {error}")
        return CHECK_FAILED
    if target.write_uri is None:
        return OK if app_ok else CHECK_FAILED
    try:
        restore_token = _restore_token(before, os.environ)
    except Refused as refusal:
        print(f"live-check: --write refused, nothing was changed: {refusal}", file=sys.stderr)
        return REFUSED
    status = _write_and_restore(client, target, before, restore_token)
    return max(status, OK if app_ok else CHECK_FAILED)


def main(argv: list[str] | None = None) -> int:
    """``python -m waba_webhooks.live_check``: the command behind ``bin/live-check``."""
    parser = argparse.ArgumentParser(prog="live-check")
    configure_parser(parser)
    return run(parser.parse_args(argv))


# ---- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckTarget:
    """What to check, from the arguments and the environment."""

    settings: config.Settings
    waba_id: str
    phone_number_id: str
    write_uri: str | None
    write_token: str | None


def _target(args: argparse.Namespace, environ: Mapping[str, str]) -> CheckTarget:
    try:
        settings = config.load(environ=environ)
    except errors.ConfigurationError as error:
        raise Refused(str(error)) from None
    if not settings.access_token:
        raise Refused("set WHATSAPP_ACCESS_TOKEN (a token of the app to check, with "
                      "whatsapp_business_management)")
    if _in_ci(environ) and not validation.is_loopback_host(
            urlsplit(settings.graph_url).hostname or ""):
        raise Refused(f"CI is set: the live check never runs in CI against "
                      f"{settings.graph_url}, only by hand (or against a local emulator)")
    waba_id = args.waba_id or environ.get(WABA_ENV)
    phone_id = args.phone_number_id or environ.get(PHONE_ENV)
    problems = [f.reason for f in (*validation.check_id("--waba-id", waba_id),
                                   *validation.check_id("--phone-number-id", phone_id))]
    write_uri, write_token = args.write, None
    if write_uri is not None:
        problems += [f.reason for f in validation.check_callback_uri(
            "--write", write_uri, allow_http_loopback=settings.allow_http_loopback)]
        write_token = environ.get(VERIFY_TOKEN_ENV)
        problems += [f"{f.reason} ({VERIFY_TOKEN_ENV})" for f in
                     validation.check_verify_token("verify token", write_token)]
        for warning in validation.callback_uri_warnings("--write", write_uri):
            print(f"warning: {warning}")
    if problems:
        raise Refused("; ".join(problems))
    assert waba_id is not None and phone_id is not None
    return CheckTarget(settings, waba_id, phone_id, write_uri, write_token)


def _in_ci(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _restore_token(before: WebhookConfiguration,
                   environ: Mapping[str, str]) -> str | None:
    """The verify token that puts the current override back, checked the way Meta will check
    it; None when there is no override (restoring clears it)."""
    if before.phone_number is None:
        return None
    token = environ.get(RESTORE_TOKEN_ENV)
    if not token:
        raise Refused(
            f"the number has an override callback URI already ({before.phone_number}) and "
            f"Meta never returns verify tokens: set {RESTORE_TOKEN_ENV} to its verify token, "
            "so that the check can put it back"
        )
    # Meta's verification call, as the emulator makes it.
    from ..emulator.exceptions import VerificationFailed
    from ..emulator.responses import http_verifier

    try:
        http_verifier()(before.phone_number, token)
    except VerificationFailed as failure:
        raise Refused(
            f"{RESTORE_TOKEN_ENV} does not verify with the current override "
            f"{before.phone_number} ({failure.reason}): Meta would refuse to restore it"
        ) from None
    return token


# ---- the checks ---------------------------------------------------------------------------------


def _read(client: GraphClient, target: CheckTarget) -> tuple[WebhookConfiguration, bool]:
    """Print what the API says; return the number's routing and whether the app's subscription
    could be read (or was not asked for)."""
    app_id = client.app_id()
    print(f"app {app_id} (the access token's)")
    app_ok = _print_app_subscription(client, app_id, bool(target.settings.app_secret))
    apps = client.subscribed_apps(target.waba_id)
    print(f"WABA {target.waba_id}: {len(apps)} subscribed app(s)")
    for app in apps:
        ours = " (ours)" if app.app_id == app_id else ""
        override = app.override_callback_uri or "no override callback URI"
        print(f"  {app.app_id} {app.name or ''}{ours}: {override}")
    if app_id not in {app.app_id for app in apps}:
        print("  our app is not subscribed: Meta sends it none of this WABA's webhooks, and "
              "refuses overrides until it is (a phone number override: inferred)")
    routing = client.webhook_configuration(target.phone_number_id)
    print(f"phone number {target.phone_number_id}, webhook_configuration for our app:")
    _print_routing(routing)
    numbers = client.phone_numbers(target.waba_id)
    listed = next((n for n in numbers if n.phone_number_id == target.phone_number_id), None)
    what = f"batch read of the WABA's numbers (phone_numbers edge): {len(numbers)} number(s); "
    if listed is None:
        print(what + "this number is NOT listed (is it a number of this WABA?)")
    elif listed.webhook_configuration == routing:
        print(what + "this number's routing agrees with the per-number read")
    else:
        print(what + "this number's routing DISAGREES with the per-number read:")
        _print_routing(listed.webhook_configuration)
    return routing, app_ok


def _print_app_subscription(client: GraphClient, app_id: str, have_secret: bool) -> bool:
    """Print the app's own webhook subscription (the third rule, and the fields Meta delivers);
    False when reading it failed."""
    if not have_secret:
        print("app subscription: not read (it needs an app access token: set "
              "WHATSAPP_APP_SECRET to the app secret to check it)")
        return True
    try:
        subscription = client.app_subscription(app_id)
    except errors.GraphError as error:
        print(f"app subscription: the read FAILED: {error}")
        return False
    if subscription is None:
        print("app subscription (whatsapp_business_account): NONE, Meta delivers no webhook "
              "of any WABA to this app")
        return True
    print("app subscription (whatsapp_business_account):")
    print(f"  callback URL               {subscription.callback_url}")
    print(f"  active                     {'yes' if subscription.active else 'NO'}")
    print(f"  fields                     {', '.join(subscription.fields) or '(none)'}")
    if "messages" not in subscription.fields:
        print("  the messages field is NOT subscribed: Meta delivers no messages webhook to "
              "any callback, overrides included")
    return True


def _print_routing(routing: WebhookConfiguration) -> None:
    for level in ("phone_number", "whatsapp_business_account", "application"):
        print(f"  {level:<26} {getattr(routing, level) or '(absent)'}")
    print(f"  messages webhooks go to    {routing.effective or '(nowhere)'} "
          f"({routing.effective_rule})")


def _write_and_restore(client: GraphClient, target: CheckTarget, before: WebhookConfiguration,
                       restore_token: str | None) -> int:
    """Set the override, read it back, and put back what was there, whatever happens."""
    uri, phone = target.write_uri, target.phone_number_id
    assert uri is not None and target.write_token is not None
    status = OK
    try:
        print(f"setting phone number {phone}'s override callback URI to {uri} "
              "(Meta verifies it first)")
        client.set_phone_override(phone, uri, target.write_token)
        after = client.webhook_configuration(phone)
        if after.phone_number == uri:
            print(f"read back: {uri}, messages webhooks go to {after.effective}")
        else:
            print(f"read back: MISMATCH, the override is {after.phone_number or '(absent)'}")
            status = CHECK_FAILED
    except errors.GraphError as error:
        print(f"write check failed: {error}")
        status = CHECK_FAILED
    finally:
        # Also after an interrupt: a write that failed on our side may have landed on Meta's.
        status = max(status, _restore(client, phone, before.phone_number, restore_token))
    return status


_UNREAD = object()


def _restore(client: GraphClient, phone: str, previous: str | None,
             restore_token: str | None) -> int:
    shown = previous or "no override"
    try:
        now: object = client.webhook_configuration(phone).phone_number
    except errors.GraphError as error:
        print(f"restore: could not read the override first ({error}); restoring anyway")
        now = _UNREAD
    if now == previous:
        print(f"restore: nothing to do, the number has {shown} as before")
        return OK
    try:
        if previous is None:
            client.clear_phone_override(phone)
        else:
            client.set_phone_override(phone, previous, restore_token or "")
        final: object = client.webhook_configuration(phone).phone_number
    except errors.GraphError as error:
        print(f"restore FAILED: {error}")
        final = _read_override(client, phone)
    if final == previous:
        print(f"restored: the number has {shown} again")
        return OK
    is_now = "unknown" if final is _UNREAD else (final or "no override")
    body = ('{"override_callback_uri": ""}' if previous is None else
            f'{{"override_callback_uri": "{previous}", "verify_token": <its verify token>}}')
    print(f"NOT RESTORED: phone number {phone} should have {shown}, it has {is_now}. Set it "
          f"back by hand: POST /{phone} with webhook_configuration {body}")
    return NOT_RESTORED


def _read_override(client: GraphClient, phone: str) -> object:
    """The number's override, or `_UNREAD` if even that read fails."""
    try:
        return client.webhook_configuration(phone).phone_number
    except errors.GraphError:
        return _UNREAD


if __name__ == "__main__":
    sys.exit(main())
