"""Run the emulator as a real HTTP server on loopback, in a background thread."""

from __future__ import annotations

import json
import logging
import threading
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..validation import is_loopback_host
from .exceptions import InvalidParameterError
from .fixtures import FixtureSource, load
from .models import GraphBackend, Verifier
from .responses import EmulatorApp, http_verifier, new_trace_id

logger = logging.getLogger("waba_webhooks.emulator")


class QuietRequestHandler(WSGIRequestHandler):
    """Logs requests at DEBUG with the path only: a query string may carry a token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # A request line http.server refused never set command and path.
        path = urlsplit(getattr(self, "path", "") or "").path
        logger.debug("%s %s -> %s", getattr(self, "command", "-"), path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server puts the raw request line (query string included) into these messages.
        logger.debug("emulator: malformed request from %s", self.client_address[0])

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Requests http.server refuses before the app sees them (a malformed request line,
        oversized headers) get Graph's error envelope too, never an HTML page."""
        status = code if 400 <= code < 500 else 400  # the client's fault, whatever http.server says
        trace = new_trace_id()
        body = json.dumps(InvalidParameterError(
            f"The request could not be parsed: {message or 'malformed request'}"
        ).to_envelope(trace)).encode()
        self.close_connection = True
        # A request line refused early leaves http.server's default HTTP/0.9, which would send
        # the body without a status line.
        self.request_version = "HTTP/1.0"
        self.send_response(status, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-fb-trace-id", trace)
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)


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
