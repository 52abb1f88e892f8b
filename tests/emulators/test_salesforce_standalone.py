"""``python -m emulators.salesforce --port N`` serves the four listeners and prints their URLs."""

import socket
import subprocess
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port_block(size: int = 4) -> int:
    """A base port whose next ``size`` ports are free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size < 65535 and all(_is_free(base + offset) for offset in range(size)):
            return base
    raise RuntimeError("no free block of ports")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_standalone_run_prints_its_urls_and_serves():
    base = free_port_block()
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "emulators.salesforce", "--port", str(base)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(7)]
        urls = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines[1:]}
        assert urls["production login"] == f"http://127.0.0.1:{base}"
        assert urls["sandbox login"] == f"http://127.0.0.1:{base + 1}"
        assert urls["My Domain login"] == f"http://127.0.0.1:{base + 2}"
        assert urls["instance"] == f"http://127.0.0.1:{base + 3}"
        assert requests.get(f"{urls['instance']}/services/data/", timeout=10).status_code == 200
        assert requests.get(urls["records"], timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
