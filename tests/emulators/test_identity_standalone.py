"""`python -m emulators.identity` runs the emulator on its own and prints where to find it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standalone() -> Iterator[tuple[str, list[str]]]:
    """Start the emulator as a process on a free port; yields its base URL and the lines it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.identity", "--port", "0", "--google-client-id", "cli-google"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [process.stdout.readline().rstrip("\n") for _ in range(6)]
        base_url = re.fullmatch(r"Identity emulator on (http://127\.0\.0\.1:\d+)/", lines[0]).group(1)
        yield base_url, lines
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_standalone_emulator_prints_its_urls_and_serves_discovery(standalone):
    base_url, lines = standalone

    assert f"  Google discovery:    {base_url}/google/.well-known/openid-configuration" in lines
    assert f"  Microsoft discovery: {base_url}/microsoft/common/v2.0/.well-known/openid-configuration" in lines
    assert "    client id/secret:  cli-google / google-client-secret" in lines
    document = requests.get(f"{base_url}/google/.well-known/openid-configuration", timeout=10).json()
    assert document["issuer"] == f"{base_url}/google"


def test_index_page_lists_both_providers_and_their_clients(standalone):
    base_url, _ = standalone

    page = requests.get(base_url + "/", timeout=10)

    assert page.status_code == 200
    assert f"{base_url}/microsoft/common/v2.0/.well-known/openid-configuration" in page.text
    assert "cli-google" in page.text
    assert f"{base_url}/__emulator__/" in page.text
