"""Errors raised by the Graph API client, built from Meta's error envelope.

Every failed Graph call becomes one `GraphError` subclass chosen by the envelope's ``code`` (and
HTTP status), so callers decide what to do with one ``isinstance`` check and print messages from
fields, never by matching message text::

    {"error": {"message", "type", "code", "error_subcode", "fbtrace_id", "is_transient",
               "error_user_title", "error_user_msg"}}

Retry policy (`graph.py`) retries `RetryableError` and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Codes from Meta's Graph API error reference that decide what the caller does next.
TOKEN_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 80008, 130429})
TRANSIENT_CODES = frozenset({1, 2})
INVALID_PARAMETER_CODE = 100
UNKNOWN_OBJECT_CODES = frozenset({803})
# Code 100 with subcode 33: "object does not exist, cannot be loaded due to missing permissions,
# or does not support this operation".
UNKNOWN_OBJECT_SUBCODE = 33
# Code 100 with this subcode: Meta could not verify the callback URL.
CALLBACK_VERIFICATION_SUBCODE = 2200


class WabaWebhooksError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(WabaWebhooksError):
    """A provider setting is missing or invalid (for example no access token)."""


class OverrideConflictError(WabaWebhooksError):
    """Another override callback URI is already set where a resource would create one."""


class ImportNotSupportedError(WabaWebhooksError):
    """``ResourceOptions(import_=...)`` was used: Pulumi cannot import dynamic resources."""


class RoutingError(WabaWebhooksError):
    """A `WabaRouting` step could not make every write it planned (or could not start them).

    `failures` holds each failed object (``"WABA"`` or ``"phone number"``, its id) with the
    `GraphError` Meta answered; the writes not listed were made. The message lists every
    failure, never a token.
    """

    def __init__(self, message: str, failures: list[tuple[str, str, GraphError]]) -> None:
        super().__init__(message)
        self.failures = failures

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.failures))


class GraphError(WabaWebhooksError):
    """The Graph API answered with an error envelope, or could not be reached.

    Attributes carry what Meta said; `str(error)` is a one-line message for users that never
    contains the access token or a verify token.
    """

    hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        type: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool = False,
        http_status: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.http_status = http_status
        self.user_title = user_title
        self.user_msg = user_msg
        self.method = method
        self.path = path
        #: Seconds Meta asked us to wait before trying again, when it said so.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.describe(hint=True)

    def describe(self, *, hint: bool) -> str:
        """What Meta said, where, and its ids; with `hint`, what the user can do about it."""
        parts = [self.message]
        if self.user_msg and self.user_msg not in self.message:
            parts.append(self.user_msg)
        details = []
        if self.method and self.path:
            details.append(f"{self.method} {self.path}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.subcode is not None:
            details.append(f"subcode {self.subcode}")
        if self.fbtrace_id:
            details.append(f"fbtrace_id {self.fbtrace_id}")
        text = " ".join(parts)
        if details:
            text += f" ({', '.join(details)})"
        if hint and self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the fields when the error crosses a process boundary (pickling).
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[GraphError], message: str, state: dict[str, Any]) -> GraphError:
    error = cls(message)
    error.__dict__.update(state)
    return error


class RetryableError(GraphError):
    """A failure that may succeed if the same call is made again later."""


class RateLimitError(RetryableError):
    """Meta throttled the app or the WABA (codes 4, 17, 32, 613, 80007, 80008, 130429, HTTP 429)."""

    hint = "Meta is rate limiting this app; the call was retried until the retry budget ran out"


class TransientError(RetryableError):
    """A temporary failure on Meta's side (codes 1 and 2, `is_transient`, HTTP 5xx)."""

    hint = "Meta reported a temporary failure; the call was retried until the retry budget ran out"


class GraphConnectionError(RetryableError):
    """The Graph API could not be reached, or the connection dropped or timed out."""

    hint = "check whatsapp:graphUrl and the network"


class InvalidTokenError(GraphError):
    """The access token is invalid, expired or missing (code 190)."""

    hint = (
        "set a valid token with `pulumi config set --secret whatsapp:accessToken <token>` "
        "or the WHATSAPP_ACCESS_TOKEN environment variable"
    )


class PermissionDeniedError(GraphError):
    """The token's app may not do this (codes 10, 200-299)."""

    hint = (
        "the token needs the whatsapp_business_management permission and access to this "
        "WABA or phone number"
    )


class InvalidParameterError(GraphError):
    """Meta rejected a parameter of the call (code 100)."""


class CallbackVerificationError(InvalidParameterError):
    """Meta could not verify the override callback URI with the verify token."""

    hint = (
        "the callback must answer GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=... "
        "with HTTP 200 and the challenge as the body, using the same verify token"
    )


class NotFoundError(GraphError):
    """The WABA or phone number does not exist or the app cannot see it (code 803, 100/33)."""

    hint = "check the id, and that the token's app has access to it"


def error_class(code: int | None, subcode: int | None, http_status: int | None,
                is_transient: bool) -> type[GraphError]:
    """The `GraphError` subclass for an error envelope's code, subcode and HTTP status."""
    if code in RATE_LIMIT_CODES or http_status == 429:
        return RateLimitError
    if code in TOKEN_CODES:
        return InvalidTokenError
    if code in PERMISSION_CODES:
        return PermissionDeniedError
    if code in UNKNOWN_OBJECT_CODES or (
        code == INVALID_PARAMETER_CODE and subcode == UNKNOWN_OBJECT_SUBCODE
    ):
        return NotFoundError
    if code == INVALID_PARAMETER_CODE and subcode == CALLBACK_VERIFICATION_SUBCODE:
        return CallbackVerificationError
    if code in TRANSIENT_CODES or is_transient:
        return TransientError
    if code == INVALID_PARAMETER_CODE:
        return InvalidParameterError
    if http_status is not None and http_status >= 500:
        return TransientError
    if http_status == 404:
        return NotFoundError
    return GraphError


def from_envelope(
    body: Any,
    http_status: int,
    *,
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
) -> GraphError:
    """Build the error for a failed response from its decoded JSON body (any shape)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        cls = error_class(None, None, http_status, False)
        return cls(
            f"Graph API answered HTTP {http_status} without an error envelope",
            http_status=http_status, method=method, path=path, retry_after=retry_after,
        )
    code = _int_or_none(error.get("code"))
    subcode = _int_or_none(error.get("error_subcode"))
    is_transient = error.get("is_transient") is True
    cls = error_class(code, subcode, http_status, is_transient)
    return cls(
        str(error.get("message") or f"Graph API error (HTTP {http_status})"),
        code=code,
        subcode=subcode,
        type=_str_or_none(error.get("type")),
        fbtrace_id=_str_or_none(error.get("fbtrace_id")),
        is_transient=is_transient,
        http_status=http_status,
        user_title=_str_or_none(error.get("error_user_title")),
        user_msg=_str_or_none(error.get("error_user_msg")),
        method=method,
        path=path,
        retry_after=retry_after,
    )


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
