"""The support console: failures across all teams filterable by team, the same detail pages with retry and no
dismiss, the audit-log viewer, and an audit entry for every look at a team's data and every retry by staff."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit import record
from portal.models import AuditEvent, Role, SyncStatus
from tests.factories import login
from tests.sync_factories import csrf_token, make_attempt, make_booking, make_sync


@pytest.fixture
def two_teams(client, factory, db_session):
    """Two teams with a failed sync each, and a staff member (in neither team) logged in."""
    teams, jobs = [], []
    for name in ("Acme", "Globex"):
        team, users = factory.team_with_roles()
        team.name = name
        calendar = factory.calendar(team, created_by=users[Role.OWNER])
        job = make_sync(db_session, make_booking(db_session, calendar, guest_email=f"guest@{name.lower()}.test"))
        make_attempt(db_session, job)
        teams.append(team)
        jobs.append(job)
    staff = factory.user(email="help@portal.test", staff=True)
    login(client, staff)
    return teams, jobs, staff


def listed_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="sync-(\d+)"', response.get_data(as_text=True))]


def audit_events(db_session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_staff_see_failures_of_every_team_with_the_team_named(client, two_teams):
    teams, jobs, _ = two_teams

    response = client.get("/support/syncs")

    text = response.get_data(as_text=True)
    assert sorted(listed_ids(response)) == sorted(j.id for j in jobs)
    assert "Acme" in text and "Globex" in text
    assert "A field Salesforce requires was blank" in text


def test_the_team_filter_shows_one_teams_failures(client, two_teams):
    teams, jobs, _ = two_teams

    assert listed_ids(client.get(f"/support/syncs?team={teams[1].id}")) == [jobs[1].id]


def test_looking_at_failures_is_audited_with_the_teams_shown(client, two_teams, db_session):
    teams, _, staff = two_teams

    client.get(f"/support/syncs?team={teams[0].id}")

    [event] = audit_events(db_session, "support.view_failures")
    assert (event.actor_id, event.team_id) == (staff.id, teams[0].id)
    assert event.details["teams_shown"] == [teams[0].id]
    assert event.details["filters"] == {"team": str(teams[0].id)}


def test_the_detail_page_shows_the_trail_offers_retry_not_dismiss_and_is_audited(client, two_teams, db_session):
    teams, jobs, staff = two_teams

    response = client.get(f"/support/teams/{teams[0].id}/syncs/{jobs[0].id}")

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<pre class="trail">' in text and "REQUIRED_FIELD_MISSING" in text
    assert f"/support/teams/{teams[0].id}/syncs/{jobs[0].id}/retry" in text
    assert "dismiss" not in text.lower().replace("dismissing is for the team", "")
    [event] = audit_events(db_session, "support.view_sync")
    assert (event.actor_id, event.team_id, event.target_id) == (staff.id, teams[0].id, str(jobs[0].id))


def test_a_sync_under_the_wrong_team_is_not_found(client, two_teams):
    teams, jobs, _ = two_teams

    assert client.get(f"/support/teams/{teams[1].id}/syncs/{jobs[0].id}").status_code == 404


def test_staff_retry_requeues_the_sync_and_is_audited_as_a_support_retry(client, two_teams, db_session):
    teams, jobs, staff = two_teams

    response = client.post(
        f"/support/teams/{teams[0].id}/syncs/{jobs[0].id}/retry", data={"csrf_token": csrf_token(client)}
    )

    assert response.status_code == 302
    db_session.refresh(jobs[0])
    assert jobs[0].status == SyncStatus.PENDING
    [event] = audit_events(db_session, "support.retry")
    assert (event.actor_id, event.team_id, event.target_id) == (staff.id, teams[0].id, str(jobs[0].id))
    assert audit_events(db_session, "sync.retry") == []


def test_staff_cannot_dismiss_through_the_teams_own_page(client, two_teams, db_session):
    teams, jobs, _ = two_teams

    response = client.post(
        f"/teams/{teams[0].id}/salesforce/syncs/{jobs[0].id}/dismiss",
        data={"csrf_token": csrf_token(client), "note": "support says so"},
    )

    assert response.status_code == 404
    db_session.refresh(jobs[0])
    assert jobs[0].status == SyncStatus.FAILED


def test_the_audit_log_lists_events_newest_first_and_filters_by_team_action_and_actor(client, two_teams, db_session):
    teams, jobs, staff = two_teams
    record("sync.dismiss", team_id=teams[0].id, target=jobs[0], actor_id=staff.id, note="first")
    record("sync.retry", team_id=teams[1].id, target=jobs[1], actor_id=None)
    db_session.commit()

    everything = client.get("/support/audit").get_data(as_text=True)
    by_team = client.get(f"/support/audit?team={teams[1].id}").get_data(as_text=True)
    by_action = client.get("/support/audit?action=sync.dis").get_data(as_text=True)
    by_actor = client.get("/support/audit?actor=help@").get_data(as_text=True)

    assert everything.index("sync.retry") < everything.index("sync.dismiss")
    assert "sync.retry" in by_team and "sync.dismiss" not in by_team
    assert "sync.dismiss" in by_action and "<code>sync.retry</code>" not in by_action
    assert "sync.dismiss" in by_actor and "<code>sync.retry</code>" not in by_actor


def test_reading_the_audit_log_is_itself_audited(client, two_teams, db_session):
    teams, _, staff = two_teams

    client.get(f"/support/audit?team={teams[0].id}")

    [event] = audit_events(db_session, "support.view_audit")
    assert (event.actor_id, event.team_id) == (staff.id, teams[0].id)


def test_bad_audit_filters_are_reported_not_a_server_error(client, two_teams):
    response = client.get("/support/audit?team=abc&page=-3&per_page=x")

    assert response.status_code == 200
    assert 'id="team-error"' in response.get_data(as_text=True)


def test_the_console_root_leads_to_the_failures(client, two_teams):
    response = client.get("/support/")

    assert response.status_code == 302 and response.headers["Location"].endswith("/support/syncs")


def test_staff_find_the_console_in_the_navigation_and_others_do_not(client, factory, two_teams):
    assert 'href="/support/syncs">Support</a>' in client.get("/support/audit").get_data(as_text=True)

    team, users = factory.team_with_roles()
    login(client, users[Role.OWNER])
    assert 'href="/support/syncs"' not in client.get(f"/teams/{team.id}/salesforce/errors").get_data(as_text=True)
