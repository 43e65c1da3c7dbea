"""GraphClient: the only code that talks HTTP to the Graph API (or the local emulator).

- The access token travels only in the ``Authorization`` header, never in a URL, message or log.
- Every failure becomes a typed `errors.GraphError`; `errors.RetryableError` ones (rate limits,
  transient errors, HTTP 5xx, dropped connections) are retried with exponential backoff and
  jitter (tenacity), honouring Meta's ``estimated_time_to_regain_access`` and ``Retry-After``,
  within a per-call budget of attempts and seconds.
- Every answer's ``X-Business-Use-Case-Usage`` header feeds `usage.BudgetPacer`: calls to a WABA
  near its hourly budget are spaced out, and when Meta's wait for a WABA is longer than the
  retry budget the call fails at once with `errors.BudgetExhaustedError`.
- One instance serves the provider process's worker threads: the session's connection pool is
  thread-safe, and no lock (the app id cache, the pacer's) is held across a network call.

Resources call the domain methods (`subscribed_apps`, `set_waba_override`, ...); they never
build requests themselves. There is deliberately no method that DELETEs ``subscribed_apps``:
that unsubscribes the app and stops every webhook of the WABA.

The app's own webhook subscription (``/{app-id}/subscriptions``, object
``whatsapp_business_account``) takes an **app access token**, ``{app-id}|{app-secret}``: the
client forms it in memory from the settings for those calls only (`app_subscription`,
`subscribe_app_webhooks`, `unsubscribe_app_fields`, `delete_app_subscription`), and, like the
access token, it travels only in the ``Authorization`` header.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .. import errors
from .._version import __version__
from ..config import Settings
from . import usage

if TYPE_CHECKING:  # requests and tenacity are imported at the first call: a plugin step that
    import requests  # makes none (check, diff, a no-change preview) starts without them
    import tenacity

log = logging.getLogger(__name__)

# The form Meta documents for User-Agent (name/major.minor.patch), checked against its OpenAPI.
USER_AGENT = f"waba-webhooks/{__version__}"
#: Header names Meta uses to report throttling; values are JSON.
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Ad-Account-Usage")


@dataclass(frozen=True)
class SubscribedApp:
    """One entry of ``GET /{WABA_ID}/subscribed_apps``."""

    app_id: str
    name: str | None
    override_callback_uri: str | None


@dataclass(frozen=True)
class WebhookConfiguration:
    """``GET /{PHONE_NUMBER_ID}?fields=webhook_configuration`` for the token's app."""

    phone_number: str | None
    whatsapp_business_account: str | None
    application: str | None

    @property
    def effective(self) -> str | None:
        """Where Meta sends messages webhooks for the number now: phone > WABA > app."""
        return self.phone_number or self.whatsapp_business_account or self.application

    @property
    def effective_rule(self) -> str:
        """Which rule chose `effective`: ``phone_number``, ``whatsapp_business_account`` or
        ``application``."""
        if self.phone_number:
            return "phone_number"
        if self.whatsapp_business_account:
            return "whatsapp_business_account"
        return "application"


@dataclass(frozen=True)
class PhoneNumberRouting:
    """One entry of ``GET /{WABA_ID}/phone_numbers?fields=...,webhook_configuration``."""

    phone_number_id: str
    display_phone_number: str | None
    webhook_configuration: WebhookConfiguration


#: Numbers asked for per page of the ``phone_numbers`` edge (Graph caps pages at 100).
PHONE_NUMBERS_PAGE_SIZE = 100

#: The ``object`` of the app's webhook subscription that carries WhatsApp's fields.
WABA_OBJECT = "whatsapp_business_account"


@dataclass(frozen=True)
class AppSubscription:
    """The app's webhook subscription for ``whatsapp_business_account``, as
    ``GET /{app-id}/subscriptions`` reports it (Meta never returns the verify token)."""

    callback_url: str
    active: bool
    #: The subscribed field names, in Meta's order.
    fields: tuple[str, ...]


@dataclass(frozen=True)
class BusinessWaba:
    """One WABA of a business, from ``GET /{BUSINESS_ID}/{owned,client}_whatsapp_business_
    accounts``."""

    id: str
    name: str | None
    relation: str  # "owned" or "client"


#: The two lists of a business's WABAs: relation -> Graph edge.
BUSINESS_WABA_EDGES = {
    "owned": "owned_whatsapp_business_accounts",
    "client": "client_whatsapp_business_accounts",
}
#: WABAs asked for per page of a business's WABA list (Graph caps pages at 100).
BUSINESS_WABAS_PAGE_SIZE = 100


class GraphClient:
    """A thread-safe client for the few Graph API endpoints that hold webhook overrides."""

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._made_session = session  # made at the first call (`_session`)
        self._session_lock = threading.Lock()  # guards _made_session only, never a network call
        self._app_id: str | None = settings.app_id
        self._app_id_lock = threading.Lock()  # guards _app_id_lookup only, never a network call
        self._app_id_lookup: Future[str] | None = None
        timeout = settings.timeout_seconds
        self._timeout = (min(10.0, timeout / 3), timeout)
        self.pacer = usage.BudgetPacer(settings.budget_pacing_percent,
                                       settings.retry_budget_seconds)

    # ---- domain calls -------------------------------------------------------------------------

    def app_id(self) -> str:
        """Our app's id: from settings, else ``GET /app`` once per client, however many threads
        ask at the same time (the first asks, the others wait for its answer)."""
        if self._app_id is not None:
            return self._app_id
        with self._app_id_lock:
            pending, leader = self._app_id_lookup, self._app_id_lookup is None
            if leader:
                pending = self._app_id_lookup = Future()
        assert pending is not None
        if leader:
            try:
                self._app_id = str(self.request("GET", "app", params={"fields": "id"})["id"])
                pending.set_result(self._app_id)
            except BaseException as error:
                pending.set_exception(error)
                raise
            finally:
                with self._app_id_lock:
                    self._app_id_lookup = None
        return pending.result()

    def subscribed_apps(self, waba_id: str) -> list[SubscribedApp]:
        """The apps subscribed to the WABA's webhooks, with their override callback URIs."""
        body = self.request("GET", f"{waba_id}/subscribed_apps")
        apps = []
        for entry in body.get("data") or []:
            data = entry.get("whatsapp_business_api_data") or {}
            apps.append(SubscribedApp(
                app_id=str(data.get("id", "")),
                name=data.get("name"),
                override_callback_uri=entry.get("override_callback_uri") or None,
            ))
        return apps

    def waba_override(self, waba_id: str) -> tuple[bool, str | None]:
        """(is our app subscribed, our override callback URI or None) for the WABA."""
        app_id = self.app_id()
        for app in self.subscribed_apps(waba_id):
            if app.app_id == app_id:
                return True, app.override_callback_uri
        return False, None

    def set_waba_override(self, waba_id: str, callback_uri: str, verify_token: str) -> None:
        """Set our app's alternate callback on the WABA. Meta refuses it unless our app is
        subscribed to the WABA already (`subscribe_app` first), and verifies the URI with the
        token before it accepts it (`errors.CallbackVerificationError` names the URI)."""
        try:
            self.request("POST", f"{waba_id}/subscribed_apps", json={
                "override_callback_uri": callback_uri, "verify_token": verify_token,
            })
        except errors.GraphError as error:
            raise errors.for_override_write(error, callback_uri, phone_number=False) from None

    def subscribe_app(self, waba_id: str) -> None:
        """Subscribe our app to the WABA's webhooks (a plain POST). Only for a WABA our app is
        not subscribed to: on a subscribed one the same POST drops our override."""
        self.request("POST", f"{waba_id}/subscribed_apps")

    def clear_waba_override(self, waba_id: str) -> None:
        """Remove our app's alternate callback from the WABA; the app stays subscribed."""
        # A POST with no body re-subscribes the app as usual and drops the override.
        self.request("POST", f"{waba_id}/subscribed_apps")

    def webhook_configuration(self, phone_number_id: str) -> WebhookConfiguration:
        """The phone number's alternate callback and its fallbacks, as our app sees them."""
        body = self.request("GET", phone_number_id, params={"fields": "webhook_configuration"})
        return _webhook_configuration(body)

    def phone_numbers(self, waba_id: str, *, routing: bool = True) -> list[PhoneNumberRouting]:
        """Every phone number of the WABA with its routing for our app, one call per page of up
        to `PHONE_NUMBERS_PAGE_SIZE` numbers (field expansion on the ``phone_numbers`` edge).
        With ``routing=False`` only the numbers are asked for (their `webhook_configuration` is
        then empty): the documented listing, for reading each number's routing separately."""
        fields = "id,display_phone_number" + (",webhook_configuration" if routing else "")
        params = {"fields": fields, "limit": str(PHONE_NUMBERS_PAGE_SIZE)}
        numbers: list[PhoneNumberRouting] = []
        while True:
            body = self.request("GET", f"{waba_id}/phone_numbers", params=params)
            numbers.extend(_phone_number_routing(entry) for entry in body.get("data") or [])
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            # Graph gives `next` only when there is another page; never follow its URL itself
            # (it may carry the token): ask again with the cursor.
            if not paging.get("next") or not after:
                return numbers
            params = {**params, "after": str(after)}

    def business_wabas(self, business_id: str, relation: str) -> list[BusinessWaba]:
        """Every WABA the business owns (``relation="owned"``; the token needs
        ``business_management`` too) or serves for clients (``"client"``), one call per page of
        up to `BUSINESS_WABAS_PAGE_SIZE`, following ``paging.next`` until Graph leaves it out."""
        edge = BUSINESS_WABA_EDGES.get(relation)
        if edge is None:
            raise ValueError(f"relation must be one of {', '.join(BUSINESS_WABA_EDGES)}, "
                             f"got {relation!r}")
        params = {"fields": "id,name", "limit": str(BUSINESS_WABAS_PAGE_SIZE)}
        wabas: list[BusinessWaba] = []
        while True:
            body = self.request("GET", f"{business_id}/{edge}", params=params)
            wabas.extend(BusinessWaba(id=str(entry.get("id", "")), name=entry.get("name"),
                                      relation=relation)
                         for entry in body.get("data") or [])
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            # As for phone numbers: ask again with the cursor, never the URL Graph gave.
            if not paging.get("next") or not after:
                return wabas
            params = {**params, "after": str(after)}

    def phone_number(self, phone_number_id: str) -> PhoneNumberRouting:
        """One phone number with its display number and its routing for our app."""
        body = self.request("GET", phone_number_id, params={
            "fields": "id,display_phone_number,webhook_configuration"})
        return _phone_number_routing({"id": phone_number_id, **body})

    def set_phone_override(self, phone_number_id: str, callback_uri: str,
                           verify_token: str) -> None:
        """Set our app's alternate callback on the phone number (verified by Meta first).
        Failures say what to do: `errors.CallbackVerificationError` (names the URI),
        `errors.PhoneNumberPermissionError`, `errors.PhoneOverrideRefusedError` (the app is
        probably not subscribed to the number's WABA)."""
        try:
            self.request("POST", phone_number_id, json={"webhook_configuration": {
                "override_callback_uri": callback_uri, "verify_token": verify_token,
            }})
        except errors.GraphError as error:
            raise errors.for_override_write(error, callback_uri, phone_number=True) from None

    def clear_phone_override(self, phone_number_id: str) -> None:
        """Remove our app's alternate callback from the phone number."""
        try:
            self.request("POST", phone_number_id, json={
                "webhook_configuration": {"override_callback_uri": ""},
            })
        except errors.GraphError as error:
            raise errors.for_override_write(error, None, phone_number=True) from None

    # ---- the app's own webhook subscription (app access token) --------------------------------

    def app_subscription(self, app_id: str) -> AppSubscription | None:
        """The app's webhook subscription for ``whatsapp_business_account``; None when the
        app has none for that object (other objects' subscriptions are ignored)."""
        body = self._app_call("GET", app_id)
        for entry in body.get("data") or []:
            if isinstance(entry, Mapping) and entry.get("object") == WABA_OBJECT:
                return _app_subscription(entry)
        return None

    def subscribe_app_webhooks(self, app_id: str, callback_url: str, verify_token: str,
                               fields: Sequence[str], include_values: bool = True) -> None:
        """``POST /{app-id}/subscriptions``: set the app's callback URL (and verify token) and
        add `fields`. Meta verifies the URL with the token before it saves, and only *adds*
        fields: one that is not listed stays subscribed (`unsubscribe_app_fields` drops it)."""
        self._app_call("POST", app_id, callback_url=callback_url, json={
            "object": WABA_OBJECT, "callback_url": callback_url, "verify_token": verify_token,
            "fields": ",".join(fields), "include_values": include_values,
        })

    def unsubscribe_app_fields(self, app_id: str, fields: Sequence[str]) -> None:
        """``DELETE /{app-id}/subscriptions?object=whatsapp_business_account&fields=…``: Meta
        stops delivering these fields; the others and the callback URL stay."""
        if not fields:
            raise ValueError("unsubscribe_app_fields needs at least one field: without fields "
                             "the DELETE removes the whole subscription")
        self._app_call("DELETE", app_id, params={"object": WABA_OBJECT,
                                                 "fields": ",".join(fields)})

    def delete_app_subscription(self, app_id: str) -> None:
        """``DELETE /{app-id}/subscriptions?object=whatsapp_business_account``: removes the
        app's whole subscription, so **every** webhook of the app stops (messages, templates,
        account), on every WABA. Only for a user who asked destroy to remove it."""
        self._app_call("DELETE", app_id, params={"object": WABA_OBJECT})

    def _app_call(self, method: str, app_id: str, *, params: Mapping[str, str] | None = None,
                  json: Mapping[str, Any] | None = None,
                  callback_url: str | None = None) -> dict[str, Any]:
        """One call on ``/{app-id}/subscriptions`` with the app token, its failures typed by
        `errors.for_app_subscription`."""
        token = f"{app_id}|{self.settings.require_app_secret()}"
        try:
            return self.request(method, f"{app_id}/subscriptions", params=params, json=json,
                                token=token)
        except errors.GraphError as error:
            raise errors.for_app_subscription(error, callback_url) from None

    # ---- transport ----------------------------------------------------------------------------

    @property
    def _session(self) -> requests.Session:
        """The connection pool, made at the first call by whichever thread comes first."""
        session = self._made_session
        if session is None:
            with self._session_lock:
                if self._made_session is None:
                    self._made_session = _new_session(self.settings.calls_in_flight,
                                                      self.settings.graph_url)
                session = self._made_session
        return session

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                json: Mapping[str, Any] | None = None,
                token: str | None = None) -> dict[str, Any]:
        """Call ``{graph_url}/{api_version}/{path}`` with retries; the decoded JSON body or a
        `errors.GraphError`. `token` replaces the access token (the app token)."""
        token = token or self.settings.require_token()
        url = f"{self.settings.graph_url}/{self.settings.api_version}/{path}"
        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(errors.RetryableError)
            & tenacity.retry_if_not_exception_type(errors.BudgetExhaustedError),
            stop=_stop_when_spent(self.settings.max_retries + 1,
                                  self.settings.retry_budget_seconds),
            wait=_wait_for(self.settings.retry_budget_seconds),
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(self._send, method, url, path, token, params, json)

    def _send(self, method: str, url: str, path: str, token: str,
              params: Mapping[str, str] | None, body: Mapping[str, Any] | None) -> dict[str, Any]:
        where = f"/{self.settings.api_version}/{path}"
        object_id = _object_id(path)
        if object_id is not None and path.partition("/")[2] in WABA_EDGES:
            self.pacer.note_waba(object_id)
        blocked = self.pacer.wait_for_turn(object_id)
        if blocked is not None:
            raise errors.BudgetExhaustedError(
                "No call made: an earlier answer said this WABA's budget is spent",
                waba_id=blocked.waba_id, wait_seconds=blocked.wait_seconds,
                method=method, path=where, retry_after=blocked.wait_seconds,
            )
        session = self._session
        import requests

        try:
            response = session.request(
                method, url, params=params, json=body, timeout=self._timeout,
                headers={"Authorization": f"Bearer {token}"},
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            # str(exc) holds only the URL (no token: it is in a header), but keep it short.
            raise errors.GraphConnectionError(
                f"could not reach the Graph API: {type(exc).__name__}", method=method, path=where,
            ) from None
        payload = _decode(response)
        entries = usage.parse(response.headers.get(usage.HEADER))
        if response.ok and isinstance(payload, dict) and "error" not in payload:
            self.pacer.observe(object_id, entries, refused=False)
            return payload
        error = errors.from_envelope(
            payload, response.status_code, method=method, path=where,
            retry_after=_retry_after(response),
        )
        refused = isinstance(error, errors.RateLimitError)
        self.pacer.observe(object_id, entries, refused=refused)
        waiting = usage.longest_wait(entries)
        if (refused and waiting is not None and error.retry_after is not None
                and error.retry_after > self.settings.retry_budget_seconds):
            raise errors.BudgetExhaustedError.for_waba(error, waiting.waba_id, error.retry_after)
        raise error


def _new_session(calls_in_flight: int, graph_url: str) -> requests.Session:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.utils import get_environ_proxies

    session = requests.Session()
    # What requests reads from the environment at every call (proxies, the CA bundle, ~/.netrc:
    # about 0.7 ms of CPU a call, most of a call's cost to the plugin), read once: every call
    # goes to `graph_url`. A .netrc entry is never used: our token is the authorization.
    session.trust_env = False
    session.proxies.update(get_environ_proxies(graph_url))
    session.verify = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                      or True)
    # A warm connection for every call the process can have in flight (`Settings.
    # calls_in_flight`): a smaller pool would drop, and later reopen, the connections over.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=calls_in_flight, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


@lru_cache(maxsize=8)
def client_for(settings: Settings) -> GraphClient:
    """One shared client (one connection pool, one app id look-up) per distinct settings, so
    both resource providers in a process use the same one."""
    return GraphClient(settings)


def _webhook_configuration(body: Mapping[str, Any]) -> WebhookConfiguration:
    """The ``webhook_configuration`` of a phone number as Graph returns it (keys absent when a
    level has no URL)."""
    config = body.get("webhook_configuration") or {}
    return WebhookConfiguration(
        phone_number=config.get("phone_number") or None,
        whatsapp_business_account=config.get("whatsapp_business_account") or None,
        application=config.get("application") or None,
    )


def _app_subscription(entry: Mapping[str, Any]) -> AppSubscription:
    """One ``data`` entry of ``GET /{app-id}/subscriptions``: ``fields`` as
    ``[{"name", "version"}]`` or, from some API versions, bare strings."""
    names = []
    for item in entry.get("fields") or []:
        name = item.get("name") if isinstance(item, Mapping) else item
        if isinstance(name, str) and name:
            names.append(name)
    active = entry.get("active", True)
    return AppSubscription(
        callback_url=str(entry.get("callback_url") or ""),
        active=active is True or active == "true",
        fields=tuple(names),
    )


def _phone_number_routing(entry: Mapping[str, Any]) -> PhoneNumberRouting:
    """A phone number as Graph returns it with ``id,display_phone_number,webhook_configuration``
    (in the ``phone_numbers`` edge or on its own)."""
    return PhoneNumberRouting(
        phone_number_id=str(entry.get("id", "")),
        display_phone_number=entry.get("display_phone_number") or None,
        webhook_configuration=_webhook_configuration(entry),
    )


#: Edges of a WABA: the id before them is a WABA's.
WABA_EDGES = frozenset({"subscribed_apps", "phone_numbers"})


def _object_id(path: str) -> str | None:
    """The WABA or phone number a call is about (the first path segment, when it is an id);
    None for calls no WABA pays for, such as ``GET /app``, the app's own
    ``/{app-id}/subscriptions`` and a business's WABA lists."""
    head, _, edge = path.partition("/")
    if edge == "subscriptions" or edge in BUSINESS_WABA_EDGES.values():
        return None
    return head if head.isdigit() else None


def _decode(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    """Seconds Meta asked us to wait: ``Retry-After``, or the largest
    ``estimated_time_to_regain_access`` (minutes) in the usage headers."""
    waits: list[float] = []
    header = response.headers.get("Retry-After", "")
    if header.replace(".", "", 1).isdigit():
        waits.append(float(header))
    for name in USAGE_HEADERS:
        raw = response.headers.get(name)
        if raw:
            waits.extend(60.0 * minutes for minutes in _regain_minutes(raw))
    return max(waits) if waits else None


def _regain_minutes(raw: str) -> list[float]:
    """Every ``estimated_time_to_regain_access`` in a usage header, wherever it is nested."""
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    found: list[float] = []
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            value = item.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                found.append(float(value))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class _wait_for:
    """Exponential backoff with full jitter (0.5 s, 1 s, 2 s, ... capped at 8 s), or the wait
    Meta asked for when it said one; never past what is left of the call's budget."""

    def __init__(self, budget_seconds: float) -> None:
        self.budget = budget_seconds

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        left = max(0.0, self.budget - (retry_state.seconds_since_start or 0.0))
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(error, "retry_after", None)
        if asked:
            return min(float(asked), left)
        ceiling = min(8.0, 0.5 * 2 ** (retry_state.attempt_number - 1))
        return min(random.uniform(ceiling / 2, ceiling), left)


class _stop_when_spent:
    """Stop after `attempts` attempts, when the wait Meta asked for does not fit in the budget,
    or when the budget is gone."""

    def __init__(self, attempts: int, budget_seconds: float) -> None:
        self.attempts = attempts
        self.budget = budget_seconds

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if retry_state.attempt_number >= self.attempts:
            return True
        spent = retry_state.seconds_since_start or 0.0
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(error, "retry_after", None) or 0.0
        return spent >= self.budget or spent + asked > self.budget


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    what = error.describe(hint=False) if isinstance(error, errors.GraphError) else repr(error)
    log.warning("Graph call failed (attempt %d): %s; retrying in %.1fs",
                retry_state.attempt_number, what, wait)
