"""Spaces: the dashboard of the current space, creating a team, switching spaces, Team Settings pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Membership, Plan, Role, Team
from tests.auth_flow import csrf_token
from tests.factories import login


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def test_the_dashboard_shows_the_current_space_and_its_links(client, factory):
    team = factory.team(name="Acme Sales", plan=Plan.PREMIUM)
    owner = factory.member(team, Role.OWNER)
    login(client, owner)

    page = client.get("/dashboard").get_data(as_text=True)

    assert "<h1>Acme Sales</h1>" in page
    assert "Premium plan" in page and "you are owner" in page
    assert f'href="/teams/{team.id}/calendars"' in page
    assert f'href="/teams/{team.id}/settings"' in page


def test_someone_in_no_team_is_offered_to_create_one(client, factory):
    login(client, factory.user())

    page = client.get("/dashboard").get_data(as_text=True)

    assert "You are not in any team yet" in page


def test_creating_a_team_makes_its_creator_the_owner_and_switches_to_it(client, factory, db_session):
    user = factory.user()
    login(client, user)

    response = post(client, "/teams/new", name="  Globex  ")

    team = db_session.scalar(select(Team).where(Team.name == "Globex"))
    assert team is not None and team.plan == Plan.FREE and not team.is_personal
    assert response.headers["Location"] == f"/teams/{team.id}/settings/members"
    membership = db_session.scalar(select(Membership).where(Membership.team_id == team.id))
    assert membership.user_id == user.id and membership.role == Role.OWNER
    assert user.current_team_id == team.id


def test_a_team_needs_a_name(client, factory, db_session):
    login(client, factory.user())

    response = post(client, "/teams/new", name="   ")

    assert response.status_code == 200
    assert "Enter a name for the team." in response.get_data(as_text=True)


def test_switching_spaces_changes_the_dashboard(client, factory):
    first, second = factory.team(name="First Co"), factory.team(name="Second Co")
    user = factory.member(first, Role.MEMBER)
    factory.member(second, Role.ADMIN, user=user)
    login(client, user)
    assert "<h1>First Co</h1>" in client.get("/dashboard").get_data(as_text=True)

    response = post(client, "/space", team_id=str(second.id))

    assert response.headers["Location"] == "/dashboard"
    assert user.current_team_id == second.id
    assert "<h1>Second Co</h1>" in client.get("/dashboard").get_data(as_text=True)


def test_the_space_switcher_lists_only_the_users_spaces(client, factory):
    mine, theirs = factory.team(name="Mine Ltd"), factory.team(name="Theirs Ltd")
    user = factory.member(mine, Role.MEMBER)
    factory.member(theirs, Role.OWNER)
    login(client, user)

    page = client.get("/dashboard").get_data(as_text=True)

    assert f'<option value="{mine.id}" selected>Mine Ltd</option>' in page
    assert "Theirs Ltd" not in page


def test_switching_to_someone_elses_team_is_not_found(client, factory):
    mine, theirs = factory.team(), factory.team()
    user = factory.member(mine, Role.OWNER)
    factory.member(theirs, Role.OWNER)
    login(client, user)

    assert post(client, "/space", team_id=str(theirs.id)).status_code == 404
    assert user.current_team_id == mine.id


@pytest.mark.parametrize("team_id", ["not-a-number", "", "-1", "99999999999"])
def test_switching_without_a_space_is_a_clear_error(client, factory, team_id):
    user = factory.member(factory.team(), Role.OWNER)
    login(client, user)

    response = post(client, "/space", team_id=team_id)

    assert response.status_code == 400
    assert "Choose a space to switch to." in response.get_data(as_text=True)


def test_removed_from_the_current_team_the_user_falls_back_to_another_space(client, factory, db_session):
    home, team = factory.team(name="Home Space"), factory.team(name="Gone Team")
    user = factory.member(home, Role.OWNER)
    membership = Membership(team_id=team.id, user_id=user.id, role=Role.MEMBER)
    db_session.add(membership)
    user.current_team_id = team.id
    db_session.flush()
    db_session.delete(membership)
    db_session.flush()
    login(client, user)

    assert "<h1>Home Space</h1>" in client.get("/dashboard").get_data(as_text=True)


def test_team_settings_has_general_members_and_integrations_in_its_left_navigation(client, factory):
    team = factory.team(name="Acme Sales")
    login(client, factory.member(team, Role.MEMBER))

    page = client.get(f"/teams/{team.id}/settings/integrations").get_data(as_text=True)

    assert f'<a href="/teams/{team.id}/settings">General</a>' in page
    assert f'<a href="/teams/{team.id}/settings/members">Members</a>' in page
    assert f'<a href="/teams/{team.id}/settings/integrations" aria-current="page">Integrations</a>' in page
    assert f'href="/teams/{team.id}/settings/integrations/salesforce"' in page
    assert '<span aria-current="page">Integrations</span>' in page  # the breadcrumb says where you are


def test_owners_rename_the_team(client, factory):
    team = factory.team(name="Old Name")
    login(client, factory.member(team, Role.OWNER))

    response = post(client, f"/teams/{team.id}/settings", name="New Name")

    assert response.headers["Location"] == f"/teams/{team.id}/settings"
    assert team.name == "New Name"


def test_admins_cannot_rename_the_team(client, factory):
    team = factory.team(name="Old Name")
    login(client, factory.member(team, Role.ADMIN))

    assert "Save name" not in client.get(f"/teams/{team.id}/settings").get_data(as_text=True)
    assert post(client, f"/teams/{team.id}/settings", name="Hijacked").status_code == 403
    assert team.name == "Old Name"
