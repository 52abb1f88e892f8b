"""id_tokens that fail validation are refused with a clear message and leave no session and no account.

The identity emulator spoils the next id_token it issues (over real HTTP, through its control API); the portal
redeems the code and validates the token exactly as it would Google's or Microsoft's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import User
from tests.auth_flow import log_in_with, signed_in_user_id

REFUSALS = [
    ("google", "bad_signature", "is not signed by a key the provider publishes"),
    ("google", "wrong_audience", "was issued to another application"),
    ("google", "wrong_issuer", "was not issued by Google"),
    ("google", "expired", "has expired"),
    ("google", "wrong_nonce", "does not belong to this login attempt"),
    ("microsoft", "bad_signature", "is not signed by a key the provider publishes"),
    ("microsoft", "wrong_audience", "was issued to another application"),
    ("microsoft", "wrong_issuer", "was not issued by Microsoft for the tenant it names"),
    ("microsoft", "wrong_tenant", "was not issued by Microsoft for the tenant it names"),
    ("microsoft", "expired", "has expired"),
    ("microsoft", "wrong_nonce", "does not belong to this login attempt"),
]


@pytest.mark.parametrize(("provider", "fault", "reason"), REFUSALS)
def test_a_faulty_id_token_is_refused_with_a_clear_message(
    client, identity_control, db_session, provider, fault, reason
):
    email = f"{fault}.{provider}@example.com"

    response = log_in_with(client, identity_control, provider, fault=fault, email=email)

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None
    assert db_session.scalar(select(User).where(User.email == email)) is None
    page = client.get("/login")
    assert page.status_code == 200
    label = provider.capitalize()
    assert f"Login with {label} was refused: the sign-in token {reason}." in page.get_data(as_text=True)


def test_after_a_refused_token_the_next_clean_login_succeeds(client, identity_control):
    log_in_with(client, identity_control, "microsoft", fault="wrong_tenant", email="kim@example.com")

    response = log_in_with(client, identity_control, "microsoft", email="kim@example.com")

    assert response.headers["Location"] == "/dashboard"
    assert signed_in_user_id(client) is not None


def test_a_refused_login_ends_an_existing_session(client, identity_control):
    log_in_with(client, identity_control, "google", email="lou@example.com")

    log_in_with(client, identity_control, "google", fault="bad_signature", email="lou@example.com")

    assert signed_in_user_id(client) is None
