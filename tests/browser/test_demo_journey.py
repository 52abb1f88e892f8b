"""scripts/demo as a presenter runs it: the launcher starts everything (embedded PostgreSQL and Redis included,
as on a machine without them), a guest books in a real browser and is told the confirmation was sent, the demo
inbox lists it with its .ics, and stopping the demo leaves none of the processes it started (checked by PID)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports on localhost."""
    for base in range(24000, 60000, 97):
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


@pytest.fixture
def demo():
    """The launcher on free ports, with an instance folder of its own and no DATABASE_URL / REDIS_URL."""
    folder = Path(tempfile.mkdtemp(prefix="demo-", dir="/tmp"))  # short: PostgreSQL's socket lives in it
    base = free_ports(7)
    ports = {"port": base, "identity": base + 1, "mail": base + 2, "salesforce": base + 3}
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PORT")}
    env["PORTAL_INSTANCE_DIR"] = str(folder / "instance")
    command = [
        sys.executable, "-m", "scripts.dev.launcher", "--port", str(ports["port"]),
        "--identity-port", str(ports["identity"]), "--salesforce-port", str(ports["salesforce"]),
        "--mail-port", str(ports["mail"]),
    ]  # fmt: skip
    launcher = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    banner = []
    for line in launcher.stdout:  # until the banner says the portal is up (or the launcher gave up)
        banner.append(line)
        if line.startswith("Logs:"):
            break
    if not banner or not banner[-1].startswith("Logs:"):
        launcher.wait(timeout=60)  # it gave up: the test fails on the banner, showing what it printed
    instance = folder / "instance"
    pids = started_pids(launcher, instance) if launcher.poll() is None else {}
    try:
        yield launcher, f"http://127.0.0.1:{ports['port']}", pids, "".join(banner)
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for pid in pids.values():  # whatever a failed run left behind
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        shutil.rmtree(folder, ignore_errors=True)


def started_pids(launcher: subprocess.Popen, instance: Path) -> dict[str, int]:
    """Every process of the demo: the launcher's children and theirs, and the embedded servers (daemons)."""
    pids = {f"{p.name()}:{p.pid}": p.pid for p in psutil.Process(launcher.pid).children(recursive=True)}
    pids["postgres"] = int((instance / "postgres" / "postmaster.pid").read_text().split()[0])
    pids["redis"] = int((instance / "redis" / "redis.pid").read_text().split()[0])
    pids["launcher"] = launcher.pid
    return pids


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_demo_booking_is_confirmed_by_mail_with_its_ics_and_stopping_ends_every_process(demo, browser):
    launcher, portal, pids, banner = demo
    assert f"Demo inbox:          {portal}/demo/mail" in banner, banner
    assert len(pids) >= 9  # mail catcher, two emulators, worker, sweep, web server and its workers, both servers
    assert all(alive(pid) for pid in pids.values())

    page = browser.new_page()
    page.goto(f"{portal}/book/acme-intro")
    page.locator("ul.slots a").first.click()
    page.get_by_label("Name").fill("Gita Guest")
    page.get_by_label("E-mail").fill("gita@example.com")
    page.get_by_label("Company").fill("Example Ltd")
    page.get_by_label("What would you like to discuss?").fill("Pricing")
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(f"{portal}/manage/**")
    assert "could not send" not in page.content()

    page.goto(f"{portal}/demo/mail")
    message = page.locator("article.demo-mail", has_text="gita@example.com").first
    assert "Gita Guest" in message.inner_text() or "Introductory call" in message.inner_text()
    ics_link = message.get_by_role("link", name="booking.ics")
    with urllib.request.urlopen(portal + ics_link.get_attribute("href")) as response:
        assert response.headers.get_content_type() == "text/calendar"
        assert response.read().startswith(b"BEGIN:VCALENDAR")
    page.close()

    launcher.send_signal(signal.SIGTERM)  # what Ctrl-C does too, by way of KeyboardInterrupt
    assert launcher.wait(timeout=120) == 0

    assert {name: pid for name, pid in pids.items() if alive(pid)} == {}
