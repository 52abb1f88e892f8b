"""Helpers for the Salesforce tests: driving Connect through the emulator's pages, storing a connection made
from emulator-issued tokens (for client tests), and reading the emulator's request log.

connect_via_emulator(client, team_id, environment="sandbox")  -> the callback's response (a redirect)
store_connection(session, team_id, control.issue_tokens(), login_url)  -> a committed SalesforceConnection
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from emulators.salesforce.testing import complete_authorize_page
from portal.crypto import TokenCipher
from portal.models import SalesforceConnection
from portal.salesforce.tokens import apply_token_response

from .auth_flow import csrf_token


def page_url(team_id: int, suffix: str = "") -> str:
    return f"/teams/{team_id}/settings/integrations/salesforce{suffix}"


def start_connect(client: FlaskClient, team_id: int, environment: str = "production", my_domain: str = ""):
    data = {"csrf_token": csrf_token(client), "environment": environment, "my_domain": my_domain}
    return client.post(page_url(team_id, "/connect"), data=data)


def follow_callback(client: FlaskClient, callback_url: str) -> TestResponse:
    """The test client serves paths only: replay Salesforce's redirect as the browser would."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def connect_via_emulator(
    client: FlaskClient, team_id: int, *, environment: str = "production", my_domain: str = "", decision="allow"
) -> TestResponse:
    start = start_connect(client, team_id, environment, my_domain)
    assert start.status_code == 302, start.get_data(as_text=True)
    return follow_callback(client, complete_authorize_page(start.headers["Location"], decision=decision))


def disconnect(client: FlaskClient, team_id: int) -> TestResponse:
    return client.post(page_url(team_id, "/disconnect"), data={"csrf_token": csrf_token(client)})


def store_connection(session: Session, team_id: int, tokens: dict, login_url: str, cipher: TokenCipher):
    """A connection row as Connect would leave it, from a token response issued by the emulator's control API."""
    connection = SalesforceConnection(team_id=team_id, login_url=login_url.rstrip("/"), token_generation=0)
    apply_token_response(connection, tokens, cipher)
    org_id, user_id = tokens["id"].rstrip("/").split("/")[-2:]
    connection.identity_url, connection.org_id, connection.sf_user_id = tokens["id"], org_id, user_id
    connection.username = "admin@example-org.test"
    session.add(connection)
    session.commit()
    return connection


def token_requests(control, grant_type: str | None = None) -> list[dict]:
    """The emulator's log entries for the token endpoint (optionally of one grant type)."""
    entries = [entry for entry in control.request_log() if entry["path"] == "/services/oauth2/token"]
    if grant_type is not None:
        entries = [entry for entry in entries if f"grant_type={grant_type}" in entry["body"]]
    return entries
