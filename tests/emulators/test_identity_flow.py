"""The authorization code flow against the identity emulator over real HTTP: account page, token, userinfo."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from emulators.identity.control import AccountPageForm, IdentityControl
from emulators.identity.settings import CONSUMER_TENANT_ID, DEMO_TENANT_ID
from emulators.identity.testing import start_identity
from tests.fixtures.identity_emulator import CALLBACK_URL, RelyingParty


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


# --- the whole flow -------------------------------------------------------------------------------


def test_google_code_flow_returns_state_then_tokens_with_a_valid_id_token(google_client):
    url = google_client.authorize_url(state="state-123", nonce="nonce-456")
    callback = google_client.sign_in(url, email="Ann@Example.com", name="Ann Lee", given_name="Ann", family_name="Lee")

    assert callback["state"] == "state-123"
    assert callback["iss"] == google_client.metadata()["issuer"]
    response = google_client.redeem(callback["code"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert set(tokens["scope"].split()) == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    }
    claims = google_client.validate_id_token(tokens["id_token"], nonce="nonce-456")
    assert claims["iss"] == google_client.metadata()["issuer"]
    assert claims["aud"] == claims["azp"] == "google-client-id"
    assert re.fullmatch(r"1\d{20}", claims["sub"])
    assert claims["email"] == "Ann@Example.com"
    assert claims["email_verified"] is True
    assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Ann Lee", "Ann", "Lee")
    assert claims["exp"] - claims["iat"] == 3600


def test_google_id_token_carries_an_at_hash_of_its_access_token(google_client):
    tokens = google_client.log_in()
    claims = google_client.validate_id_token(tokens["id_token"], nonce="expected-nonce")

    digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_microsoft_code_flow_issues_a_token_from_the_users_tenant(microsoft_client):
    url = microsoft_client.authorize_url(state="state-9", nonce="nonce-9")
    callback = microsoft_client.sign_in(url, email="bo@contoso.example", name="Bo Berg")

    assert callback["state"] == "state-9"
    tokens = microsoft_client.redeem(callback["code"]).json()
    assert tokens["ext_expires_in"] == tokens["expires_in"]
    claims = microsoft_client.validate_id_token(tokens["id_token"], nonce="nonce-9")
    base = microsoft_client.metadata()["issuer"].replace("/{tenantid}/v2.0", "")
    assert claims["tid"] == DEMO_TENANT_ID
    assert claims["iss"] == f"{base}/{DEMO_TENANT_ID}/v2.0"
    assert claims["ver"] == "2.0"
    assert claims["aud"] == "microsoft-client-id"
    assert claims["email"] == claims["preferred_username"] == "bo@contoso.example"
    assert claims["name"] == "Bo Berg"
    assert claims["nbf"] == claims["iat"]
    assert len(claims["sub"]) == 43
    assert "email_verified" not in claims  # Microsoft does not vouch for e-mail addresses this way


def test_microsoft_sign_in_with_a_typed_tenant_puts_it_in_iss_and_tid(microsoft_client):
    tenant = "0b8d9d63-3c54-4a5e-9f0e-6a1c2f7d8e90"
    tokens = microsoft_client.log_in(tenant_id=tenant.upper())

    claims = microsoft_client.validate_id_token(tokens["id_token"], nonce="expected-nonce")
    assert claims["tid"] == tenant
    assert claims["iss"].endswith(f"/microsoft/{tenant}/v2.0")


def test_microsoft_object_id_is_per_tenant_and_sub_is_per_application(identity_emulator, microsoft_client):
    first = microsoft_client.validate_id_token(microsoft_client.log_in()["id_token"], "expected-nonce")
    again = microsoft_client.validate_id_token(microsoft_client.log_in()["id_token"], "expected-nonce")
    other_tenant = microsoft_client.validate_id_token(
        microsoft_client.log_in(tenant_id="0b8d9d63-3c54-4a5e-9f0e-6a1c2f7d8e90")["id_token"], "expected-nonce"
    )

    assert (first["oid"], first["sub"]) == (again["oid"], again["sub"])
    assert other_tenant["oid"] != first["oid"]
    with start_identity(microsoft_client_id="another-app", microsoft_client_secret="s") as other_app:
        client = RelyingParty(other_app.microsoft_discovery_url, "another-app", "s", IdentityControl(other_app.url))
        elsewhere = client.validate_id_token(client.log_in()["id_token"], "expected-nonce")
    assert elsewhere["oid"] == first["oid"]
    assert elsewhere["sub"] != first["sub"]


def test_google_subject_is_stable_for_an_e_mail_and_can_be_set_on_the_page(google_client):
    first = google_client.validate_id_token(google_client.log_in(email="cy@example.com")["id_token"], "expected-nonce")
    again = google_client.validate_id_token(google_client.log_in(email="CY@example.com")["id_token"], "expected-nonce")
    chosen = google_client.validate_id_token(
        google_client.log_in(email="cy@example.com", subject="108765")["id_token"], "expected-nonce"
    )

    assert first["sub"] == again["sub"]
    assert chosen["sub"] == "108765"


def test_unticked_e_mail_verified_box_gives_email_verified_false(google_client):
    tokens = google_client.log_in(email_verified=False)

    claims = google_client.validate_id_token(tokens["id_token"], nonce="expected-nonce")
    assert claims["email_verified"] is False
    assert (
        google_client.http.get(
            google_client.metadata()["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=10,
        ).json()["email_verified"]
        is False
    )


def test_microsoft_domain_verified_box_gives_the_optional_xms_edov_claim(microsoft_client):
    verified = microsoft_client.validate_id_token(microsoft_client.log_in()["id_token"], nonce="expected-nonce")
    unverified = microsoft_client.validate_id_token(
        microsoft_client.log_in(email_verified=False)["id_token"], nonce="expected-nonce"
    )

    assert verified["xms_edov"] is True
    assert "xms_edov" not in unverified and "email_verified" not in unverified


def test_login_hint_prefills_the_e_mail_field(google_client):
    page = google_client.http.get(google_client.authorize_url(login_hint="dee@example.com"), timeout=10)

    assert page.status_code == 200
    assert re.search(r'name="email" value="dee@example.com"', page.text)


@pytest.mark.parametrize(
    ("scope", "present", "absent"),
    [
        ("openid", {"sub"}, {"email", "name", "email_verified"}),
        ("openid email", {"email", "email_verified"}, {"name"}),
        ("openid profile", {"name"}, {"email"}),
    ],
)
def test_google_claims_follow_the_requested_scopes(google_client, scope, present, absent):
    callback = google_client.sign_in(google_client.authorize_url(scope=scope, nonce="n"))
    tokens = google_client.redeem(callback["code"]).json()

    claims = google_client.validate_id_token(tokens["id_token"], nonce="n")
    assert present <= set(claims)
    assert not absent & set(claims)


def test_microsoft_claims_follow_the_requested_scopes(microsoft_client):
    callback = microsoft_client.sign_in(microsoft_client.authorize_url(scope="openid", nonce="n"))
    tokens = microsoft_client.redeem(callback["code"]).json()

    claims = microsoft_client.validate_id_token(tokens["id_token"], nonce="n")
    assert {"sub", "tid", "iss", "aud", "ver"} <= set(claims)
    assert not {"email", "name", "preferred_username", "oid"} & set(claims)


def test_authorization_request_without_nonce_gives_a_token_without_nonce(google_client):
    callback = google_client.sign_in(google_client.authorize_url(nonce=None))
    tokens = google_client.redeem(callback["code"]).json()

    keys = KeySet.import_key_set(google_client.http.get(google_client.metadata()["jwks_uri"], timeout=10).json())
    assert "nonce" not in jwt.decode(tokens["id_token"], keys).claims


@pytest.mark.parametrize("client_name", ["google_client", "microsoft_client"])
def test_authorization_request_may_be_sent_as_a_form_post(request, client_name):
    client: RelyingParty = request.getfixturevalue(client_name)
    url = client.authorize_url()
    endpoint, query = url.split("?", 1)

    page = client.http.post(endpoint, data=query_of(url), timeout=10)

    assert page.status_code == 200
    assert 'name="email"' in page.text


# --- client authentication and the token endpoint ---------------------------------------------------


@pytest.mark.parametrize("client_name", ["google_client", "microsoft_client"])
@pytest.mark.parametrize("client_auth", ["basic", "post"])
def test_token_endpoint_accepts_client_secret_basic_and_post(request, client_name, client_auth):
    client: RelyingParty = request.getfixturevalue(client_name)
    callback = client.sign_in()

    response = client.redeem(callback["code"], client_auth=client_auth)

    assert response.status_code == 200
    assert {"access_token", "id_token", "token_type", "expires_in", "scope"} <= set(response.json())


def test_basic_credentials_are_form_decoded_as_rfc_6749_says():
    with start_identity(google_client_id="app id", google_client_secret="s3cr:t+/") as idp:
        client = RelyingParty(idp.google_discovery_url, "app id", "s3cr:t+/", IdentityControl(idp.url))
        code = client.sign_in()["code"]
        encoded = base64.b64encode(b"app+id:s3cr%3At%2B%2F").decode()

        response = client.http.post(
            client.metadata()["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK_URL},
            headers={"Authorization": f"Basic {encoded}"},
            timeout=10,
        )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("client_auth", ["basic", "post"])
def test_wrong_client_secret_is_refused_with_invalid_client(google_client, client_auth):
    code = google_client.sign_in()["code"]
    google_client.client_secret = "not-the-secret"

    response = google_client.redeem(code, client_auth=client_auth)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    if client_auth == "basic":
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_microsoft_wrong_secret_error_carries_its_aadsts_code(microsoft_client):
    code = microsoft_client.sign_in()["code"]
    microsoft_client.client_secret = "not-the-secret"

    body = microsoft_client.redeem(code).json()

    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)


def test_unknown_client_is_refused_at_the_token_endpoint(google_client):
    code = google_client.sign_in()["code"]
    google_client.client_id = "someone-else"

    response = google_client.redeem(code, client_auth="post")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_token_request_without_client_credentials_is_an_invalid_request(google_client):
    code = google_client.sign_in()["code"]

    response = google_client.http.post(
        google_client.metadata()["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK_URL},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_malformed_basic_header_is_refused_without_a_server_error(google_client):
    response = google_client.http.post(
        google_client.metadata()["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "x"},
        headers={"Authorization": "Basic %%%not-base64"},
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_code_is_single_use_and_its_replay_revokes_the_first_access_token(google_client):
    code = google_client.sign_in()["code"]
    first = google_client.redeem(code)
    userinfo_url = google_client.metadata()["userinfo_endpoint"]
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert google_client.http.get(userinfo_url, headers=bearer, timeout=10).status_code == 200

    replay = google_client.redeem(code)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert google_client.http.get(userinfo_url, headers=bearer, timeout=10).status_code == 401


def test_microsoft_replayed_code_is_refused_with_its_aadsts_code(microsoft_client):
    code = microsoft_client.sign_in()["code"]
    assert microsoft_client.redeem(code).status_code == 200

    body = microsoft_client.redeem(code).json()

    assert body["error"] == "invalid_grant"
    assert body["error_codes"] == [54005]


def test_expired_code_is_refused():
    with start_identity(code_lifetime=0) as idp:
        client = RelyingParty(
            idp.google_discovery_url, "google-client-id", "google-client-secret", IdentityControl(idp.url)
        )
        response = client.redeem(client.sign_in()["code"])

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The provided authorization code has expired.",
    }


def test_unknown_code_is_refused_with_invalid_grant(google_client):
    response = google_client.redeem("made-up-code")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_is_redeemable_only_with_the_redirect_uri_it_was_issued_for(google_client):
    code = google_client.sign_in()["code"]

    response = google_client.redeem(code, redirect_uri="http://127.0.0.1:8999/elsewhere")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_google_code_is_not_redeemable_at_microsoft(google_client, microsoft_client):
    code = google_client.sign_in()["code"]

    response = microsoft_client.redeem(code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "refresh_token", "code": "x"}, "unsupported_grant_type"),
        ({"code": "x"}, "invalid_request"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
    ],
)
def test_token_request_with_a_bad_grant_gets_an_oauth_error_object(google_client, data, error):
    response = google_client.http.post(
        google_client.metadata()["token_endpoint"],
        data=data,
        auth=(google_client.client_id, google_client.client_secret),
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == error


# --- PKCE ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_code_is_redeemed_with_the_matching_verifier(google_client, method):
    verifier = secrets.token_urlsafe(48)
    challenge = s256(verifier) if method == "S256" else verifier
    url = google_client.authorize_url(code_challenge=challenge, code_challenge_method=method)

    response = google_client.redeem(google_client.sign_in(url)["code"], code_verifier=verifier)

    assert response.status_code == 200


@pytest.mark.parametrize("verifier", [None, "x" * 43])
def test_pkce_code_without_the_matching_verifier_is_refused(microsoft_client, verifier):
    url = microsoft_client.authorize_url(code_challenge=s256(secrets.token_urlsafe(48)), code_challenge_method="S256")
    code = microsoft_client.sign_in(url)["code"]
    extra = {"code_verifier": verifier} if verifier else {}

    response = microsoft_client.redeem(code, **extra)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unsupported_pkce_method_is_sent_back_as_invalid_request(google_client):
    url = google_client.authorize_url(code_challenge="a" * 43, code_challenge_method="S512", state="st")

    response = google_client.http.get(url, allow_redirects=False, timeout=10)

    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert (params["error"], params["state"]) == ("invalid_request", "st")


# --- userinfo -------------------------------------------------------------------------------------------


def test_google_userinfo_answers_the_access_token_holder(google_client):
    tokens = google_client.log_in(email="eve@example.com", name="Eve Example", given_name="Eve")

    info = google_client.http.get(
        google_client.metadata()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()

    claims = google_client.validate_id_token(tokens["id_token"], nonce="expected-nonce")
    assert info == {
        "sub": claims["sub"],
        "name": "Eve Example",
        "given_name": "Eve",
        "email": "eve@example.com",
        "email_verified": True,
    }


def test_microsoft_userinfo_answers_with_the_same_pairwise_sub(microsoft_client):
    tokens = microsoft_client.log_in(email="fay@contoso.example", name="Fay")

    info = microsoft_client.http.get(
        microsoft_client.metadata()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()

    claims = microsoft_client.validate_id_token(tokens["id_token"], nonce="expected-nonce")
    assert info == {"sub": claims["sub"], "name": "Fay", "email": "fay@contoso.example"}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_userinfo_without_a_valid_access_token_is_401_with_a_bearer_challenge(google_client, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = google_client.http.get(google_client.metadata()["userinfo_endpoint"], headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_google_access_token_does_not_open_microsoft_userinfo(google_client, microsoft_client):
    tokens = google_client.log_in()

    response = microsoft_client.http.get(
        microsoft_client.metadata()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


# --- the authorization endpoint's refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "shown"),
    [
        ({"client_id": "unknown-client"}, 401, "invalid_client"),
        ({"client_id": None}, 400, "client_id"),
        ({"redirect_uri": "https://attacker.example/callback"}, 400, "redirect_uri_mismatch"),
        ({"redirect_uri": None}, 400, "redirect_uri"),
    ],
)
def test_bad_client_or_redirect_uri_shows_an_error_page_and_never_redirects(google_client, params, status, shown):
    response = google_client.http.get(google_client.authorize_url(**params), allow_redirects=False, timeout=10)

    assert response.status_code == status
    assert "Location" not in response.headers
    assert shown in response.text


def test_microsoft_redirect_uri_mismatch_page_names_aadsts50011(microsoft_client):
    url = microsoft_client.authorize_url(redirect_uri="https://attacker.example/cb")

    response = microsoft_client.http.get(url, allow_redirects=False, timeout=10)

    assert response.status_code == 400
    assert "AADSTS50011" in response.text


def test_registered_non_loopback_redirect_uri_is_accepted():
    with start_identity(redirect_uris=["https://portal.example/auth/callback"]) as idp:
        client = RelyingParty(
            idp.google_discovery_url,
            "google-client-id",
            "google-client-secret",
            IdentityControl(idp.url),
            redirect_uri="https://portal.example/auth/callback",
        )
        assert client.redeem(client.sign_in()["code"]).status_code == 200


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"scope": "email profile"}, "invalid_scope"),
        ({"scope": "openid https://www.googleapis.com/auth/drive"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"response_mode": "form_post"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
)
def test_bad_authorization_parameters_are_sent_back_to_the_client_with_state(google_client, params, error):
    response = google_client.http.get(
        google_client.authorize_url(state="keep-me", **params), allow_redirects=False, timeout=10
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith(CALLBACK_URL + "?")
    callback = query_of(response.headers["Location"])
    assert callback["error"] == error
    assert callback["state"] == "keep-me"


def test_repeated_parameter_is_an_invalid_request(google_client):
    url = google_client.authorize_url(state="s") + "&scope=openid"

    response = google_client.http.get(url, allow_redirects=False, timeout=10)

    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_redirect_uri_query_is_kept_when_the_code_is_added(google_client):
    google_client.redirect_uri = CALLBACK_URL + "?next=%2Fspace"

    callback = google_client.control.sign_in(
        google_client.authorize_url(), email="a@example.com", name="A", session=google_client.http
    )

    params = query_of(callback)
    assert params["next"] == "/space"
    assert "code" in params


# --- the account page -------------------------------------------------------------------------------------


def test_cancel_on_the_account_page_returns_access_denied_with_state(google_client):
    callback = google_client.control.cancel_sign_in(
        google_client.authorize_url(state="s-1"), session=google_client.http
    )

    assert query_of(callback)["error"] == "access_denied"
    assert query_of(callback)["state"] == "s-1"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "", "name": "A"}, "email", "Enter an e-mail address."),
        ({"email": "not-an-address", "name": "A"}, "email", "Enter an e-mail address like name@example.com."),
        ({"email": "a@example.com", "name": " "}, "name", "Enter a name."),
        ({"email": "a@example.com", "name": "A" * 300}, "name", "longer than 256 characters"),
        ({"email": "a\x00b@example.com", "name": "A"}, "email", "cannot contain control characters"),
    ],
)
def test_account_page_refuses_bad_input_with_a_message_next_to_the_field(google_client, fields, field, message):
    response = post_account_form(google_client, fields)

    assert response.status_code == 400
    assert re.search(rf'id="{field}-note">[^<]*{re.escape(message)}', response.text)


def test_microsoft_account_page_refuses_a_tenant_id_that_is_not_a_guid(microsoft_client):
    response = post_account_form(microsoft_client, {"email": "a@example.com", "name": "A", "tenant_id": "contoso"})

    assert response.status_code == 400
    assert 'id="tenant_id-note"' in response.text


def test_account_page_escapes_what_was_typed(google_client):
    response = post_account_form(google_client, {"email": "<script>x</script>", "name": "A"})

    assert "<script>x</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_account_form_with_tampered_client_shows_the_error_page(google_client):
    response = post_account_form(google_client, {"email": "a@example.com", "name": "A", "client_id": "other"})

    assert response.status_code == 401
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("authority", "tenant", "accepted"),
    [
        ("organizations", CONSUMER_TENANT_ID, False),
        ("organizations", DEMO_TENANT_ID, True),
        ("consumers", DEMO_TENANT_ID, False),
        ("consumers", CONSUMER_TENANT_ID, True),
        (DEMO_TENANT_ID, "0b8d9d63-3c54-4a5e-9f0e-6a1c2f7d8e90", False),
        (DEMO_TENANT_ID, DEMO_TENANT_ID, True),
    ],
)
def test_microsoft_authority_decides_which_tenants_may_sign_in(
    identity_emulator, microsoft_client, authority, tenant, accepted
):
    microsoft_client.discovery_url = (
        f"{identity_emulator.url}/microsoft/{authority}/v2.0/.well-known/openid-configuration"
    )

    response = post_account_form(microsoft_client, {"email": "a@example.com", "name": "A", "tenant_id": tenant})

    assert response.status_code == (302 if accepted else 400)


def test_microsoft_account_page_offers_the_default_tenant(microsoft_client):
    page = microsoft_client.http.get(microsoft_client.authorize_url(), timeout=10)

    assert f'name="tenant_id" value="{DEMO_TENANT_ID}"' in page.text


def post_account_form(client: RelyingParty, fields: dict[str, str]) -> requests.Response:
    """Open the account page as a browser would and submit its form with `fields` typed in."""
    page = client.http.get(client.authorize_url(), timeout=10)
    form = AccountPageForm.parse(page.text)
    assert form is not None, page.text
    return client.http.post(form.action, data={**form.fields, **fields}, allow_redirects=False, timeout=10)
