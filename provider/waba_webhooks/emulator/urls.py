"""Routes of the emulator: the Graph API paths and the admin paths under ``/_emulator``.

Graph endpoints are named after the object they act on; the operation name used in the call log
and counts is ``"<METHOD> <endpoint>"`` (for example ``"POST subscribed_apps"``).
"""

from __future__ import annotations

from werkzeug.routing import BaseConverter, Map, Rule

ADMIN_PREFIX = "/_emulator"


class VersionConverter(BaseConverter):
    """A Graph API version segment such as ``v23.0``."""

    regex = r"v\d+\.\d+"


GRAPH_URLS = Map(
    [
        Rule("/<version:version>/app", endpoint="app", methods=["GET"]),
        Rule(
            "/<version:version>/<object_id>/subscribed_apps",
            endpoint="subscribed_apps",
            methods=["GET", "POST", "DELETE"],
        ),
        # The app's own webhook subscription: object_id is the app id (app token only).
        Rule(
            "/<version:version>/<object_id>/subscriptions",
            endpoint="subscriptions",
            methods=["GET", "POST", "DELETE"],
        ),
        Rule(
            "/<version:version>/<object_id>/phone_numbers",
            endpoint="phone_numbers",
            methods=["GET"],
        ),
        # A business's WABAs (Meta's OpenAPI: getOwnedWhatsAppBusinessAccounts,
        # getClientWhatsAppBusinessAccounts) and what a token covers.
        Rule(
            "/<version:version>/<object_id>/owned_whatsapp_business_accounts",
            endpoint="owned_whatsapp_business_accounts",
            methods=["GET"],
        ),
        Rule(
            "/<version:version>/<object_id>/client_whatsapp_business_accounts",
            endpoint="client_whatsapp_business_accounts",
            methods=["GET"],
        ),
        Rule("/<version:version>/debug_token", endpoint="debug_token", methods=["GET"]),
        Rule("/<version:version>/<object_id>", endpoint="phone_number", methods=["GET", "POST"]),
    ],
    converters={"version": VersionConverter},
)

ADMIN_URLS = Map(
    [
        Rule(f"{ADMIN_PREFIX}/calls", endpoint="calls", methods=["GET"]),
        Rule(f"{ADMIN_PREFIX}/counts", endpoint="counts", methods=["GET"]),
        Rule(f"{ADMIN_PREFIX}/reset", endpoint="reset", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/seed", endpoint="seed", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/state", endpoint="state", methods=["GET"]),
        Rule(f"{ADMIN_PREFIX}/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule(f"{ADMIN_PREFIX}/latency", endpoint="latency", methods=["GET", "POST"]),
        Rule(
            f"{ADMIN_PREFIX}/wabas/<object_id>/override",
            endpoint="waba_override",
            methods=["PUT"],
        ),
        Rule(
            f"{ADMIN_PREFIX}/phone_numbers/<object_id>/override",
            endpoint="phone_override",
            methods=["PUT"],
        ),
        Rule(f"{ADMIN_PREFIX}/apps/<object_id>", endpoint="app_callback", methods=["PUT"]),
        # Credentials: a new token of an app, Meta revoking one (the token in the body, never
        # in a path), an app secret reset in the App Dashboard.
        Rule(f"{ADMIN_PREFIX}/apps/<object_id>/access_tokens", endpoint="access_token",
             methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/access_tokens/revoke", endpoint="revoke_token", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/apps/<object_id>/app_secret", endpoint="app_secret",
             methods=["PUT"]),
        # The app's webhook subscription as the App Dashboard edits it (no verification).
        Rule(
            f"{ADMIN_PREFIX}/apps/<object_id>/subscription",
            endpoint="app_subscription",
            methods=["GET", "PUT"],
        ),
        # A new customer onboarding (a client WABA of a business), and a subscription by hand.
        Rule(
            f"{ADMIN_PREFIX}/businesses/<object_id>/client_wabas",
            endpoint="client_waba",
            methods=["POST"],
        ),
        Rule(
            f"{ADMIN_PREFIX}/wabas/<object_id>/subscription",
            endpoint="waba_subscription",
            methods=["PUT"],
        ),
        # Meta's hourly call budget (see budget.py) and the clock it runs on.
        Rule(f"{ADMIN_PREFIX}/clock", endpoint="clock", methods=["GET", "POST"]),
        Rule(f"{ADMIN_PREFIX}/usage", endpoint="usage", methods=["GET"]),
        Rule(
            f"{ADMIN_PREFIX}/wabas/<object_id>/usage",
            endpoint="waba_usage",
            methods=["GET", "POST"],
        ),
        Rule(
            f"{ADMIN_PREFIX}/wabas/<object_id>/budget",
            endpoint="waba_budget",
            methods=["PUT"],
        ),
        Rule(f"{ADMIN_PREFIX}/deliver", endpoint="deliver", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/verifications", endpoint="verifications", methods=["GET"]),
        # A built-in webhook receiver: answers any hub challenge and records POSTed webhooks,
        # so demos can point overrides at http://127.0.0.1:PORT/_emulator/callbacks/<name>.
        Rule(
            f"{ADMIN_PREFIX}/callbacks/<path:name>",
            endpoint="callback_sink",
            methods=["GET", "POST"],
        ),
        Rule(f"{ADMIN_PREFIX}/received", endpoint="received", methods=["GET"]),
    ]
)
