"""The demo behind bin/demo: a real `pulumi up` of the dev stack against the local emulator.

Starts the Graph API emulator (127.0.0.1:18080, as stacks/Pulumi.dev.yaml says) and a webhook
receiver (127.0.0.1:18090, the callback URLs of the routing table), runs `pulumi up --yes` for
the dev stack with a file backend in .state/, prints where each phone number's messages webhooks
go, has the emulator deliver one inbound message per number and shows which endpoint got it,
then stops both servers. The emulator's state is kept in .state/ between runs, as Meta keeps it,
so a second run changes nothing. `--destroy` tears the stack down instead.
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
    receiver_at = urlsplit(routing["appCallbackUri"])

    seed = fixtures.load(EMULATOR_STATE if EMULATOR_STATE.exists() else None)
    app = next(a for a in seed["apps"] if a["id"] == config["whatsapp:appId"])
    with EmulatorServer(seed, host=graph.hostname or "127.0.0.1", port=graph.port or 0) as server, \
            WebhookReceiver(tokens.values(), app_secret=app["app_secret"],
                            host=receiver_at.hostname or "127.0.0.1",
                            port=receiver_at.port or 0) as receiver:
        admin = EmulatorAdmin(server.url)
        print(f"emulator on {server.url}, webhook receiver on {receiver.base_url}")
        admin.set_app_callback(app["id"], routing["appCallbackUri"])
        try:
            if args.destroy:
                pulumi("destroy", "--yes")
            else:
                pulumi("up", "--yes")
                outputs = json.loads(pulumi("stack", "output", "--json", capture=True))
                show_routing(outputs.get("routing", {}), admin, receiver)
            counts = admin.counts()
            print(f"\nGraph API calls during this run: {counts['reads']} reads, "
                  f"{counts['writes']} writes")
        finally:
            EMULATOR_STATE.write_text(json.dumps(admin.state(), indent=2))
    if args.destroy:
        print("\nthe dev stack's overrides are removed; every number falls back to the app's "
              "callback URL")
    return 0


def show_routing(routing: dict[str, Any], admin: EmulatorAdmin,
                 receiver: WebhookReceiver) -> None:
    """Print the routing table as deployed, then deliver one message per number and show where
    each one arrived."""
    print("\nphone number id   effective callback                       set by")
    for phone_id, route in sorted(routing.items()):
        print(f"{phone_id:<17} {route['callbackUri']:<40} {route['rule']}")

    print("\ndelivering one inbound message per phone number through the emulator:")
    failures = 0
    for phone_id, route in sorted(routing.items()):
        before = len(receiver.received)
        delivery = admin.deliver(phone_id, text=f"hello from {phone_id}")
        arrived = receiver.received[before:]
        where = arrived[0].path if arrived else "(nothing arrived)"
        signed = "signature ok" if arrived and arrived[0].signature_ok else "BAD SIGNATURE"
        expected = urlsplit(route["callbackUri"]).path
        ok = bool(arrived) and where == expected and arrived[0].signature_ok
        failures += not ok
        print(f"  {phone_id} -> {delivery['delivered_to']} ({delivery['rule']}): received at "
              f"{where}, {signed}{'' if ok else '  <-- NOT WHERE THE STACK ROUTES IT'}")
    if failures:
        raise SystemExit(f"demo: {failures} message(s) did not arrive where the stack routes them")


if __name__ == "__main__":
    sys.exit(main())
