"""Logging in with Google and Microsoft through the identity emulator over real HTTP: accounts, identities,
personal spaces, linking by verified e-mail only, `next`, logout and the session that login leaves."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Membership, Role, User
from tests.auth_flow import csrf_token, finish_login, log_in_with, signed_in_user_id, start_login

OTHER_TENANT = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"


def user_by_email(db_session, email: str) -> User | None:
    return db_session.scalar(select(User).where(User.email == email))


def test_first_google_login_creates_the_account_and_a_personal_space(client, identity_control, db_session):
    response = log_in_with(client, identity_control, "google", email="Ann@Example.com", name="Ann Example")

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    user = user_by_email(db_session, "ann@example.com")
    assert user is not None and user.email_verified and user.name == "Ann Example"
    assert signed_in_user_id(client) == str(user.id)
    [membership] = db_session.scalars(select(Membership).where(Membership.user_id == user.id))
    assert membership.role == Role.OWNER and membership.team.is_personal
    assert user.current_team_id == membership.team_id
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Ann Example (personal)" in page


def test_a_microsoft_email_without_xms_edov_is_not_verified(client, identity_control, db_session):
    log_in_with(client, identity_control, "microsoft", email="mia@contoso.example", name="Mia", email_verified=False)

    user = user_by_email(db_session, "mia@contoso.example")
    assert user is not None and not user.email_verified
    [identity] = user.identities
    assert identity.provider == "microsoft"
    assert identity.issuer.endswith("/v2.0") and "{tenantid}" not in identity.issuer


def test_a_microsoft_email_whose_domain_the_tenant_verified_is_verified(client, identity_control, db_session):
    log_in_with(client, identity_control, "microsoft", email="max@contoso.example", email_verified=True)

    assert user_by_email(db_session, "max@contoso.example").email_verified


def test_microsoft_accounts_of_any_tenant_may_log_in(client, identity_control, db_session):
    response = log_in_with(client, identity_control, "microsoft", email="olaf@fabrikam.example", tenant_id=OTHER_TENANT)

    assert response.headers["Location"] == "/dashboard"
    user = user_by_email(db_session, "olaf@fabrikam.example")
    assert user.identities[0].issuer.endswith(f"/microsoft/{OTHER_TENANT}/v2.0")


def test_a_second_login_finds_the_same_account_without_another_space(client, identity_control, db_session):
    log_in_with(client, identity_control, "google", email="ben@example.com", name="Ben")
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    log_in_with(client, identity_control, "google", email="ben@example.com", name="Benjamin")

    user = user_by_email(db_session, "ben@example.com")
    assert user.name == "Benjamin"
    assert len(user.identities) == 1
    assert [membership.team.is_personal for membership in user.memberships] == [True]


def test_a_verified_google_email_links_a_new_identity_to_the_existing_account(
    client, identity_control, db_session, factory
):
    existing = factory.user("carla@example.com", verified=True)

    log_in_with(client, identity_control, "google", email="carla@example.com", name="Carla")

    assert signed_in_user_id(client) == str(existing.id)
    assert [identity.provider for identity in existing.identities] == ["google"]


def test_an_unverified_google_email_does_not_take_over_an_existing_account(
    client, identity_control, db_session, factory
):
    existing = factory.user("dora@example.com", verified=True)

    response = log_in_with(client, identity_control, "google", email="dora@example.com", email_verified=False)

    assert response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None
    assert existing.identities == []
    assert "did not confirm that this address is yours" in client.get("/login").get_data(as_text=True)


def test_a_microsoft_email_without_xms_edov_does_not_take_over_an_account(
    client, identity_control, db_session, factory
):
    existing = factory.user("erin@example.com", verified=True)

    log_in_with(client, identity_control, "microsoft", email="erin@example.com", email_verified=False)

    assert signed_in_user_id(client) is None
    assert existing.identities == []
    assert "An account with erin@example.com already exists" in client.get("/login").get_data(as_text=True)


def test_a_microsoft_email_with_xms_edov_links_to_the_existing_account(client, identity_control, db_session, factory):
    existing = factory.user("eli@example.com", verified=True)

    log_in_with(client, identity_control, "microsoft", email="eli@example.com", email_verified=True)

    assert signed_in_user_id(client) == str(existing.id)
    assert [identity.provider for identity in existing.identities] == ["microsoft"]


def test_cancelling_at_the_provider_comes_back_with_a_message_and_no_session(client, identity_control):
    start = start_login(client, "google")
    response = finish_login(client, identity_control.cancel_sign_in(start.headers["Location"]))

    assert response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None
    assert "You cancelled the login at Google." in client.get("/login").get_data(as_text=True)


def test_a_callback_without_a_login_attempt_is_refused_with_a_message(client):
    response = client.get("/login/google/callback?code=stolen&state=made-up")

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "That login attempt expired" in client.get("/login").get_data(as_text=True)


def test_an_unknown_provider_is_not_found(client):
    assert client.post("/login/yahoo", data={"csrf_token": csrf_token(client)}).status_code == 404
    assert client.get("/login/yahoo/callback?code=x&state=y").status_code == 404


def test_login_returns_to_the_page_that_asked_for_it(client, identity_control):
    asked = client.get("/teams/new")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/login?next=")

    response = log_in_with(client, identity_control, "google", next_target="/teams/new")

    assert response.headers["Location"] == "/teams/new"


def test_login_starts_a_fresh_session(client, identity_control):
    with client.session_transaction() as session:
        session["planted_before_login"] = "attacker"

    log_in_with(client, identity_control, "google", email="fay@example.com")

    with client.session_transaction() as session:
        assert "planted_before_login" not in session
        assert session["_user_id"] and session["_id"]


def test_logout_needs_a_post_with_a_csrf_token(client, identity_control):
    log_in_with(client, identity_control, "google", email="hal@example.com")

    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert signed_in_user_id(client) is not None

    response = client.post("/logout", data={"csrf_token": csrf_token(client)})

    assert response.headers["Location"] == "/"
    assert signed_in_user_id(client) is None
    assert client.get("/dashboard").status_code == 302


def test_the_login_page_offers_both_providers(client):
    page = client.get("/login").get_data(as_text=True)

    assert "Log in with Google" in page and "Log in with Microsoft" in page
    assert 'action="/login/google"' in page and 'action="/login/microsoft"' in page


def test_the_start_page_offers_the_login_buttons(client):
    page = client.get("/").get_data(as_text=True)

    assert "Log in with Google" in page and "Log in with Microsoft" in page


def test_a_signed_in_visitor_of_the_start_page_lands_in_their_space(client, identity_control):
    log_in_with(client, identity_control, "google", email="ivy@example.com")

    assert client.get("/").headers["Location"] == "/dashboard"


def test_login_starts_and_callbacks_are_rate_limited(make_app, run_id):
    app = make_app(RATE_LIMIT_LOGIN="2/600", RQ_QUEUE_PREFIX=f"login-limit-{run_id}")
    client = app.test_client()

    starts = [start_login(client, "google").status_code for _ in range(3)]
    callback = client.get("/login/google/callback?code=x&state=y")

    assert starts == [302, 302, 429]
    assert callback.status_code == 429
    assert "Too many attempts" in callback.get_data(as_text=True)


def test_the_callback_address_follows_the_public_base_url(make_app):
    client = make_app(PUBLIC_BASE_URL="https://portal.example/").test_client()

    response = start_login(client, "google")

    assert "redirect_uri=https%3A%2F%2Fportal.example%2Flogin%2Fgoogle%2Fcallback" in response.headers["Location"]


def test_a_provider_without_a_client_id_is_not_offered(make_app):
    client = make_app(MICROSOFT_CLIENT_ID="").test_client()

    page = client.get("/login").get_data(as_text=True)

    assert "Log in with Google" in page and "Log in with Microsoft" not in page
    assert start_login(client, "microsoft").status_code == 404
