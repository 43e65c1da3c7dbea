"""Run the emulator as a real HTTP server on loopback, in a background thread."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..validation import is_loopback_host
from .fixtures import FixtureSource, load
from .models import GraphBackend, Verifier
from .responses import EmulatorApp, http_verifier

logger = logging.getLogger("waba_webhooks.emulator")


class QuietRequestHandler(WSGIRequestHandler):
    """Logs requests at DEBUG with the path only: a query string may carry a token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server puts the raw request line (query string included) into these messages.
        logger.debug("emulator: malformed request from %s", self.client_address[0])


class EmulatorServer:
    """The Graph API emulator on ``http://127.0.0.1:<port>`` (``port=0`` picks a free one).

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``backend`` and ``app``
    give in-process access to the state and the call log.
    """

    def __init__(
        self,
        fixture: FixtureSource = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0,
        verifier: Verifier | None = None,
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the emulator binds loopback addresses only, not {host!r}")
        self.host = host
        self._port = port
        self.backend = GraphBackend(load(fixture), verifier or http_verifier())
        self.app = EmulatorApp(self.backend, latency_ms=latency_ms)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = make_server(
            self.host,
            self._port,
            self.app,
            threaded=True,
            request_handler=QuietRequestHandler,
        )
        self._port = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how long stop() may wait
            name="graph-api-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765`` (no trailing slash, no version)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
