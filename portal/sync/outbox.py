"""The outbox: a SyncJob row written in the same transaction as the booking change, enqueued after commit.

If Redis is down the row simply waits; the sweep (portal.sync.schedule) enqueues it later. Nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..models import Booking, SalesforceIntegration, SyncEvent, SyncJob, SyncReason, SyncStatus, utcnow

log = logging.getLogger("portal.sync.outbox")

_PENDING_ENQUEUE = "sync_jobs_to_enqueue"


def add_sync_job(session: Session, booking: Booking, sync_event: SyncEvent) -> SyncJob | None:
    """Record that this booking change must reach Salesforce; None when the calendar has no integration.

    Reschedules and cancels of a booking that never had a sync job have nothing to act on, so they get none.
    """
    integration = session.scalar(
        select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == booking.calendar_id)
    )
    if sync_event != SyncEvent.CREATED and not _has_earlier_job(session, booking.id):
        return None
    if integration is None:
        if sync_event == SyncEvent.CREATED:
            return None
        job = _job(booking, sync_event, SyncStatus.SKIPPED, reason=SyncReason.NO_INTEGRATION)
    elif not integration.enabled:
        job = _job(booking, sync_event, SyncStatus.SKIPPED, reason=SyncReason.PAUSED)
    else:
        job = _job(booking, sync_event, SyncStatus.PENDING)
    session.add(job)
    session.flush()
    if job.status == SyncStatus.PENDING:
        session.info.setdefault(_PENDING_ENQUEUE, []).append(job.id)  # its first attempt, once committed
    return job


def _has_earlier_job(session: Session, booking_id: int) -> bool:
    return session.scalar(select(SyncJob.id).where(SyncJob.booking_id == booking_id).limit(1)) is not None


def _job(booking: Booking, sync_event: SyncEvent, status: SyncStatus, reason: str = "") -> SyncJob:
    now = utcnow()
    return SyncJob(
        team_id=booking.calendar.team_id,
        calendar_id=booking.calendar_id,
        booking_id=booking.id,
        event=sync_event,
        status=status,
        reason=reason,
        next_attempt_at=now if status == SyncStatus.PENDING else None,
        finished_at=now if status == SyncStatus.SKIPPED else None,
    )


def release_parked_syncs(app, *, team_id: int, **_: object) -> None:
    """A team's Salesforce connection is back: send its waiting syncs out, creates in batches (connected in
    create_app)."""
    from ..extensions import db
    from .backfill import release_team_in_batches

    released = release_team_in_batches(db.session, team_id)
    log.info("connection restored: %d waiting syncs released", released, extra={"team_id": team_id})


def install(session_factory) -> None:
    """Enqueue the jobs a transaction added once (and only if) it commits."""
    if not event.contains(session_factory, "after_commit", _enqueue_committed):
        event.listen(session_factory, "after_commit", _enqueue_committed)
        event.listen(session_factory, "after_rollback", _forget_uncommitted)


def _enqueue_committed(session: Session) -> None:
    job_ids = session.info.pop(_PENDING_ENQUEUE, [])
    if job_ids:
        enqueue(job_ids)


def _forget_uncommitted(session: Session) -> None:
    session.info.pop(_PENDING_ENQUEUE, None)


def enqueue(job_ids: Iterable[int]) -> None:
    """Put new jobs on RQ for their first attempt; a Redis failure is logged and left to the sweep."""
    from .schedule import try_enqueue

    for job_id in job_ids:
        try_enqueue(job_id, attempt=1)
