"""The database is the schedule: claiming a SyncJob with a lease, recording outcomes, retries with backoff,
and the sweep that re-enqueues due rows whose RQ job is missing, reclaims expired leases and releases waiting rows.

RQ job ids are `sync-<id>-<attempt>`; a row is only ever worked on by whoever claims it, so an extra RQ job for
the same attempt (after a sweep, say) is harmless: its claim finds nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import Update, and_, exists, inspect, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import UpdateBase

from ..extensions import queues
from ..models import OPEN_STATUSES, ConnectionStatus, Plan, SalesforceConnection, SyncJob, SyncStatus, Team, utcnow

log = logging.getLogger("portal.sync.schedule")

RUN_SYNC_JOB = "jobs.sync.run_sync_job"
LIVE_RQ_STATES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
# Another row of the table in a statement about one (made once: building an alias per call costs a millisecond).
_OTHER = aliased(SyncJob)
# RQ's scheduler keeps times in whole seconds, so a delayed attempt may start up to a second early.
EARLY_START_TOLERANCE = timedelta(seconds=2)


def rq_job_id(job_id: int, attempt: int) -> str:
    return f"sync-{job_id}-{attempt}"


def retry_delay(attempts_made: int, backoff: list[int]) -> int | None:
    """Seconds before the next try after `attempts_made` failed tries; None when the retries are used up."""
    if attempts_made < 1 or attempts_made > len(backoff):
        return None
    return backoff[attempts_made - 1]


def job_timeout(config) -> int:
    """RQ kills a job before its lease runs out, so the sweep never hands out an attempt that is still running."""
    lease = config["SYNC_LEASE_SECONDS"]
    return max(lease - 20, lease * 3 // 4)


def enqueue_attempt(job_id: int, attempt: int, at: datetime | None = None) -> None:
    """Enqueue one attempt, now or at a time (RQ's scheduler, run by the workers, moves it to the queue)."""
    queue = queues.queue("sync")
    key = rq_job_id(job_id, attempt)
    options = dict(job_id=key, result_ttl=3600, failure_ttl=7 * 86400, job_timeout=job_timeout(current_app.config))
    if at is not None and at > utcnow():
        queue.enqueue_at(at, RUN_SYNC_JOB, job_id, **options)
    else:
        queue.enqueue(RUN_SYNC_JOB, job_id, **options)


def try_enqueue(job_id: int, attempt: int, at: datetime | None = None) -> None:
    """Enqueue one attempt; a Redis failure is logged and left to the sweep (the row stays due in PostgreSQL)."""
    try:
        enqueue_attempt(job_id, attempt, at)
    except Exception:
        log.warning("could not enqueue sync job; the sweep will", extra={"sync_job_id": job_id}, exc_info=True)


# --- claiming -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    job: SyncJob  # the row as claimed, in the caller's session

    @property
    def job_id(self) -> int:
        return self.job.id

    @property
    def attempt(self) -> int:
        return self.job.attempts


def claim(session: Session, job_id: int, now: datetime | None = None, *, commit: bool = True) -> Claim | None:
    """Take the row for one attempt (status running, with a lease); None when it is not ours to run now.

    A job waits for earlier jobs of the same booking, so a cancel never overtakes its create. With commit=False
    a successful claim is left in the caller's transaction (the row stays locked until the caller commits, so the
    claim and what the caller records with it, the attempt, take effect together or not at all).

    The usual case is one UPDATE; a row it leaves alone (taken, not due, or behind an earlier job) is read again
    the long way, which says why and queues it behind the earlier job.
    """
    now = now or utcnow()
    lease = now + timedelta(seconds=current_app.config["SYNC_LEASE_SECONDS"])
    job = session.scalar(
        update(SyncJob)
        .where(SyncJob.id == _due_and_free(job_id, now), ~_earlier_open_job_exists())
        .values(status=SyncStatus.RUNNING, attempts=SyncJob.attempts + 1, lease_expires_at=lease)
        .returning(SyncJob),
        execution_options={"synchronize_session": False},
    )
    if job is None:
        return _claim_slowly(session, job_id, now, lease, commit=commit)
    if commit:
        session.commit()
    return Claim(job)


def _due_and_free(job_id: int, now: datetime):
    """The row's id if it is pending, due and not locked by another claim (else NULL): the lock is taken here."""
    row = _OTHER
    return (
        select(row.id)
        .where(row.id == job_id, row.status == SyncStatus.PENDING)
        .where(or_(row.next_attempt_at.is_(None), row.next_attempt_at <= now + EARLY_START_TOLERANCE))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


def _earlier_open_job_exists():
    earlier = _OTHER
    return exists().where(
        earlier.booking_id == SyncJob.booking_id, earlier.id < SyncJob.id, earlier.status.in_(OPEN_STATUSES)
    )


def _claim_slowly(session: Session, job_id: int, now: datetime, lease: datetime, *, commit: bool) -> Claim | None:
    job = session.scalar(
        select(SyncJob)
        .where(SyncJob.id == job_id, SyncJob.status == SyncStatus.PENDING)
        .where(or_(SyncJob.next_attempt_at.is_(None), SyncJob.next_attempt_at <= now + EARLY_START_TOLERANCE))
        .with_for_update(skip_locked=True)
    )
    if job is None:
        session.rollback()
        return None
    earlier = _earliest_open_job_before(session, job)
    if earlier is not None:
        _follow(job, earlier, now)  # the earlier job kicks this one when it finishes
        session.commit()
        return None
    job.status = SyncStatus.RUNNING  # the earlier job finished between the two reads
    job.attempts += 1
    job.lease_expires_at = lease
    if commit:
        session.commit()
    return Claim(job)


def _earliest_open_job_before(session: Session, job: SyncJob) -> SyncJob | None:
    return session.scalar(
        select(SyncJob)
        .where(SyncJob.booking_id == job.booking_id, SyncJob.id < job.id, SyncJob.status.in_(OPEN_STATUSES))
        .order_by(SyncJob.id)
        .limit(1)
    )


def _follow(job: SyncJob, earlier: SyncJob, now: datetime) -> None:
    """Queue this job behind an earlier one of the same booking."""
    if earlier.status == SyncStatus.WAITING:
        job.status, job.reason, job.next_attempt_at = SyncStatus.WAITING, earlier.reason, None
    else:
        job.next_attempt_at = max(earlier.next_attempt_at or now, now) + timedelta(seconds=2)


def defer(session: Session, job: SyncJob, until: datetime, reason: str) -> None:
    """Give a claim back before any attempt was taken (e.g. the org is near its daily API limit): the caller
    must not have recorded a SyncAttempt for it, since the claim's number is taken again when the job comes due.

    Its RQ job id is the one running now, so the sweep enqueues it once it is due.
    """
    job.status, job.reason = SyncStatus.PENDING, reason
    job.attempts -= 1
    job.next_attempt_at, job.lease_expires_at = until, None
    session.commit()


# --- outcomes -------------------------------------------------------------------------------------------------


def finish(session: Session, job: SyncJob, status: SyncStatus, reason: str = "", *, also: Sequence = ()) -> None:
    """Record a final (or waiting) state and start the booking's next job, if one was queued behind this.

    `also`: more of the outcome, written in the job's statement: rows whose changes go with it (the attempt) and
    INSERT or UPDATE statements (the link)."""
    job.status, job.reason = status, reason
    job.lease_expires_at = None
    job.next_attempt_at = None
    job.finished_at = utcnow() if status in (SyncStatus.SYNCED, SyncStatus.SKIPPED, SyncStatus.FAILED) else None
    next_id = _write_naming_next_job(session, job, also)
    follower = _start_follower(session, next_id) if next_id is not None and status != SyncStatus.WAITING else None
    session.commit()  # a waiting follower is released with its team by the sweep
    if follower is not None:
        try_enqueue(*follower)


def _write_naming_next_job(session: Session, job: SyncJob, also: Sequence = ()) -> int | None:
    """The job's changes in one UPDATE, with `also` in its WITH, which also returns the booking's next open job:
    one statement instead of one per row and a read."""
    statement = update(SyncJob).where(SyncJob.id == job.id).values(_take_changes(job))
    for number, item in enumerate(also):
        written = item if isinstance(item, UpdateBase) else _update_of(item)
        if written is not None:
            statement = statement.add_cte(written.cte(f"also_{number}"))
    later = _OTHER
    next_id = (
        select(later.id)
        .where(later.booking_id == SyncJob.booking_id, later.id > SyncJob.id, later.status.in_(OPEN_STATUSES))
        .order_by(later.id)
        .limit(1)
        .scalar_subquery()
    )
    return session.scalar(statement.returning(next_id), execution_options={"synchronize_session": False})


def _update_of(row: object) -> Update | None:
    """An UPDATE of a persistent row's changes (None when it has none, or is not persistent)."""
    state = inspect(row)
    changes = _take_changes(row) if state.persistent else {}
    if not changes:
        return None
    [key] = state.mapper.primary_key
    return update(state.mapper.class_).where(key == state.identity[0]).values(changes)


def _take_changes(row: object) -> dict:
    """A persistent row's changed columns, marked as written (the caller writes them, not the next flush)."""
    state = inspect(row)
    changed = [state.attrs[column.key] for column in state.mapper.column_attrs]
    changes = {attr.key: attr.value for attr in changed if attr.history.has_changes()}
    for key, value in changes.items():
        set_committed_value(row, key, value)
    return changes


def _start_follower(session: Session, follower_id: int) -> tuple[int, int] | None:
    """A pending follower comes due now; returns its (id, next attempt) to enqueue once committed."""
    started = session.execute(
        update(SyncJob)
        .where(SyncJob.id == follower_id, SyncJob.status == SyncStatus.PENDING)
        .values(next_attempt_at=utcnow())
        .returning(SyncJob.id, SyncJob.attempts + 1),
        execution_options={"synchronize_session": False},
    ).first()
    return tuple(started) if started is not None else None


def retry_later(session: Session, job: SyncJob, now: datetime | None = None) -> bool:
    """Schedule the next attempt after a transient failure; False when the retries are used up."""
    now = now or utcnow()
    delay = retry_delay(job.attempts, current_app.config["SYNC_RETRY_BACKOFF_SECONDS"])
    if delay is None:
        return False
    job.status, job.reason = SyncStatus.PENDING, ""
    job.lease_expires_at = None
    job.next_attempt_at = now + timedelta(seconds=delay)
    session.commit()
    try_enqueue(job.id, job.attempts + 1, job.next_attempt_at)
    return True


def requeue(session: Session, jobs: list[SyncJob], now: datetime | None = None) -> None:
    """Make jobs pending again now (retry from the errors page, release after reconnect), in booking order."""
    now = now or utcnow()
    for job in sorted(jobs, key=lambda j: j.id):
        job.status, job.reason = SyncStatus.PENDING, ""
        job.next_attempt_at, job.lease_expires_at, job.finished_at = now, None, None
    session.commit()
    for job in sorted(jobs, key=lambda j: j.id):
        try_enqueue(job.id, job.attempts + 1)


def release_team(session: Session, team_id: int) -> int:
    """Waiting jobs of a team go out now (its connection is back); returns how many."""
    waiting = session.scalars(
        select(SyncJob).where(SyncJob.team_id == team_id, SyncJob.status == SyncStatus.WAITING)
    ).all()
    requeue(session, list(waiting))
    return len(waiting)


# --- the sweep ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int
    released: int
    enqueued: int


def sweep(session: Session, now: datetime | None = None, batch: int = 500) -> SweepResult:
    now = now or utcnow()
    reclaimed = _reclaim_expired_leases(session, now)
    released = _release_waiting(session, now)
    enqueued = _enqueue_missing(session, now, batch)
    return SweepResult(reclaimed, released, enqueued)


def _reclaim_expired_leases(session: Session, now: datetime) -> int:
    """A worker died mid-job: its attempt counts, and the row goes back to pending."""
    result = session.execute(
        update(SyncJob)
        .where(SyncJob.status == SyncStatus.RUNNING, SyncJob.lease_expires_at < now)
        .values(status=SyncStatus.PENDING, lease_expires_at=None, next_attempt_at=now)
    )
    session.commit()
    return result.rowcount or 0


def _release_waiting(session: Session, now: datetime) -> int:
    """Waiting rows whose team is premium again and whose connection is connected go back to pending."""
    connected = exists().where(
        SalesforceConnection.team_id == SyncJob.team_id, SalesforceConnection.status == ConnectionStatus.CONNECTED
    )
    premium = exists().where(Team.id == SyncJob.team_id, Team.plan == Plan.PREMIUM)
    result = session.execute(
        update(SyncJob)
        .where(SyncJob.status == SyncStatus.WAITING, connected, premium)
        .values(status=SyncStatus.PENDING, reason="", next_attempt_at=now)
    )
    session.commit()
    return result.rowcount or 0


def _enqueue_missing(session: Session, now: datetime, batch: int) -> int:
    """Due pending rows whose next attempt is not in RQ (Redis was flushed or down) are enqueued again, and so are
    rows still pending a sweep interval after they came due whose job is not waiting in the queue: a dead worker
    let them down, either the one running RQ's scheduler (its lock outlives it by a minute; other workers retake it
    only every 10 minutes) or one killed between taking the job and claiming the row (RQ recovers such a job only
    at its 10-minute maintenance). An extra RQ job for an attempt is harmless: its claim finds nothing to do."""
    earlier = aliased(SyncJob)
    blocked = exists().where(
        and_(earlier.booking_id == SyncJob.booking_id, earlier.id < SyncJob.id, earlier.status.in_(OPEN_STATUSES))
    )
    due = session.execute(
        select(SyncJob.id, SyncJob.attempts, SyncJob.next_attempt_at)
        .where(SyncJob.status == SyncStatus.PENDING, SyncJob.next_attempt_at <= now, ~blocked)
        .order_by(SyncJob.next_attempt_at)
        .limit(batch)
    ).all()
    session.rollback()
    overdue_before = now - timedelta(seconds=current_app.config["SYNC_SWEEP_SECONDS"])
    waiting: set[str] | None = None
    enqueued = 0
    for job_id, attempts, due_at in due:
        key = rq_job_id(job_id, attempts + 1)
        if due_at < overdue_before:
            waiting = set(queues.queue("sync").get_job_ids()) if waiting is None else waiting
            if key in waiting:
                continue
            queues.queue("sync").scheduled_job_registry.remove(key)  # so only our enqueue runs it
        elif _rq_job_alive(key):
            continue
        try_enqueue(job_id, attempts + 1)
        enqueued += 1
    return enqueued


def _rq_job_alive(key: str) -> bool:
    try:
        return Job.fetch(key, connection=queues.redis).get_status(refresh=False) in LIVE_RQ_STATES
    except NoSuchJobError:
        return False
