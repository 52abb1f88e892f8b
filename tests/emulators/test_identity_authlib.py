"""Authlib's Flask OAuth client, as the portal uses it, signs in through the emulator over real HTTP.

The client application runs in-process (Flask test client); every call it makes to the provider is real HTTP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify

from emulators.identity.settings import DEMO_TENANT_ID

CALLBACK_BASE = "http://127.0.0.1:8999/callback/"


def tenant_aware_issuer(template: str) -> dict[str, Any]:
    """Microsoft's multi-tenant issuer check: the discovery issuer with the token's own tid filled in."""

    def matches(claims: dict[str, Any], issuer: str) -> bool:
        return issuer == template.replace("{tenantid}", str(claims.get("tid", "")))

    return {"iss": {"essential": True, "validate": matches}}


def relying_app(identity_emulator, *, check_microsoft_tenant: bool = True) -> Flask:
    app = Flask(__name__)
    app.secret_key = "relying-party-test"
    oauth = OAuth(app)
    settings = identity_emulator.provider.settings
    for name, discovery_url in [
        ("google", identity_emulator.google_discovery_url),
        ("microsoft", identity_emulator.microsoft_discovery_url),
    ]:
        oauth.register(
            name,
            client_id=getattr(settings, f"{name}_client_id"),
            client_secret=getattr(settings, f"{name}_client_secret"),
            server_metadata_url=discovery_url,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )

    @app.get("/login/<name>")
    def login(name: str):
        return oauth.create_client(name).authorize_redirect(CALLBACK_BASE + name)

    @app.get("/callback/<name>")
    def callback(name: str):
        client = oauth.create_client(name)
        options = {}
        if name == "microsoft" and check_microsoft_tenant:
            options["claims_options"] = tenant_aware_issuer(client.load_server_metadata()["issuer"])
        try:
            token = client.authorize_access_token(**options)
        except Exception as refusal:  # the test reads which validation refused the token
            return jsonify(refused=type(refusal).__name__, detail=str(refusal)), 400
        return jsonify(dict(token["userinfo"]))

    return app


def log_in(app: Flask, identity_control, provider: str, **account: Any):
    browser = app.test_client()
    start = browser.get(f"/login/{provider}")
    assert start.status_code == 302
    callback = identity_control.sign_in(
        start.headers["Location"], **{"email": "gus@example.com", "name": "Gus", **account}
    )
    assert callback.startswith(CALLBACK_BASE + provider)
    parts = urlsplit(callback)
    return browser.get(f"{parts.path}?{parts.query}")


@pytest.fixture(autouse=True)
def plain_http_to_the_emulator(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def test_authlib_signs_in_with_google_and_validates_the_id_token(identity_emulator, identity_control):
    response = log_in(relying_app(identity_emulator), identity_control, "google", email="gus@example.com")

    assert response.status_code == 200, response.json
    assert response.json["email"] == "gus@example.com"
    assert response.json["email_verified"] is True
    assert response.json["iss"] == identity_emulator.url + "/google"


def test_authlib_signs_in_with_microsoft_when_the_issuer_check_knows_tenants(identity_emulator, identity_control):
    response = log_in(relying_app(identity_emulator), identity_control, "microsoft")

    assert response.status_code == 200, response.json
    assert response.json["tid"] == DEMO_TENANT_ID
    assert response.json["iss"] == f"{identity_emulator.url}/microsoft/{DEMO_TENANT_ID}/v2.0"


def test_authlib_default_issuer_check_refuses_microsoft_multi_tenant_tokens(identity_emulator, identity_control):
    """As against the real common endpoint: the discovery issuer is a template no token carries."""
    app = relying_app(identity_emulator, check_microsoft_tenant=False)

    response = log_in(app, identity_control, "microsoft")

    assert response.status_code == 400
    assert response.json["refused"] == "InvalidClaimError"
    assert "'iss'" in response.json["detail"]


@pytest.mark.parametrize(
    ("provider", "fault", "refusal"),
    [
        ("google", "bad_signature", "BadSignatureError"),
        ("google", "wrong_audience", "InvalidClaimError"),
        ("google", "wrong_issuer", "InvalidClaimError"),
        ("google", "expired", "ExpiredTokenError"),
        ("google", "wrong_nonce", "InvalidClaimError"),
        ("microsoft", "wrong_tenant", "InvalidClaimError"),
        ("microsoft", "expired", "ExpiredTokenError"),
        ("microsoft", "wrong_nonce", "InvalidClaimError"),
    ],
)
def test_authlib_refuses_each_faulty_id_token(identity_emulator, identity_control, provider, fault, refusal):
    identity_control.inject_fault(provider, fault)

    response = log_in(relying_app(identity_emulator), identity_control, provider)

    assert response.status_code == 400
    assert response.json["refused"] == refusal


def test_authlib_reports_a_cancelled_sign_in_as_access_denied(identity_emulator, identity_control):
    browser = relying_app(identity_emulator).test_client()
    start = browser.get("/login/google")

    callback = urlsplit(identity_control.cancel_sign_in(start.headers["Location"]))
    response = browser.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400
    assert "access_denied" in response.json["detail"]
