"""Retry one, retry all with a code, and dismiss with a note: each confirmed on screen first, each audited."""

from __future__ import annotations

import pytest
from rq.job import Job
from sqlalchemy import select

from portal.extensions import queues
from portal.models import AuditEvent, Role, SyncStatus
from portal.sync.schedule import rq_job_id
from tests.factories import login
from tests.sync_factories import csrf_token, make_booking, make_sync


@pytest.fixture
def team_setup(client, factory, db_session):
    team, users = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=users[Role.OWNER])
    login(client, users[Role.ADMIN])
    return team, users, calendar


def audit_events(db_session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def enqueued(job_id: int, attempt: int) -> bool:
    return Job.exists(rq_job_id(job_id, attempt), connection=queues.redis)


def test_retry_is_confirmed_on_a_page_naming_the_remedy_before_anything_changes(client, team_setup, db_session):
    team, _, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar))

    response = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}/retry")

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Retry sync #" in text and "give the mapping row a fallback value" in text
    assert 'method="post"' in text and "Retry now" in text
    db_session.refresh(job)
    assert job.status == SyncStatus.FAILED and audit_events(db_session, "sync.retry") == []


def test_retry_makes_the_sync_pending_now_enqueues_its_next_attempt_and_is_audited(client, team_setup, db_session):
    team, users, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar), attempts=2)

    response = client.post(f"/teams/{team.id}/salesforce/syncs/{job.id}/retry", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/salesforce/syncs/{job.id}")
    db_session.refresh(job)
    assert job.status == SyncStatus.PENDING and job.next_attempt_at is not None and job.finished_at is None
    assert enqueued(job.id, 3)
    [event] = audit_events(db_session, "sync.retry")
    assert (event.actor_id, event.team_id, event.target_type, event.target_id) == (
        users[Role.ADMIN].id,
        team.id,
        "SyncJob",
        str(job.id),
    )
    assert event.details["error_code"] == "REQUIRED_FIELD_MISSING"


def test_retry_without_the_forms_token_changes_nothing(client, team_setup, db_session):
    team, _, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar))

    response = client.post(f"/teams/{team.id}/salesforce/syncs/{job.id}/retry")

    assert response.status_code == 400
    db_session.refresh(job)
    assert job.status == SyncStatus.FAILED


def test_a_sync_that_already_synced_is_not_retried(client, team_setup, db_session):
    team, _, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.SYNCED, error_code="")
    db_session.commit()  # the refusal rolls the request's transaction back

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/retry",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=True,
    )

    assert "only failed or waiting syncs can be retried" in response.get_data(as_text=True)
    db_session.refresh(job)
    assert job.status == SyncStatus.SYNCED and audit_events(db_session, "sync.retry") == []


def test_retry_all_is_confirmed_with_the_count_and_the_remedy(client, team_setup, db_session):
    team, _, calendar = team_setup
    for _ in range(3):
        make_sync(db_session, make_booking(db_session, calendar))

    response = client.get(f"/teams/{team.id}/salesforce/errors/retry?code=REQUIRED_FIELD_MISSING")

    text = response.get_data(as_text=True)
    assert "Retry 3 syncs" in text and "give the mapping row a fallback value" in text


def test_retry_all_retries_every_failed_sync_with_that_code_only_and_is_audited(client, team_setup, db_session):
    team, _, calendar = team_setup
    same = [make_sync(db_session, make_booking(db_session, calendar)) for _ in range(3)]
    other = make_sync(db_session, make_booking(db_session, calendar), error_code="STRING_TOO_LONG")
    synced = make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.SYNCED)

    response = client.post(
        f"/teams/{team.id}/salesforce/errors/retry",
        data={"csrf_token": csrf_token(client), "code": "REQUIRED_FIELD_MISSING"},
    )

    assert response.status_code == 302
    for job in [*same, other, synced]:
        db_session.refresh(job)
    assert {job.status for job in same} == {SyncStatus.PENDING}
    assert all(enqueued(job.id, 2) for job in same)
    assert other.status == SyncStatus.FAILED and synced.status == SyncStatus.SYNCED
    [event] = audit_events(db_session, "sync.retry_all")
    assert event.team_id == team.id
    assert event.details == {"error_code": "REQUIRED_FIELD_MISSING", "count": 3, "sync_ids": [j.id for j in same]}


def test_retry_all_by_a_member_covers_only_their_calendars(client, factory, db_session):
    team, users = factory.team_with_roles()
    own = factory.calendar(team, created_by=users[Role.MEMBER])
    others = factory.calendar(team, created_by=users[Role.OWNER])
    mine = make_sync(db_session, make_booking(db_session, own))
    not_mine = make_sync(db_session, make_booking(db_session, others))
    login(client, users[Role.MEMBER])

    client.post(
        f"/teams/{team.id}/salesforce/errors/retry",
        data={"csrf_token": csrf_token(client), "code": "REQUIRED_FIELD_MISSING"},
    )

    db_session.refresh(mine)
    db_session.refresh(not_mine)
    assert mine.status == SyncStatus.PENDING and not_mine.status == SyncStatus.FAILED


def test_retry_all_without_a_code_is_a_clear_400(client, team_setup):
    team, _, _ = team_setup

    assert client.get(f"/teams/{team.id}/salesforce/errors/retry").status_code == 400
    response = client.post(f"/teams/{team.id}/salesforce/errors/retry", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400


def test_dismiss_asks_for_a_note_on_a_confirmation_page(client, team_setup, db_session):
    team, _, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar))

    text = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}/dismiss").get_data(as_text=True)

    assert "Dismiss sync #" in text and 'name="note"' in text


def test_dismiss_without_a_note_is_refused_next_to_the_field(client, team_setup, db_session):
    team, _, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar))

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/dismiss", data={"csrf_token": csrf_token(client), "note": "  "}
    )

    assert response.status_code == 400
    assert 'id="note-error">Say why' in response.get_data(as_text=True)
    db_session.refresh(job)
    assert job.status == SyncStatus.FAILED and audit_events(db_session, "sync.dismiss") == []


def test_dismiss_with_a_note_takes_the_sync_off_the_list_and_is_audited(client, team_setup, db_session):
    team, users, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar))

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/dismiss",
        data={"csrf_token": csrf_token(client), "note": "Test booking by our own staff"},
        follow_redirects=True,
    )

    assert f'id="sync-{job.id}"' not in response.get_data(as_text=True)
    db_session.refresh(job)
    assert job.status == SyncStatus.DISMISSED
    assert (job.dismissed_note, job.dismissed_by_id) == ("Test booking by our own staff", users[Role.ADMIN].id)
    [event] = audit_events(db_session, "sync.dismiss")
    assert (event.actor_id, event.target_id, event.details["note"]) == (
        users[Role.ADMIN].id,
        str(job.id),
        "Test booking by our own staff",
    )
    detail = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)
    assert "Test booking by our own staff" in detail and "Dismiss…" not in detail


def test_a_note_longer_than_1000_characters_is_refused(client, team_setup, db_session):
    team, _, calendar = team_setup
    job = make_sync(db_session, make_booking(db_session, calendar))

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/dismiss",
        data={"csrf_token": csrf_token(client), "note": "x" * 1001},
    )

    assert response.status_code == 400
    db_session.refresh(job)
    assert job.status == SyncStatus.FAILED
