"""Sending earlier bookings (a backfill) with real workers and the emulator over HTTP: batches of reads and
sObject Collections writes, exactly once per booking through a killed worker and a lost answer, a failing booking
landing on the errors page with its own reason, one backfill per calendar, stop and resume."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import psutil
import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Backfill,
    BackfillState,
    Calendar,
    ConnectionStatus,
    SalesforceConnection,
    SalesforceIntegration,
    SyncJob,
    SyncStatus,
    User,
    utcnow,
)
from portal.sync import backfill as backfills
from portal.sync.outbox import release_parked_syncs
from portal.sync.schedule import sweep
from tests.fixtures.services import WorkerProcesses
from tests.sync_world import World, open_sync_app

LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def backfill_app(base_config, database_factory):
    with open_sync_app(base_config, database_factory("backfill"), "backfill", SYNC_LEASE_SECONDS=LEASE_SECONDS) as app:
        yield app


@pytest.fixture
def world(backfill_app, salesforce_emulator, salesforce_control) -> World:
    return World.create(backfill_app, salesforce_emulator, salesforce_control)


@pytest.fixture
def workers():
    processes = WorkerProcesses()
    yield processes
    processes.stop()


def earlier_bookings(world: World, emails: list[str], **answers) -> list[int]:
    """Bookings made while the integration was paused: none of them reached Salesforce."""
    _set_enabled(world, False)
    booking_ids = [world.book(email, name=f"Guest {n}", **answers) for n, email in enumerate(emails)]
    _set_enabled(world, True)
    return booking_ids


def _set_enabled(world: World, enabled: bool) -> None:
    with world.app.app_context():
        integration = db.session.scalar(
            select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == world.calendar_id)
        )
        integration.enabled = enabled
        db.session.commit()
        db.session.remove()


def start_backfill(world: World) -> int:
    with world.app.test_request_context():
        calendar = db.session.get(Calendar, world.calendar_id)
        started = backfills.start(
            calendar, db.session.get(User, world.owner_id), utcnow() - timedelta(days=1), utcnow()
        )
        backfill_id = started.id
        db.session.remove()
    return backfill_id


def backfill_state(world: World, backfill_id: int) -> tuple[Backfill, backfills.Progress]:
    with world.app.app_context():
        backfill = db.session.get(Backfill, backfill_id)
        progress = backfills.progress(db.session, backfill)
        db.session.remove()
    return backfill, progress


def sweep_until_done(world: World, backfill_id: int, timeout: float = 90) -> backfills.Progress:
    """Run the sweep (as `python -m jobs.sweep` does) until the backfill is done and every booking finished."""
    deadline = time.monotonic() + timeout
    while True:
        with world.app.app_context():
            sweep(db.session)
            backfills.sweep(db.session)
            db.session.remove()
        backfill, progress = backfill_state(world, backfill_id)
        if backfill.state == BackfillState.DONE and progress.done == progress.total:
            return progress
        assert time.monotonic() < deadline, f"backfill not done: {backfill.state} {progress}"
        time.sleep(0.5)


def assert_synced_once(world: World, emails: list[str]) -> None:
    for email in emails:
        [record] = world.records("Lead", email)
        assert len(world.events_for(record["Id"])) == 1, f"duplicate or missing Event for {email}"


def test_earlier_bookings_go_out_in_batches_and_synced_ones_are_skipped(world, workers):
    emails = [f"early{n}@example.com" for n in range(4)]
    earlier = earlier_bookings(world, emails)
    workers.start(world.app, 1)
    synced_live = world.book("live@example.com", name="Live Guest")
    world.wait(synced_live)
    known = world.control.seed_record("Lead", LastName="Known", Company="Acme", Email="early1@example.com")
    world.control.clear_log()

    progress = sweep_until_done(world, start_backfill(world))

    assert (progress.total, progress.done, progress.skipped) == (5, 5, 1)
    assert (progress.created, progress.linked, progress.failed) == (3, 1, 0)
    assert_synced_once(world, emails)
    assert world.records("Lead", "early1@example.com")[0]["Id"] == known
    # one read of every guest, one of their Events, one write of the new Leads, one of the Events
    assert len(world.instance_calls()) == 4
    assert all(job.status == SyncStatus.SYNCED and job.backfill_id for b in earlier for job in world.jobs(b)[-1:])


def test_a_booking_salesforce_refuses_fails_on_its_own_and_the_others_are_sent(world, workers):
    world.control.update_settings(
        validation_rules=[
            {
                "object": "Lead",
                "message": "No test leads",
                "condition": {"field": "LastName", "operator": "equals", "value": "Guest 1"},
            }
        ]
    )
    booking_ids = earlier_bookings(world, ["ok0@example.com", "refused@example.com", "ok2@example.com"])
    workers.start(world.app, 1)

    progress = sweep_until_done(world, start_backfill(world))

    assert (progress.created, progress.failed) == (2, 1)
    failed = world.jobs(booking_ids[1])[-1]
    assert failed.status == SyncStatus.FAILED
    assert failed.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION" and "No test leads" in failed.error_message
    assert_synced_once(world, ["ok0@example.com", "ok2@example.com"])


def test_a_lost_answer_after_the_batch_committed_writes_nothing_twice(world, workers):
    emails = [f"lost{n}@example.com" for n in range(3)]
    earlier_bookings(world, emails)
    world.control.add_fault("drop_after_commit", path="composite/sobjects$", method="POST", count=1)
    workers.start(world.app, 1)

    sweep_until_done(world, start_backfill(world))

    assert_synced_once(world, emails)
    assert len(world.records("Lead")) == 3


def test_one_backfill_per_calendar_at_a_time_and_a_stopped_one_resumes(world, workers):
    earlier_bookings(world, ["stop0@example.com", "stop1@example.com"])
    backfill_id = start_backfill(world)
    with pytest.raises(backfills.BackfillRefused):
        start_backfill(world)
    with world.app.test_request_context():
        backfills.stop(db.session.get(Backfill, backfill_id))
        db.session.remove()
    assert backfill_state(world, backfill_id)[0].state == BackfillState.STOPPED
    workers.start(world.app, 1)
    with world.app.app_context():
        backfills.sweep(db.session)  # a stopped backfill is not picked up again
        db.session.remove()
    assert world.records("Lead") == []

    with world.app.test_request_context():
        backfills.resume(db.session.get(Backfill, backfill_id))
        db.session.remove()
    progress = sweep_until_done(world, backfill_id)
    assert progress.created == 2
    assert_synced_once(world, ["stop0@example.com", "stop1@example.com"])


def test_a_booking_whose_live_sync_is_pending_is_left_to_it(world):
    [left] = earlier_bookings(world, ["pending@example.com"])
    with world.app.app_context():
        calendar = db.session.get(Calendar, world.calendar_id)
        job = SyncJob(
            team_id=world.team_id,
            calendar_id=calendar.id,
            booking_id=left,
            event="created",
            status=SyncStatus.PENDING,
            next_attempt_at=utcnow() + timedelta(hours=1),
        )
        db.session.add(job)
        db.session.commit()
        preview = backfills.preview(db.session, calendar, utcnow() - timedelta(days=1), utcnow())
        db.session.remove()
    assert (preview.bookings, preview.in_live_sync, preview.to_send) == (1, 1, 0)


def test_syncs_released_by_a_reconnect_go_out_in_one_batch_with_the_same_outcomes(world, workers):
    set_connection_status(world, ConnectionStatus.NEEDS_RECONNECT)
    workers.start(world.app, 1)
    emails = [f"waiting{n}@example.com" for n in range(4)]
    booking_ids = [world.book(email, name=f"Waiting {n}") for n, email in enumerate(emails)]
    for booking_id in booking_ids:
        [job] = world.wait(booking_id)
        assert (job.status, job.reason) == (SyncStatus.WAITING, "needs_reconnect")
    world.control.clear_log()

    set_connection_status(world, ConnectionStatus.CONNECTED)
    with world.app.app_context():
        release_parked_syncs(world.app, team_id=world.team_id)
        db.session.remove()

    for booking_id in booking_ids:
        [job] = world.wait(booking_id)
        assert job.status == SyncStatus.SYNCED and job.action_taken == "created Lead, created Event"
    assert_synced_once(world, emails)
    # one read, one write of the Leads, one of the Events: not two calls per booking
    assert len(world.instance_calls()) == 3


def set_connection_status(world: World, status: ConnectionStatus) -> None:
    with world.app.app_context():
        connection = db.session.scalar(
            select(SalesforceConnection).where(SalesforceConnection.team_id == world.team_id)
        )
        connection.status = status
        db.session.commit()
        db.session.remove()


def test_a_worker_killed_mid_batch_is_resumed_without_writing_twice(world, workers, redis_url):
    emails = [f"killed{n}@example.com" for n in range(3)]
    booking_ids = earlier_bookings(world, emails)
    [worker] = workers.start(world.app, 1)
    world.control.update_settings(latency_ms=1500)
    backfill_id = start_backfill(world)
    world.wait(booking_ids[0], count=2, statuses=(SyncStatus.RUNNING, SyncStatus.SKIPPED), timeout=30)

    for process in [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]:
        os.kill(process.pid, signal.SIGKILL)
    world.control.update_settings(latency_ms=0)
    workers.start(world.app, 1)

    progress = sweep_until_done(world, backfill_id)
    forget_killed_worker(redis_url, worker.pid)
    assert progress.done == 3 and progress.failed == 0
    assert_synced_once(world, emails)


def forget_killed_worker(redis_url: str, pid: int) -> None:
    """Mark the killed worker dead in Redis, so later tests may start workers under its name."""
    for registered in Worker.all(connection=Redis.from_url(redis_url)):
        if registered.pid == pid:
            registered.register_death()
