"""A local Graph API emulator for WhatsApp webhook overrides (the project's embedded default).

Split moto-style: :mod:`.models` (state and Meta's rules, no HTTP), :mod:`.budget` (Meta's
hourly call budget and the clock it runs on), :mod:`.responses` and :mod:`.urls` (the WSGI
layer), :mod:`.exceptions` (the Graph error envelope), :mod:`.control` (call log, faults),
:mod:`.server` (the threaded loopback server), :mod:`.admin` (client of the ``/_emulator``
endpoints) and :mod:`.fixtures` (seed data).
"""

from .admin import EmulatorAdmin, EmulatorAdminError
from .exceptions import GraphAPIError
from .fixtures import DEFAULT_APP_ID, DEFAULT_TOKEN, generate, load
from .models import GraphBackend
from .server import EmulatorServer

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_TOKEN",
    "EmulatorAdmin",
    "EmulatorAdminError",
    "EmulatorServer",
    "GraphAPIError",
    "GraphBackend",
    "generate",
    "load",
]
