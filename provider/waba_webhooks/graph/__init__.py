"""The Graph API side: `client.GraphClient` (the only code that talks HTTP to Meta, or to the
emulator) and `usage` (Meta's per-WABA hourly budget header and the pacing it drives)."""

from .client import (
    AppSubscription,
    BusinessWaba,
    GraphClient,
    PhoneNumberRouting,
    SubscribedApp,
    WebhookConfiguration,
    client_for,
)

__all__ = [
    "AppSubscription",
    "BusinessWaba",
    "GraphClient",
    "PhoneNumberRouting",
    "SubscribedApp",
    "WebhookConfiguration",
    "client_for",
]
