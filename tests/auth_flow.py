"""Helpers for tests that log in for real (through the identity emulator) or post forms with a CSRF token.

log_in_with(client, identity_control, "google", email="ann@example.com")  -> the callback's response
csrf_token(client)  -> a valid token for the client's current session, for POSTs built by hand
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import g, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from werkzeug.test import TestResponse

from emulators.identity.control import IdentityControl


def csrf_token(client: FlaskClient) -> str:
    """Flask-WTF keeps a raw token in the session and signs it into the form field; do both for this client."""
    with client.session_transaction() as client_session:
        raw = client_session.setdefault("csrf_token", secrets.token_hex(20))
    with client.application.test_request_context():
        g.pop("csrf_token", None)  # Flask-WTF caches the signed token in g, which may outlive a request here
        session["csrf_token"] = raw
        return generate_csrf()


def start_login(client: FlaskClient, provider: str, next_target: str | None = None) -> TestResponse:
    """Press "Log in with <provider>": the response redirects to the provider's authorization endpoint."""
    data = {"csrf_token": csrf_token(client)}
    if next_target is not None:
        data["next"] = next_target
    return client.post(f"/login/{provider}", data=data)


def finish_login(client: FlaskClient, callback_url: str) -> TestResponse:
    """Follow the provider's redirect back to the portal (the test client only serves paths)."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def log_in_with(
    client: FlaskClient,
    identity_control: IdentityControl,
    provider: str,
    *,
    next_target: str | None = None,
    fault: str | None = None,
    **account,
) -> TestResponse:
    """The whole login: start, the emulator's account page as `account`, the callback. `fault` spoils the
    id_token the emulator issues this time (bad_signature, wrong_audience, …)."""
    start = start_login(client, provider, next_target)
    assert start.status_code == 302, start.get_data(as_text=True)
    if fault:
        identity_control.inject_fault(provider, fault)
    account = {"email": "ann@example.com", "name": "Ann Example", **account}
    return finish_login(client, identity_control.sign_in(start.headers["Location"], **account))


def signed_in_user_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as client_session:
        return client_session.get("_user_id")
