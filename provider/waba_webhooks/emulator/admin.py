"""A small client for the emulator's admin endpoints (``/_emulator/...``).

Used by tests, the demo and benchmarks to inspect the call log, reset or seed state, inject
faults, drive the hourly call budget and its clock, and deliver sample webhooks. Errors come
back as :class:`EmulatorAdminError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from ..validation import is_loopback_host
from .urls import ADMIN_PREFIX


class EmulatorAdminError(RuntimeError):
    """An admin call failed; ``status`` is the HTTP status, ``body`` the decoded answer."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("error", {}).get("message") if isinstance(body, dict) else body
        super().__init__(f"emulator admin call failed with HTTP {status}: {message}")
        self.status = status
        self.body = body


class EmulatorAdmin:
    """Client for one emulator, e.g. ``EmulatorAdmin("http://127.0.0.1:8765")``."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        # The emulator is local: never route admin calls through a configured proxy.
        self._session.trust_env = not is_loopback_host(urlsplit(self.base_url).hostname or "")

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self._session.request(
            method, f"{self.base_url}{ADMIN_PREFIX}{path}", json=json, timeout=self.timeout
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise EmulatorAdminError(response.status_code, body)
        return body

    # ----------------------------------------------------------------- log and state

    def calls(self) -> list[dict[str, Any]]:
        """Every Graph call since the last reset: seq, method, path, operation, query, body,
        status, app_id, fault (secrets redacted)."""
        return list(self._call("GET", "/calls")["calls"])

    def counts(self) -> dict[str, Any]:
        """``total``, ``reads``, ``writes``, ``by_operation``, ``faults_injected``,
        ``verifications``."""
        return dict(self._call("GET", "/counts"))

    def reset(self) -> None:
        """Back to the baseline fixture; clears log, faults, latency, verifications and budget
        usage, and sets the clock back."""
        self._call("POST", "/reset")

    def seed(self, fixture: Mapping[str, Any]) -> None:
        """Replace the state with ``fixture`` and make it the new baseline (and clear logs)."""
        self._call("POST", "/seed", json=dict(fixture))

    def state(self) -> dict[str, Any]:
        """The current state, shaped like a fixture."""
        return dict(self._call("GET", "/state"))

    def verifications(self) -> list[dict[str, Any]]:
        """Every verification attempt: url, ok, reason, app_id, object_id."""
        return list(self._call("GET", "/verifications")["verifications"])

    # ----------------------------------------------------------------- faults and latency

    def add_fault(self, **spec: Any) -> list[dict[str, Any]]:
        """Queue a fault rule (count, method, path, status, error, headers, latency_ms,
        drop_connection); returns the queued rules."""
        return list(self._call("POST", "/faults", json=spec)["faults"])

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules not yet used up."""
        return list(self._call("GET", "/faults")["faults"])

    def clear_faults(self) -> None:
        """Drop every queued fault rule."""
        self._call("DELETE", "/faults")

    def set_latency(self, ms: float) -> None:
        """Delay every Graph call by ``ms`` milliseconds."""
        self._call("POST", "/latency", json={"ms": ms})

    # ----------------------------------------------------------------- changes "outside Pulumi"

    def set_waba_override(self, waba_id: str, app_id: str, uri: str | None) -> None:
        """Set (and subscribe) or clear (``None``) an app's WABA override, unverified."""
        self._call(
            "PUT",
            f"/wabas/{waba_id}/override",
            json={"app_id": app_id, "override_callback_uri": uri},
        )

    def set_phone_override(self, phone_id: str, app_id: str, uri: str | None) -> None:
        """Set or clear (``None``) an app's phone number override, unverified."""
        self._call(
            "PUT",
            f"/phone_numbers/{phone_id}/override",
            json={"app_id": app_id, "override_callback_uri": uri},
        )

    def subscribe_app(self, waba_id: str, app_id: str | None = None) -> None:
        """Subscribe an app (default: the fixture's first) to a WABA by hand, as someone would
        in the WhatsApp Manager; an override it has stays."""
        body = {"app_id": app_id} if app_id else {}
        self._call("PUT", f"/wabas/{waba_id}/subscription", json=body)

    def add_client_waba(
        self,
        business_id: str,
        waba: Mapping[str, Any],
        phone_numbers: list[Mapping[str, Any]] | None = None,
    ) -> None:
        """A new customer onboards: add ``waba`` and its ``phone_numbers`` (fixture format) as
        a client WABA of the business. Not subscribed unless ``waba`` says so."""
        self._call("POST", f"/businesses/{business_id}/client_wabas",
                   json={"waba": dict(waba), "phone_numbers": [dict(p) for p in
                                                                phone_numbers or []]})

    def set_app_callback(self, app_id: str, url: str) -> None:
        """Change an app's dashboard callback URL."""
        self._call("PUT", f"/apps/{app_id}", json={"callback_url": url})

    def add_access_token(self, app_id: str, token: str) -> None:
        """Give the app a new access token (as Business Manager generates a system user's)."""
        self._call("POST", f"/apps/{app_id}/access_tokens", json={"access_token": token})

    def revoke_access_token(self, token: str, reason: str = "invalidated") -> str:
        """Meta stops accepting `token`: it answers code 190 with subcode 460 (``invalidated``,
        as for a revoked token) or 463 (``expired``). Returns the token's app id."""
        return str(self._call("POST", "/access_tokens/revoke",
                              json={"access_token": token, "reason": reason})["app_id"])

    def reset_app_secret(self, app_id: str, app_secret: str) -> None:
        """The app's secret is reset (App Dashboard > App settings > Basic): app access tokens
        formed from the old one answer code 190."""
        self._call("PUT", f"/apps/{app_id}/app_secret", json={"app_secret": app_secret})

    def app_subscription(self, app_id: str) -> dict[str, Any] | None:
        """The app's webhook subscription for ``whatsapp_business_account`` as Graph's GET
        shows it (``object``, ``callback_url``, ``active``, ``fields`` as ``[{"name",
        "version"}]``), or None when it has none."""
        result = self._call("GET", f"/apps/{app_id}/subscription")["subscription"]
        return dict(result) if result is not None else None

    def set_app_subscription(self, app_id: str, callback_url: str | None = None,
                             fields: list[str] | None = None) -> dict[str, Any] | None:
        """Edit the app's webhook subscription as someone would in the App Dashboard: no
        verification, `fields` *replace* the subscribed ones (an API POST only adds). None for
        the URL or the fields removes the subscription. Returns it as `app_subscription`."""
        result = self._call("PUT", f"/apps/{app_id}/subscription",
                            json={"callback_url": callback_url, "fields": fields})["subscription"]
        return dict(result) if result is not None else None

    # ----------------------------------------------------------------- hourly budget and clock

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock forward (calls older than an hour leave the budget);
        returns how far it is now ahead of real time, in seconds."""
        return float(self._call("POST", "/clock", json={"advance_seconds": seconds})
                     ["offset_seconds"])

    def set_hourly_budget(self, waba_id: str, hourly_budget: int | None) -> int:
        """Set a WABA's calls per hour per app (None: Meta's default, 5,000 with a registered
        number, else 200); returns the budget now in force."""
        return int(self._call("PUT", f"/wabas/{waba_id}/budget",
                              json={"hourly_budget": hourly_budget})["hourly_budget"])

    def usage(self) -> list[dict[str, Any]]:
        """Every (app, WABA) pair with calls in the last hour: app_id, waba_id, calls,
        hourly_budget, call_count (%), estimated_time_to_regain_access (minutes),
        regain_seconds."""
        return list(self._call("GET", "/usage")["usage"])

    def waba_usage(self, waba_id: str, app_id: str | None = None) -> dict[str, Any]:
        """One app's (default: the fixture's first) use of one WABA's budget, as `usage`."""
        query = f"?app_id={app_id}" if app_id else ""
        return dict(self._call("GET", f"/wabas/{waba_id}/usage{query}"))

    def spend(self, waba_id: str, calls: int, app_id: str | None = None) -> dict[str, Any]:
        """Count ``calls`` calls to the WABA now, as if the app had made them (to start a test
        from a given usage); returns the usage after."""
        body: dict[str, Any] = {"calls": calls}
        if app_id is not None:
            body["app_id"] = app_id
        return dict(self._call("POST", f"/wabas/{waba_id}/usage", json=body))

    # ----------------------------------------------------------------- webhooks

    def deliver(
        self,
        phone_number_id: str | None = None,
        text: str = "Hello from the Graph API emulator",
        app_id: str | None = None,
        *,
        field: str | None = None,
        waba_id: str | None = None,
    ) -> dict[str, Any]:
        """Send a signed webhook: by default a ``messages`` webhook for the number, by
        precedence; with ``field`` a template or account one (``account_update``,
        ``message_template_status_update``...) for ``waba_id`` or the number's WABA, which goes
        to the app's callback URL. Returns ``delivered_to``, ``rule``, ``status`` and ``error``."""
        body: dict[str, Any] = {"text": text}
        for key, value in (("phone_number_id", phone_number_id), ("app_id", app_id),
                           ("field", field), ("waba_id", waba_id)):
            if value is not None:
                body[key] = value
        return dict(self._call("POST", "/deliver", json=body))

    def received(self) -> list[dict[str, Any]]:
        """Webhooks received by the built-in sink at ``/_emulator/callbacks/<name>``."""
        return list(self._call("GET", "/received")["received"])

    def callback_url(self, name: str) -> str:
        """URL of the built-in sink: answers any hub challenge and records webhooks."""
        return f"{self.base_url}{ADMIN_PREFIX}/callbacks/{name}"

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
