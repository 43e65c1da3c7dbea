"""A solution provider's estate for the drift tests: one business owning 3 WABAs and serving 7
client WABAs of 5 numbers each; the last client WABA refuses reads with ``(#200)``. Our app is
subscribed to every WABA; WABA overrides on 4 of them and phone overrides on 8 numbers, set by
hand, all pointing at one callback base URL (a webhook receiver in the e2e test, so that
`pulumi up` can write them back; a fixed one where tests only read).

The hand changes the drift tests make (`drift`): 3 numbers (two overrides changed, one
removed) and the WABA override of client WABA 3 removed, so that its 3 numbers without their
own override follow it to the app's callback URL.
"""

from __future__ import annotations

from typing import Any

from waba_webhooks.emulator import EmulatorAdmin, fixtures
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID, DEFAULT_BUSINESS_ID

BUSINESS = DEFAULT_BUSINESS_ID
WABAS, PER_WABA, OWNED = 10, 5, 3
WABA_IDS = [str(200_000_000_000_000 + w) for w in range(WABAS)]
#: The client WABA that answers reads with (#200) Permissions error.
REFUSING = WABA_IDS[9]
#: The base of every callback URL in golden files (the e2e receiver's is put in its place).
BASE = "http://127.0.0.1:18090"
APP_CALLBACK = "https://lucky-shrub.example/webhook"


def phone_id(waba: int, number: int) -> str:
    """The id of the WABA's n-th number (both 0-based)."""
    return str(300_000_000_000_000 + waba * PER_WABA + number)


#: WABA index -> path of its override; phone (waba, number) -> path of its override.
WABA_OVERRIDES = {0: "w/0", 1: "w/1", 3: "w/3", 4: "w/4"}
PHONE_OVERRIDES = {(0, 0): "p/0-0", (0, 1): "p/0-1", (2, 0): "p/2-0", (3, 0): "p/3-0",
                   (3, 1): "p/3-1", (5, 2): "p/5-2", (6, 0): "p/6-0", (8, 4): "p/8-4"}
#: The hand changes: numbers whose override changes (or goes: None), and the WABA whose
#: override is removed.
HAND_CHANGED = {(0, 1): "p/0-1-by-hand", (5, 2): "p/5-2-by-hand", (6, 0): None}
WABA_REMOVED = 3
#: Numbers of that WABA without their own override: they follow its override.
FOLLOWING = [phone_id(WABA_REMOVED, n) for n in range(2, PER_WABA)]


def fixture() -> dict[str, Any]:
    """The emulator fixture before any override."""
    data = fixtures.generate(wabas=WABAS, phones_per_waba=PER_WABA, callback_url=APP_CALLBACK)
    return fixtures.with_business(data, owned=OWNED, refusing=[REFUSING])


def seed(admin: EmulatorAdmin, base: str = BASE) -> None:
    """Seed the emulator with the estate, overrides set by hand (this clears its call log)."""
    admin.seed(fixture())
    for waba, path in WABA_OVERRIDES.items():
        admin.set_waba_override(WABA_IDS[waba], DEFAULT_APP_ID, f"{base}/{path}")
    for (waba, number), path in PHONE_OVERRIDES.items():
        admin.set_phone_override(phone_id(waba, number), DEFAULT_APP_ID, f"{base}/{path}")


def drift(admin: EmulatorAdmin, base: str = BASE) -> None:
    """Make the hand changes."""
    for (waba, number), path in HAND_CHANGED.items():
        admin.set_phone_override(phone_id(waba, number), DEFAULT_APP_ID,
                                 f"{base}/{path}" if path else None)
    admin.set_waba_override(WABA_IDS[WABA_REMOVED], DEFAULT_APP_ID, None)


def new_client(admin: EmulatorAdmin, number_count: int = 2) -> str:
    """A new customer onboards as a client WABA and someone subscribes our app by hand;
    returns its id."""
    waba_id = str(200_000_000_000_000 + WABAS)
    admin.add_client_waba(BUSINESS, {"id": waba_id, "name": "New client",
                                     "apps_with_access": [DEFAULT_APP_ID], "subscriptions": {}},
                          [{"id": str(300_000_000_000_000 + WABAS * PER_WABA + n),
                            "waba_id": waba_id, "display_phone_number": f"+1 555-100-{n:04d}",
                            "verified_name": f"New client {n}", "overrides": {}}
                           for n in range(number_count)])
    admin.subscribe_app(waba_id, DEFAULT_APP_ID)
    return waba_id
