"""Which Meta app each resource of a stack acts for, and a Graph client with that app's token.

Routing is per app: each app has its own overrides on a WABA or number, its own callback URL,
its own subscription to each WABA. A resource of the default provider (every dynamic resource,
and a native one declared without ``provider``) acts for the app of the command's settings
(``WHATSAPP_ACCESS_TOKEN``...). A native resource of an explicit provider
(``pulumi:providers:whatsapp``, one per Meta app) acts for that provider's app, and reading it
takes that app's token: the command reads it from ``WHATSAPP_ACCESS_TOKEN_<NAME>``, where NAME is
the provider's resource name in capitals with every other character than a letter or digit as
``_`` (provider ``other-app``: ``WHATSAPP_ACCESS_TOKEN_OTHER_APP``), and the app secret, for an
app's own subscription, from ``WHATSAPP_APP_SECRET_<NAME>``. The other settings (Graph URL,
timeouts...) are the command's. A token never comes from the command line.

A provider's app id is its ``appId`` input where the JSON shows the provider's state (a step of
its own), else the token's (``GET /app``). Providers of one app are one app: their resources'
routes are worked out together.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..config import KEYS
from ..errors import ConfigurationError
from ..graph import GraphClient, client_for
from .states import PROVIDER_TYPE, opaque

ACCESS_TOKEN_ENV = KEYS["access_token"][1]
APP_SECRET_ENV = KEYS["app_secret"][1]


def provider_name(provider: str) -> str:
    """The resource name of a provider, from its URN or a ``<URN>::<id>`` reference."""
    parts = provider.split("::")
    return parts[3] if len(parts) > 3 else parts[-1]


def token_variable(provider: str, setting: str = ACCESS_TOKEN_ENV) -> str:
    """The environment variable that holds an explicit provider's token (or app secret)."""
    return f"{setting}_{re.sub(r'[^A-Za-z0-9]', '_', provider_name(provider)).upper()}"


class AppTokenMissingError(ConfigurationError):
    """An explicit provider's resources cannot be read: no token for its app was given."""


class Apps:
    """The Graph client of each provider a stack's resources name: the command's own for the
    default provider (None), one per explicit provider."""

    def __init__(self, default: GraphClient, environ: Mapping[str, str] | None = None,
                 app_ids: Mapping[str, str] | None = None) -> None:
        self.default = default
        self._environ = os.environ if environ is None else environ
        #: Explicit provider URN -> its ``appId`` input, where the JSON shows it.
        self._app_ids = dict(app_ids or {})
        self._clients: dict[str, GraphClient] = {}

    def client(self, provider: str | None) -> GraphClient:
        """The client of a provider (None: the default one). Raises `AppTokenMissingError`
        naming the provider and the variable when its token is not given."""
        if provider is None:
            return self.default
        if provider not in self._clients:
            variable = token_variable(provider)
            token = self._environ.get(variable)
            name = provider_name(provider)
            if not token:
                app = self._app_ids.get(provider)
                raise AppTokenMissingError(
                    f"the stack has resources of provider `{name}` ({provider}), "
                    + (f"which acts for app {app}, " if app else "")
                    + f"and no token for its app was given: set {variable} to a token of that "
                    "app (read access is enough); nothing was reported")
            settings = dataclasses.replace(
                self.default.settings, access_token=token, app_id=self._app_ids.get(provider),
                app_secret=self._environ.get(token_variable(provider, APP_SECRET_ENV)))
            self._clients[provider] = client_for(settings)
        return self._clients[provider]

    def app_of(self, provider: str | None) -> str:
        """The app id a provider acts for."""
        return self.client(provider).app_id()

    def secrets(self) -> set[str]:
        """The tokens and app secrets of the explicit providers' clients made so far (to mask)."""
        found: set[str] = set()
        for client in self._clients.values():
            found.update(s for s in (client.settings.access_token, client.settings.app_secret)
                         if s)
        return found

    def learn(self, documents: Iterable[Any]) -> None:
        """Take each explicit provider's ``appId`` from the documents' provider states."""
        for document in documents:
            steps = document.get("steps") if isinstance(document, Mapping) else None
            for step in steps if isinstance(steps, list) else []:
                for key in ("newState", "oldState"):
                    state = step.get(key) if isinstance(step, Mapping) else None
                    if not isinstance(state, Mapping) or state.get("type") != PROVIDER_TYPE:
                        continue
                    inputs = state.get("inputs")
                    app_id = inputs.get("appId") if isinstance(inputs, Mapping) else None
                    if isinstance(app_id, str) and app_id.isdigit() and opaque(app_id) is None:
                        self._app_ids.setdefault(str(state.get("urn", step.get("urn"))), app_id)
