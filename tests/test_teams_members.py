"""Team Settings → Members: owners add people by e-mail with a role, change roles and remove members; a team
always keeps an owner; everyone else only looks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Invitation, Membership, Role
from tests.auth_flow import csrf_token
from tests.factories import login


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def role_of(db_session, team, user) -> Role | None:
    membership = db_session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    return membership.role if membership else None


@pytest.fixture
def team_and_owner(factory):
    team = factory.team(name="Acme Sales")
    return team, factory.member(team, Role.OWNER)


def test_owner_adds_an_account_with_a_verified_email_at_once(client, factory, db_session, team_and_owner):
    team, owner = team_and_owner
    colleague = factory.user("sam@example.com", verified=True)
    login(client, owner)

    response = post(client, f"/teams/{team.id}/settings/members/add", email="Sam@Example.com", role="admin")

    assert response.headers["Location"] == f"/teams/{team.id}/settings/members"
    assert role_of(db_session, team, colleague) == Role.ADMIN
    assert "sam@example.com is now a member of Acme Sales." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_owner_adding_an_unknown_email_saves_an_invitation(client, db_session, team_and_owner):
    team, owner = team_and_owner
    login(client, owner)

    post(client, f"/teams/{team.id}/settings/members/add", email="tia@example.com", role="member")

    invitation = db_session.scalar(select(Invitation).where(Invitation.team_id == team.id))
    assert invitation.email == "tia@example.com" and invitation.role == Role.MEMBER
    page = client.get(f"/teams/{team.id}/settings/members").get_data(as_text=True)
    assert "Invitation saved for tia@example.com" in page
    assert "tia@example.com · Member" in page


def test_an_account_whose_email_was_never_verified_gets_an_invitation_not_a_membership(
    client, factory, db_session, team_and_owner
):
    team, owner = team_and_owner
    unverified = factory.user("uma@example.com", verified=False)
    login(client, owner)

    post(client, f"/teams/{team.id}/settings/members/add", email="uma@example.com", role="admin")

    assert role_of(db_session, team, unverified) is None
    assert db_session.scalar(select(Invitation).where(Invitation.email == "uma@example.com")) is not None


def test_inviting_the_same_email_again_updates_the_pending_invitation(client, db_session, team_and_owner):
    team, owner = team_and_owner
    login(client, owner)

    post(client, f"/teams/{team.id}/settings/members/add", email="vic@example.com", role="member")
    post(client, f"/teams/{team.id}/settings/members/add", email="vic@example.com", role="admin")

    [invitation] = db_session.scalars(select(Invitation).where(Invitation.email == "vic@example.com"))
    assert invitation.role == Role.ADMIN


def test_an_invalid_email_is_shown_next_to_the_field(client, db_session, team_and_owner):
    team, owner = team_and_owner
    login(client, owner)

    response = post(client, f"/teams/{team.id}/settings/members/add", email="not an address", role="member")

    assert response.status_code == 400
    assert "Enter an e-mail address like name@example.com." in response.get_data(as_text=True)
    assert db_session.scalar(select(Invitation).where(Invitation.team_id == team.id)) is None


def test_an_unknown_role_is_refused(client, db_session, team_and_owner):
    team, owner = team_and_owner
    login(client, owner)

    response = post(client, f"/teams/{team.id}/settings/members/add", email="wes@example.com", role="emperor")

    assert response.status_code == 400
    assert db_session.scalar(select(Invitation).where(Invitation.team_id == team.id)) is None


def test_adding_someone_already_in_the_team_says_so(client, factory, team_and_owner):
    team, owner = team_and_owner
    factory.member(team, Role.MEMBER, email="xia@example.com")
    login(client, owner)

    response = post(client, f"/teams/{team.id}/settings/members/add", email="xia@example.com", role="admin")

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "xia@example.com is already a member of Acme Sales." in page


def test_owner_changes_a_role_and_it_is_audited(client, factory, db_session, team_and_owner):
    team, owner = team_and_owner
    member = factory.member(team, Role.MEMBER)
    login(client, owner)

    post(client, f"/teams/{team.id}/settings/members/{member.id}/role", role="admin_assistant")

    assert role_of(db_session, team, member) == Role.ADMIN_ASSISTANT
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "member.role_changed"))
    assert event.actor_id == owner.id and event.details["role"] == "admin_assistant"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ADMIN_ASSISTANT, Role.MEMBER])
def test_only_owners_add_and_remove_members(client, factory, db_session, team_and_owner, role):
    team, owner = team_and_owner
    actor = factory.member(team, role)
    login(client, actor)

    added = post(client, f"/teams/{team.id}/settings/members/add", email="yan@example.com", role="owner")
    removed = post(client, f"/teams/{team.id}/settings/members/{owner.id}/remove")

    assert added.status_code == 403 and removed.status_code == 403
    assert db_session.scalar(select(Invitation).where(Invitation.team_id == team.id)) is None
    assert role_of(db_session, team, owner) == Role.OWNER


def test_the_last_owner_cannot_be_demoted(client, db_session, team_and_owner):
    team, owner = team_and_owner
    login(client, owner)

    response = post(client, f"/teams/{team.id}/settings/members/{owner.id}/role", role="admin")

    assert role_of(db_session, team, owner) == Role.OWNER
    assert "must keep an owner" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_owner_may_step_down_when_another_owner_remains(client, factory, db_session, team_and_owner):
    team, owner = team_and_owner
    second_owner = factory.member(team, Role.OWNER)
    login(client, owner)

    response = post(client, f"/teams/{team.id}/settings/members/{owner.id}/remove")

    assert response.headers["Location"] == "/dashboard"
    assert role_of(db_session, team, owner) is None
    assert role_of(db_session, team, second_owner) == Role.OWNER
    assert client.get(f"/teams/{team.id}/settings").status_code == 404


def test_owner_removes_a_member(client, factory, db_session, team_and_owner):
    team, owner = team_and_owner
    member = factory.member(team, Role.MEMBER, email="zed@example.com")
    login(client, owner)

    post(client, f"/teams/{team.id}/settings/members/{member.id}/remove")

    assert role_of(db_session, team, member) is None
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "member.removed")) is not None


def test_owner_withdraws_a_pending_invitation(client, db_session, team_and_owner):
    team, owner = team_and_owner
    invitation = Invitation(team_id=team.id, email="ada@example.com", role=Role.MEMBER)
    db_session.add(invitation)
    db_session.flush()
    login(client, owner)

    post(client, f"/teams/{team.id}/settings/invitations/{invitation.id}/revoke")

    assert db_session.scalar(select(Invitation).where(Invitation.team_id == team.id)) is None


def test_members_see_the_member_list_without_the_forms(client, factory, team_and_owner):
    team, owner = team_and_owner
    member = factory.member(team, Role.MEMBER)
    login(client, member)

    page = client.get(f"/teams/{team.id}/settings/members").get_data(as_text=True)

    assert owner.email in page and member.email in page
    assert "Add a member" not in page and "Change role" not in page
    assert "Only the team's owners add members" in page


def test_a_personal_space_takes_no_members(client, factory, db_session):
    space = factory.team(name="Bo (personal)")
    space.is_personal = True
    owner = factory.member(space, Role.OWNER)
    login(client, owner)

    response = post(client, f"/teams/{space.id}/settings/members/add", email="cy@example.com", role="member")

    assert db_session.scalar(select(Invitation).where(Invitation.team_id == space.id)) is None
    assert "A personal space has only you in it." in client.get(response.headers["Location"]).get_data(as_text=True)
