"""OAuth 2.0 on the emulator's login hosts, driven over real HTTP."""

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from emulators.salesforce.testing import complete_authorize_page

CALLBACK = "http://127.0.0.1:5000/salesforce/callback"
CLIENT = {"client_id": "emulator-client-id", "client_secret": "emulator-client-secret"}


def authorize_url(login_url: str, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": CLIENT["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "api id refresh_token",
    }
    params.update(extra)
    return f"{login_url}/services/oauth2/authorize?{urlencode(params)}"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def callback_params(location: str) -> dict:
    assert location.startswith(CALLBACK)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def exchange(login_url: str, code: str, **extra) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **CLIENT, **extra}
    return requests.post(f"{login_url}/services/oauth2/token", data=form, timeout=10)


def refresh(login_url: str, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **CLIENT}
    return requests.post(f"{login_url}/services/oauth2/token", data=form, timeout=10)


def connect(emulator, login_url: str | None = None, scope: str = "api id refresh_token") -> dict:
    login_url = login_url or emulator.production_url
    verifier, challenge = pkce_pair()
    location = complete_authorize_page(
        authorize_url(login_url, scope=scope, code_challenge=challenge, code_challenge_method="S256")
    )
    response = exchange(login_url, callback_params(location)["code"], code_verifier=verifier)
    assert response.status_code == 200, response.text
    return response.json()


def data_call(tokens: dict) -> requests.Response:
    return requests.get(
        f"{tokens['instance_url']}/services/data/v59.0/limits",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )


def test_allow_redirects_with_a_code_and_the_state_unchanged(salesforce_emulator, salesforce_control):
    location = complete_authorize_page(authorize_url(salesforce_emulator.production_url, state="a b/+="))
    params = callback_params(location)
    assert params["state"] == "a b/+="
    assert params["code"]


def test_deny_redirects_with_access_denied_and_the_state(salesforce_emulator, salesforce_control):
    location = complete_authorize_page(authorize_url(salesforce_emulator.production_url, state="xyz"), decision="deny")
    params = callback_params(location)
    assert params["error"] == "access_denied"
    assert params["state"] == "xyz"
    assert "code" not in params


def test_wrong_password_shows_the_login_page_again_with_an_error(salesforce_emulator, salesforce_control):
    with pytest.raises(ValueError, match="login refused"):
        complete_authorize_page(authorize_url(salesforce_emulator.production_url), password="wrong")


def test_unknown_client_id_is_an_error_page_not_a_redirect(salesforce_emulator, salesforce_control):
    url = authorize_url(salesforce_emulator.production_url, client_id="nobody")
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 400
    assert "invalid_client_id" in response.text


def test_unregistered_callback_is_an_error_page_not_a_redirect(salesforce_emulator, salesforce_control):
    url = authorize_url(salesforce_emulator.production_url, redirect_uri="https://evil.example/cb")
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 400
    assert "redirect_uri_mismatch" in response.text


def test_registered_app_accepts_only_its_callback(salesforce_emulator, salesforce_control):
    salesforce_control.register_app("portal-app", "s3cret", ["https://portal.example/cb"])
    good = requests.get(
        authorize_url(
            salesforce_emulator.production_url, client_id="portal-app", redirect_uri="https://portal.example/cb"
        ),
        timeout=10,
    )
    loopback = requests.get(authorize_url(salesforce_emulator.production_url, client_id="portal-app"), timeout=10)
    assert good.status_code == 200
    assert loopback.status_code == 400


def test_unknown_scope_redirects_with_invalid_scope(salesforce_emulator, salesforce_control):
    response = requests.get(
        authorize_url(salesforce_emulator.production_url, scope="api telepathy", state="s"),
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert callback_params(response.headers["Location"])["error"] == "invalid_scope"


def test_code_grant_returns_the_real_fields_and_no_expires_in(salesforce_emulator, salesforce_control):
    tokens = connect(salesforce_emulator)
    assert list(tokens) == [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    assert "expires_in" not in tokens
    assert tokens["token_type"] == "Bearer"
    assert isinstance(tokens["issued_at"], str) and tokens["issued_at"].isdigit() and len(tokens["issued_at"]) == 13
    assert tokens["scope"] == "api id refresh_token"


def test_signature_is_hmac_of_id_and_issued_at_with_the_client_secret(salesforce_emulator, salesforce_control):
    tokens = connect(salesforce_emulator)
    expected = hmac.new(
        CLIENT["client_secret"].encode(), (tokens["id"] + tokens["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert tokens["signature"] == base64.b64encode(expected).decode()


@pytest.mark.parametrize("listener", ["production_url", "sandbox_url", "mydomain_url"])
def test_identity_url_stays_on_the_login_host_and_data_goes_to_the_instance(
    salesforce_emulator, salesforce_control, listener
):
    login_url = getattr(salesforce_emulator, listener)
    tokens = connect(salesforce_emulator, login_url)
    assert tokens["id"].startswith(f"{login_url}/id/{salesforce_emulator.org.org_id}/")
    assert tokens["instance_url"] == salesforce_emulator.instance_url != login_url


def test_id_token_only_with_the_openid_scope(salesforce_emulator, salesforce_control):
    without = connect(salesforce_emulator)
    with_openid = connect(salesforce_emulator, scope="api id refresh_token openid")
    assert "id_token" not in without
    assert with_openid["id_token"].count(".") == 2


def test_no_refresh_token_without_the_refresh_token_scope(salesforce_emulator, salesforce_control):
    assert "refresh_token" not in connect(salesforce_emulator, scope="api id")


def test_wrong_pkce_verifier_is_invalid_grant(salesforce_emulator, salesforce_control):
    _, challenge = pkce_pair()
    location = complete_authorize_page(authorize_url(salesforce_emulator.production_url, code_challenge=challenge))
    response = exchange(
        salesforce_emulator.production_url, callback_params(location)["code"], code_verifier="not-the-verifier"
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}


def test_a_code_works_once(salesforce_emulator, salesforce_control):
    location = complete_authorize_page(authorize_url(salesforce_emulator.production_url))
    code = callback_params(location)["code"]
    assert exchange(salesforce_emulator.production_url, code).status_code == 200
    again = exchange(salesforce_emulator.production_url, code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "expired authorization code"}


def test_an_expired_code_is_refused(salesforce_emulator, salesforce_control):
    salesforce_control.update_settings(authorization_code_ttl_seconds=0)
    location = complete_authorize_page(authorize_url(salesforce_emulator.production_url))
    response = exchange(salesforce_emulator.production_url, callback_params(location)["code"])
    assert response.json() == {"error": "invalid_grant", "error_description": "expired authorization code"}


def test_unknown_client_id_at_the_token_endpoint(salesforce_emulator, salesforce_control):
    response = exchange(salesforce_emulator.production_url, "whatever", client_id="nobody")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}


def test_wrong_client_secret_is_invalid_client(salesforce_emulator, salesforce_control):
    response = exchange(salesforce_emulator.production_url, "whatever", client_secret="wrong")
    assert response.json()["error"] == "invalid_client"


def test_client_credentials_may_come_as_http_basic(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    response = requests.post(
        f"{salesforce_emulator.production_url}/services/oauth2/token",
        data=form,
        auth=(CLIENT["client_id"], CLIENT["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200


def test_unsupported_grant_type(salesforce_emulator, salesforce_control):
    form = {"grant_type": "password", **CLIENT}
    response = requests.post(f"{salesforce_emulator.production_url}/services/oauth2/token", data=form, timeout=10)
    assert response.json()["error"] == "unsupported_grant_type"


def test_refresh_without_rotation_returns_no_refresh_token_and_the_old_one_keeps_working(
    salesforce_emulator, salesforce_control
):
    tokens = connect(salesforce_emulator)
    first = refresh(salesforce_emulator.production_url, tokens["refresh_token"])
    second = refresh(salesforce_emulator.production_url, tokens["refresh_token"])
    assert first.status_code == second.status_code == 200
    assert "refresh_token" not in first.json()
    assert first.json()["access_token"] != tokens["access_token"]
    assert data_call(first.json()).status_code == 200


def test_refresh_with_rotation_returns_a_new_refresh_token_and_the_old_one_dies(
    salesforce_emulator, salesforce_control
):
    salesforce_control.update_settings(refresh_token_rotation=True)
    tokens = connect(salesforce_emulator)
    rotated = refresh(salesforce_emulator.production_url, tokens["refresh_token"]).json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    old = refresh(salesforce_emulator.production_url, tokens["refresh_token"])
    assert old.status_code == 400
    assert old.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    assert refresh(salesforce_emulator.production_url, rotated["refresh_token"]).status_code == 200


def test_access_token_expires_after_its_lifetime(salesforce_emulator, salesforce_control):
    salesforce_control.update_settings(access_token_ttl_seconds=0)
    tokens = salesforce_control.issue_tokens()
    response = data_call(tokens)
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_access_token_expires_after_a_number_of_calls_and_refresh_recovers(salesforce_emulator, salesforce_control):
    salesforce_control.update_settings(access_token_max_calls=2)
    tokens = salesforce_control.issue_tokens()
    assert [data_call(tokens).status_code for _ in range(3)] == [200, 200, 401]
    fresh = refresh(salesforce_emulator.production_url, tokens["refresh_token"]).json()
    assert data_call(fresh).status_code == 200


def test_expire_access_tokens_keeps_refresh_tokens_alive(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens()
    salesforce_control.expire_access_tokens()
    assert data_call(tokens).status_code == 401
    assert refresh(salesforce_emulator.production_url, tokens["refresh_token"]).status_code == 200


def test_revoke_all_tokens_kills_refresh_tokens(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens()
    salesforce_control.revoke_all_tokens()
    assert data_call(tokens).status_code == 401
    assert refresh(salesforce_emulator.production_url, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_revokes_its_access_tokens(salesforce_emulator, salesforce_control):
    tokens = connect(salesforce_emulator)
    response = requests.post(
        f"{salesforce_emulator.production_url}/services/oauth2/revoke",
        data={"token": tokens["refresh_token"]},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.text == ""
    assert data_call(tokens).status_code == 401
    assert refresh(salesforce_emulator.production_url, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_an_unknown_token_is_invalid_token(salesforce_emulator, salesforce_control):
    response = requests.post(
        f"{salesforce_emulator.production_url}/services/oauth2/revoke", data={"token": "nope"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_token"


def test_identity_url_describes_the_user(salesforce_emulator, salesforce_control):
    tokens = connect(salesforce_emulator)
    response = requests.get(tokens["id"], headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert response.status_code == 200
    identity = response.json()
    assert identity["username"] == "admin@example-org.test"
    assert identity["organization_id"] == salesforce_emulator.org.org_id
    assert identity["urls"]["rest"].startswith(salesforce_emulator.instance_url)


def test_identity_url_is_refused_without_the_id_scope(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens(scope="api refresh_token")
    response = requests.get(tokens["id"], headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert response.status_code == 403
    assert response.text == "Bad_OAuth_Token"


def test_identity_url_without_a_token_is_missing_oauth_token(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens()
    response = requests.get(tokens["id"], timeout=10)
    assert response.status_code == 403
    assert response.text == "Missing_OAuth_Token"


def test_userinfo_returns_openid_claims(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens(scope="api id openid")
    response = requests.get(
        f"{salesforce_emulator.production_url}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["preferred_username"] == "admin@example-org.test"
    assert response.json()["sub"] == tokens["id"]


def test_a_seeded_user_can_log_in(salesforce_emulator, salesforce_control):
    user_id = salesforce_control.add_user("host@example-org.test", "pw", first_name="Hana", last_name="Host")
    location = complete_authorize_page(
        authorize_url(salesforce_emulator.production_url), username="host@example-org.test", password="pw"
    )
    tokens = exchange(salesforce_emulator.production_url, callback_params(location)["code"]).json()
    assert tokens["id"].endswith(user_id)


def test_a_sandbox_code_cannot_be_redeemed_at_the_production_host(salesforce_emulator, salesforce_control):
    location = complete_authorize_page(authorize_url(salesforce_emulator.sandbox_url))
    response = exchange(salesforce_emulator.production_url, callback_params(location)["code"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_works_at_the_issuing_login_host_or_the_instance_but_not_another_login_host(
    salesforce_emulator, salesforce_control
):
    tokens = connect(salesforce_emulator, salesforce_emulator.sandbox_url)
    assert refresh(salesforce_emulator.production_url, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(salesforce_emulator.sandbox_url, tokens["refresh_token"]).status_code == 200
    assert refresh(salesforce_emulator.instance_url, tokens["refresh_token"]).status_code == 200


def test_identity_url_is_refused_on_another_login_host(salesforce_emulator, salesforce_control):
    tokens = connect(salesforce_emulator, salesforce_emulator.mydomain_url)
    elsewhere = tokens["id"].replace(salesforce_emulator.mydomain_url, salesforce_emulator.production_url)
    response = requests.get(elsewhere, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert response.status_code == 403
