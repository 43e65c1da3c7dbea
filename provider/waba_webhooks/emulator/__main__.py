"""``python -m waba_webhooks.emulator`` (also ``waba-webhooks emulator``): serve the Graph API
emulator until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .exceptions import InvalidFixtureError
from .server import EmulatorServer


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of the emulator command."""
    parser.description = "Local Graph API emulator for WhatsApp webhook overrides."
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument("--fixture", type=Path, default=None, help="seed JSON (default: bundled)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay every Graph call")


def run(args: argparse.Namespace) -> int:
    """Start the server, print ``emulator listening on <url>``, serve until a signal."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        server = EmulatorServer(
            args.fixture, host=args.host, port=args.port, latency_ms=args.latency_ms
        ).start()
    except (OSError, ValueError) as exc:  # bad fixture, non-loopback host, port in use
        kind = "invalid fixture" if isinstance(exc, InvalidFixtureError) else "cannot start"
        print(f"emulator: {kind}: {exc}", file=sys.stderr)
        return 2
    print(f"emulator listening on {server.url}", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m waba_webhooks.emulator [--port N] [--fixture FILE] ...``."""
    parser = argparse.ArgumentParser(prog="python -m waba_webhooks.emulator")
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
