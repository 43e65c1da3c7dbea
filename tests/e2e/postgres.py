"""A throwaway PostgreSQL server for tests: Debian's package, run from a fresh data directory on a
free loopback port, stopped and deleted afterwards.

``initdb`` and ``postgres`` refuse to run as root, so as root they run as the ``postgres`` system
user (the Debian package creates it). Clients reach the server over TCP on 127.0.0.1 with a
password; its superuser is reached only over a Unix socket inside the data directory.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PACKAGE_DIR = Path("/usr/lib/postgresql")  # Debian: one <major version>/bin per installed server


def find_bin_dir() -> Path | None:
    """The bin directory of the newest PostgreSQL server Debian's packages installed, or None."""
    found = [initdb.parent for initdb in PACKAGE_DIR.glob("*/bin/initdb")
             if initdb.parent.parent.name.isdigit()]
    return max(found, key=lambda bin_dir: int(bin_dir.parent.name), default=None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server of its own on ``127.0.0.1:<port>``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. :meth:`create_database`
    makes a database owned by a new role and returns its ``postgres://`` URL.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = 0
        self.root: Path | None = None
        self.start_seconds = 0.0  # initdb + start, for the report

    @property
    def _run_as(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, tool: str, *args: str, stdin: str | None = None) -> None:
        done = subprocess.run([*self._run_as, str(self.bin_dir / tool), *args], input=stdin,
                              capture_output=True, text=True, check=False, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed (exit {done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()}")

    def start(self, attempts: int = 3) -> PostgresServer:
        """Create the data directory and start the server; returns self. On failure nothing is
        left running or on disk."""
        started = time.perf_counter()
        self.root = Path(tempfile.mkdtemp(prefix="waba-postgres-"))
        try:
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres")
            self._run("initdb", "-D", str(self.root / "data"), "-U", "postgres", "-E", "UTF8",
                      "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                      "--no-sync")
            self._listen(attempts)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - started
        return self

    def _listen(self, attempts: int) -> None:
        assert self.root is not None
        # fsync off: a test server need not survive a power cut. The Unix socket (the superuser's
        # way in, trusted) sits in the data's parent directory, which only its owner can enter.
        for attempt in range(attempts):  # another process may bind the free port first
            self.port = free_port()
            try:
                self._run("pg_ctl", "-D", str(self.root / "data"),
                          "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
                          "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} "
                                f"-c unix_socket_directories={self.root} -c fsync=off")
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log()}") from None

    def log(self) -> str:
        """The server's log so far."""
        path = self.root / "server.log" if self.root else None
        return path.read_text(errors="replace") if path and path.is_file() else ""

    def sql(self, *statements: str) -> None:
        """Run statements as the superuser, each in its own transaction (read from stdin, so no
        password shows in the process list)."""
        if self.root is None:
            raise RuntimeError("the server is not started")
        self._run("psql", "-h", str(self.root), "-p", str(self.port), "-U", "postgres",
                  "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q",
                  stdin="".join(f"{statement};\n" for statement in statements))

    def create_database(self, name: str) -> str:
        """A new database ``name`` owned by a new role of the same name with a random password;
        returns its URL as Pulumi's DIY backend takes it (no TLS: loopback only)."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"not a plain lower-case identifier: {name!r}")
        password = secrets.token_hex(16)
        self.sql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'",
                 f"CREATE DATABASE {name} OWNER {name}")
        return f"postgres://{name}:{password}@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory (idempotent)."""
        root, self.root = self.root, None
        if root is None:
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                subprocess.run([*self._run_as, str(self.bin_dir / "pg_ctl"), "-D",
                                str(root / "data"), "-m", "fast", "-w", "stop"],
                               capture_output=True, check=False, timeout=60)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
