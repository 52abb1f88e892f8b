"""The outbox: a booking change and its SyncJob row commit together, are enqueued after commit, and survive Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import func, select

from portal.calendars import booking as booking_service
from portal.calendars.booking import GuestDetails
from portal.extensions import db, queue_name, queues
from portal.models import Booking, SalesforceIntegration, SalesforceObject, SyncEvent, SyncJob, SyncStatus
from portal.sync import outbox
from tests.factories import Factory

NOW = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)  # a Monday, well inside the factory calendar's availability
SLOT = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)


def _calendar_with_integration(factory: Factory, *, enabled: bool = True):
    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people["owner"], hosts=[people["member"]])
    factory.session.add(
        SalesforceIntegration(calendar_id=calendar.id, object_name=SalesforceObject.LEAD, enabled=enabled)
    )
    factory.session.flush()
    return calendar


def _book(calendar, start=SLOT):
    return booking_service.book(
        calendar,
        start,
        GuestDetails(email="guest@example.com", name="Gita Guest"),
        "tok-" + str(start.timestamp()),
        now=NOW,
    )


def _queued_ids(app) -> list[str]:
    return Queue(queue_name(app.config, "sync"), connection=queues.redis).get_job_ids()


@pytest.fixture(autouse=True)
def _empty_queue(app):
    Queue(queue_name(app.config, "sync"), connection=queues.redis).empty()


def test_booking_on_a_calendar_with_an_integration_writes_a_pending_job_and_enqueues_it(app, factory):
    calendar = _calendar_with_integration(factory)

    booking = _book(calendar)

    job = db.session.scalar(select(SyncJob).where(SyncJob.booking_id == booking.id))
    assert (job.status, job.event, job.team_id) == (SyncStatus.PENDING, SyncEvent.CREATED, calendar.team_id)
    assert f"sync-{job.id}-1" in _queued_ids(app)


def test_booking_on_a_paused_integration_is_recorded_as_skipped_and_not_enqueued(app, factory):
    calendar = _calendar_with_integration(factory, enabled=False)

    booking = _book(calendar)

    job = db.session.scalar(select(SyncJob).where(SyncJob.booking_id == booking.id))
    assert (job.status, job.reason) == (SyncStatus.SKIPPED, "paused")
    assert _queued_ids(app) == []


def test_booking_without_an_integration_has_no_sync_job(factory):
    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people["owner"])

    booking = _book(calendar)

    assert db.session.scalar(select(func.count()).select_from(SyncJob).where(SyncJob.booking_id == booking.id)) == 0


def test_reschedule_and_cancel_add_jobs_in_order_behind_the_create(factory):
    calendar = _calendar_with_integration(factory)
    booking = _book(calendar)

    booking_service.reschedule(booking, SLOT + timedelta(hours=2), now=NOW)
    booking_service.cancel(booking, now=NOW)

    events = db.session.scalars(
        select(SyncJob.event).where(SyncJob.booking_id == booking.id).order_by(SyncJob.id)
    ).all()
    assert events == [SyncEvent.CREATED, SyncEvent.RESCHEDULED, SyncEvent.CANCELLED]


def test_cancel_after_the_integration_was_removed_is_skipped_with_its_reason(factory):
    calendar = _calendar_with_integration(factory)
    booking = _book(calendar)
    factory.session.delete(
        factory.session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar.id))
    )
    factory.session.flush()

    booking_service.cancel(booking, now=NOW)

    job = db.session.scalar(
        select(SyncJob).where(SyncJob.booking_id == booking.id, SyncJob.event == SyncEvent.CANCELLED)
    )
    assert (job.status, job.reason) == (SyncStatus.SKIPPED, "no_integration")


def test_a_failure_right_after_the_outbox_insert_leaves_neither_booking_nor_sync_row(make_app, monkeypatch):
    app = make_app()
    with app.app_context():
        factory = Factory(db.session)
        calendar = _calendar_with_integration(factory)
        db.session.commit()

        real_add_sync_job = outbox.add_sync_job

        def fail_after_outbox(session, booking, event):
            real_add_sync_job(session, booking, event)
            assert db.session.scalar(select(func.count()).select_from(SyncJob)) == 1  # the outbox row is there
            raise RuntimeError("injected failure after the outbox insert")

        monkeypatch.setattr(outbox, "add_sync_job", fail_after_outbox)
        with pytest.raises(RuntimeError, match="injected"):
            _book(calendar)

        assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
        assert db.session.scalar(select(func.count()).select_from(SyncJob)) == 0
        db.session.remove()


def test_booking_succeeds_while_redis_is_down_and_the_row_waits_for_the_sweep(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    with app.app_context():
        calendar = _calendar_with_integration(Factory(db.session))
        db.session.commit()

        booking = _book(calendar)

        job = db.session.scalar(select(SyncJob).where(SyncJob.booking_id == booking.id))
        assert job.status == SyncStatus.PENDING and job.next_attempt_at is not None
        db.session.remove()
