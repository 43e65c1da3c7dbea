"""The emulator's HTTP layer: a WSGI app translating requests to :class:`GraphBackend` calls.

Everything here is translation. Graph calls go through one pipeline -- global latency, injected
fault, route, body, token, handler -- and every error becomes Graph's JSON error envelope
(never HTML, never a traceback). Admin calls under ``/_emulator`` drive the call log, faults,
seeding and deliveries. The two outbound HTTP calls of the emulator live here too: the callback
verification (:func:`http_verifier`) and the webhook delivery (:func:`post_delivery`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode, urlsplit

import requests
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from ..validation import is_loopback_host
from .budget import CallBudgets, Clock
from .control import CallLog, FaultQueue, FaultRule
from .exceptions import (
    GraphAPIError,
    InternalError,
    InvalidFixtureError,
    InvalidParameterError,
    RequestTooLargeError,
    UnknownPathError,
    UnsupportedMethodError,
    VerificationFailed,
)
from .models import CLIENT, MESSAGES_FIELD, OWNED, GraphBackend, Verifier
from .urls import ADMIN_PREFIX, ADMIN_URLS, GRAPH_URLS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .models import Delivery

logger = logging.getLogger("waba_webhooks.emulator")

MAX_BODY_BYTES = 64 * 1024
USAGE_HEADER = "X-Business-Use-Case-Usage"
VERIFY_TIMEOUT_SECONDS = 5.0
DELIVERY_TIMEOUT_SECONDS = 5.0


# --------------------------------------------------------------------------- outbound calls


def _session_for(url: str) -> requests.Session:
    """A session that ignores proxy settings for loopback URLs (they must stay local)."""
    session = requests.Session()
    session.trust_env = not is_loopback_host(urlsplit(url).hostname or "")
    return session


def http_verifier(timeout: float = VERIFY_TIMEOUT_SECONDS) -> Verifier:
    """Return Meta's verification call: ``GET url?hub.mode=subscribe&hub.verify_token=...
    &hub.challenge=<digits>``, successful only on HTTP 200 with the challenge as the body.

    A failure's reason is worded as Meta words the errors of code 2200 (see
    `exceptions.CallbackVerificationError`): ``HTTP Status Code = 404; HTTP Message = Not
    Found`` for an answer, ``curl_errno = N; curl_error = ...`` when none came.
    """

    def verify(url: str, verify_token: str) -> None:
        challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        # Exception texts from requests carry the full URL, verify token included: never
        # propagate them, only reasons of our own.
        try:
            with (
                _session_for(url) as session,
                session.get(
                    url, params=params, timeout=timeout, allow_redirects=False, stream=True
                ) as response,
            ):
                status, phrase = response.status_code, response.reason
                body = next(response.iter_content(256), b"")
        except requests.Timeout:
            raise VerificationFailed(
                f"curl_errno = 28; curl_error = Operation timed out after {timeout * 1000:.0f} "
                "milliseconds with 0 bytes received"
            ) from None
        except requests.exceptions.SSLError as exc:
            # Meta requires TLS with a certificate it trusts (no self-signed ones).
            refused = _certificate_error(exc)
            raise VerificationFailed(
                f"curl_errno = 60; curl_error = SSL certificate problem: {refused.verify_message}"
                if refused is not None else "curl_errno = 35; curl_error = SSL connect error"
            ) from None
        except requests.ConnectionError:
            raise VerificationFailed(
                "curl_errno = 7; curl_error = Couldn't connect to server"
            ) from None
        except requests.RequestException:
            raise VerificationFailed(
                "curl_errno = 56; curl_error = Failure when receiving data from the peer"
            ) from None
        answered = f"HTTP Status Code = {status}; HTTP Message = {_phrase(status, phrase)}"
        if status != 200:
            raise VerificationFailed(answered)
        if body != challenge.encode():
            # The API's wording for this case is not known; the App Dashboard says "Response
            # does not match challenge, expected value=..., received=..." (howdyai/botkit #227).
            received = body[:40].decode("utf-8", "replace")
            if verify_token and verify_token in received:
                received = "<the verify token>"  # never echo a secret
            raise VerificationFailed(
                f'{answered}; Response does not match challenge, expected value="{challenge}", '
                f'received="{received}"'
            )

    return verify


def _certificate_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure inside a requests error (it wraps urllib3's)."""
    seen: set[int] = set()
    todo: list[object] = [error]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError):
            return item
        todo.extend((item.__cause__, item.__context__, getattr(item, "reason", None), *item.args))
    return None


def _phrase(status: int, given: str | None) -> str:
    """The HTTP reason phrase: the server's own, else the standard one."""
    if given:
        return given
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def post_delivery(delivery: Delivery, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> dict[str, Any]:
    """POST a prepared webhook to its route; report where it went and how it was answered."""
    route = delivery.route
    report: dict[str, Any] = {
        "delivered_to": route.url,
        "rule": route.rule,
        "status": None,
        "error": route.reason,
    }
    if route.url is None:
        return report
    try:
        with _session_for(route.url) as session:
            response = session.post(
                route.url,
                data=delivery.body,
                headers=delivery.headers,
                timeout=timeout,
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        report["error"] = f"delivery failed ({type(exc).__name__})"
        return report
    report["status"] = response.status_code
    return report


# --------------------------------------------------------------------------- request helpers


class _Request(Request):
    max_content_length = MAX_BODY_BYTES
    max_form_memory_size = MAX_BODY_BYTES


def new_trace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def _json(body: Any, status: int = 200, trace_id: str | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["x-fb-trace-id"] = trace_id or new_trace_id()
    return response


def _error(error: GraphAPIError, trace_id: str) -> Response:
    response = _json(error.to_envelope(trace_id), error.http_status, trace_id)
    if error.code == 190:
        response.headers["WWW-Authenticate"] = (
            f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'
        )
    return response


def _is_admin(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def _match(
    request: Request, urls: Map = GRAPH_URLS
) -> tuple[str | None, Mapping[str, Any], GraphAPIError | None]:
    """``(endpoint, path arguments, None)`` for a known route, else ``(None, {}, error)``."""
    try:
        endpoint, args = urls.bind_to_environ(request.environ).match()
    except MethodNotAllowed:
        return None, {}, UnsupportedMethodError(request.method)
    except HTTPException:  # NotFound, or a redirect we do not offer
        return None, {}, UnknownPathError(request.path)
    return str(endpoint), args, None


def _read_body(request: Request, allow_form: bool = True) -> dict[str, Any]:
    """Parse a JSON (or, if allowed, form) body into a dict; an empty body is ``{}``."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise RequestTooLargeError(MAX_BODY_BYTES)
    try:
        raw = request.get_data(cache=True)
        if len(raw) >= MAX_BODY_BYTES:
            # A chunked body has no Content-Length, and werkzeug's limited stream stops at the
            # limit without saying so: a body that fills it was (or may have been) cut.
            raise RequestTooLargeError(MAX_BODY_BYTES)
        if not raw.strip():
            return {}
        if allow_form and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return request.form.to_dict()
    except RequestEntityTooLarge:
        raise RequestTooLargeError(MAX_BODY_BYTES) from None
    except HTTPException:  # e.g. the client disconnected while sending the body
        raise InvalidParameterError("The request body could not be read") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidParameterError("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidParameterError("The request body must be a JSON object")
    return data


def _read_body_or_error(request: Request) -> tuple[dict[str, Any], GraphAPIError | None]:
    try:
        return _read_body(request), None
    except GraphAPIError as exc:
        return {}, exc


def _access_token(request: Request, params: Mapping[str, Any]) -> str | None:
    """The token from ``Authorization: Bearer``, else an ``access_token`` parameter."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    token = params.get("access_token")
    return token if isinstance(token, str) else None


def _str_param(params: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise InvalidParameterError(f"The parameter {name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidParameterError(f"Param {name} must be a string")
    return value


def _fields(params: Mapping[str, Any]) -> list[str] | None:
    raw = _str_param(params, "fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


def _app_fields(params: Mapping[str, Any]) -> list[str] | None:
    """``fields`` of an app subscription call: a comma-separated string, a JSON array (in a
    JSON body, or as a string in a form or query), as Meta documents both."""
    raw = params.get("fields")
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.lstrip().startswith("["):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidParameterError("Param fields must be a list of field names") from None
    if isinstance(raw, str):
        return [f.strip() for f in raw.split(",") if f.strip()]
    if isinstance(raw, list) and all(isinstance(f, str) for f in raw):
        return [f.strip() for f in raw if f.strip()]
    raise InvalidParameterError("Param fields must be a list of field names")


def _limit(params: Mapping[str, Any]) -> int:
    raw = params.get("limit", 25)
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON 1e999 is infinity
        raise InvalidParameterError("Param limit must be a positive integer") from None


def _webhook_configuration(params: Mapping[str, Any]) -> tuple[object, object]:
    """``(override_callback_uri, verify_token)`` from ``webhook_configuration``, which a form
    body carries as a JSON string."""
    config = params.get("webhook_configuration")
    if config is None:
        raise InvalidParameterError("The parameter webhook_configuration is required")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            raise InvalidParameterError("Param webhook_configuration must be an object") from None
    if not isinstance(config, dict):
        raise InvalidParameterError("Param webhook_configuration must be an object")
    if "override_callback_uri" not in config:
        raise InvalidParameterError(
            "The parameter webhook_configuration[override_callback_uri] is required"
        )
    return config["override_callback_uri"], config.get("verify_token")


def _drop_connection(environ: WSGIEnvironment) -> NoReturn:
    """Close the client's TCP connection without an answer (werkzeug's server only)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # the client may already be gone
            sock.shutdown(socket.SHUT_RDWR)
    # werkzeug's server treats ConnectionError as "client went away" and stays quiet.
    raise ConnectionAbortedError("fault injection: connection dropped")


def _sleep_ms(ms: float) -> None:
    if ms > 0:
        time.sleep(ms / 1000)


# --------------------------------------------------------------------------- the WSGI app


class EmulatorApp:
    """The WSGI application serving the Graph routes and the ``/_emulator`` admin routes."""

    def __init__(self, backend: GraphBackend, latency_ms: float = 0) -> None:
        self.backend = backend
        self.calls = CallLog()
        self.faults = FaultQueue()
        self.latency_ms = latency_ms
        self.clock = Clock()
        self.budgets = CallBudgets(self.clock)
        self._received: list[dict[str, Any]] = []
        self._received_lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = _Request(environ)
        handle = self._handle_admin if _is_admin(request.path) else self._handle_graph
        try:
            response = handle(request)
        except ConnectionAbortedError:
            raise  # a dropped connection (fault injection): nothing to answer
        except Exception:
            logger.exception("emulator: unexpected error on %s %s", request.method, request.path)
            response = _error(InternalError(), new_trace_id())
        return response(environ, start_response)

    def clear(self) -> None:
        """Forget calls, faults, latency, budget usage and received webhooks, and set the clock
        back (state is the backend's)."""
        self.calls.clear()
        self.faults.clear()
        self.latency_ms = 0
        self.budgets.clear()
        self.clock.reset()
        with self._received_lock:
            self._received.clear()

    # ----------------------------------------------------------------- Graph calls

    def _handle_graph(self, request: Request) -> Response:
        """Latency, fault, route, body, token, budget, handler; every call is logged, and every
        answer about a WABA (or one of its numbers) carries its budget usage header."""
        trace_id = new_trace_id()
        method, path = request.method, request.path
        _sleep_ms(self.latency_ms)
        body, body_error = _read_body_or_error(request)
        params = {**request.args.to_dict(), **body}
        token = _access_token(request, params)
        app_id = self.backend.app_for_token(token) or self.backend.app_for_app_token(token)
        endpoint, args, route_error = _match(request)
        object_id = str(args.get("object_id", ""))
        waba_id = self.backend.charged_waba(app_id, object_id) if object_id else None
        operation = f"{method} {endpoint or 'unknown'}"
        logged_body = f"<unreadable: {body_error.message}>" if body_error else body or None

        fault = self.faults.take(method, path)
        if fault is not None:
            _sleep_ms(fault.latency_ms)
            if fault.drop_connection:
                self._log(request, operation, logged_body, None, app_id, fault=True)
                _drop_connection(request.environ)
        try:
            if fault is not None and fault.answers_error:
                raise fault.to_error()  # before any handling: a faulted write changes nothing
            if route_error is not None:
                raise route_error
            if body_error is not None:
                raise body_error
            caller = (
                self.backend.authenticate_app_token(token)
                if endpoint == "subscriptions"
                else self.backend.authenticate(token)
            )
            if waba_id is not None:  # refused (code 80007) before any state is touched
                self.budgets.charge(caller, waba_id, self.backend.hourly_budget(waba_id))
            result = self._dispatch_graph(
                method, endpoint or "", caller, object_id, params, request
            )
            response = _json(result, 200, trace_id)
        except GraphAPIError as exc:
            response = _error(exc, trace_id)
        except Exception:
            logger.exception("emulator: unexpected error on %s %s", method, path)
            response = _error(InternalError(), trace_id)
        if waba_id is not None and app_id is not None:
            self._add_usage_header(response, app_id, waba_id)
        if fault is not None:  # a fault's own headers win, usage header included
            for name, value in fault.headers.items():
                response.headers[name] = value
        self._log(request, operation, logged_body, response.status_code, app_id, bool(fault))
        return response

    def _add_usage_header(self, response: Response, app_id: str, waba_id: str) -> None:
        """``X-Business-Use-Case-Usage``: the app's use of the WABA's budget after this call."""
        try:
            budget = self.backend.hourly_budget(waba_id)
        except GraphAPIError:  # the WABA went away meanwhile (a reset): nothing to report
            return
        usage = self.budgets.usage(app_id, waba_id, budget)
        response.headers[USAGE_HEADER] = json.dumps(
            {waba_id: [usage.header_entry()]}, separators=(",", ":")
        )

    def _log(
        self,
        request: Request,
        operation: str,
        body: Any,
        status: int | None,
        app_id: str | None,
        fault: bool,
    ) -> None:
        self.calls.append(
            method=request.method,
            path=request.path,
            operation=operation,
            query=request.args.to_dict(),
            body=body,
            status=status,
            app_id=app_id,
            fault=fault,
        )

    def _dispatch_graph(
        self,
        method: str,
        endpoint: str,
        app_id: str,
        object_id: str,
        params: dict[str, Any],
        request: Request,
    ) -> dict[str, Any]:
        backend = self.backend
        match (method, endpoint):
            case ("GET" | "HEAD", "app"):
                return backend.get_app(app_id)
            case ("GET" | "HEAD", "subscribed_apps"):
                return backend.list_subscribed_apps(app_id, object_id)
            case ("POST", "subscribed_apps"):
                return backend.subscribe_app(
                    app_id,
                    object_id,
                    params.get("override_callback_uri"),
                    params.get("verify_token"),
                )
            case ("DELETE", "subscribed_apps"):
                return backend.unsubscribe_app(app_id, object_id)
            case ("GET" | "HEAD", "phone_numbers"):
                return self._phone_numbers(app_id, object_id, params, request)
            case ("GET" | "HEAD", "phone_number"):
                return backend.get_phone_number(app_id, object_id, _fields(params))
            case ("POST", "phone_number"):
                uri, token = _webhook_configuration(params)
                return backend.update_phone_webhook(app_id, object_id, uri, token)
            case ("GET" | "HEAD", "subscriptions"):
                return backend.list_app_subscriptions(app_id, object_id)
            case ("POST", "subscriptions"):
                return backend.subscribe_app_webhooks(
                    app_id,
                    object_id,
                    params.get("object"),
                    params.get("callback_url"),
                    params.get("verify_token"),
                    _app_fields(params),
                    params.get("include_values"),
                    version=request.path.split("/")[1],
                )
            case ("DELETE", "subscriptions"):
                return backend.unsubscribe_app_webhooks(
                    app_id, object_id, params.get("object"), _app_fields(params)
                )
            case ("GET" | "HEAD", "owned_whatsapp_business_accounts"):
                return self._business_wabas(app_id, object_id, OWNED, params, request)
            case ("GET" | "HEAD", "client_whatsapp_business_accounts"):
                return self._business_wabas(app_id, object_id, CLIENT, params, request)
            case ("GET" | "HEAD", "debug_token"):
                return backend.debug_token(app_id, params.get("input_token"))
        raise UnsupportedMethodError(method)

    def _phone_numbers(
        self, app_id: str, waba_id: str, params: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        limit = _limit(params)
        fields = _fields(params)
        page = self.backend.list_phone_numbers(
            app_id, waba_id, limit, _str_param(params, "after"), fields
        )
        result: dict[str, Any] = {"data": page.data}
        if page.data:
            result["paging"] = {"cursors": {"before": page.before, "after": page.after}}
            if page.has_more:  # never echo the access token into a URL
                query = urlencode(
                    {**({"fields": ",".join(fields)} if fields else {}),
                     "limit": limit, "after": page.after}
                )
                result["paging"]["next"] = f"{request.base_url}?{query}"
        return result

    def _business_wabas(
        self, app_id: str, business_id: str, relation: str, params: dict[str, Any],
        request: Request,
    ) -> dict[str, Any]:
        limit = _limit(params)
        fields = _fields(params)
        page = self.backend.list_business_wabas(
            app_id, business_id, relation, limit, _str_param(params, "after"), fields
        )
        result: dict[str, Any] = {"data": page.data}
        if page.data:
            result["paging"] = {"cursors": {"before": page.before, "after": page.after}}
            if page.has_more:  # absent on the last page, as Graph does; never the token
                query = urlencode(
                    {**({"fields": ",".join(fields)} if fields else {}),
                     "limit": limit, "after": page.after}
                )
                result["paging"]["next"] = f"{request.base_url}?{query}"
        return result

    # ----------------------------------------------------------------- admin calls

    def _handle_admin(self, request: Request) -> Response:
        trace_id = new_trace_id()
        try:
            endpoint, args, route_error = _match(request, ADMIN_URLS)
            if route_error is not None:
                raise route_error
            # Admin bodies are always JSON, whatever the Content-Type says.
            body = (
                _read_body(request, allow_form=False) if request.method in ("POST", "PUT") else {}
            )
            result = self._dispatch_admin(request, endpoint or "", args, body)
        except GraphAPIError as exc:
            return _error(exc, trace_id)
        return result if isinstance(result, Response) else _json(result, 200, trace_id)

    def _dispatch_admin(
        self, request: Request, endpoint: str, args: Mapping[str, Any], body: dict[str, Any]
    ) -> Any:
        backend, method = self.backend, request.method
        match (method, endpoint):
            case ("GET", "calls"):
                return {"calls": self.calls.records()}
            case ("GET", "counts"):
                return {**self.calls.counts(), "verifications": len(backend.verifications())}
            case ("POST", "reset"):
                backend.reset()
                self.clear()
                return {"success": True}
            case ("POST", "seed"):
                try:
                    backend.seed(body)
                except InvalidFixtureError as exc:
                    raise InvalidParameterError(f"Invalid fixture: {exc}") from None
                self.clear()
                return {"success": True}
            case ("GET", "state"):
                return backend.to_fixture()
            case ("GET", "faults"):
                return {"faults": self.faults.rules()}
            case ("POST", "faults"):
                self.faults.add(FaultRule.from_spec(body))
                return {"success": True, "faults": self.faults.rules()}
            case ("DELETE", "faults"):
                self.faults.clear()
                return {"success": True}
            case ("GET", "latency"):
                return {"ms": self.latency_ms}
            case ("POST", "latency"):
                ms = body.get("ms")
                if isinstance(ms, bool) or not isinstance(ms, int | float) or ms < 0:
                    raise InvalidParameterError("Param ms must be a non-negative number")
                self.latency_ms = ms
                return {"success": True, "ms": ms}
            case ("PUT", "waba_override"):
                app_id, uri = self._override_args(body)
                backend.force_waba_override(args["object_id"], app_id, uri)
                return {"success": True}
            case ("PUT", "phone_override"):
                app_id, uri = self._override_args(body)
                backend.force_phone_override(args["object_id"], app_id, uri)
                return {"success": True}
            case ("POST", "client_waba"):
                waba = body.get("waba")
                numbers = body.get("phone_numbers", [])
                if not isinstance(waba, dict) or not isinstance(numbers, list):
                    raise InvalidParameterError(
                        "Expected {\"waba\": {...}, \"phone_numbers\": [...]} (fixture format)"
                    )
                backend.add_client_waba(args["object_id"], waba, numbers)
                return {"success": True}
            case ("PUT", "waba_subscription"):
                app_id = _str_param(body, "app_id") or backend.default_app_id
                backend.force_subscription(args["object_id"], app_id)
                return {"success": True}
            case ("PUT", "app_callback"):
                url = _str_param(body, "callback_url", required=True)
                backend.force_app_callback(args["object_id"], url or "")
                return {"success": True}
            case ("POST", "access_token"):
                token = _str_param(body, "access_token", required=True)
                backend.add_access_token(args["object_id"], token or "")
                return {"success": True}
            case ("POST", "revoke_token"):
                token = _str_param(body, "access_token", required=True)
                reason = _str_param(body, "reason") or "invalidated"
                return {"success": True,
                        "app_id": backend.revoke_access_token(token or "", reason)}
            case ("PUT", "app_secret"):
                secret = _str_param(body, "app_secret", required=True)
                backend.reset_app_secret(args["object_id"], secret or "")
                return {"success": True}
            case ("GET", "app_subscription"):
                return {"subscription": backend.app_subscription(args["object_id"])}
            case ("PUT", "app_subscription"):
                url = _str_param(body, "callback_url")
                fields = body.get("fields")
                if fields is not None and not (
                    isinstance(fields, list) and all(isinstance(f, str) for f in fields)
                ):
                    raise InvalidParameterError("Param fields must be a list of field names")
                backend.force_app_subscription(args["object_id"], url, fields)
                return {"subscription": backend.app_subscription(args["object_id"])}
            case ("GET", "clock"):
                return {"offset_seconds": self.clock.offset_seconds}
            case ("POST", "clock"):
                seconds = body.get("advance_seconds")
                if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
                    0 <= seconds < float("inf")
                ):
                    raise InvalidParameterError("Param advance_seconds must be a number >= 0")
                self.clock.advance(seconds)
                return {"success": True, "offset_seconds": self.clock.offset_seconds}
            case ("GET", "usage"):
                return {"usage": [self._usage(app, waba) for app, waba in self.budgets.pairs()]}
            case ("GET", "waba_usage"):
                app_id = _str_param(request.args, "app_id") or backend.default_app_id
                return self._usage(app_id, args["object_id"])
            case ("POST", "waba_usage"):
                calls = body.get("calls")
                if isinstance(calls, bool) or not isinstance(calls, int) or calls < 0:
                    raise InvalidParameterError("Param calls must be an integer >= 0")
                app_id = _str_param(body, "app_id") or backend.default_app_id
                backend.hourly_budget(args["object_id"])  # the WABA must exist
                self.budgets.spend(app_id, args["object_id"], calls)
                return self._usage(app_id, args["object_id"])
            case ("PUT", "waba_budget"):
                if "hourly_budget" not in body:
                    raise InvalidParameterError("The parameter hourly_budget is required")
                backend.set_hourly_budget(args["object_id"], body["hourly_budget"])
                return {"success": True, "hourly_budget": backend.hourly_budget(args["object_id"])}
            case ("POST", "deliver"):
                field = _str_param(body, "field") or MESSAGES_FIELD
                waba_id = _str_param(body, "waba_id")
                phone_id = _str_param(
                    body, "phone_number_id", required=field == MESSAGES_FIELD or waba_id is None
                )
                delivery = backend.prepare_delivery(
                    phone_id,
                    _str_param(body, "app_id"),
                    text=_str_param(body, "text") or "Hello from the Graph API emulator",
                    field=field,
                    waba_id=waba_id,
                )
                return post_delivery(delivery)
            case ("GET", "verifications"):
                return {"verifications": backend.verifications()}
            case ("GET", "callback_sink"):
                return self._sink_challenge(request)
            case ("POST", "callback_sink"):
                return self._sink_receive(request, args["name"], body)
            case ("GET", "received"):
                with self._received_lock:
                    return {"received": list(self._received)}
        raise UnsupportedMethodError(method)

    def _usage(self, app_id: str, waba_id: str) -> dict[str, Any]:
        budget = self.backend.hourly_budget(waba_id)
        return self.budgets.usage(app_id, waba_id, budget).to_json()

    def _override_args(self, body: dict[str, Any]) -> tuple[str, str | None]:
        if "override_callback_uri" not in body:
            raise InvalidParameterError("The parameter override_callback_uri is required")
        uri = _str_param(body, "override_callback_uri")
        return _str_param(body, "app_id") or self.backend.default_app_id, uri

    @staticmethod
    def _sink_challenge(request: Request) -> Response:
        challenge = request.args.get("hub.challenge")
        if request.args.get("hub.mode") != "subscribe" or not challenge:
            raise InvalidParameterError("Expected hub.mode=subscribe and hub.challenge")
        return Response(challenge, 200, mimetype="text/plain")

    def _sink_receive(self, request: Request, name: str, body: dict[str, Any]) -> Response:
        with self._received_lock:
            self._received.append(
                {
                    "name": name,
                    "signature": request.headers.get("X-Hub-Signature-256"),
                    "body": body,
                }
            )
        return Response("EVENT_RECEIVED", 200, mimetype="text/plain")
