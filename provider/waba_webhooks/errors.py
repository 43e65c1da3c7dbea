"""Errors raised by the Graph API client, built from Meta's error envelope.

Every failed Graph call becomes one `GraphError` subclass chosen by the envelope's ``code`` (and
HTTP status), so callers decide what to do with one ``isinstance`` check and print messages from
fields, never by matching message text::

    {"error": {"message", "type", "code", "error_subcode", "fbtrace_id", "is_transient",
               "error_user_title", "error_user_msg"}}

Retry policy (`graph.py`) retries `RetryableError` and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

# Codes from Meta's Graph API error reference that decide what the caller does next.
TOKEN_CODES = frozenset({102, 190})
# Code 190's subcodes for a token that worked and no longer does: 458 the app was removed,
# 460 the session was invalidated (a password change, or Meta or an admin revoked it), 463 it
# expired, 464 and 467 the user or token is no longer valid, 492 an invalid session.
TOKEN_ENDED_SUBCODES = frozenset({458, 460, 463, 464, 467, 492})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 80008, 130429})
TRANSIENT_CODES = frozenset({1, 2})
INVALID_PARAMETER_CODE = 100
UNKNOWN_OBJECT_CODES = frozenset({803})
# Code 100 with subcode 33: "object does not exist, cannot be loaded due to missing permissions,
# or does not support this operation".
UNKNOWN_OBJECT_SUBCODE = 33
# Meta could not verify the callback URL: code 2200 as observed, or code 100 with this subcode.
CALLBACK_VERIFICATION_CODE = 2200
CALLBACK_VERIFICATION_SUBCODE = 2200
# The code of "(#200) Permissions error".
PERMISSIONS_ERROR_CODE = 200
# "(#15) This method must be called with an app access_token." (public reports).
APP_TOKEN_REQUIRED_CODE = 15


class WabaWebhooksError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(WabaWebhooksError):
    """A provider setting is missing or invalid (for example no access token)."""


class OverrideConflictError(WabaWebhooksError):
    """Another override callback URI is already set where a resource would create one."""


class AppSubscriptionConflictError(OverrideConflictError):
    """The app already has a webhook subscription (another callback URL or other fields) where
    an `AppWebhookSubscription` would create one, and the resource did not ask to adopt it."""


class NothingToImportError(WabaWebhooksError):
    """`pulumi import` named an object that has nothing of our app's to import (no override of
    our app there, or no app subscription)."""


class VerifyTokenRequiredError(WabaWebhooksError):
    """A write needs a verify token (Meta verifies the URL with it) and the resource has none:
    it was imported, and Meta never returns a verify token."""


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


_Error = TypeVar("_Error", bound="GraphError")


def _rebuild(cls: type[_Error], message: str, state: dict[str, Any]) -> _Error:
    error = cls(message)
    error.__dict__.update(state)
    return error


class RetryableError(GraphError):
    """A failure that may succeed if the same call is made again later."""


class RateLimitError(RetryableError):
    """Meta throttled the app or the WABA (codes 4, 17, 32, 613, 80007, 80008, 130429, HTTP 429)."""

    hint = "Meta is rate limiting this app; the call was retried until the retry budget ran out"


class BudgetExhaustedError(RateLimitError):
    """The app's hourly budget of calls on a WABA is spent, and Meta's wait is longer than the
    retry budget: raised at once, never waited out. `waba_id` names the WABA, `wait_seconds`
    is Meta's ``estimated_time_to_regain_access``."""

    hint = (
        "Wait that long and run again. A WABA with a registered phone number gets 5,000 calls "
        "an hour instead of 200; fewer resources per WABA in one run (pulumi up --target) "
        "spend less of it"
    )

    def __init__(self, message: str, *, waba_id: str | None = None,
                 wait_seconds: float | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.waba_id = waba_id
        self.wait_seconds = wait_seconds

    @classmethod
    def for_waba(cls, answer: GraphError, waba_id: str,
                 wait_seconds: float) -> BudgetExhaustedError:
        """Meta's rate-limit `answer`, named for the WABA whose budget is spent."""
        return _rebuild(cls, answer.message, {
            **answer.__dict__, "waba_id": waba_id, "wait_seconds": wait_seconds})

    @property
    def wait_minutes(self) -> int:
        """The wait in whole minutes, rounded up."""
        return math.ceil((self.wait_seconds or 0) / 60)

    def describe(self, *, hint: bool) -> str:
        summary = (
            f"WABA {self.waba_id} has spent this app's hourly budget of Graph API calls: Meta "
            f"says calls resume in about {self.wait_minutes} minutes, longer than the retry "
            "budget (whatsapp:retryBudgetSeconds), so the provider did not wait"
        )
        return f"{summary}. {super().describe(hint=hint)}"


class TransientError(RetryableError):
    """A temporary failure on Meta's side (codes 1 and 2, `is_transient`, HTTP 5xx)."""

    hint = "Meta reported a temporary failure; the call was retried until the retry budget ran out"


class GraphConnectionError(RetryableError):
    """The Graph API could not be reached, or the connection dropped or timed out."""

    hint = "check whatsapp:graphUrl and the network"


class InvalidTokenError(GraphError):
    """The access token is invalid, expired or missing (code 190); with a subcode of
    `TOKEN_ENDED_SUBCODES`, a token that worked was revoked or expired (`ended`)."""

    hint = (
        "set a valid token: `pulumi config set --secret whatsapp:accessToken <token>` or the "
        "WHATSAPP_ACCESS_TOKEN environment variable for the default provider, the accessToken "
        "input for an explicit provider. A token set in config or as an input reaches refresh "
        "and destroy once a `pulumi up` has recorded it (the docs' token rotation runbook)"
    )

    @property
    def ended(self) -> bool:
        """Whether Meta says the token worked and was revoked or has expired."""
        return self.subcode in TOKEN_ENDED_SUBCODES

    def describe(self, *, hint: bool) -> str:
        text = super().describe(hint=hint)
        if self.ended:
            text = f"Meta no longer accepts this access token (revoked or expired): {text}"
        return text


class PermissionDeniedError(GraphError):
    """The token's app may not do this (codes 10, 200-299)."""

    hint = (
        "the token needs the whatsapp_business_management permission and access to this "
        "WABA or phone number"
    )


class InvalidParameterError(GraphError):
    """Meta rejected a parameter of the call (code 100)."""


class CallbackVerificationError(InvalidParameterError):
    """Meta could not verify the override callback URI: its call to the URI did not get HTTP 200
    with the challenge (code 2200, or code 100 with subcode 2200). Meta's message says what the
    receiver answered (``HTTP Status Code = 404; HTTP Message = Not Found``, or a ``curl_errno``
    when nothing answered); `callback_uri` is the URI Meta called."""

    #: The override callback URI that failed verification (Meta's message does not name it).
    callback_uri: str | None = None
    hint = (
        "the receiver must answer Meta's GET ?hub.mode=subscribe&hub.challenge=…"
        "&hub.verify_token=… with HTTP 200 and exactly the hub.challenge value as the body when "
        "hub.verify_token is this resource's verify_token, over https with a certificate from a "
        "public certificate authority (Meta refuses self-signed ones)"
    )

    def describe(self, *, hint: bool) -> str:
        text = super().describe(hint=hint)
        if self.callback_uri:
            text = f"Meta could not verify the callback URL {self.callback_uri}: {text}"
        return text


class PhoneNumberPermissionError(PermissionDeniedError):
    """Meta refused a write to a phone number's webhook configuration with ``(#200) Permissions
    error`` (HTTP 403), as it does for numbers whose WABA lives in the customer's own Business
    Manager (WhatsApp Business app "coexistence"), while ``subscribed_apps`` works there
    (fazer-ai/chatwoot #568)."""

    hint = (
        "the number may belong to a WABA in the customer's own Business Manager (a WhatsApp "
        "Business app coexistence number), whose numbers only that business may change: "
        "Meta still lets the app subscribe to such a WABA, so a WabaCallbackOverride on the "
        "number's WABA may route it instead; otherwise the token needs the "
        "whatsapp_business_management permission on that WABA"
    )


class PhoneOverrideRefusedError(InvalidParameterError):
    """Meta refused to set a phone number's override with a plain code 100 (no subcode). The
    likeliest cause: our app is not subscribed to the number's WABA, which Meta answers with
    "(#100) Before override the current callback uri, your app must be subscribed to receive
    messages for WhatsApp Business Account" (observed for WABA overrides, inferred for phone
    numbers: docs/meta-rules.md)."""

    hint = (
        "if Meta says the app must be subscribed: declare a WabaCallbackOverride for the "
        "number's WABA in this stack (its create subscribes the app first), or subscribe the "
        "app to that WABA yourself with POST /{WABA_ID}/subscribed_apps and no body (on a WABA "
        "the app is not subscribed to yet: on a subscribed one that POST clears the app's WABA "
        "override)"
    )


class NotFoundError(GraphError):
    """The WABA or phone number does not exist or the app cannot see it (code 803, 100/33)."""

    hint = "check the id, and that the token's app has access to it"


class AppTokenRequiredError(InvalidTokenError):
    """The app's webhook subscription (``/{app-id}/subscriptions``) needs an **app access
    token**, ``{app-id}|{app-secret}``, and Meta refused the one it got: a system-user token gets
    ``(#15) This method must be called with an app access_token.``, a user token ``(#190)
    Application Secret required``, and an app token with a wrong secret code 190 too. The
    provider forms the app token from ``whatsapp:appId`` and ``whatsapp:appSecret``."""

    hint = (
        "the app's webhook subscription needs an app access token, which the provider forms "
        "from the app id and the app secret: set the app secret (App Dashboard > App settings "
        "> Basic) with `pulumi config set --secret whatsapp:appSecret <secret>` or the "
        "WHATSAPP_APP_SECRET environment variable (the default provider) or the appSecret "
        "input (an explicit provider), and check whatsapp:appId (WHATSAPP_APP_ID) names the "
        "same app. After a reset of the app secret, the old one no longer works"
    )

    def describe(self, *, hint: bool) -> str:
        # Not InvalidTokenError's: the access token is not the one refused.
        return GraphError.describe(self, hint=hint)


class AppSubscriptionRefusedError(InvalidParameterError):
    """Meta refused a change of the app's webhook subscription (``POST`` or ``DELETE
    /{app-id}/subscriptions``) with a plain code 100. Meta's Graph reference page for this edge
    still says "Webhooks for WhatsApp is not supported … use the App Dashboard", while its newer
    WhatsApp documentation and production integrations (n8n's WhatsApp Trigger) use it: an app
    for which Meta answers so has to be set up in the App Dashboard."""

    hint = (
        "if Meta says webhooks for WhatsApp are not supported here, set the callback URL, "
        "verify token and webhook fields in the App Dashboard (WhatsApp > Configuration) "
        "instead: an AppWebhookSubscription declared with the same callback URL and fields "
        "still reads it and adopts it without a write, and reports drift at refresh. "
        "Otherwise Meta's message names the parameter it refused"
    )

    def describe(self, *, hint: bool) -> str:
        return ("Meta refused to change the app's webhook subscription: "
                f"{super().describe(hint=hint)}")


def error_class(code: int | None, subcode: int | None, http_status: int | None,
                is_transient: bool) -> type[GraphError]:
    """The `GraphError` subclass for an error envelope's code, subcode and HTTP status."""
    if code in RATE_LIMIT_CODES or http_status == 429:
        return RateLimitError
    if code == APP_TOKEN_REQUIRED_CODE:
        return AppTokenRequiredError
    if code in TOKEN_CODES:
        return InvalidTokenError
    if code in PERMISSION_CODES:
        return PermissionDeniedError
    if code in UNKNOWN_OBJECT_CODES or (
        code == INVALID_PARAMETER_CODE and subcode == UNKNOWN_OBJECT_SUBCODE
    ):
        return NotFoundError
    if code == CALLBACK_VERIFICATION_CODE or (
        code == INVALID_PARAMETER_CODE and subcode == CALLBACK_VERIFICATION_SUBCODE
    ):
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


def for_override_write(error: GraphError, callback_uri: str | None, *,
                       phone_number: bool) -> GraphError:
    """The error to raise for a failed write of an override callback URI: a verification failure
    names the URI Meta tried; on a phone number, ``(#200) Permissions error`` (HTTP 403) becomes
    `PhoneNumberPermissionError` and a plain code 100 `PhoneOverrideRefusedError`, each saying
    what to do. Anything else is returned as it is."""
    if isinstance(error, CallbackVerificationError):
        error.callback_uri = callback_uri
        return error
    if not phone_number:
        return error
    if (type(error) is PermissionDeniedError and error.http_status == 403
            and error.code == PERMISSIONS_ERROR_CODE):
        return _retyped(error, PhoneNumberPermissionError)
    if type(error) is InvalidParameterError and callback_uri and error.subcode is None:
        return _retyped(error, PhoneOverrideRefusedError)
    return error


def for_app_subscription(error: GraphError, callback_url: str | None = None) -> GraphError:
    """The error to raise for a failed call on ``/{app-id}/subscriptions``, which the client
    makes with the app token: a refused token (code 15, or 190: "Application Secret required",
    a wrong app secret) is `AppTokenRequiredError`, naming the setting that provides it; a
    verification failure names `callback_url`; on a write (POST, DELETE), a plain code 100 is
    `AppSubscriptionRefusedError`, saying what to do. Anything else is returned as it is."""
    if isinstance(error, CallbackVerificationError):
        error.callback_uri = callback_url
        return error
    if type(error) is InvalidTokenError or error.code == APP_TOKEN_REQUIRED_CODE:
        return error if isinstance(error, AppTokenRequiredError) else _retyped(
            error, AppTokenRequiredError)
    if (type(error) is InvalidParameterError and error.subcode is None
            and error.method in ("POST", "DELETE")):
        return _retyped(error, AppSubscriptionRefusedError)
    return error


def _retyped(error: GraphError, cls: type[GraphError]) -> GraphError:
    """The same error (every field) as a more specific class."""
    return _rebuild(cls, error.message, dict(error.__dict__))


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
