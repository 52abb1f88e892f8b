"""Applying one SyncJob attempt: the one place that touches both the database and Salesforce.

It claims the row, checks what must hold first (integration, plan, connection), drives the pure planner
(portal.planner.plan) with one Composite read and one Composite write through the Salesforce client, stores the ids
as soon as they return, and records the outcome — synced, skipped, waiting, retried later or failed — with the
attempt's redacted trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, String, and_, bindparam, cast, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from ..extensions import db
from ..links import booking_page_url
from ..models import (
    Booking,
    BookingStatus,
    Calendar,
    ConnectionStatus,
    DescribeCache,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceLink,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncReason,
    SyncStatus,
    utcnow,
)
from ..planner.catalogue import SyncError, sync_error
from ..planner.fields import ObjectFields, fields_from_describe
from ..planner.plan import Outcome, Step, advance, first_step
from ..salesforce.client import SalesforceClient, client_for_connection
from ..salesforce.describe import describe_of
from ..salesforce.errors import SalesforceAuthError, SalesforceRequestError, SalesforceUnavailable
from ..salesforce.tokens import ApiUsage
from . import guest_lock, schedule
from .returning import known_record_id
from .snapshots import sync_request

log = logging.getLogger("portal.sync")
USAGE_REFRESH = timedelta(seconds=60)  # how stale the stored API usage may grow while it tells nothing new


@dataclass(frozen=True)
class Blocker:
    """Why a job cannot run now: it is skipped for good, or waits until the cause is fixed."""

    status: SyncStatus
    reason: str


@dataclass(frozen=True)
class Loaded:
    """What an attempt reads besides its job, loaded with the claim (the session keeps it across commits)."""

    booking: Booking
    integration: SalesforceIntegration | None
    connection: SalesforceConnection | None
    link: SalesforceLink | None
    describe: DescribeCache | None  # of the integration's object, on the team's connection
    known_record_id: str | None = None  # the guest's record an earlier booking's link holds (sync.returning)


def run(sync_job_id: int) -> str:
    """Run the job's next attempt if it is ours to run; returns what happened, for the RQ result and logs.

    The claim, the reads the attempt needs and its SyncAttempt row are one transaction: the lease and the attempt
    are recorded together, or (deferred near the API limit) the claim is given back in the same commit."""
    session = db.session
    claimed = schedule.claim(session, sync_job_id, commit=False)
    if claimed is None:
        return "not claimed"
    job = claimed.job
    loaded = _load(session, job)
    if _deferred_near_limit(session, job, loaded.connection):
        return "deferred"
    attempt = SyncAttempt(sync_job_id=job.id, number=claimed.attempt, trail=[])
    session.add(attempt)
    session.commit()
    trail: list[dict] = []  # every exchange of the attempt, kept even when the attempt crashes
    try:
        return _attempt(session, job, loaded, attempt, trail)
    except Exception:  # a bug or an outage of our own database: keep the job retryable, never lose it
        log.exception("sync attempt crashed", extra={"sync_job_id": job.id})
        session.rollback()
        _close_attempt(attempt, trail, "failed", "INTERNAL_ERROR")
        error = sync_error("INTERNAL_ERROR", "The portal failed while syncing this booking.")
        return _failed(session, job, attempt, error)


def _load(session: Session, job: SyncJob) -> Loaded:
    """The booking with its calendar, team, host and questions, the calendar's integration with its mappings, the
    team's connection, the cached describe (its key; the payload is read only on a miss of `_fields_of`'s cache),
    the booking's link and the guest's record held by an earlier booking: one statement, and one for the mappings."""
    params = {"booking_id": job.booking_id, "calendar_id": job.calendar_id, "team_id": job.team_id}
    row = session.execute(_LOAD, params).unique().one()
    return Loaded(*row)


def _load_statement() -> Select:
    """`_load`'s statement with bound parameters, built once: building it and its cache key per sync cost about
    1.5 ms of CPU, while a statement object that never changes keeps its cache key for SQLAlchemy's compiled cache."""
    booking_id, calendar_id, team_id = bindparam("booking_id"), bindparam("calendar_id"), bindparam("team_id")
    return (
        select(
            Booking,
            SalesforceIntegration,
            SalesforceConnection,
            SalesforceLink,
            DescribeCache,
            known_record_id(team_id),
        )
        .select_from(Booking)
        .outerjoin(SalesforceIntegration, SalesforceIntegration.calendar_id == calendar_id)
        .outerjoin(SalesforceConnection, SalesforceConnection.team_id == team_id)
        .outerjoin(SalesforceLink, SalesforceLink.booking_id == Booking.id)
        .outerjoin(
            DescribeCache,
            and_(
                DescribeCache.connection_id == SalesforceConnection.id,
                DescribeCache.object_name == cast(SalesforceIntegration.object_name, String),
            ),
        )
        .where(Booking.id == booking_id)
        .options(
            joinedload(Booking.calendar).joinedload(Calendar.team),
            joinedload(Booking.calendar).joinedload(Calendar.questions),
            joinedload(Booking.host),
            selectinload(SalesforceIntegration.mappings),  # joined, each would repeat per question
            defer(DescribeCache.payload),
        )
    )


_LOAD = _load_statement()


_FIELDS: dict[tuple[int, datetime], ObjectFields] = {}  # parsed describes, by row and version


def _fields_of(describe: DescribeCache) -> ObjectFields:
    """The describe's fields, parsed once per process and describe version (a refresh changes `fetched_at`)."""
    key = (describe.id, describe.fetched_at)
    fields = _FIELDS.get(key)
    if fields is None:
        if len(_FIELDS) >= 256:
            _FIELDS.clear()
        fields = _FIELDS[key] = fields_from_describe(describe.payload)
    return fields


def _attempt(session: Session, job: SyncJob, loaded: Loaded, attempt: SyncAttempt, trail: list[dict]) -> str:
    blocker = blocker_for(job, loaded.integration, loaded.connection)
    if blocker is not None:
        return _blocked(session, job, attempt, blocker)

    trail: list[dict] = []
    wait = current_app.config["SYNC_LEASE_SECONDS"] / 2  # the lease must outlast the wait and the calls after it
    try:
        with guest_lock.held(job.team_id, loaded.booking.guest_email, wait_seconds=wait):
            return _call_salesforce(session, job, loaded, attempt, trail)
    except guest_lock.GuestBusy as busy:
        _close_attempt(attempt, trail, "waiting for the guest's other sync", "GUEST_BUSY")
        return _failed(session, job, attempt, sync_error("GUEST_BUSY", str(busy)))


def _call_salesforce(session: Session, job: SyncJob, loaded: Loaded, attempt: SyncAttempt, trail: list[dict]) -> str:
    """Apply the job through one client and record what happened (under the guest's lock)."""
    try:
        with client_for_connection(loaded.connection.id, row=loaded.connection, on_exchange=trail.append) as client:
            outcome = _apply(job, loaded, client)
            usage = client.take_api_usage()  # recorded with the outcome, in its transaction
        if usage is not None and _usage_is_news(loaded.connection, usage):
            connection = loaded.connection
            connection.api_usage_used, connection.api_usage_limit = usage.used, usage.limit
            connection.api_usage_seen_at = usage.seen_at
    except SalesforceAuthError as error:
        _close_attempt(attempt, trail, SyncStatus.WAITING.value, error.code)
        return _blocked(session, job, attempt, Blocker(SyncStatus.WAITING, _waiting_reason(error)))
    except SalesforceUnavailable as error:
        code = _unavailable_code(error)
        _close_attempt(attempt, trail, "unavailable", code)
        return _failed(session, job, attempt, sync_error(code, error.message, http_status=error.status or 503))
    except SalesforceRequestError as error:
        _close_attempt(attempt, trail, "refused", error.code)
        return _failed(session, job, attempt, sync_error(error.code, error.message, tuple(error.fields), error.status))
    _close_attempt(
        attempt,
        trail,
        SyncStatus.SYNCED.value if outcome.ok else SyncStatus.FAILED.value,
        outcome.error.code if outcome.error else "",
    )
    if not outcome.ok:
        return _failed(session, job, attempt, outcome.error)
    return _synced(session, job, outcome, loaded.link, attempt)


def _apply(job: SyncJob, loaded: Loaded, client: SalesforceClient) -> Outcome:
    integration, booking = loaded.integration, loaded.booking
    describe = loaded.describe or describe_of(loaded.connection, integration.object_name.value, client)
    fields = _fields_of(describe)
    sync = sync_request(
        job.event,
        booking,
        integration,
        fields,
        api_version=current_app.config["SALESFORCE_API_VERSION"],
        booking_page_url=booking_page_url(booking.calendar),
        link=loaded.link,
        known_record_id=loaded.known_record_id if job.attempts == 1 else None,  # a retry reads (design §5)
    )
    step: Step = first_step(sync)
    while step.outcome is None:
        writes = step.writes is not None  # the Composite read is a POST that writes nothing
        response = client.request("POST", step.request.url, json=step.request.body(), writes=writes)
        step = advance(step, response)
    return step.outcome


def blocker_for(
    job: SyncJob, integration: SalesforceIntegration | None, connection: SalesforceConnection | None
) -> Blocker | None:
    """What stops this job from reaching Salesforce now (design §5): skipped for good, or waiting for a person."""
    if integration is None:
        return Blocker(SyncStatus.SKIPPED, SyncReason.NO_INTEGRATION)
    if not integration.enabled:
        return Blocker(SyncStatus.SKIPPED, SyncReason.PAUSED)
    if not integration.calendar.team.is_premium:
        return Blocker(SyncStatus.WAITING, SyncReason.PLAN)
    if connection is None:
        return Blocker(SyncStatus.WAITING, SyncReason.NOT_CONNECTED)
    if connection.status == ConnectionStatus.NEEDS_RECONNECT:
        return Blocker(SyncStatus.WAITING, SyncReason.NEEDS_RECONNECT)
    return None


def _deferred_near_limit(session: Session, job: SyncJob, connection: SalesforceConnection | None) -> bool:
    """Near the org's daily API limit the claim is given back before an attempt is taken (design §5): the job
    waits, and the attempt it takes when it comes due is a new one."""
    config = current_app.config
    delay = timedelta(seconds=config["SYNC_NEAR_LIMIT_DELAY_SECONDS"])
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        return False  # what blocks the job is recorded by its attempt
    if not near_daily_limit(connection, utcnow(), config["SYNC_API_USAGE_CEILING"], trusted_for=delay):
        return False
    schedule.defer(session, job, utcnow() + delay, reason=SyncReason.NEAR_API_LIMIT)
    log.info("deferred: near the daily API limit", extra={"sync_job_id": job.id, "team_id": job.team_id})
    return True


def near_daily_limit(
    connection: SalesforceConnection, now: datetime, ceiling: float, *, trusted_for: timedelta
) -> bool:
    """Slow down when the last usage seen is past the ceiling, instead of burning the rest. A reading older than
    `trusted_for` (the deferral delay) is not trusted: the next sync goes ahead and brings a fresh one, so deferred
    syncs go out once the org's rolling 24-hour usage has fallen."""
    used, limit, seen = connection.api_usage_used, connection.api_usage_limit, connection.api_usage_seen_at
    if not used or not limit or seen is None or now - seen >= trusted_for:
        return False
    return used / limit >= ceiling


def _usage_is_news(connection: SalesforceConnection, usage: ApiUsage) -> bool:
    """Whether a reading is worth a write of the team's connection row, which every sync of the team would
    otherwise update (and wait on): when the stored one is a minute old, or the reading crosses the ceiling
    either way (what near_daily_limit decides by)."""
    stored, limit, seen = connection.api_usage_used, connection.api_usage_limit, connection.api_usage_seen_at
    if stored is None or not limit or seen is None or usage.seen_at - seen >= USAGE_REFRESH or not usage.limit:
        return True
    ceiling = current_app.config["SYNC_API_USAGE_CEILING"]
    return (stored / limit >= ceiling) != (usage.used / usage.limit >= ceiling)


def _unavailable_code(error: SalesforceUnavailable) -> str:
    """Say what happened (design §5): a write sent without an answer has an unknown outcome; a read that got no
    answer failed before anything was written; otherwise Salesforce was unavailable."""
    if error.code:
        return error.code
    if error.may_have_committed:
        return "UNKNOWN_OUTCOME"
    return "READ_FAILED" if error.read_failed else "SERVER_UNAVAILABLE"


def _waiting_reason(error: SalesforceAuthError) -> str:
    return SyncReason.NOT_CONNECTED if error.code == SyncReason.NOT_CONNECTED else SyncReason.NEEDS_RECONNECT


# --- recording outcomes ---------------------------------------------------------------------------------------


def _close_attempt(attempt: SyncAttempt, trail: list[dict], outcome: str, error_code: str) -> None:
    """Every request the attempt sent is in its trail; its API calls are those Salesforce counts."""
    attempt.trail = trail
    attempt.api_calls = sum(1 for exchange in trail if exchange["api_call"])
    attempt.outcome, attempt.error_code = outcome, error_code or ""
    attempt.finished_at = utcnow()


def _blocked(session: Session, job: SyncJob, attempt: SyncAttempt, blocker: Blocker) -> str:
    if attempt.finished_at is None:
        attempt.outcome, attempt.finished_at = blocker.status.value, utcnow()
    job.error_code = job.error_message = ""
    schedule.finish(session, job, blocker.status, blocker.reason, also=[attempt])
    return f"{blocker.status.value}: {blocker.reason}"


def _synced(
    session: Session,
    job: SyncJob,
    outcome: Outcome,
    link: SalesforceLink | None = None,
    attempt: SyncAttempt | None = None,
) -> str:
    job.action_taken = outcome.action_taken
    job.sf_object, job.sf_record_id, job.sf_event_id = outcome.sf_object, outcome.record_id, outcome.event_id
    job.error_code, job.error_message, job.error_fields, job.retryable = "", "", [], False
    stored_link = _stored_link(job.booking_id, outcome, link) if outcome.record_id else None
    schedule.finish(session, job, SyncStatus.SYNCED, also=[row for row in (attempt, stored_link) if row is not None])
    _reapply_finished_cancel(session, job)
    log.info("synced: %s", outcome.action_taken, extra={"sync_job_id": job.id, "booking_id": job.booking_id})
    return SyncStatus.SYNCED.value


def _reapply_finished_cancel(session: Session, job: SyncJob) -> None:
    """A create that reached Salesforce only after the booking's cancel was applied (a failed create retried
    later) put an Event up for a meeting that will not happen: apply the cancel again, now that there is one."""
    if job.event == SyncEvent.CANCELLED or job.booking.status != BookingStatus.CANCELLED:
        return
    cancel = session.scalar(
        select(SyncJob)
        .where(SyncJob.booking_id == job.booking_id, SyncJob.event == SyncEvent.CANCELLED, SyncJob.id > job.id)
        .where(SyncJob.status.in_((SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.SKIPPED)))
        .order_by(SyncJob.id.desc())
        .limit(1)
    )
    if cancel is not None:
        schedule.requeue(session, [cancel])


def _stored_link(booking_id: int, outcome: Outcome, link: SalesforceLink | None):
    """The link with the outcome's ids: the loaded row changed, or an upsert for a booking that had none loaded
    (written with the job's outcome, schedule.finish)."""
    ids = dict(sf_object=outcome.sf_object, record_id=outcome.record_id, event_id=outcome.event_id)
    if link is not None and inspect(link).persistent:
        link.sf_object, link.record_id, link.event_id = ids["sf_object"], ids["record_id"], ids["event_id"]
        return link
    statement = pg_insert(SalesforceLink).values(booking_id=booking_id, **ids)
    changed = {**ids, "updated_at": func.now()}  # ON CONFLICT's update does not apply onupdate by itself
    return statement.on_conflict_do_update(index_elements=[SalesforceLink.booking_id], set_=changed)


def _failed(session: Session, job: SyncJob, attempt: SyncAttempt, error: SyncError) -> str:
    """A transient error is retried with backoff until the retries run out; a permanent one fails at once."""
    job.error_code, job.error_message, job.error_fields = error.code, error.message, list(error.fields)
    job.retryable = error.retryable
    if attempt.finished_at is None:
        attempt.outcome, attempt.error_code, attempt.finished_at = SyncStatus.FAILED.value, error.code, utcnow()
    if error.retryable and schedule.retry_later(session, job):
        log.info("retrying later: %s", error.code, extra={"sync_job_id": job.id})
        return f"retry: {error.code}"
    schedule.finish(session, job, SyncStatus.FAILED, also=[attempt])
    log.info("failed: %s", error.code, extra={"sync_job_id": job.id})
    return f"failed: {error.code}"
