"""The identity emulator's discovery documents and key sets, as Google and Microsoft publish theirs."""

from __future__ import annotations

import pytest
import requests
from joserfc.jwk import KeySet

from emulators.identity.settings import CONSUMER_TENANT_ID


def get_json(url: str) -> dict:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_google_discovery_names_its_issuer_and_endpoints_under_the_google_base(identity_emulator):
    document = get_json(identity_emulator.google_discovery_url)
    google = identity_emulator.url + "/google"

    assert document["issuer"] == google
    assert document["authorization_endpoint"] == google + "/o/oauth2/v2/auth"
    assert document["token_endpoint"] == google + "/token"
    assert document["userinfo_endpoint"] == google + "/v1/userinfo"
    assert document["jwks_uri"] == google + "/oauth2/v3/certs"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["subject_types_supported"] == ["public"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}
    assert {"openid", "email", "profile"} <= set(document["scopes_supported"])
    assert {"sub", "email", "email_verified", "name", "given_name", "family_name"} <= set(document["claims_supported"])
    assert "S256" in document["code_challenge_methods_supported"]


def test_microsoft_common_discovery_has_the_tenant_placeholder_issuer(identity_emulator):
    document = get_json(identity_emulator.microsoft_discovery_url)
    common = identity_emulator.url + "/microsoft/common"

    assert document["issuer"] == identity_emulator.url + "/microsoft/{tenantid}/v2.0"
    assert document["authorization_endpoint"] == common + "/oauth2/v2.0/authorize"
    assert document["token_endpoint"] == common + "/oauth2/v2.0/token"
    assert document["jwks_uri"] == common + "/discovery/v2.0/keys"
    assert document["userinfo_endpoint"] == identity_emulator.url + "/microsoft/oidc/userinfo"
    assert document["subject_types_supported"] == ["pairwise"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"tid", "oid", "preferred_username", "ver", "nonce"} <= set(document["claims_supported"])


@pytest.mark.parametrize(
    ("authority", "issuer_tenant"),
    [
        ("organizations", "{tenantid}"),
        ("consumers", CONSUMER_TENANT_ID),
        ("0b8d9d63-3c54-4a5e-9f0e-6a1c2f7d8e90", "0b8d9d63-3c54-4a5e-9f0e-6a1c2f7d8e90"),
    ],
)
def test_microsoft_authorities_other_than_common_publish_their_own_issuer(identity_emulator, authority, issuer_tenant):
    document = get_json(f"{identity_emulator.url}/microsoft/{authority}/v2.0/.well-known/openid-configuration")

    assert document["issuer"] == f"{identity_emulator.url}/microsoft/{issuer_tenant}/v2.0"
    assert document["token_endpoint"] == f"{identity_emulator.url}/microsoft/{authority}/oauth2/v2.0/token"


def test_unknown_microsoft_tenant_is_refused_with_an_oauth_error_object(identity_emulator):
    response = requests.get(
        f"{identity_emulator.url}/microsoft/contoso.example/v2.0/.well-known/openid-configuration", timeout=10
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_tenant"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002: Tenant 'contoso.example' not found.")


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_key_set_publishes_one_rs256_signing_key_with_a_kid_and_no_private_parts(identity_emulator, provider):
    discovery_url = getattr(identity_emulator, f"{provider}_discovery_url")
    keys = get_json(get_json(discovery_url)["jwks_uri"])["keys"]

    assert len(keys) == 1
    key = keys[0]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["kid"] == identity_emulator.provider.keys[provider].kid
    assert {"n", "e"} <= set(key)
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    KeySet.import_key_set({"keys": keys})  # a key set a JOSE library accepts


def test_google_and_microsoft_sign_with_different_keys(identity_emulator):
    keys = identity_emulator.provider.keys

    assert keys["google"].kid != keys["microsoft"].kid


def test_microsoft_keys_name_the_issuer_they_sign_for(identity_emulator):
    document = get_json(identity_emulator.microsoft_discovery_url)
    keys = get_json(document["jwks_uri"])["keys"]

    assert keys[0]["issuer"] == document["issuer"]


def test_control_overview_lists_providers_clients_and_faults(identity_emulator, identity_control):
    overview = get_json(identity_emulator.url + "/__emulator__/")

    assert overview["google"]["discovery_url"] == identity_emulator.google_discovery_url
    assert overview["microsoft"]["discovery_url"] == identity_emulator.microsoft_discovery_url
    assert overview["google"]["client_id"] == "google-client-id"
    assert "wrong_tenant" in overview["microsoft"]["faults"]
    assert "wrong_tenant" not in overview["google"]["faults"]
    assert overview["pending_faults"] == {"google": [], "microsoft": []}
