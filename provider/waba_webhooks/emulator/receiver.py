"""A local webhook endpoint: what a business runs behind its callback URLs, in miniature.

It answers Meta's verification call (``GET ?hub.mode=subscribe&hub.verify_token=…
&hub.challenge=…``) when the verify token is one it knows, and records every webhook POSTed to
it, checking ``X-Hub-Signature-256`` when it knows the app secret. Any path works, so one
receiver can stand for several callback URLs (``/vip``, ``/waba-main``…). Used by the demo and
the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .server import QuietRequestHandler


@dataclass(frozen=True)
class ReceivedWebhook:
    """One webhook POST: where it arrived, its headers and raw body, and whether its signature
    matched the app secret (None when the receiver has no secret to check with)."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Challenge:
    """One verification GET (the token itself is never kept); ``signed``: it carried an
    ``X-Hub-Signature-256`` header (Meta's does not)."""

    path: str
    mode: str | None
    token_matched: bool
    signed: bool = False


class WebhookReceiver:
    """A webhook endpoint on ``http://<host>:<port>`` (port 0: a free one)."""

    def __init__(self, verify_tokens: Iterable[str], *, app_secret: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, delay_s: float = 0.0,
                 answer: str | None = None) -> None:
        self.verify_tokens = set(verify_tokens)
        self.app_secret = app_secret
        #: Seconds to wait before answering a verification call (to test timeouts).
        self.delay_s = delay_s
        #: A fixed body for verification answers instead of the challenge (to test failures).
        self.answer = answer
        self.received: list[ReceivedWebhook] = []
        self.challenges: list[Challenge] = []
        self._server = make_server(host, port, self._app, threaded=True,
                                   request_handler=QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="webhook-receiver", daemon=True)

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>``."""
        return f"http://{self._server.host}:{self._server.port}"

    def url_for(self, name: str) -> str:
        """A distinct callback URL on this receiver (``received[i].path`` tells them apart)."""
        return f"{self.base_url}/{name.lstrip('/')}"

    def start(self) -> WebhookReceiver:
        """Serve in a daemon thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (if started) and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "POST":
            body = request.get_data()
            self.received.append(ReceivedWebhook(
                request.path, dict(request.headers), body,
                self._signature_ok(body, request.headers.get("X-Hub-Signature-256")),
            ))
            return Response("EVENT_RECEIVED")(environ, start_response)
        mode = request.args.get("hub.mode")
        matched = request.args.get("hub.verify_token") in self.verify_tokens
        self.challenges.append(Challenge(request.path, mode, matched,
                                         "X-Hub-Signature-256" in request.headers))
        if self.delay_s:
            time.sleep(self.delay_s)
        if mode == "subscribe" and matched:
            answer = self.answer if self.answer is not None else request.args.get("hub.challenge")
            return Response(answer or "")(environ, start_response)
        return Response("verify token mismatch", status=403)(environ, start_response)

    def _signature_ok(self, body: bytes, header: str | None) -> bool | None:
        if self.app_secret is None:
            return None
        expected = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return header is not None and hmac.compare_digest(header.encode(), expected.encode())
