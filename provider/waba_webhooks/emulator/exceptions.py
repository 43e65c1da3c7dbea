"""Graph API errors raised by the emulator's model and HTTP layer.

Every error the emulator answers is a :class:`GraphAPIError`; the HTTP layer turns it into
Meta's error envelope with :meth:`GraphAPIError.to_envelope`. The subclasses only exist so that
the common cases are built the same way everywhere (same code, subcode, status and wording).
"""

from __future__ import annotations

from typing import Any


class GraphAPIError(Exception):
    """An error answered in Graph's envelope: ``{"error": {"message", "type", "code", ...}}``."""

    def __init__(
        self,
        message: str,
        code: int,
        type: str = "OAuthException",
        error_subcode: int | None = None,
        http_status: int = 400,
        is_transient: bool = False,
        error_user_title: str | None = None,
        error_user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.type = type
        self.error_subcode = error_subcode
        self.http_status = http_status
        self.is_transient = is_transient
        self.error_user_title = error_user_title
        self.error_user_msg = error_user_msg

    def to_envelope(self, fbtrace_id: str) -> dict[str, Any]:
        """Return the JSON-ready envelope; optional fields appear only when set."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.error_subcode is not None:
            error["error_subcode"] = self.error_subcode
        error["fbtrace_id"] = fbtrace_id
        error["is_transient"] = self.is_transient
        if self.error_user_title is not None:
            error["error_user_title"] = self.error_user_title
        if self.error_user_msg is not None:
            error["error_user_msg"] = self.error_user_msg
        return {"error": error}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code}, subcode={self.error_subcode}, "
            f"http_status={self.http_status}, message={self.message!r})"
        )


class InvalidTokenError(GraphAPIError):
    """Code 190: the access token is missing, unknown or cannot be parsed (HTTP 401)."""

    def __init__(self) -> None:
        super().__init__(
            "Invalid OAuth access token - Cannot parse access token", code=190, http_status=401
        )


#: Why Meta no longer accepts a token that once worked -> (error_subcode, Meta's message). Graph's
#: documented subcodes of code 190: 463, the token has expired; 460, the session was
#: invalidated (a password change, or Meta ended it: what an admin's revocation answers).
REVOKED_TOKEN_ANSWERS: dict[str, tuple[int, str]] = {
    "expired": (463, "Error validating access token: Session has expired. The current time is "
                     "later than the token's expiry."),
    "invalidated": (460, "Error validating access token: The session has been invalidated "
                         "because the user changed their password or Facebook has changed the "
                         "session for security reasons."),
}


class RevokedTokenError(GraphAPIError):
    """Code 190 with a subcode: a token that worked before was revoked or has expired
    (`REVOKED_TOKEN_ANSWERS`), HTTP 401 like any unusable token."""

    def __init__(self, reason: str) -> None:
        subcode, message = REVOKED_TOKEN_ANSWERS[reason]
        super().__init__(message, code=190, error_subcode=subcode, http_status=401)


class AppTokenRequiredError(GraphAPIError):
    """Code 15: ``/{app-id}/subscriptions`` was called with a token that is not an app access
    token (``{app-id}|{app-secret}``), e.g. a system user token.

    Meta's words as publicly reported ("(#15) This method must be called with an app
    access_token.", type OAuthException); the reports quote the envelope but not the HTTP
    status, so the emulator answers 400, Graph's status for OAuthException errors other than
    an unusable token. A *user* token gets "(#190) Application Secret required" instead; the
    emulator has no user tokens.
    """

    def __init__(self) -> None:
        super().__init__(
            "(#15) This method must be called with an app access_token.",
            code=15,
            http_status=400,
        )


class InvalidParameterError(GraphAPIError):
    """Code 100: a parameter is missing, ill-typed or out of range (HTTP 400)."""

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(f"(#100) {message}", code=100, http_status=http_status)


class ObjectNotFoundError(GraphAPIError):
    """Code 100 / subcode 33: a numeric id that does not exist or is not visible to the app.

    Graph's one answer for both, as its message says (tawn33y/whatsapp-cloud-api #7 for a
    WhatsApp id; roughike/flutter_facebook_login #44 shows code, subcode and type). Meta's
    OpenAPI examples answer a WABA without access with HTTP 403, code 200, subcode 1349174
    instead; the emulator follows what is observed (docs/meta-rules.md).
    """

    def __init__(self, object_id: str, method: str = "GET") -> None:
        super().__init__(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation",
            code=100,
            type="GraphMethodException",
            error_subcode=33,
            http_status=400,
        )


class UnknownAliasError(GraphAPIError):
    """Code 803: a non-numeric id (an alias) that does not exist (HTTP 404)."""

    def __init__(self, alias: str) -> None:
        super().__init__(
            f"(#803) Some of the aliases you requested do not exist: {alias}",
            code=803,
            http_status=404,
        )


class PermissionDeniedError(GraphAPIError):
    """Code 200: the app may see the object but not change it (HTTP 403).

    Observed on a phone number override for a number whose WABA lives in the customer's own
    Business Manager (coexistence), while ``subscribed_apps`` works (fazer-ai/chatwoot #568).
    """

    def __init__(self) -> None:
        super().__init__("(#200) Permissions error", code=200, http_status=403)


class BusinessPermissionError(GraphAPIError):
    """Code 200: the token's app has no access to the business whose WABAs it lists (HTTP 403).

    Status, code and subcode as Meta's OpenAPI description answers ``getOwnedWhatsAppBusiness
    Accounts`` and ``getClientWhatsAppBusinessAccounts`` without permission; the message is
    Graph's usual one for a business object the token may not manage (docs/meta-rules.md, "A
    business's WABAs").
    """

    def __init__(self) -> None:
        super().__init__(
            "(#200) Requires business_management permission to manage the object",
            code=200,
            error_subcode=1349174,
            http_status=403,
        )


class UnknownPathError(GraphAPIError):
    """Code 2500: no Graph route matches the path (HTTP 404)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Unknown path components: {path}", code=2500, http_status=404)


class UnsupportedMethodError(GraphAPIError):
    """Code 100: the route exists but not for this HTTP method (HTTP 405)."""

    def __init__(self, method: str) -> None:
        super().__init__(f"(#100) Unsupported {method.lower()} request", code=100, http_status=405)


class WabaRateLimitError(GraphAPIError):
    """Code 80007: the app has spent its hourly call budget on this WABA (HTTP 400).

    Wording after Meta's error code table ("Rate limit issues": "The WhatsApp Business Account
    has reached its rate limit"), with Graph's usual ``(#code)`` prefix; see :mod:`.budget`.
    The wait is not in the envelope: Meta gives it in the ``X-Business-Use-Case-Usage`` header.
    """

    def __init__(self, regain_minutes: int) -> None:
        super().__init__(
            "(#80007) The WhatsApp Business Account has reached its rate limit",
            code=80007,
            http_status=400,
        )
        #: The wait, also in the answer's ``X-Business-Use-Case-Usage`` header.
        self.regain_minutes = regain_minutes


class RequestTooLargeError(InvalidParameterError):
    """Code 100: the request body is larger than the emulator accepts (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body exceeds the limit of {limit} bytes", http_status=413)


class CallbackVerificationError(GraphAPIError):
    """Code 2200: the callback URL did not answer the verification call with HTTP 200 and the
    challenge (HTTP 400). ``errors`` is what the call got, in Meta's words: ``HTTP Status Code =
    404; HTTP Message = Not Found``, or ``curl_errno = 7; curl_error = ...`` when nothing answered.

    As observed (fbsamples/original-coast-clothing #84, arsduo/koala #439): code 2200 at the top
    level, no subcode, no user title; the ``curl_errno`` form is quoted in
    gabrieldwight/Whatsapp-Business-Cloud-Api-Net #5. Neither the Webhook Overrides page nor
    Meta's OpenAPI description documents this error.
    """

    def __init__(self, errors: str) -> None:
        super().__init__(
            f"(#2200) Callback verification failed with the following errors: {errors}",
            code=2200,
            http_status=400,
        )


class NotSubscribedError(GraphAPIError):
    """Code 100: an override from an app that is not subscribed to the WABA's webhooks (HTTP 400).

    Meta's exact answer to a WABA override in that case (chatwoot/chatwoot #12488, #13154,
    #14713; evolution-api #807): code 100, no subcode. The emulator gives the same answer to a
    phone number override on such a WABA, which is inferred, not observed (docs/meta-rules.md:
    only a test stub in chatwoot shows it).
    """

    def __init__(self) -> None:
        super().__init__(
            "(#100) Before override the current callback uri, your app must be subscribed to "
            "receive messages for WhatsApp Business Account",
            code=100,
            http_status=400,
        )


class InternalError(GraphAPIError):
    """Code 1: an unexpected failure inside the emulator (HTTP 500, transient)."""

    def __init__(self) -> None:
        super().__init__(
            "An unknown error has occurred.", code=1, http_status=500, is_transient=True
        )


class InvalidFixtureError(ValueError):
    """A fixture (seed data) is malformed: missing keys, wrong types or dangling references."""


class VerificationFailed(Exception):
    """Raised by a verifier when the callback did not answer the challenge; ``reason`` is short.

    The reason ends up in a Graph error message, so it must never contain the verify token.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
