"""The demo behind bin/demo: a real `pulumi up` of the dev stack against the local emulator.

Starts the Graph API emulator (127.0.0.1:18080, as stacks/Pulumi.dev.yaml says) and a webhook
receiver (127.0.0.1:18090, the callback URLs of the routing table), runs `pulumi up --yes` for
the dev stack with a file backend in .state/, prints the app's webhook subscription and where each
phone number's messages webhooks go, has the emulator deliver one inbound message per number and
one template-status webhook (which only the app's callback URL receives) and shows which endpoint
got each, then stops both servers. The emulator's state is kept in .state/ between runs, as Meta
keeps it, so a second run changes nothing. `--destroy` tears the stack down instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from waba_webhooks.emulator import fixtures
from waba_webhooks.emulator.admin import EmulatorAdmin
from waba_webhooks.emulator.receiver import WebhookReceiver
from waba_webhooks.emulator.server import EmulatorServer

REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".state"
EMULATOR_STATE = STATE / "emulator.json"
STACK = "dev"
DEV_PASSPHRASE = "waba-webhooks-dev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destroy", action="store_true", help="tear the dev stack down")
    args = parser.parse_args()

    STATE.mkdir(exist_ok=True)
    (STATE / "backend").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{STATE / 'backend'}",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", DEV_PASSPHRASE),
    }

    def pulumi(*words: str, capture: bool = False) -> str:
        command = ["pulumi", *words, "--stack", STACK, "--non-interactive"]
        if not capture:
            print(f"\n$ pulumi {' '.join(words)}", flush=True)
        done = subprocess.run(command, cwd=REPO, env=env, text=True, check=False,
                              stdout=subprocess.PIPE if capture else None)
        if done.returncode != 0:
            raise SystemExit(f"demo: `pulumi {' '.join(words)}` failed ({done.returncode})")
        return done.stdout or ""

    subprocess.run(["pulumi", "stack", "select", "--create", STACK, "--non-interactive"],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    config = {key: entry.get("value") for key, entry in json.loads(
        pulumi("config", "--show-secrets", "--json", capture=True)).items()}
    routing = json.loads(config["waba-webhooks:routing"])
    tokens = json.loads(config["waba-webhooks:verifyTokens"])
    graph = urlsplit(config["whatsapp:graphUrl"])
    # The table's app block declares the app's subscription (its callback URL); a table without
    # one only names it (appCallbackUri), and the demo sets it as the App Dashboard would.
    app_block = routing.get("app")
    app_url = app_block["callbackUrl"] if app_block else routing["appCallbackUri"]
    receiver_at = urlsplit(app_url)

    seed = fixtures.load(EMULATOR_STATE if EMULATOR_STATE.exists() else None)
    app = next(a for a in seed["apps"] if a["id"] == config["whatsapp:appId"])
    with EmulatorServer(seed, host=graph.hostname or "127.0.0.1", port=graph.port or 0) as server, \
            WebhookReceiver(tokens.values(), app_secret=app["app_secret"],
                            host=receiver_at.hostname or "127.0.0.1",
                            port=receiver_at.port or 0) as receiver:
        admin = EmulatorAdmin(server.url)
        print(f"emulator on {server.url}, webhook receiver on {receiver.base_url}")
        if not app_block:
            admin.set_app_callback(app["id"], app_url)
        try:
            if args.destroy:
                pulumi("destroy", "--yes")
            else:
                pulumi("up", "--yes")
                outputs = json.loads(pulumi("stack", "output", "--json", capture=True))
                show_app(outputs.get("app"))
                show_routing(outputs.get("routing", {}), admin, receiver)
                show_template_webhook(routing, app_url, admin, receiver)
            counts = admin.counts()
            print(f"\nGraph API calls during this run: {counts['reads']} reads, "
                  f"{counts['writes']} writes")
        finally:
            EMULATOR_STATE.write_text(json.dumps(admin.state(), indent=2))
    if args.destroy:
        print("\nthe dev stack's overrides are removed; every number falls back to the app's "
              "callback URL")
        if app_block and not app_block.get("removeOnDestroy"):
            print("the app's webhook subscription is left as it is (removeOnDestroy is false): "
                  "removing it would stop every webhook of the app")
    return 0


def show_app(app: dict[str, Any] | None) -> None:
    """Print the app's webhook subscription as the stack set it (the third rule)."""
    if not app:
        return
    print(f"\napp subscription: {app['callbackUrl']} "
          f"({'active' if app['active'] else 'NOT active'})")
    print(f"  fields: {', '.join(app['fields'])}")


def show_routing(routing: dict[str, Any], admin: EmulatorAdmin,
                 receiver: WebhookReceiver) -> None:
    """Print the routing table as deployed, then deliver one message per number and show where
    each one arrived."""
    print("\nphone number id   effective callback                       set by")
    for phone_id, route in sorted(routing.items()):
        shown = route["callbackUri"] or "(not delivered: no messages field)"
        print(f"{phone_id:<17} {shown:<40} {route['rule']}")

    print("\ndelivering one inbound message per phone number through the emulator:")
    failures = 0
    for phone_id, route in sorted(routing.items()):
        before = len(receiver.received)
        delivery = admin.deliver(phone_id, text=f"hello from {phone_id}")
        arrived = receiver.received[before:]
        where = arrived[0].path if arrived else "(nothing arrived)"
        signed = "signature ok" if arrived and arrived[0].signature_ok else "BAD SIGNATURE"
        if route["callbackUri"] is None:  # the app does not subscribe to messages: none arrive
            ok, signed = not arrived, "as the table says"
        else:
            expected = urlsplit(route["callbackUri"]).path
            ok = bool(arrived) and where == expected and arrived[0].signature_ok
        failures += not ok
        sent = (f"{delivery['delivered_to']} ({delivery['rule']})" if delivery["delivered_to"]
                else f"not delivered ({delivery['error']})")
        print(f"  {phone_id} -> {sent}: received at "
              f"{where}, {signed}{'' if ok else '  <-- NOT WHERE THE STACK ROUTES IT'}")
    if failures:
        raise SystemExit(f"demo: {failures} message(s) did not arrive where the stack routes them")


def show_template_webhook(routing: dict[str, Any], app_url: str, admin: EmulatorAdmin,
                          receiver: WebhookReceiver) -> None:
    """Deliver one template-status webhook: it goes to the app's callback URL, whatever the
    overrides say, because the app subscribes to its field."""
    waba_id = next(w["wabaId"] for w in routing.get("wabas") or routing["phoneNumbers"])
    field = "message_template_status_update"
    print(f"\ndelivering one {field} webhook of WABA {waba_id} through the emulator:")
    before = len(receiver.received)
    delivery = admin.deliver(field=field, waba_id=waba_id)
    arrived = receiver.received[before:]
    where = arrived[0].path if arrived else "(nothing arrived)"
    signed = "signature ok" if arrived and arrived[0].signature_ok else "BAD SIGNATURE"
    ok = bool(arrived) and where == urlsplit(app_url).path and arrived[0].signature_ok
    print(f"  WABA {waba_id} -> {delivery['delivered_to']} ({delivery['rule']}): received at "
          f"{where}, {signed}{'' if ok else '  <-- NOT THE APP CALLBACK URL'}")
    if not ok:
        raise SystemExit(f"demo: the {field} webhook did not arrive at the app's callback URL")


if __name__ == "__main__":
    sys.exit(main())
