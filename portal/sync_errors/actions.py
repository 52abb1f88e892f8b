"""What people do to failed syncs from the errors page and the support console: retry one, retry every sync
with an error code, dismiss with a note, correct a booking's values for Salesforce and retry it, give a mapping
row a fallback and retry every sync that failed on it. Each is audited in the same transaction as the change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import record
from ..models import Booking, FieldMapping, SyncJob, SyncStatus
from ..sync.schedule import finish, requeue
from .queries import Scope, jobs_to_retry_by_code, jobs_with_cause

RETRYABLE = (SyncStatus.FAILED, SyncStatus.WAITING)


class ActionRefused(Exception):
    """The sync is not in a state the action applies to (e.g. it synced meanwhile)."""


def may_retry(job: SyncJob) -> bool:
    return job.status in RETRYABLE


def may_dismiss(job: SyncJob) -> bool:
    """Failed and waiting syncs, and failing ones awaiting an automatic retry, may be dismissed."""
    return job.status in RETRYABLE or (job.status == SyncStatus.PENDING and bool(job.error_code))


def lock_job(session: Session, sync_id: int) -> SyncJob | None:
    """Re-read a sync under a row lock, so a worker claiming it meanwhile cannot interleave with the action."""
    return session.scalar(
        select(SyncJob).where(SyncJob.id == sync_id).with_for_update().execution_options(populate_existing=True)
    )


def retry_one(session: Session, job: SyncJob, *, by_staff: bool = False) -> None:
    if not may_retry(job):
        raise ActionRefused(f"This sync is {job.status}; only failed or waiting syncs can be retried.")
    action = "support.retry" if by_staff else "sync.retry"
    record(action, team_id=job.team_id, target=job, error_code=job.error_code, status=str(job.status))
    requeue(session, [job])


def retry_by_code(session: Session, scope: Scope, code: str) -> int:
    """Retry every failed or waiting sync with this code that the scope covers; how many were retried."""
    jobs = jobs_to_retry_by_code(session, scope, code)
    if not jobs:
        return 0
    record("sync.retry_all", team_id=scope.team_id, error_code=code, count=len(jobs), sync_ids=[j.id for j in jobs])
    requeue(session, jobs)
    return len(jobs)


def dismiss(session: Session, job: SyncJob, note: str, *, user_id: int) -> None:
    if not may_dismiss(job):
        raise ActionRefused(f"This sync is {job.status}; only failed or waiting syncs can be dismissed.")
    job.dismissed_note, job.dismissed_by_id = note, user_id
    record("sync.dismiss", team_id=job.team_id, target=job, error_code=job.error_code, note=note)
    finish(session, job, SyncStatus.DISMISSED)


def fix_and_retry(session: Session, job: SyncJob, booking: Booking, corrections: dict[str, str], originals) -> None:
    """Store corrected values beside the guest's answers (which stay as typed) for this and later syncs of the
    booking, then retry. originals: question id (text) -> the guest's answer; a value equal to it drops the
    correction, so the sync reads the guest's own answer again."""
    if not may_retry(job):
        raise ActionRefused(f"This sync is {job.status}; only failed or waiting syncs can be fixed and retried.")
    stored = dict(booking.corrections or {})
    for key, value in corrections.items():
        if value == originals.get(key, ""):
            stored.pop(key, None)
        else:
            stored[key] = value
    booking.corrections = stored  # a new dict: JSONB columns track assignment, not mutation
    changes = {key: {"guest": originals.get(key, ""), "corrected": value} for key, value in corrections.items()}
    record("booking.corrected", team_id=job.team_id, target=booking, sync_id=job.id, values=changes)
    retry_one(session, job)


def apply_fallback_and_retry(session: Session, job: SyncJob, row: FieldMapping, fallback: str) -> int:
    """Give the mapping row a fallback value, then retry every failed or waiting sync of the calendar with the same
    code on the same field; how many were retried."""
    row.fallback_value = fallback
    calendar = job.calendar
    record(
        "salesforce_integration.fallback_set",
        team_id=job.team_id,
        target=row.integration,
        calendar_id=calendar.id,
        field=row.sf_field,
        fallback=fallback,
    )
    jobs = jobs_with_cause(session, calendar.id, job.error_code, row.sf_field)
    ids = [j.id for j in jobs]
    record(
        "sync.retry_all",
        team_id=job.team_id,
        error_code=job.error_code,
        field=row.sf_field,
        count=len(jobs),
        sync_ids=ids,
    )
    requeue(session, jobs)
    return len(jobs)
