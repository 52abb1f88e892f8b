"""Sync trails hold personal data: they are pruned after SYNC_TRAIL_RETENTION_DAYS, while outcomes and codes stay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models import Role, SyncStatus, utcnow
from portal.sync.retention import prune_trails
from tests.factories import login
from tests.sync_factories import make_attempt, make_booking, make_sync


@pytest.fixture
def attempts(factory, db_session):
    """Three attempts of one failed sync: 40, 31 and 29 days old."""
    team, users = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=users[Role.OWNER])
    job = make_sync(db_session, make_booking(db_session, calendar), attempts=3)
    now = utcnow()
    made = [
        make_attempt(db_session, job, number, started_at=now - timedelta(days=age))
        for number, age in ((1, 40), (2, 31), (3, 29))
    ]
    return team, users, job, made


def test_trails_older_than_the_retention_are_pruned_and_newer_ones_kept(attempts, db_session):
    _, _, job, (oldest, old, recent) = attempts

    pruned = prune_trails(db_session, days=30)

    for attempt in (oldest, old, recent):
        db_session.refresh(attempt)
    assert pruned == 2
    assert oldest.trail is None and old.trail is None
    assert recent.trail and recent.trail[0]["response"]["status"] == 400


def test_pruning_keeps_the_outcome_codes_and_the_syncs_state(attempts, db_session):
    _, _, job, (oldest, _, _) = attempts

    prune_trails(db_session, days=30)

    db_session.refresh(oldest)
    db_session.refresh(job)
    assert (oldest.outcome, oldest.error_code, oldest.api_calls) == ("failed", "REQUIRED_FIELD_MISSING", 1)
    assert (job.status, job.error_code, job.error_fields, job.attempts) == (
        SyncStatus.FAILED,
        "REQUIRED_FIELD_MISSING",
        ["Company"],
        3,
    )


def test_pruning_twice_prunes_nothing_the_second_time(attempts, db_session):
    assert prune_trails(db_session, days=30) == 2
    assert prune_trails(db_session, days=30) == 0


def test_the_command_prunes_with_the_configured_retention(app, attempts, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_TRAIL_RETENTION_DAYS", 35)

    result = app.test_cli_runner().invoke(args=["prune-sync-trails"])

    assert result.exit_code == 0, result.output
    assert "Pruned the trails of 1 sync attempt older than 35 days." in result.output


def test_the_sweeps_housekeeping_prunes_trails(app, attempts, db_session):
    from jobs.sweep import housekeeping

    _, _, _, (oldest, _, recent) = attempts
    db_session.commit()

    housekeeping()

    db_session.refresh(oldest)
    db_session.refresh(recent)
    assert oldest.trail is None and recent.trail is not None


def test_the_detail_page_says_a_pruned_trail_was_deleted(client, attempts, db_session):
    team, users, job, _ = attempts
    prune_trails(db_session, days=30)
    login(client, users[Role.ADMIN])

    text = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)

    assert text.count("trails are deleted after 30 days") == 2
    assert text.count('<pre class="trail">') == 1
