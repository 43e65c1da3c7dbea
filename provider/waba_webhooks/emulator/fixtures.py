"""Seed data for the emulator: the bundled default fixture, loading files, generating big ones.

A fixture is JSON::

    {"apps": [{"id", "name", "callback_url", "app_secret", "access_tokens": [...],
               "fields": [names or {"name", "version"}],      # optional, see below
               "other_subscriptions": {object: {"callback_url", "fields"}}}],  # optional
     "wabas": [{"id", "name", "apps_with_access": [app ids],
                "subscriptions": {app_id: override URL or null},
                "customer_managed": false,   # optional: numbers refuse writes (code 200)
                "refuses_reads": false,      # optional: reads answer (#200) Permissions error
                "hourly_budget": calls per hour per app (optional)}],
     "phone_numbers": [{"id", "waba_id", "display_phone_number", "verified_name",
                        "overrides": {app_id: URL}, "registered": bool (optional, true)}],
     "businesses": [{"id", "name", "apps_with_access": [app ids],          # optional
                     "owned_wabas": [WABA ids], "client_wabas": [WABA ids]}]}

An app's ``callback_url`` and ``fields`` are its webhook subscription for
``whatsapp_business_account`` (``/{app-id}/subscriptions``; ``""``: none). Without ``fields`` an
app with a callback URL subscribes to ``messages`` and the template and account fields the
emulator delivers (`models.DEFAULT_APP_FIELDS`). The app access token of an app is
``{id}|{app_secret}``; ``access_tokens`` are its system user tokens.

Ids are digit strings. Keys starting with ``_`` (comments) are ignored. Without
``hourly_budget`` a WABA gets Meta's default: 5,000 calls per hour when one of its numbers is
registered (every number is, unless it says ``"registered": false``), else 200.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .exceptions import InvalidFixtureError

DEFAULT_FIXTURE_PATH = Path(__file__).with_name("default_fixture.json")

#: Our app in the default fixture, and its (fake) access token.
DEFAULT_APP_ID = "670843887433847"
DEFAULT_TOKEN = "EMU-TOKEN-lucky-shrub"

FixtureSource = Mapping[str, Any] | str | Path | None


def load(source: FixtureSource = None) -> dict[str, Any]:
    """Return a fixture from a dict (copied), a JSON file path, or the default when None."""
    if source is None:
        source = DEFAULT_FIXTURE_PATH
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    path = Path(source)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidFixtureError(f"cannot read fixture {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidFixtureError(f"fixture {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidFixtureError(f"fixture {path} must hold a JSON object")
    return data


def generate(
    app_id: str = DEFAULT_APP_ID,
    wabas: int = 1,
    phones_per_waba: int = 1,
    *,
    app_name: str = "Lucky Shrub",
    token: str = DEFAULT_TOKEN,
    app_secret: str = "EMU-APP-SECRET-lucky-shrub",
    callback_url: str = "https://lucky-shrub.example/webhook",
    other_apps: int = 0,
    subscribed: bool = True,
    registered: bool = True,
    hourly_budget: int | None = None,
    app_fields: list[str] | None = None,
    waba_id_start: int = 200_000_000_000_000,
    phone_id_start: int = 300_000_000_000_000,
) -> dict[str, Any]:
    """Build a fixture of any size: our app, ``other_apps`` more apps (all with access to every
    WABA), ``wabas`` WABAs with ``phones_per_waba`` numbers each, no overrides.

    Other app ``i`` has id ``str(880_000_000_000_000 + i)`` and token ``EMU-TOKEN-other-<i>``.
    With ``subscribed`` every app starts subscribed to every WABA. Numbers are ``registered``
    (so each WABA's budget is 5,000 calls per hour, 200 without) unless told otherwise;
    ``hourly_budget`` sets every WABA's budget instead. ``app_fields`` are the webhook fields
    our app subscribes to (default: `models.DEFAULT_APP_FIELDS`).
    """
    if wabas < 0 or phones_per_waba < 0 or other_apps < 0:
        raise ValueError("counts must not be negative")
    apps = [
        {
            "id": app_id,
            "name": app_name,
            "callback_url": callback_url,
            "app_secret": app_secret,
            "access_tokens": [token],
            **({"fields": list(app_fields)} if app_fields is not None else {}),
        }
    ]
    for i in range(1, other_apps + 1):
        apps.append(
            {
                "id": str(880_000_000_000_000 + i),
                "name": f"Other App {i}",
                "callback_url": f"https://other-app-{i}.example/webhook",
                "app_secret": f"EMU-APP-SECRET-other-{i}",
                "access_tokens": [f"EMU-TOKEN-other-{i}"],
            }
        )
    app_ids = [app["id"] for app in apps]
    waba_list: list[dict[str, Any]] = []
    phone_list: list[dict[str, Any]] = []
    for w in range(wabas):
        waba_id = str(waba_id_start + w)
        waba_list.append(
            {
                "id": waba_id,
                "name": f"WABA {w + 1}",
                "apps_with_access": list(app_ids),
                "subscriptions": dict.fromkeys(app_ids) if subscribed else {},
                **({"hourly_budget": hourly_budget} if hourly_budget is not None else {}),
            }
        )
        for p in range(phones_per_waba):
            n = w * phones_per_waba + p
            phone_list.append(
                {
                    "id": str(phone_id_start + n),
                    "waba_id": waba_id,
                    "display_phone_number": f"+1 555-{n // 10_000 % 1000:03d}-{n % 10_000:04d}",
                    "verified_name": f"WABA {w + 1} number {p + 1}",
                    "overrides": {},
                    **({} if registered else {"registered": False}),
                }
            )
    return {"apps": apps, "wabas": waba_list, "phone_numbers": phone_list}


#: The business `with_business` adds unless told otherwise.
DEFAULT_BUSINESS_ID = "400000000000001"


def with_business(
    fixture: dict[str, Any],
    owned: int,
    *,
    business_id: str = DEFAULT_BUSINESS_ID,
    name: str = "Lucky Shrub Solutions",
    apps_with_access: list[str] | None = None,
    refusing: list[str] | None = None,
) -> dict[str, Any]:
    """Add a business to ``fixture`` (changed in place and returned): it owns the first
    ``owned`` WABAs and serves the others as client WABAs; ``apps_with_access`` (default: the
    first app) may list them; the WABAs in ``refusing`` answer reads with ``(#200)``."""
    waba_ids = [waba["id"] for waba in fixture["wabas"]]
    for waba in fixture["wabas"]:
        if waba["id"] in (refusing or []):
            waba["refuses_reads"] = True
    fixture.setdefault("businesses", []).append(
        {
            "id": business_id,
            "name": name,
            "apps_with_access": apps_with_access or [fixture["apps"][0]["id"]],
            "owned_wabas": waba_ids[:owned],
            "client_wabas": waba_ids[owned:],
        }
    )
    return fixture
