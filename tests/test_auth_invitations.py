"""Invitations bind to an account only through an e-mail address the provider verified (design §3)."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Invitation, Membership, Role, User
from tests.auth_flow import log_in_with, signed_in_user_id


def invite(db_session, team, email: str, role: Role = Role.ADMIN) -> Invitation:
    invitation = Invitation(team_id=team.id, email=email, role=role)
    db_session.add(invitation)
    db_session.flush()
    return invitation


def membership(db_session, team, email: str) -> Membership | None:
    return db_session.scalar(select(Membership).join(User).where(Membership.team_id == team.id, User.email == email))


def test_a_verified_google_email_picks_up_the_invitation(client, identity_control, db_session, factory):
    team = factory.team(name="Acme Sales")
    invitation = invite(db_session, team, "nina@example.com", Role.ADMIN_ASSISTANT)

    log_in_with(client, identity_control, "google", email="Nina@Example.com", name="Nina")

    joined = membership(db_session, team, "nina@example.com")
    assert joined is not None and joined.role == Role.ADMIN_ASSISTANT
    assert invitation.accepted_at is not None
    assert joined.user.current_team_id == team.id
    assert "You have joined Acme Sales." in client.get("/dashboard").get_data(as_text=True)


def test_an_unverified_google_email_does_not_pick_up_the_invitation(client, identity_control, db_session, factory):
    team = factory.team()
    invitation = invite(db_session, team, "omar@example.com")

    log_in_with(client, identity_control, "google", email="omar@example.com", email_verified=False)

    assert signed_in_user_id(client) is not None  # the login itself works, with a space of their own
    assert membership(db_session, team, "omar@example.com") is None
    assert invitation.accepted_at is None


def test_a_microsoft_email_without_xms_edov_does_not_pick_up_the_invitation(
    client, identity_control, db_session, factory
):
    team = factory.team()
    invitation = invite(db_session, team, "pia@example.com")

    log_in_with(client, identity_control, "microsoft", email="pia@example.com", email_verified=False)

    assert signed_in_user_id(client) is not None
    assert membership(db_session, team, "pia@example.com") is None
    assert invitation.accepted_at is None


def test_a_microsoft_email_with_xms_edov_picks_up_the_invitation(client, identity_control, db_session, factory):
    team = factory.team()
    invite(db_session, team, "pat@example.com", Role.MEMBER)

    log_in_with(client, identity_control, "microsoft", email="pat@example.com", email_verified=True)

    assert membership(db_session, team, "pat@example.com").role == Role.MEMBER


def test_a_later_verified_login_picks_up_the_invitation_the_unverified_one_left(
    client, identity_control, db_session, factory
):
    team = factory.team()
    invite(db_session, team, "quinn@example.com", Role.MEMBER)
    log_in_with(client, identity_control, "google", email="quinn@example.com", email_verified=False)
    assert membership(db_session, team, "quinn@example.com") is None

    log_in_with(client, identity_control, "google", email="quinn@example.com", email_verified=True)

    assert membership(db_session, team, "quinn@example.com").role == Role.MEMBER
    assert db_session.scalar(select(User).where(User.email == "quinn@example.com")).email_verified


def test_an_invitation_for_someone_already_in_the_team_is_used_up_without_changing_their_role(
    client, identity_control, db_session, factory
):
    team = factory.team()
    user = factory.member(team, Role.OWNER, email="rae@example.com")
    invitation = invite(db_session, team, "rae@example.com", Role.MEMBER)

    log_in_with(client, identity_control, "google", email="rae@example.com")

    assert signed_in_user_id(client) == str(user.id)
    assert membership(db_session, team, "rae@example.com").role == Role.OWNER
    assert invitation.accepted_at is not None
