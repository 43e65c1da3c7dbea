"""What one Graph call costs our client, without the engine, on loopback.

The emulator (werkzeug's development server) answers every request with ``Connection: close``,
so against it every call opens a new TCP connection whatever the client does. To see whether
*our* client reuses connections, and what it adds per call on top of a bare HTTP request, it is
also driven against a minimal keep-alive HTTP/1.1 stub here, next to the same request made with
``http.client`` and a plain ``requests.Session``.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import timeit
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import tenacity

from waba_webhooks.config import Settings
from waba_webhooks.emulator import EmulatorServer
from waba_webhooks.emulator.fixtures import DEFAULT_TOKEN, generate
from waba_webhooks.graph import client as graph

PHONE_ID = "300000000000000"
BODY = json.dumps({"id": PHONE_ID, "webhook_configuration": {
    "application": "https://lucky-shrub.example/webhook"}}).encode()


class _Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def handle(self) -> None:  # once per connection
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.connections += 1  # type: ignore[attr-defined]
        super().handle()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _stub() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.daemon_threads = True
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    server.connections = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _per_call(fn: Callable[[], Any], calls: int, threads: int = 1) -> float:
    """Median over 3 rounds of the wall time per call, in microseconds."""
    rounds = []
    for _ in range(3):
        started = time.perf_counter()
        if threads == 1:
            for _ in range(calls):
                fn()
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda _i: fn(), range(calls)))
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    return round(statistics.median(rounds), 1)


def measure(calls: int = 300) -> dict[str, Any]:
    """Microseconds per call for each way of making the same GET, and connections opened."""
    out: dict[str, Any] = {"calls_per_round": calls}
    stub = _stub()
    host, port = stub.server_address[:2]
    url = f"http://{host}:{port}"
    path = f"/v23.0/{PHONE_ID}?fields=webhook_configuration"
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    try:
        conn = http.client.HTTPConnection(str(host), int(port))

        def raw() -> None:
            conn.request("GET", path, headers=headers)
            json.loads(conn.getresponse().read())

        out["http.client, one connection"] = {"us_per_call": _per_call(raw, calls)}
        conn.close()

        session = requests.Session()
        out["requests.Session"] = {
            "us_per_call": _per_call(lambda: session.get(url + path, headers=headers).json(),
                                     calls)}
        session.close()

        settings = Settings(access_token=DEFAULT_TOKEN, graph_url=url)
        client = graph.GraphClient(settings)
        before = stub.connections  # type: ignore[attr-defined]
        out["GraphClient.webhook_configuration"] = {
            "us_per_call": _per_call(lambda: client.webhook_configuration(PHONE_ID), calls),
            "connections": stub.connections - before,  # type: ignore[attr-defined]
            "calls": 3 * calls,
        }
        before = stub.connections  # type: ignore[attr-defined]
        out["GraphClient, 4 threads"] = {
            "us_per_call": _per_call(lambda: client.webhook_configuration(PHONE_ID), calls, 4),
            "connections": stub.connections - before,  # type: ignore[attr-defined]
            "calls": 3 * calls,
        }
    finally:
        stub.shutdown()
        stub.server_close()

    emulator = EmulatorServer(generate(wabas=1, phones_per_waba=1)).start()
    try:
        client = graph.GraphClient(Settings(access_token=DEFAULT_TOKEN, graph_url=emulator.url))
        out["GraphClient against the emulator (Connection: close)"] = {
            "us_per_call": _per_call(lambda: client.webhook_configuration(PHONE_ID), calls // 3),
        }
    finally:
        emulator.stop()

    # What GraphClient.request builds before each call: a tenacity.Retrying and its policies.
    def build_retrying() -> Any:
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Exception),
            stop=graph._stop_when_spent(6, 60.0),
            wait=graph._wait_for(60.0), reraise=True)

    number = 2000
    out["tenacity.Retrying built per call"] = {
        "us_per_call": round(min(timeit.repeat(build_retrying, number=number, repeat=3))
                             / number * 1e6, 1)}
    return out


def text(result: dict[str, Any]) -> str:
    lines = []
    for name, entry in result.items():
        if not isinstance(entry, dict):
            continue
        extra = (f", {entry['connections']} connections for {entry['calls']} calls"
                 if "connections" in entry else "")
        lines.append(f"   {entry['us_per_call']:9.1f} us/call  {name}{extra}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(text(measure()))
