"""Provider settings: where the Graph API is, which app we act for, and how patiently.

Read once, at the edge, by the providers' ``configure()`` from the stack configuration in the
``whatsapp:`` namespace, with environment variables as fallbacks:

==============================  ==============================  ==============================
stack config key                environment variable            default
==============================  ==============================  ==============================
``whatsapp:accessToken``        ``WHATSAPP_ACCESS_TOKEN``       (required for API calls; secret)
``whatsapp:appId``              ``WHATSAPP_APP_ID``             looked up once with ``GET /app``
``whatsapp:appSecret``          ``WHATSAPP_APP_SECRET``         (app subscription only; secret)
``whatsapp:apiVersion``         ``WHATSAPP_API_VERSION``        ``v23.0``
``whatsapp:graphUrl``           ``WHATSAPP_GRAPH_URL``          ``https://graph.facebook.com``
``whatsapp:allowHttpLoopback``  ``WHATSAPP_ALLOW_HTTP_LOOPBACK`` ``false``
``whatsapp:maxRetries``         ``WHATSAPP_MAX_RETRIES``        ``5``
``whatsapp:retryBudgetSeconds`` ``WHATSAPP_RETRY_BUDGET_SECONDS`` ``60``
``whatsapp:timeoutSeconds``     ``WHATSAPP_TIMEOUT_SECONDS``    ``30``
``whatsapp:budgetPacingPercent`` ``WHATSAPP_BUDGET_PACING_PERCENT`` ``80``
``whatsapp:writeConcurrency``   ``WHATSAPP_WRITE_CONCURRENCY``  ``8`` (calls at once per WABA)
``whatsapp:batchReads``         ``WHATSAPP_BATCH_READS``        ``true`` (false: read per number)
==============================  ==============================  ==============================
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError
from .validation import is_loopback_host, split_url

NAMESPACE = "whatsapp"
DEFAULT_API_VERSION = "v23.0"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"

_API_VERSION = re.compile(r"^v\d{1,3}\.\d{1,3}$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}

# (stack config key, environment variable) per setting.
KEYS: dict[str, tuple[str, str]] = {
    "access_token": ("accessToken", "WHATSAPP_ACCESS_TOKEN"),
    "app_id": ("appId", "WHATSAPP_APP_ID"),
    "app_secret": ("appSecret", "WHATSAPP_APP_SECRET"),
    "api_version": ("apiVersion", "WHATSAPP_API_VERSION"),
    "graph_url": ("graphUrl", "WHATSAPP_GRAPH_URL"),
    "allow_http_loopback": ("allowHttpLoopback", "WHATSAPP_ALLOW_HTTP_LOOPBACK"),
    "max_retries": ("maxRetries", "WHATSAPP_MAX_RETRIES"),
    "retry_budget_seconds": ("retryBudgetSeconds", "WHATSAPP_RETRY_BUDGET_SECONDS"),
    "timeout_seconds": ("timeoutSeconds", "WHATSAPP_TIMEOUT_SECONDS"),
    "budget_pacing_percent": ("budgetPacingPercent", "WHATSAPP_BUDGET_PACING_PERCENT"),
    "write_concurrency": ("writeConcurrency", "WHATSAPP_WRITE_CONCURRENCY"),
    "batch_reads": ("batchReads", "WHATSAPP_BATCH_READS"),
}

#: Settings that are secrets: marked secret in the plugin's schema, never logged.
SECRET_SETTINGS = frozenset({"access_token", "app_secret"})

#: Provider operations one process runs at once: the native plugin's worker threads. The
#: dynamic door's engine sends its provider at most 4 at once, and a command reads at most 32
#: WABAs at once, so this bounds them too.
OPERATIONS_AT_ONCE = 64



@dataclass(frozen=True)
class Settings:
    """Everything the Graph client needs; the token is kept out of ``repr``."""

    #: A system-user (or user) access token with ``whatsapp_business_management``: every Graph
    #: call but the app subscription's is made with it. Kept out of ``repr`` and logs; an
    #: explicit provider's inputs, this one included, are recorded in state as ciphertext.
    access_token: str | None = field(default=None, repr=False)
    #: The Meta app whose routing this is (digits); looked up once with ``GET /app`` when unset.
    app_id: str | None = None
    #: The app secret (App Dashboard > App settings > Basic). Only `AppWebhookSubscription`
    #: needs it: ``/{app-id}/subscriptions`` takes an app access token, ``{app-id}|{secret}``,
    #: which the Graph client forms in memory. Kept out of ``repr`` and logs; an explicit
    #: provider's inputs, this one included, are recorded in state as ciphertext.
    app_secret: str | None = field(default=None, repr=False)
    #: The Graph API version in every path (``v23.0``).
    api_version: str = DEFAULT_API_VERSION
    #: Where the Graph API is: Meta's, or a local emulator (``http://`` only for loopback).
    graph_url: str = DEFAULT_GRAPH_URL
    #: Accept ``http://`` override callback URIs whose host is loopback (local emulator use).
    allow_http_loopback: bool = False
    #: Attempts after the first one for retryable failures.
    max_retries: int = 5
    #: The longest one Graph call may spend waiting between retries, in seconds.
    retry_budget_seconds: float = 60.0
    #: Read timeout of one HTTP request, in seconds (connect timeout is a third of it, max 10 s).
    timeout_seconds: float = 30.0
    #: Share of a WABA's hourly call budget (Meta's ``call_count``, in %) above which calls to
    #: it are spaced out; 100 turns pacing off. See `waba_webhooks.usage`.
    budget_pacing_percent: float = 80.0
    #: Graph calls one `WabaRouting` operation makes at once on its WABA (its worker pool).
    write_concurrency: int = 8
    #: Read a WABA's routing from its ``phone_numbers`` edge with field expansion (one call per
    #: page); false: list the numbers, then read each one's ``webhook_configuration``.
    batch_reads: bool = True

    @property
    def calls_in_flight(self) -> int:
        """The most Graph calls one process can have in flight: `OPERATIONS_AT_ONCE`
        operations, each a `WabaRouting` one with `write_concurrency` calls of its own. The
        Graph client keeps a connection for each, so none is thrown away at full concurrency."""
        return OPERATIONS_AT_ONCE * self.write_concurrency

    def require_token(self) -> str:
        """The access token, or a `ConfigurationError` that says both ways to set it."""
        if not self.access_token:
            raise ConfigurationError(
                "no WhatsApp access token is configured: set it with "
                "`pulumi config set --secret whatsapp:accessToken <token>` or the "
                "WHATSAPP_ACCESS_TOKEN environment variable"
            )
        return self.access_token

    def require_app_secret(self) -> str:
        """The app secret, or a `ConfigurationError` that says both ways to set it and why it
        is needed."""
        if not self.app_secret:
            raise ConfigurationError(
                "no app secret is configured: the app's webhook subscription "
                "(/{app-id}/subscriptions) needs an app access token, which is formed from the "
                "app id and the app secret. Set it with "
                "`pulumi config set --secret whatsapp:appSecret <secret>` or the "
                "WHATSAPP_APP_SECRET environment variable (App Dashboard > App settings > Basic)"
            )
        return self.app_secret


def load(config: Callable[[str], Any] | Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Build `Settings` from stack config (a ``get(key)`` callable or a mapping of
    ``whatsapp:<key>`` names) with environment variables as fallbacks."""
    environ = os.environ if environ is None else environ
    if config is None:
        get: Callable[[str], Any] = lambda _key: None  # noqa: E731
    elif isinstance(config, Mapping):
        get = config.get
    else:
        get = config

    raw: dict[str, Any] = {}
    for name, (key, env) in KEYS.items():
        value = get(f"{NAMESPACE}:{key}")
        if value is None or value == "":
            value = environ.get(env)
        if value is not None and value != "":
            raw[name] = value

    settings = Settings(
        access_token=_string(raw, "access_token"),
        app_id=_string(raw, "app_id"),
        app_secret=_string(raw, "app_secret"),
        api_version=_string(raw, "api_version") or DEFAULT_API_VERSION,
        graph_url=(_string(raw, "graph_url") or DEFAULT_GRAPH_URL).rstrip("/"),
        allow_http_loopback=_bool(raw, "allow_http_loopback", False),
        max_retries=int(_number(raw, "max_retries", 5)),
        retry_budget_seconds=_number(raw, "retry_budget_seconds", 60.0),
        timeout_seconds=_number(raw, "timeout_seconds", 30.0),
        budget_pacing_percent=_number(raw, "budget_pacing_percent", 80.0),
        write_concurrency=int(_number(raw, "write_concurrency", 8)),
        batch_reads=_bool(raw, "batch_reads", True),
    )
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if not _API_VERSION.match(settings.api_version):
        raise ConfigurationError(
            f"{_name('api_version')} must look like 'v23.0', got {settings.api_version!r}"
        )
    if settings.app_id is not None and not settings.app_id.isdigit():
        raise ConfigurationError(f"{_name('app_id')} must be a string of digits")
    parts = split_url(settings.graph_url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise ConfigurationError(f"{_name('graph_url')} must be an http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.host):
        # The access token travels in a header: never send it in clear over a network.
        raise ConfigurationError(
            f"{_name('graph_url')} may use http:// only for a loopback host (a local emulator)"
        )
    if settings.max_retries < 0:
        raise ConfigurationError(f"{_name('max_retries')} must be 0 or more")
    if settings.retry_budget_seconds < 0 or settings.timeout_seconds <= 0:
        raise ConfigurationError(
            f"{_name('retry_budget_seconds')} and {_name('timeout_seconds')} must be positive"
        )
    if not 0 <= settings.budget_pacing_percent <= 100:
        raise ConfigurationError(f"{_name('budget_pacing_percent')} must be between 0 and 100")
    if settings.write_concurrency < 1:
        raise ConfigurationError(f"{_name('write_concurrency')} must be 1 or more")


def _name(setting: str) -> str:
    key, env = KEYS[setting]
    return f"{NAMESPACE}:{key} ({env})"


def _string(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        # Numbers crossing the engine arrive as floats: an app id 123 comes back as 123.0.
        value = int(value)
    return str(value).strip()


def _bool(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    value = raw.get(name, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{_name(name)} must be true or false, got {value!r}")


def _number(raw: Mapping[str, Any], name: str, default: float) -> float:
    value = raw.get(name, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{_name(name)} must be a number, got {value!r}") from None
