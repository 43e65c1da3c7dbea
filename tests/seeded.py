"""A seeded routing world for discover and review tests: 4 WABAs of 10 numbers each, our app
subscribed to 3 of them, WABA overrides on 2, phone overrides on 11 numbers spread over 5 callback
hosts (one of them http:// to loopback). Every id and URL is fixed, so reports are reproducible.

Overrides are set "outside Pulumi" with the emulator's admin client, as a team that set them by
hand would have them.
"""

from __future__ import annotations

from typing import Any

from waba_webhooks.emulator import EmulatorAdmin, fixtures
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID

WABAS, PER_WABA = 4, 10
WABA_IDS = [str(200_000_000_000_000 + w) for w in range(WABAS)]
APP_CALLBACK = "https://lucky-shrub.example/webhook"


def phone_id(waba: int, number: int) -> str:
    """The id of the WABA's n-th number (both 0-based)."""
    return str(300_000_000_000_000 + waba * PER_WABA + number)


#: The WABA our app is not subscribed to.
UNSUBSCRIBED = WABA_IDS[3]
WABA_OVERRIDES = {
    WABA_IDS[0]: "https://hooks.example.com/waba-0",
    WABA_IDS[1]: "https://support.example.net/whatsapp",
}
PHONE_OVERRIDES = {
    phone_id(0, 0): "https://vip.example.com/line/0",
    phone_id(0, 1): "https://vip.example.com/line/1",
    phone_id(0, 2): "https://hooks.example.com/vip-2",
    phone_id(1, 0): "https://vip.example.com/line/10",
    phone_id(1, 1): "http://127.0.0.1:9/loopback",
    phone_id(2, 0): "https://vip.example.com/line/20",
    phone_id(2, 1): "https://vip.example.com/line/21",
    phone_id(2, 2): "https://regional.example.org/eu",
    phone_id(2, 3): "https://regional.example.org/eu",
    phone_id(2, 4): "https://regional.example.org/eu",
    phone_id(3, 0): "https://vip.example.com/line/30",
}
#: Verify token name discover gives each host.
TOKEN_NAMES = {
    "hooks.example.com": "hooks-example-com",
    "support.example.net": "support-example-net",
    "vip.example.com": "vip-example-com",
    "127.0.0.1": "host-127-0-0-1",
    "regional.example.org": "regional-example-org",
}


def fixture() -> dict[str, Any]:
    """The emulator fixture before any override (our app unsubscribed from `UNSUBSCRIBED`)."""
    data = fixtures.generate(wabas=WABAS, phones_per_waba=PER_WABA, callback_url=APP_CALLBACK)
    for waba in data["wabas"]:
        if waba["id"] == UNSUBSCRIBED:
            waba["subscriptions"] = {}
    return data


def seed(admin: EmulatorAdmin) -> None:
    """Seed the emulator with the world (this clears its call log)."""
    admin.seed(fixture())
    for waba_id, uri in WABA_OVERRIDES.items():
        admin.set_waba_override(waba_id, DEFAULT_APP_ID, uri)
    for phone, uri in PHONE_OVERRIDES.items():
        admin.set_phone_override(phone, DEFAULT_APP_ID, uri)


def routes() -> dict[str, tuple[str | None, str]]:
    """Phone number id -> (where its messages webhooks go, rule) in the seeded world."""
    found: dict[str, tuple[str | None, str]] = {}
    for w, waba_id in enumerate(WABA_IDS):
        for n in range(PER_WABA):
            phone = phone_id(w, n)
            if waba_id == UNSUBSCRIBED:
                found[phone] = (None, "none")
            elif phone in PHONE_OVERRIDES:
                found[phone] = (PHONE_OVERRIDES[phone], "phone_number")
            elif waba_id in WABA_OVERRIDES:
                found[phone] = (WABA_OVERRIDES[waba_id], "whatsapp_business_account")
            else:
                found[phone] = (APP_CALLBACK, "application")
    return found
