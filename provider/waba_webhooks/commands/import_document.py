"""The document `discover --import-file` writes for ``pulumi import --file``: the business's live
routing as the native ``whatsapp`` plugin's resources, so that a TypeScript, YAML or Python
program adopts it with the code ``pulumi import`` generates.

Pulumi's bulk-import format is ``{"resources": [{"type", "name", "id"}, ...]}``: the engine reads
each resource by its id (through the plugin's read, with no inputs: what is live becomes the
resource's inputs, with no Graph write) and records it. Here that is one ``WabaRouting`` per WABA
(id: the WABA id; it takes over our app's override on the WABA and on each of its numbers as they
are live), and, when asked, the app's ``AppWebhookSubscription`` (id: the app id). The type
tokens are the kinds' own (`waba_webhooks.resources.Kind.token`).

Names are the resources' logical names, and ``pulumi import`` derives the variables of the code
it generates from them: ``waba-routing-<WABA id>`` and ``app-subscription``, the names the
routing-table program gives the same resources (`waba_webhooks.tables.routing`), so a stack
that later applies the table declares what was imported. They are stable (ids, never a WABA's
display name, which its owner can change), unique, and start with a letter, so every language's
code generator makes a valid identifier of them.

A WABA our app is not subscribed to is left out when it holds overrides of ours: imported as they
are live, they would make the next ``pulumi up`` subscribe the app (a write that starts
deliveries), so the preview would not show "no change"; `skipped` says why. One without any is
imported (it routes nothing, and declaring it changes nothing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources import APP_SUBSCRIPTION, WABA_ROUTING
from .estate import LiveWaba

#: The logical name of the app's subscription.
APP_NAME = "app-subscription"


def routing_name(waba_id: str) -> str:
    """The logical name of a WABA's `WabaRouting`."""
    return f"waba-routing-{waba_id}"


@dataclass(frozen=True)
class ImportDocument:
    """What `build` chose: the resources to import, and the WABAs left out with the reason."""

    resources: list[dict[str, str]] = field(default_factory=list)
    #: WABA id -> why it is not in the document.
    skipped: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The document as ``pulumi import --file`` reads it."""
        return json.dumps({"resources": self.resources}, indent=2) + "\n"


def build(wabas: Iterable[LiveWaba], app_id: str | None = None) -> ImportDocument:
    """One ``WabaRouting`` per WABA (in the order given, each once), then the app's
    ``AppWebhookSubscription`` when `app_id` is given."""
    resources: list[dict[str, str]] = []
    skipped: dict[str, str] = {}
    for waba in {w.waba_id: w for w in wabas}.values():
        if not waba.subscribed and _holds_ours(waba):
            skipped[waba.waba_id] = (
                "our app is not subscribed to it, yet it holds overrides of ours: imported, "
                "they would make `pulumi up` subscribe the app (a write that starts "
                "deliveries). Declare it yourself, or subscribe the app and run discover again")
            continue
        resources.append(_spec(WABA_ROUTING.token, routing_name(waba.waba_id), waba.waba_id))
    if app_id is not None:
        resources.append(_spec(APP_SUBSCRIPTION.token, APP_NAME, app_id))
    return ImportDocument(resources, skipped)


def _holds_ours(waba: LiveWaba) -> bool:
    return waba.override is not None or any(
        n.webhook_configuration.phone_number for n in waba.numbers)


def _spec(token: str, name: str, object_id: str) -> dict[str, Any]:
    return {"type": token, "name": name, "id": object_id}
