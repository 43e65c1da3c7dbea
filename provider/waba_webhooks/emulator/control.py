"""Test controls of the emulator: the call log (with secrets redacted) and injected faults.

Like :mod:`.models` this has no HTTP in it; :mod:`.responses` records every Graph call here and
asks the fault queue, before handling a call, whether that call should fail instead.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .exceptions import GraphAPIError, InvalidParameterError

REDACTED = "***"
SECRET_KEYS = frozenset(
    {"access_token", "verify_token", "hub.verify_token", "app_secret", "appsecret_proof",
     "input_token"}
)


def redact(value: Any) -> Any:
    """Return ``value`` with every secret-named key's value replaced by ``"***"``.

    Walks dicts and lists; strings holding a JSON object (a form-encoded
    ``webhook_configuration``) are redacted inside too.
    """
    if isinstance(value, Mapping):
        return {
            key: REDACTED if str(key).lower() in SECRET_KEYS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            parsed = json.loads(value)
        except ValueError:
            # Not JSON after all: keep it only if no secret name appears in it.
            return REDACTED if any(k in value for k in SECRET_KEYS) else value
        return json.dumps(redact(parsed))
    return value


# --------------------------------------------------------------------------- call log


@dataclass(frozen=True)
class CallRecord:
    """One Graph call as logged: never any header, secrets in query and body redacted."""

    seq: int
    method: str
    path: str
    operation: str
    query: dict[str, Any]
    body: Any
    status: int | None
    app_id: str | None
    fault: bool

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict."""
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "app_id": self.app_id,
            "fault": self.fault,
        }


class CallLog:
    """Thread-safe, append-only log of Graph calls (admin calls are not logged)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def append(
        self,
        *,
        method: str,
        path: str,
        operation: str,
        query: Mapping[str, Any],
        body: Any,
        status: int | None,
        app_id: str | None,
        fault: bool,
    ) -> CallRecord:
        """Redact and store one call; returns the stored record."""
        with self._lock:
            record = CallRecord(
                seq=len(self._records) + 1,
                method=method,
                path=path,
                operation=operation,
                query=redact(dict(query)),
                body=redact(body),
                status=status,
                app_id=app_id,
                fault=fault,
            )
            self._records.append(record)
            return record

    def records(self) -> list[dict[str, Any]]:
        """All calls, oldest first."""
        with self._lock:
            return [record.to_json() for record in self._records]

    def counts(self) -> dict[str, Any]:
        """Totals: ``total``, ``reads`` (GET), ``writes`` (POST/DELETE), ``by_operation``,
        ``faults_injected``."""
        with self._lock:
            records = list(self._records)
        return {
            "total": len(records),
            "reads": sum(1 for r in records if r.method == "GET"),
            "writes": sum(1 for r in records if r.method in ("POST", "DELETE")),
            "by_operation": dict(Counter(r.operation for r in records)),
            "faults_injected": sum(1 for r in records if r.fault),
        }

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._records.clear()


# --------------------------------------------------------------------------- faults


_ERROR_FIELDS: dict[str, type | tuple[type, ...]] = {
    "message": str,
    "type": str,
    "code": int,
    "error_subcode": int,
    "is_transient": bool,
    "error_user_title": str,
    "error_user_msg": str,
}


def _typed(spec: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``spec[key]`` (None when absent) or raise code 100 when it has the wrong type."""
    value = spec.get(key)
    if value is None:
        return None
    # bool is an int in Python; only accept it where a bool is asked for.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidParameterError(f"Param {key} has the wrong type")
    return value


@dataclass
class FaultRule:
    """The next ``count`` Graph calls matching ``method`` and ``path`` (a regex searched in the
    path) get ``latency_ms`` of delay, then an error, a dropped connection or normal handling."""

    count: int = 1
    method: str | None = None
    path: str | None = None
    status: int | None = None
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    latency_ms: int = 0
    drop_connection: bool = False

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> FaultRule:
        """Build a rule from the admin JSON, raising code 100 on a malformed spec."""
        if not isinstance(spec, Mapping):
            raise InvalidParameterError("A fault must be a JSON object")
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise InvalidParameterError(f"Unknown fault fields: {', '.join(sorted(unknown))}")
        count = _typed(spec, "count", int)
        status = _typed(spec, "status", int)
        latency = _typed(spec, "latency_ms", (int, float))
        drop = _typed(spec, "drop_connection", bool) or False
        path = _typed(spec, "path", str)
        method = _typed(spec, "method", str)
        headers = _typed(spec, "headers", Mapping) or {}
        error = _typed(spec, "error", Mapping)
        if count is not None and count < 1:
            raise InvalidParameterError("Param count must be at least 1")
        if status is not None and not 400 <= status <= 599:
            raise InvalidParameterError("Param status must be an HTTP error status (400-599)")
        if latency is not None and latency < 0:
            raise InvalidParameterError("Param latency_ms must not be negative")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise InvalidParameterError("Param headers must map names to string values")
        if error is not None:
            unknown = set(error) - set(_ERROR_FIELDS)
            if unknown:
                raise InvalidParameterError(f"Unknown error fields: {', '.join(sorted(unknown))}")
            for key, kind in _ERROR_FIELDS.items():
                _typed(error, key, kind)
        if path is not None:
            try:
                re.compile(path)
            except re.error:
                raise InvalidParameterError("Param path must be a regular expression") from None
        return cls(
            count=count or 1,
            method=method.upper() if method else None,
            path=path,
            status=status,
            error=dict(error) if error is not None else None,
            headers=dict(headers),
            latency_ms=int(latency or 0),
            drop_connection=drop,
        )

    def matches(self, method: str, path: str) -> bool:
        """True when this rule applies to a call."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    @property
    def answers_error(self) -> bool:
        """True when the rule replaces the answer by an error (not just latency or headers)."""
        return self.error is not None or self.status is not None

    def to_error(self) -> GraphAPIError:
        """The Graph error this rule answers; defaults follow the HTTP status."""
        status = self.status or 400
        spec = self.error or {}
        if status == 429:
            code, message, transient = 4, "(#4) Application request limit reached", True
        elif status >= 500:
            code, message, transient = 1, "An unknown error has occurred.", True
        else:
            code, message, transient = 100, "(#100) Injected fault", False
        return GraphAPIError(
            message=str(spec.get("message", message)),
            code=int(spec.get("code", code)),
            type=str(spec.get("type", "OAuthException")),
            error_subcode=spec.get("error_subcode"),
            http_status=status,
            is_transient=bool(spec.get("is_transient", transient)),
            error_user_title=spec.get("error_user_title"),
            error_user_msg=spec.get("error_user_msg"),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the rule as admin JSON."""
        return {
            "count": self.count,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "error": self.error,
            "headers": self.headers,
            "latency_ms": self.latency_ms,
            "drop_connection": self.drop_connection,
        }


class FaultQueue:
    """FIFO of fault rules; each matching call consumes one use of the first matching rule."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Queue a rule behind the existing ones."""
        with self._lock:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one use of the first rule matching the call, or return None."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def rules(self) -> list[dict[str, Any]]:
        """The remaining rules, first to apply first."""
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()
