"""Start the emulator in background threads on free ports, for tests and the demo."""

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from emulators.salesforce.org import DEFAULT_PASSWORD, DEFAULT_USERNAME, Org
from emulators.salesforce.server import Listeners


@dataclass
class RunningEmulator:
    """URLs of the running listeners, the shared org state, and ``stop()``."""

    production_url: str
    sandbox_url: str
    mydomain_url: str
    instance_url: str
    control_url: str
    org: Org
    listeners: Listeners

    def stop(self) -> None:
        self.listeners.stop()


def start_emulator(base_port: int = 0, **settings) -> RunningEmulator:
    """Run all four listeners (ports base_port..base_port+3, or free ports when 0) with optional settings."""
    org = Org()
    org.settings.update(settings)
    listeners = Listeners(org, base_port)
    listeners.start()
    return RunningEmulator(
        production_url=org.urls["production"],
        sandbox_url=org.urls["sandbox"],
        mydomain_url=org.urls["mydomain"],
        instance_url=org.urls["instance"],
        control_url=org.urls["instance"] + "/__emulator__",
        org=org,
        listeners=listeners,
    )


def complete_authorize_page(
    authorize_url: str,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    decision: str = "allow",
) -> str:
    """Drive the authorize pages over HTTP as a person would (log in, then Allow or Deny).

    Returns the URL Salesforce redirects the browser to (the client's callback with code or error).
    """
    session = requests.Session()
    page = session.get(authorize_url, timeout=10)
    page.raise_for_status()
    login_url = urljoin(authorize_url, "/services/oauth2/authorize")
    form = {"pending": _pending_id(page.text), "step": "login", "username": username, "password": password}
    approval = session.post(login_url, data=form, timeout=10)
    approval.raise_for_status()
    if 'name="decision"' not in approval.text:
        raise ValueError("login refused")
    form = {"pending": form["pending"], "step": "decision", "decision": decision}
    answer = session.post(login_url, data=form, allow_redirects=False, timeout=10)
    return answer.headers["Location"]


def _pending_id(html: str) -> str:
    match = re.search(r'name="pending" value="([^"]+)"', html)
    if match is None:
        raise ValueError("not an authorize page")
    return match.group(1)
