"""The demo launcher: services (embedded unless DATABASE_URL / REDIS_URL say otherwise), migrations, demo data,
both emulators, a mail catcher, an RQ worker and the web server, with the URLs and demo accounts printed.
Ctrl-C (or SIGTERM) stops everything it started, the embedded PostgreSQL and Redis included.

`python -m scripts.dev.launcher [--port 5000]` (scripts/demo runs it after setting up).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

from portal.logs import open_log_file

from .services import INSTANCE, ROOT, EmbeddedServer, ensure_environment

PYTHON = sys.executable
MAILBOX = INSTANCE / "mail"


def _persistent_secret(name: str, make) -> str:
    """Demo secrets live in instance/ so restarts keep sessions and stored tokens readable."""
    path = INSTANCE / name
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def demo_environment(
    port: int, identity_port: int, salesforce_port: int, mail_port: int, started: list[EmbeddedServer]
) -> dict[str, str]:
    ensure_environment("portal", started)
    identity = f"http://127.0.0.1:{identity_port}"
    return {
        **os.environ,
        "PORTAL_ENV": "demo",
        "AUTHLIB_INSECURE_TRANSPORT": "1",  # the emulators speak plain HTTP on localhost (design §6)
        "SECRET_KEY": _persistent_secret("secret_key", lambda: secrets.token_hex(32)),
        "TOKEN_ENCRYPTION_KEYS": _persistent_secret("token_key", lambda: Fernet.generate_key().decode()),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "GOOGLE_CLIENT_ID": "google-client-id",
        "GOOGLE_CLIENT_SECRET": "google-client-secret",
        "GOOGLE_DISCOVERY_URL": f"{identity}/google/.well-known/openid-configuration",
        "MICROSOFT_CLIENT_ID": "microsoft-client-id",
        "MICROSOFT_CLIENT_SECRET": "microsoft-client-secret",
        "MICROSOFT_DISCOVERY_URL": f"{identity}/microsoft/common/v2.0/.well-known/openid-configuration",
        "SALESFORCE_CLIENT_ID": "emulator-client-id",
        "SALESFORCE_CLIENT_SECRET": "emulator-client-secret",
        "SALESFORCE_PRODUCTION_URL": f"http://127.0.0.1:{salesforce_port}",
        "SALESFORCE_SANDBOX_URL": f"http://127.0.0.1:{salesforce_port + 1}",
        "SALESFORCE_EXTRA_LOGIN_HOSTS": f"127.0.0.1:{salesforce_port + 2}",
        "SMTP_HOST": "127.0.0.1",  # the mail catcher: the demo never sends real e-mail
        "SMTP_PORT": str(mail_port),
        "DEMO_MAILBOX_DIR": str(MAILBOX),
    }


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {seconds:.0f}s")


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    """Signal the child's whole process group (it leads one: start_new_session), if any of it is still running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--identity-port", type=int, default=5001)
    parser.add_argument("--salesforce-port", type=int, default=5101, help="first of four consecutive ports")
    parser.add_argument("--mail-port", type=int, default=1025, help="the mail catcher's SMTP port")
    args = parser.parse_args(argv)

    children: list[subprocess.Popen] = []
    started: list[EmbeddedServer] = []  # the embedded PostgreSQL / Redis this run started, stopped with it

    def shutdown() -> None:
        """End every process this run started, then the embedded servers they used; safe to call twice."""
        for child in children:
            _signal_group(child, signal.SIGTERM)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
            _signal_group(child, signal.SIGKILL)  # what is left of its group, e.g. a worker that outlived gunicorn
            child.wait()
        for server in reversed(started):  # after the processes that use them
            server.stop()
        children.clear()
        started.clear()

    def stop_on_signal(*_):
        shutdown()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        env = demo_environment(args.port, args.identity_port, args.salesforce_port, args.mail_port, started)
    except BaseException:
        shutdown()
        raise
    log_dir = INSTANCE / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    def start(name: str, *command: str) -> None:
        log = open_log_file(log_dir / f"{name}.log")  # the child process keeps it open
        # A group of its own: Ctrl-C reaches only the launcher, which stops each group in order (shutdown).
        children.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    try:
        subprocess.run([PYTHON, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [PYTHON, "-m", "scripts.dev.demo_data"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    except BaseException:
        shutdown()
        raise

    start("mail", PYTHON, "-m", "scripts.dev.mailcatcher", "--port", str(args.mail_port), "--dir", str(MAILBOX))
    start("identity", PYTHON, "-m", "emulators.identity", "--port", str(args.identity_port))
    start("salesforce", PYTHON, "-m", "emulators.salesforce", "--port", str(args.salesforce_port))
    start("worker", PYTHON, "-m", "jobs.worker")
    start("sweep", PYTHON, "-m", "jobs.sweep")
    start(
        "web",
        PYTHON,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--threads",
        "4",
        "--bind",
        f"127.0.0.1:{args.port}",
        "wsgi:app",
    )
    try:
        _wait_for(f"http://127.0.0.1:{args.identity_port}/google/.well-known/openid-configuration")
        _wait_for(f"http://127.0.0.1:{args.salesforce_port + 3}/__emulator__/")
        _wait_for(f"http://127.0.0.1:{args.port}/healthz")
        _seed_salesforce_users(args.salesforce_port + 3)
    except SystemExit:
        shutdown()
        raise

    print(_banner(args, seeded.stdout), flush=True)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(1)
        print(f"A demo process stopped; see {log_dir}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    shutdown()


def _seed_salesforce_users(instance_port: int) -> None:
    """The demo team's people are Users in the emulated org too, so a booking's host becomes the Event's owner."""
    from emulators.salesforce.control import EmulatorControl

    from .demo_data import DEMO_PEOPLE

    control = EmulatorControl(f"http://127.0.0.1:{instance_port}")
    for email, name, _ in DEMO_PEOPLE:
        first, _, last = name.partition(" ")
        control.add_user(username=email, email=email, first_name=first, last_name=last or first)


def _banner(args, seeded: str) -> str:
    return "\n".join(
        [
            "",
            f"Portal:              http://127.0.0.1:{args.port}/",
            f"Identity emulator:   http://127.0.0.1:{args.identity_port}/  (log in as any e-mail; demo accounts below)",
            f"Salesforce emulator: http://127.0.0.1:{args.salesforce_port}/  (login admin@example-org.test / emulator)",
            f"  records:           http://127.0.0.1:{args.salesforce_port + 3}/__emulator__/records",
            f"Demo inbox:          http://127.0.0.1:{args.port}/demo/mail  (every e-mail the demo sent, .ics included)",
            "",
            seeded.strip(),
            "",
            f"Logs: {Path(INSTANCE / 'logs')}   Stop with Ctrl-C.",
        ]
    )


if __name__ == "__main__":
    main()
