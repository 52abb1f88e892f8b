"""Injected id_token faults: each yields a token that a correct relying party refuses, then the next is good."""

from __future__ import annotations

import json

import pytest
import requests
from joserfc import jws
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError

from emulators.identity.control import EmulatorControlError

FAULTS = [
    ("google", "bad_signature", BadSignatureError, None),
    ("google", "wrong_audience", InvalidClaimError, "'aud'"),
    ("google", "wrong_issuer", InvalidClaimError, "'iss'"),
    ("google", "expired", ExpiredTokenError, "expired"),
    ("google", "wrong_nonce", InvalidClaimError, "'nonce'"),
    ("microsoft", "bad_signature", BadSignatureError, None),
    ("microsoft", "wrong_audience", InvalidClaimError, "'aud'"),
    ("microsoft", "wrong_issuer", InvalidClaimError, "'iss'"),
    ("microsoft", "wrong_tenant", InvalidClaimError, "'iss'"),
    ("microsoft", "expired", ExpiredTokenError, "expired"),
    ("microsoft", "wrong_nonce", InvalidClaimError, "'nonce'"),
]


def unverified(token: str) -> tuple[dict, dict]:
    """Header and claims read without any check, to see what a fault changed."""
    compact = jws.extract_compact(token.encode())
    return compact.headers(), json.loads(compact.payload)


@pytest.mark.parametrize(("provider", "fault", "refusal", "reason"), FAULTS)
def test_faulty_id_token_is_refused_and_the_next_one_is_valid(
    request, identity_control, provider, fault, refusal, reason
):
    client = request.getfixturevalue(f"{provider}_client")
    identity_control.inject_fault(provider, fault)

    faulty = client.log_in(nonce="n-1")["id_token"]
    with pytest.raises(refusal, match=reason):
        client.validate_id_token(faulty, nonce="n-1")

    assert identity_control.pending_faults()[provider] == []
    good = client.log_in(nonce="n-2")["id_token"]
    assert client.validate_id_token(good, nonce="n-2")["aud"] == client.client_id


def test_bad_signature_token_names_the_published_kid(google_client, identity_control, identity_emulator):
    identity_control.inject_fault("google", "bad_signature")

    header, claims = unverified(google_client.log_in()["id_token"])

    assert header["kid"] == identity_emulator.provider.keys["google"].kid
    assert claims["aud"] == google_client.client_id


def test_wrong_tenant_token_names_another_tenant_in_iss_than_in_tid(microsoft_client, identity_control):
    identity_control.inject_fault("microsoft", "wrong_tenant")

    _, claims = unverified(microsoft_client.log_in()["id_token"])

    issuer_tenant = claims["iss"].split("/microsoft/", 1)[1].split("/", 1)[0]
    assert issuer_tenant != claims["tid"]
    assert claims["iss"].endswith("/v2.0")


def test_wrong_audience_token_is_for_another_client(microsoft_client, identity_control):
    identity_control.inject_fault("microsoft", "wrong_audience")

    _, claims = unverified(microsoft_client.log_in()["id_token"])

    assert claims["aud"] != microsoft_client.client_id


def test_expired_token_ran_out_well_beyond_clock_skew_leeway(google_client, identity_control):
    identity_control.inject_fault("google", "expired")

    _, claims = unverified(google_client.log_in()["id_token"])

    good = unverified(google_client.log_in()["id_token"])[1]
    assert claims["exp"] <= good["iat"] - 3600
    assert claims["exp"] - claims["iat"] == good["exp"] - good["iat"]


def test_faults_queue_in_order_per_provider(google_client, microsoft_client, identity_control):
    identity_control.inject_fault("google", "expired")
    identity_control.inject_fault("google", "wrong_nonce")

    microsoft_token = microsoft_client.log_in(nonce="m")["id_token"]
    assert microsoft_client.validate_id_token(microsoft_token, nonce="m")
    assert identity_control.pending_faults() == {"google": ["expired", "wrong_nonce"], "microsoft": []}

    with pytest.raises(ExpiredTokenError):
        google_client.validate_id_token(google_client.log_in(nonce="g")["id_token"], nonce="g")
    with pytest.raises(InvalidClaimError):
        google_client.validate_id_token(google_client.log_in(nonce="g")["id_token"], nonce="g")


def test_reset_forgets_queued_faults(google_client, identity_control):
    identity_control.inject_fault("google", "wrong_issuer")

    identity_control.reset()

    assert identity_control.pending_faults() == {"google": [], "microsoft": []}
    assert google_client.validate_id_token(google_client.log_in(nonce="r")["id_token"], nonce="r")


@pytest.mark.parametrize(
    ("provider", "fault"),
    [("google", "wrong_tenant"), ("google", "nonsense"), ("yahoo", "expired")],
)
def test_control_refuses_a_fault_the_provider_cannot_have(identity_control, provider, fault):
    with pytest.raises(EmulatorControlError, match="HTTP 400"):
        identity_control.inject_fault(provider, fault)


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"provider": 3}'])
def test_control_answers_bad_json_with_a_400_error_object(identity_emulator, body):
    response = requests.post(
        identity_emulator.url + "/__emulator__/faults",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
