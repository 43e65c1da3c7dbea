"""Reading what is live for many WABAs at once: a business's WABAs, then each WABA's routing, in
parallel, with progress on stderr. Reads only.

Per WABA: ``GET /{WABA_ID}/subscribed_apps`` (our subscription and override) and ``GET
/{WABA_ID}/phone_numbers`` with field expansion (every number's routing, one call per page of
100). Up to ``parallel`` WABAs are read at once, each by one worker, so no WABA sees more than one
call at a time; the one `GraphClient` paces every WABA by its own hourly budget
(`waba_webhooks.graph.usage`) and fails a WABA whose budget is spent at once with Meta's wait.
A WABA that cannot be read (Meta's permissions error, a spent budget, an id that does not exist)
is reported with Meta's reason and the others are still read; a failure that would hit every
WABA alike (an invalid token, no network) stops the run.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from tqdm import tqdm

from .. import errors
from ..graph import GraphClient, PhoneNumberRouting

#: WABAs read at once by default: enough to hide Graph's latency (one call per WABA at a time).
DEFAULT_PARALLEL = 32
RELATIONS = ("owned", "client")


@dataclass(frozen=True)
class Target:
    """A WABA to read: listed by a business (``relation`` ``owned``/``client``, with its name)
    or given on the command line (``relation`` None)."""

    waba_id: str
    relation: str | None = None
    name: str | None = None

    def label(self) -> str:
        """``WABA <id>`` with its relation and name when known."""
        extra = ", ".join(part for part in (self.relation, self.name and repr(self.name)) if part)
        return f"WABA {self.waba_id}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True)
class LiveWaba:
    """One WABA as Graph reports it for our app."""

    waba_id: str
    #: Whether our app is subscribed to the WABA's webhooks (else none of them reach us).
    subscribed: bool
    #: Our app's override callback URI on the WABA, if any.
    override: str | None
    numbers: list[PhoneNumberRouting]
    relation: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Unreadable:
    """A WABA that could not be read, and Meta's answer."""

    target: Target
    error: errors.GraphError

    @property
    def missing(self) -> bool:
        """Meta says the WABA does not exist (or our app cannot see it at all)."""
        return isinstance(self.error, errors.NotFoundError)

    @property
    def reason(self) -> str:
        """Meta's message and code, on one line, without the request's details."""
        code = f" (code {self.error.code})" if self.error.code is not None else ""
        return f"{self.error.message}{code}"


def list_business(client: GraphClient, business_id: str,
                  relations: Sequence[str] = RELATIONS) -> list[Target]:
    """The business's WABAs of each relation (owned first), listed in parallel; a Graph error
    (for example Meta's code 200 for a token without access to the business) is raised."""
    with ThreadPoolExecutor(max(1, len(relations))) as pool:
        pages = list(pool.map(lambda relation: client.business_wabas(business_id, relation),
                              relations))
    return [Target(w.id, w.relation, w.name) for listed in pages for w in listed]


def read_one(client: GraphClient, target: Target) -> LiveWaba:
    """One WABA's subscription, override and numbers (two calls, or more for over 100
    numbers)."""
    subscribed, override = client.waba_override(target.waba_id)
    numbers = client.phone_numbers(target.waba_id)
    return LiveWaba(target.waba_id, subscribed, override, numbers, target.relation, target.name)


def read_all(client: GraphClient, targets: Iterable[Target], *, parallel: int = DEFAULT_PARALLEL,
             progress: Progress | None = None) -> tuple[list[LiveWaba], list[Unreadable]]:
    """Read every target (once each, at most ``parallel`` at a time, and never more than the
    client keeps connections for: `config.Settings.calls_in_flight`); the WABAs read, in the
    targets' order, and those that could not be. Errors that would fail every WABA alike
    (`errors.InvalidTokenError`, `errors.GraphConnectionError`, anything not from Graph) are
    raised after the workers stop."""
    unique = list({t.waba_id: t for t in targets}.values())
    client.app_id()  # once, before the workers: an invalid token fails here
    results: dict[str, LiveWaba | Unreadable] = {}
    fatal: list[BaseException] = []
    stop = threading.Event()

    def work(target: Target) -> None:
        if stop.is_set():
            return
        try:
            result: LiveWaba | Unreadable = read_one(client, target)
        except (errors.InvalidTokenError, errors.GraphConnectionError) as error:
            fatal.append(error)
            stop.set()
            return
        except errors.GraphError as error:
            result = Unreadable(target, error)
        except BaseException as error:
            fatal.append(error)
            stop.set()
            return
        results[target.waba_id] = result
        if progress is not None:
            progress.done(target, result if isinstance(result, Unreadable) else None)

    workers = max(1, min(parallel, client.settings.calls_in_flight))
    with ThreadPoolExecutor(workers, thread_name_prefix="discover") as pool:
        list(pool.map(work, unique))
    if fatal:
        raise fatal[0]
    live = [r for t in unique if isinstance(r := results[t.waba_id], LiveWaba)]
    failed = [r for t in unique if isinstance(r := results[t.waba_id], Unreadable)]
    return live, failed


class Progress:
    """How far `read_all` is, on a stream (stderr): a progress bar (tqdm) when the stream is a
    terminal; otherwise plain lines, about one per tenth of the WABAs, for CI logs. A WABA that
    cannot be read gets a line of its own either way."""

    def __init__(self, total: int, stream: IO[str] | None = None,
                 terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.count = 0
        self._lock = threading.Lock()
        self._step = max(1, total // 10)
        is_terminal = terminal if terminal is not None else _isatty(self.stream)
        self._bar: tqdm[Any] | None = (
            tqdm(total=total, desc="reading WABAs", unit="WABA", file=self.stream,
                 leave=False, dynamic_ncols=True) if is_terminal else None)

    def done(self, target: Target, failed: Unreadable | None) -> None:
        """One more WABA read (or not: ``failed``)."""
        with self._lock:
            self.count += 1
            if failed is not None:
                self._line(f"discover: {target.label()} not read: {failed.reason}")
            if self._bar is not None:
                self._bar.update(1)
            elif self.count % self._step == 0 or self.count == self.total:
                self._line(f"discover: read {self.count}/{self.total} WABAs")

    def close(self) -> None:
        """Remove the bar (the summary follows)."""
        if self._bar is not None:
            self._bar.close()

    def _line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


def _isatty(stream: IO[str]) -> bool:
    isatty: Callable[[], bool] | None = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
