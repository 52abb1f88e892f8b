"""Backfills: a calendar's earlier bookings sent to Salesforce in batches of up to 200 (design §5).

A backfill's state lives in its PostgreSQL row; a worker claims it with a lease (as a SyncJob is claimed) and takes
bookings in id order. Each booking it sends becomes a SyncJob (event created, `backfill_id` set) written RUNNING
with a lease in the same transaction that moves the backfill's cursor past it, so a booking is taken exactly once.
A batch is read with SOQL IN lists and written with sObject Collections (portal.planner.batch on the live sync's own
planner); each booking's outcome is recorded as any sync's is (service._synced / service._failed), so failures land
on the errors page with their own reason and a retry takes the ordinary path.

Interrupted anywhere, nothing is written twice: a batch's jobs stay RUNNING, and the next claim of the backfill
sends them again starting with the reads, which find any record or Event a lost answer had created (design §5,
"Exactly once"). If the backfill is not resumed before their lease runs out, the sweep hands them to the live path,
which reads before writing too. A batch failing as a whole (Salesforce unavailable, an unclear answer) hands its
bookings to the live path's retries, each with the error it met.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from .. import audit
from ..extensions import db, queues
from ..links import booking_page_url
from ..models import (
    ACTIVE_BACKFILL_STATES,
    OPEN_STATUSES,
    Backfill,
    BackfillState,
    Booking,
    BookingStatus,
    Calendar,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceLink,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncStatus,
    User,
    utcnow,
)
from ..planner import batch
from ..planner.catalogue import SyncError, sync_error
from ..planner.fields import fields_from_describe
from ..planner.inputs import SyncRequest
from ..planner.plan import Outcome, WritePlan, plan_writes, preflight
from ..planner.values import SyncRefused
from ..planner.words import N_
from ..salesforce.client import SalesforceClient, client_for_connection
from ..salesforce.describe import describe_of
from ..salesforce.errors import SalesforceAuthError, SalesforceRequestError, SalesforceUnavailable
from . import schedule
from .service import _failed, _synced, _unavailable_code, blocker_for, near_daily_limit
from .snapshots import sync_request

log = logging.getLogger("portal.sync.backfill")

RUN_BACKFILL = "jobs.backfill.run_backfill"
BATCH_SIZE = batch.COLLECTION_SIZE
JOB_TIMEOUT_SECONDS = 6 * 3600  # one RQ job carries a whole backfill; its lease is renewed batch by batch
# Calls a batch of up to 200 new guests takes: lookups, Events already there, records, Events.
CALLS_PER_BATCH = 4
FINAL_STATUSES = (SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.SKIPPED, SyncStatus.DISMISSED)


# A backfill's state as people read it.
STATE_WORDS = {
    "queued": _l("Waiting to start"),
    "running": _l("Sending"),
    "paused": _l("Paused"),
    "stopped": _l("Stopped"),
    "done": _l("Finished"),
}


class BackfillRefused(Exception):
    """The backfill cannot start or change now; the message says why in plain words."""


def rq_job_id(backfill: Backfill) -> str:
    return f"backfill-{backfill.id}-{backfill.runs + 1}"


# -- what people see -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackfillPreview:
    """What a backfill of this range would do, shown before anyone confirms."""

    bookings: int  # in the range
    to_send: int
    already_synced: int
    in_live_sync: int
    cancelled: int
    estimated_calls: int
    remaining_calls: int | None  # the org's daily API budget left, as last seen; None when unknown


def first_booking_at(session: Session, calendar: Calendar) -> datetime | None:
    return session.scalar(select(func.min(Booking.created_at)).where(Booking.calendar_id == calendar.id))


def preview(session: Session, calendar: Calendar, booked_from: datetime, booked_until: datetime) -> BackfillPreview:
    """Count what a backfill of bookings made in [booked_from, booked_until) would send and skip."""
    rows = session.execute(_classified_bookings(calendar.id, booked_from, booked_until)).all()
    cancelled = sum(1 for row in rows if row.status == BookingStatus.CANCELLED)
    synced = sum(1 for row in rows if row.status != BookingStatus.CANCELLED and row.linked)
    live = sum(1 for row in rows if row.status != BookingStatus.CANCELLED and not row.linked and row.open_job)
    to_send = len(rows) - cancelled - synced - live
    connection = session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == calendar.team_id))
    remaining = None
    if connection is not None and connection.api_usage_limit:
        remaining = max(connection.api_usage_limit - (connection.api_usage_used or 0), 0)
    batches = -(-to_send // BATCH_SIZE)
    return BackfillPreview(len(rows), to_send, synced, live, cancelled, batches * CALLS_PER_BATCH, remaining)


def _classified_bookings(calendar_id: int, booked_from: datetime, booked_until: datetime, after_id: int = 0):
    linked = (
        select(SalesforceLink.booking_id)
        .where(SalesforceLink.booking_id == Booking.id, SalesforceLink.record_id != "")
        .exists()
    )
    open_job = select(SyncJob.id).where(SyncJob.booking_id == Booking.id, SyncJob.status.in_(OPEN_STATUSES)).exists()
    return (
        select(Booking.id, Booking.status, Booking.guest_email, linked.label("linked"), open_job.label("open_job"))
        .where(Booking.calendar_id == calendar_id, Booking.id > after_id)
        .where(Booking.created_at >= booked_from, Booking.created_at < booked_until)
        .order_by(Booking.id)
    )


@dataclass(frozen=True)
class Progress:
    state: str
    total: int
    done: int
    created: int
    updated: int
    linked: int
    skipped: int
    failed: int
    retrying: int  # handed to the live path's retries, not finished yet
    reason: str

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


def progress(session: Session, backfill: Backfill) -> Progress:
    """The counts, read from the backfill's own jobs (so they survive any interruption)."""
    rows = session.execute(
        select(SyncJob.status, SyncJob.action_taken, func.count())
        .where(SyncJob.backfill_id == backfill.id)
        .group_by(SyncJob.status, SyncJob.action_taken)
    ).all()
    counts = {"created": 0, "updated": 0, "linked": 0, "failed": 0, "final": 0, "retrying": 0}
    for status, action, count in rows:
        if status in FINAL_STATUSES:
            counts["final"] += count
        if status == SyncStatus.SYNCED:
            kind = (
                "created" if action.startswith("created") else "updated" if action.startswith("updated") else "linked"
            )
            counts[kind] += count
        elif status == SyncStatus.FAILED:
            counts["failed"] += count
        elif status in (SyncStatus.PENDING, SyncStatus.WAITING):
            counts["retrying"] += count
    return Progress(
        state=backfill.state.value,
        total=backfill.total,
        done=backfill.skipped + counts["final"],
        created=counts["created"],
        updated=counts["updated"],
        linked=counts["linked"],
        skipped=backfill.skipped,
        failed=counts["failed"],
        retrying=counts["retrying"],
        reason=backfill.reason,
    )


def latest_of(session: Session, calendar: Calendar) -> Backfill | None:
    return session.scalar(
        select(Backfill).where(Backfill.calendar_id == calendar.id).order_by(Backfill.id.desc()).limit(1)
    )


# -- starting, stopping, resuming (services: each commits) ---------------------------------------------------------


def start(calendar: Calendar, user: User, booked_from: datetime, booked_until: datetime) -> Backfill:
    """Start sending the range's earlier bookings; refused while another backfill of the calendar is going."""
    session = db.session
    _refuse_when_active(session, calendar)
    total = session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.calendar_id == calendar.id, Booking.created_at >= booked_from, Booking.created_at < booked_until)
    )
    backfill = Backfill(
        team_id=calendar.team_id,
        calendar_id=calendar.id,
        requested_by_id=user.id,
        booked_from=booked_from,
        booked_until=booked_until,
        state=BackfillState.QUEUED,
        reason="",
        total=total or 0,
        skipped=0,
        cursor_booking_id=0,
        runs=0,
        api_calls=0,
    )
    session.add(backfill)
    session.flush()
    audit.record("backfill.started", team_id=calendar.team_id, target=backfill, calendar_id=calendar.id, total=total)
    session.commit()
    try_enqueue(backfill)
    return backfill


def _refuse_when_active(session: Session, calendar: Calendar) -> None:
    active = session.scalar(
        select(Backfill.id).where(Backfill.calendar_id == calendar.id, Backfill.state.in_(ACTIVE_BACKFILL_STATES))
    )
    if active is not None:
        raise BackfillRefused(N_("Earlier bookings of this calendar are already being sent; wait for that to finish."))


def stop(backfill: Backfill) -> None:
    """Stop after the batch in flight (its bookings finish); the rest stay unsent until someone resumes."""
    session = db.session
    if backfill.state not in ACTIVE_BACKFILL_STATES:
        raise BackfillRefused(N_("This sending has already finished."))
    backfill.state, backfill.reason, backfill.next_run_at = BackfillState.STOPPED, N_("Stopped by a person."), None
    audit.record("backfill.stopped", team_id=backfill.team_id, target=backfill, calendar_id=backfill.calendar_id)
    session.commit()


def resume(backfill: Backfill) -> None:
    """Carry on a stopped backfill from where it stopped."""
    session = db.session
    if backfill.state != BackfillState.STOPPED:
        raise BackfillRefused(N_("Only a stopped sending can be resumed."))
    _refuse_when_active(session, backfill.calendar)
    backfill.state, backfill.reason, backfill.finished_at = BackfillState.QUEUED, "", None
    audit.record("backfill.resumed", team_id=backfill.team_id, target=backfill, calendar_id=backfill.calendar_id)
    session.commit()
    try_enqueue(backfill)


def try_enqueue(backfill: Backfill, at: datetime | None = None) -> None:
    """Put the backfill's next run on RQ; a Redis failure is logged and left to the sweep."""
    try:
        queue = queues.queue("sync")
        options = dict(
            job_id=rq_job_id(backfill), result_ttl=3600, failure_ttl=7 * 86400, job_timeout=JOB_TIMEOUT_SECONDS
        )
        if at is not None and at > utcnow():
            queue.enqueue_at(at, RUN_BACKFILL, backfill.id, **options)
        else:
            queue.enqueue(RUN_BACKFILL, backfill.id, **options)
    except Exception:
        log.warning("could not enqueue backfill; the sweep will", extra={"backfill_id": backfill.id}, exc_info=True)


def sweep(session: Session, now: datetime | None = None) -> int:
    """Enqueue backfills that should be running and are not (a worker died, Redis lost the job, a pause ended)."""
    now = now or utcnow()
    due = session.scalars(
        select(Backfill).where(
            or_(
                Backfill.state == BackfillState.QUEUED,
                and_(
                    Backfill.state == BackfillState.RUNNING,
                    or_(Backfill.lease_expires_at.is_(None), Backfill.lease_expires_at < now),
                ),
                and_(Backfill.state == BackfillState.PAUSED, Backfill.next_run_at <= now),
            )
        )
    ).all()
    session.rollback()
    enqueued = 0
    for backfill in due:
        if not _rq_job_alive(rq_job_id(backfill)):
            try_enqueue(backfill)
            enqueued += 1
    return enqueued


def _rq_job_alive(key: str) -> bool:
    try:
        return Job.fetch(key, connection=queues.redis).get_status(refresh=False) in schedule.LIVE_RQ_STATES
    except NoSuchJobError:
        return False


# -- running -------------------------------------------------------------------------------------------------------


def run(backfill_id: int) -> str:
    """Claim the backfill and send its batches until it is done, stopped or paused; returns what happened."""
    session = db.session
    if not _claim(session, backfill_id):
        return "not claimed"
    while True:
        backfill = session.get(Backfill, backfill_id, populate_existing=True)
        if backfill.state != BackfillState.RUNNING:
            return backfill.state.value  # stopped meanwhile: the batch in flight was finished
        integration = session.scalar(
            select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == backfill.calendar_id)
        )
        connection = session.scalar(
            select(SalesforceConnection).where(SalesforceConnection.team_id == backfill.team_id)
        )
        held = _hold_off(session, backfill, integration, connection)
        if held:
            return held
        jobs = _in_flight(session, backfill) or _take_batch(session, backfill)
        if jobs is None:
            backfill.state, backfill.finished_at, backfill.lease_expires_at = BackfillState.DONE, utcnow(), None
            audit.record("backfill.done", team_id=backfill.team_id, target=backfill, calendar_id=backfill.calendar_id)
            session.commit()
            return "done"
        if jobs:
            _send(session, backfill, jobs, integration, connection)


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=current_app.config["SYNC_LEASE_SECONDS"])


def _claim(session: Session, backfill_id: int) -> bool:
    now = utcnow()
    backfill = session.scalar(
        select(Backfill)
        .where(Backfill.id == backfill_id, Backfill.state.in_(ACTIVE_BACKFILL_STATES))
        .with_for_update(skip_locked=True)
    )
    held = backfill is not None and backfill.state == BackfillState.RUNNING and (backfill.lease_expires_at or now) > now
    early = backfill is not None and backfill.next_run_at is not None and backfill.next_run_at > now
    if backfill is None or held or early:
        session.rollback()
        return False
    backfill.state, backfill.reason, backfill.next_run_at = BackfillState.RUNNING, "", None
    backfill.runs += 1
    backfill.lease_expires_at = _lease(now)
    session.commit()
    return True


def _hold_off(
    session: Session,
    backfill: Backfill,
    integration: SalesforceIntegration | None,
    connection: SalesforceConnection | None,
) -> str:
    """Stop or pause before a batch when its syncs could not run (design §5 "Before calling Salesforce")."""
    blocker = blocker_for(None, integration, connection)
    now = utcnow()
    if blocker is not None and blocker.status == SyncStatus.SKIPPED:
        reason = N_("The Salesforce integration was paused or removed.")
        return _set_aside(session, backfill, BackfillState.STOPPED, reason, None)
    if blocker is not None:
        reason = N_("Salesforce is not connected or needs reconnecting; sending carries on once it is.")
        return _set_aside(session, backfill, BackfillState.PAUSED, reason, now + _pause())
    if near_daily_limit(connection, now, current_app.config["SYNC_API_USAGE_CEILING"], trusted_for=_pause()):
        reason = N_("The Salesforce org has nearly used its API calls for today; sending carries on later.")
        return _set_aside(session, backfill, BackfillState.PAUSED, reason, now + _pause())
    backfill.lease_expires_at = _lease(now)
    session.commit()
    return ""


def _pause() -> timedelta:
    return timedelta(seconds=current_app.config["SYNC_NEAR_LIMIT_DELAY_SECONDS"])


def _set_aside(session: Session, backfill: Backfill, state: BackfillState, reason: str, until) -> str:
    backfill.state, backfill.reason, backfill.next_run_at, backfill.lease_expires_at = state, reason, until, None
    session.commit()
    return state.value


def _in_flight(session: Session, backfill: Backfill) -> list[SyncJob]:
    """The batch an interrupted run left RUNNING, taken back with a fresh lease and a new attempt each."""
    now = utcnow()
    ids = session.scalars(
        update(SyncJob)
        .where(SyncJob.backfill_id == backfill.id, SyncJob.status == SyncStatus.RUNNING)
        .where(SyncJob.lease_expires_at < now)  # a fresh lease is a live worker's, which took the job over
        .values(lease_expires_at=_lease(now), attempts=SyncJob.attempts + 1)
        .returning(SyncJob.id)
    ).all()
    session.commit()
    jobs = _with_attempts(session, list(ids))
    # A batch that keeps breaking its run (a bug, not Salesforce) goes to the live path, whose retries are counted.
    worn = [job for job in jobs if job.attempts > len(current_app.config["SYNC_RETRY_BACKOFF_SECONDS"])]
    _hand_over(session, worn)
    return [job for job in jobs if job not in worn]


def _take_batch(session: Session, backfill: Backfill) -> list[SyncJob] | None:
    """Take the next bookings (up to 200, one per guest e-mail) as RUNNING jobs and move the cursor past them and
    past the skipped ones, in one transaction; None when no booking is left."""
    rows = session.execute(
        _classified_bookings(
            backfill.calendar_id, backfill.booked_from, backfill.booked_until, backfill.cursor_booking_id
        ).limit(BATCH_SIZE * 2)
    ).all()
    if not rows:
        return None
    lease, emails, jobs = _lease(utcnow()), set(), []
    for row in rows:
        email = row.guest_email.strip().lower()
        if row.status == BookingStatus.CANCELLED or row.linked or row.open_job:
            backfill.skipped += 1
        elif email in emails:
            break  # the same guest twice: the second waits for the next batch, so one record serves both
        else:
            emails.add(email)
            jobs.append(
                SyncJob(
                    team_id=backfill.team_id,
                    calendar_id=backfill.calendar_id,
                    booking_id=row.id,
                    event=SyncEvent.CREATED,
                    status=SyncStatus.RUNNING,
                    attempts=1,
                    lease_expires_at=lease,
                    backfill_id=backfill.id,
                )
            )
        backfill.cursor_booking_id = row.id
        if len(jobs) == BATCH_SIZE:
            break
    session.add_all(jobs)
    session.commit()
    return _with_attempts(session, [job.id for job in jobs])


def _with_attempts(session: Session, job_ids: list[int]) -> list[SyncJob]:
    jobs = session.scalars(select(SyncJob).where(SyncJob.id.in_(job_ids)).order_by(SyncJob.id)).all()
    for job in jobs:
        session.add(SyncAttempt(sync_job_id=job.id, number=job.attempts, trail=[]))
    session.commit()
    return list(jobs)


def _renew(session: Session, backfill: Backfill | None, claimed: dict[int, int]) -> set[int]:
    """Extend the leases of the batch's jobs (id -> the attempt this batch claimed) before a write or an outcome;
    returns the ids still ours. A job whose lease ran out was reclaimed for the live path, which claims it with a
    new attempt number, and is left to it."""
    now = utcnow()
    ours = list(claimed.items())
    if not ours:
        return set()
    kept = set(
        session.scalars(
            update(SyncJob)
            .where(tuple_(SyncJob.id, SyncJob.attempts).in_(ours), SyncJob.status == SyncStatus.RUNNING)
            .where(SyncJob.lease_expires_at >= now)
            .values(lease_expires_at=_lease(now))
            .returning(SyncJob.id)
        ).all()
    )
    if backfill is not None:
        backfill.lease_expires_at = _lease(now)
    session.commit()
    return kept


# -- one batch -----------------------------------------------------------------------------------------------------


class _BatchFailed(Exception):
    def __init__(self, error: SyncError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class _Item:
    job: SyncJob
    sync: SyncRequest
    plan: WritePlan | None = None
    record_id: str = ""
    event_id: str = ""
    error: SyncError | None = None


def _send(
    session: Session,
    backfill: Backfill | None,
    jobs: list[SyncJob],
    integration: SalesforceIntegration,
    connection: SalesforceConnection,
) -> None:
    """Send one batch (of a backfill, or of released syncs when `backfill` is None); record every outcome."""
    claimed = {job.id: job.attempts for job in jobs}
    items: list[_Item] = []
    try:
        with client_for_connection(connection.id) as client:
            try:
                items += _build(session, jobs, integration, connection, client)
                _apply(session, backfill, items, client, claimed)
            finally:
                if backfill is not None:
                    backfill.api_calls += client.api_calls
                session.commit()
    except SalesforceAuthError:  # each booking waits for the reconnect as any sync does
        _hand_over(session, _ours(session, backfill, jobs, claimed))
        return
    except (SalesforceUnavailable, SalesforceRequestError, _BatchFailed) as failure:
        _fail_all(session, _ours(session, backfill, jobs, claimed), _batch_error(failure))
        return
    ours = {job.id for job in _ours(session, backfill, jobs, claimed)}
    items = [item for item in items if item.job.id in ours]
    duplicates = [item.job for item in items if item.error is not None and item.error.code == "DUPLICATES_DETECTED"]
    _hand_over(session, duplicates)  # the live path uses the record the rule matched (Collections do not name it)
    for item in items:
        if item.job.status != SyncStatus.RUNNING:
            continue
        if item.error is not None:
            _fail_one(session, item.job, item.error)
        else:
            outcome = Outcome(item.plan.sf_object, item.record_id, item.event_id, item.plan.actions)
            _synced(session, item.job, outcome)


def _ours(session: Session, backfill: Backfill | None, jobs: list[SyncJob], claimed: dict[int, int]) -> list[SyncJob]:
    kept = _renew(session, backfill, claimed)
    return [job for job in jobs if job.id in kept]


def _build(
    session: Session,
    jobs: list[SyncJob],
    integration: SalesforceIntegration,
    connection: SalesforceConnection,
    client: SalesforceClient,
) -> list[_Item]:
    fields = fields_from_describe(describe_of(connection, integration.object_name.value, client).payload)
    page_url = booking_page_url(integration.calendar)
    version = current_app.config["SALESFORCE_API_VERSION"]
    items = []
    for job in jobs:
        sync = sync_request(
            SyncEvent.CREATED, job.booking, integration, fields, api_version=version, booking_page_url=page_url
        )
        items.append(_Item(job, sync, error=preflight(sync)))
    return items


def _apply(
    session: Session, backfill: Backfill | None, items: list[_Item], client: SalesforceClient, claimed: dict[int, int]
) -> None:
    """Read for the whole batch, plan each booking, then write records and Events with sObject Collections."""
    live = [item for item in items if item.error is None]
    if not live:
        return
    reads = batch.Reads()
    _read(client, reads, batch.lookup_queries([item.sync for item in live]))
    if live[0].sync.settings.register_event:  # Events an earlier try may have created for the records found
        found = [batch.lookup_for(item.sync, reads).record for item in live]
        starts = [item.sync.booking.start_at for item in live]
        _read(client, reads, batch.event_queries([record.record_id for record in found if record], starts))
    for item in live:
        try:
            item.plan = plan_writes(item.sync, batch.lookup_for(item.sync, reads))
        except SyncRefused as refused:
            item.error = refused.error
        else:
            item.record_id, item.event_id = item.plan.record_id, item.plan.event_id
    object_name = live[0].sync.settings.object_name
    for method, write in (("POST", "create"), ("PATCH", "update")):
        entries = [
            (item, batch.record_entry(item.plan, object_name))
            for item in live
            if item.error is None and item.plan.record_write == write
        ]
        _save(session, backfill, client, method, entries, "record_id", claimed)
    events = [
        (item, batch.event_entry(item.plan, item.record_id))
        for item in live
        if item.error is None and item.plan.event_write == "create" and item.record_id
    ]
    _save(session, backfill, client, "POST", events, "event_id", claimed)


def _read(client: SalesforceClient, reads: batch.Reads, queries: list[tuple[str, str]]) -> None:
    for request in batch.read_requests(current_app.config["SALESFORCE_API_VERSION"], queries):
        error = reads.add_composite(client.request("POST", request.url, json=request.body()))
        if error is not None:
            raise _BatchFailed(error)
    while reads.more:
        kind, url = reads.more.pop()
        reads.add_page(kind, client.request("GET", url))


def _save(
    session: Session,
    backfill: Backfill | None,
    client: SalesforceClient,
    method: str,
    entries,
    attribute: str,
    claimed: dict[int, int],
) -> None:
    """Write records in Collections of up to 200; each booking gets its id (stored at once) or its own error."""
    for start in range(0, len(entries), batch.COLLECTION_SIZE):
        chunk = entries[start : start + batch.COLLECTION_SIZE]
        owned = _renew(session, backfill, {item.job.id: claimed[item.job.id] for item, _ in chunk})
        chunk = [(item, entry) for item, entry in chunk if item.job.id in owned]
        if not chunk:
            continue
        body = batch.collection_body([entry for _, entry in chunk])
        results = client.request(method, "composite/sobjects", json=body, headers=batch.COLLECTION_HEADERS)
        if not isinstance(results, list) or len(results) != len(chunk):
            raise _BatchFailed(sync_error("UNEXPECTED_RESPONSE", "Salesforce's answer did not list every record."))
        for (item, _), result in zip(chunk, results, strict=True):
            record_id, error = batch.saved(result)
            if error is not None:
                item.error = error
            else:
                setattr(item, attribute, record_id)
                item.job.sf_object = item.plan.sf_object
                item.job.sf_record_id, item.job.sf_event_id = item.record_id, item.event_id
        session.commit()  # ids are stored as soon as they return


def _batch_error(failure: Exception) -> SyncError:
    if isinstance(failure, _BatchFailed):
        return failure.error
    if isinstance(failure, SalesforceUnavailable):
        return sync_error(_unavailable_code(failure), failure.message, http_status=failure.status or 503)
    return sync_error(failure.code, failure.message, tuple(failure.fields), failure.status)


def _attempt_of(session: Session, job: SyncJob) -> SyncAttempt:
    attempt = session.scalar(
        select(SyncAttempt).where(SyncAttempt.sync_job_id == job.id, SyncAttempt.number == job.attempts)
    )
    attempt.outcome = "sent with earlier bookings"
    return attempt


def _fail_one(session: Session, job: SyncJob, error: SyncError) -> None:
    """Its own failure, as any sync's: a retryable one is retried by the live path, with its backoff."""
    _failed(session, job, _attempt_of(session, job), error)


def _fail_all(session: Session, jobs: list[SyncJob], error: SyncError) -> None:
    for job in jobs:
        _fail_one(session, job, error)


def _hand_over(session: Session, jobs: list[SyncJob]) -> None:
    """Give bookings to the live path now (it decides waiting, retry or the duplicate's record), each on its own."""
    running = [job for job in jobs if job.status == SyncStatus.RUNNING]
    for job in running:
        attempt = _attempt_of(session, job)
        attempt.finished_at = utcnow()
        attempt.outcome = "handed to its own sync"
    if running:
        schedule.requeue(session, running)


# -- released syncs: the live path in batches ----------------------------------------------------------------------

RUN_RELEASED = "jobs.backfill.run_released"
BATCH_THRESHOLD = 3  # fewer waiting creates of a calendar go out one by one: a batch saves nothing below this


def release_team_in_batches(session: Session, team_id: int) -> int:
    """A team's waiting syncs go out now (its connection is back). Creates of bookings not yet in Salesforce go
    in batches per calendar (one RQ job each, up to 200 bookings); every other job, one by one as before. A
    batched job is also due a sweep interval later, so the sweep sends it on its own if its batch is lost."""
    waiting = session.scalars(
        select(SyncJob).where(SyncJob.team_id == team_id, SyncJob.status == SyncStatus.WAITING).order_by(SyncJob.id)
    ).all()
    linked = set(
        session.scalars(
            select(SalesforceLink.booking_id).where(SalesforceLink.booking_id.in_([job.booking_id for job in waiting]))
        ).all()
    )
    by_calendar: dict[int, list[SyncJob]] = {}
    for job in waiting:
        if job.event == SyncEvent.CREATED and job.booking_id not in linked:
            by_calendar.setdefault(job.calendar_id, []).append(job)
    batched = [jobs for jobs in by_calendar.values() if len(jobs) >= BATCH_THRESHOLD]
    in_batches = {job.id for jobs in batched for job in jobs}
    later = utcnow() + timedelta(seconds=current_app.config["SYNC_SWEEP_SECONDS"])
    for job in waiting:
        if job.id in in_batches:
            job.status, job.reason, job.next_attempt_at, job.finished_at = SyncStatus.PENDING, "", later, None
    session.commit()
    schedule.requeue(session, [job for job in waiting if job.id not in in_batches])
    for jobs in batched:
        for start in range(0, len(jobs), BATCH_SIZE):
            _enqueue_released([job.id for job in jobs[start : start + BATCH_SIZE]])
    return len(waiting)


def _enqueue_released(job_ids: list[int]) -> None:
    try:
        queues.queue("sync").enqueue(
            RUN_RELEASED,
            job_ids,
            job_id=f"released-{job_ids[0]}-{len(job_ids)}",
            result_ttl=3600,
            job_timeout=schedule.job_timeout(current_app.config),
        )
    except Exception:
        log.warning("could not enqueue a batch of released syncs; the sweep sends them one by one", exc_info=True)


def run_released(job_ids: list[int]) -> str:
    """Send released creates of one calendar as one batch: claim those still pending (one per guest e-mail; the
    others go out one by one), then read and write them together, recording each outcome as the live path does."""
    session = db.session
    now = utcnow()
    candidates = session.scalars(
        select(SyncJob)
        .where(SyncJob.id.in_(job_ids), SyncJob.status == SyncStatus.PENDING)
        .order_by(SyncJob.id)
        .with_for_update(skip_locked=True)
    ).all()
    emails: set[str] = set()
    claimed, alone = [], []
    for job in candidates:
        email = job.booking.guest_email.strip().lower()
        (alone if email in emails else claimed).append(job)
        emails.add(email)
    for job in claimed:
        job.status, job.attempts, job.lease_expires_at = SyncStatus.RUNNING, job.attempts + 1, _lease(now)
    session.commit()
    schedule.requeue(session, alone)
    jobs = _with_attempts(session, [job.id for job in claimed])
    if not jobs:
        return "nothing to send"
    integration = session.scalar(
        select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == jobs[0].calendar_id)
    )
    connection = session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == jobs[0].team_id))
    usage_ceiling = current_app.config["SYNC_API_USAGE_CEILING"]
    if blocker_for(None, integration, connection) is not None or near_daily_limit(
        connection, now, usage_ceiling, trusted_for=_pause()
    ):
        _hand_over(session, jobs)  # the live path decides: skipped, waiting or deferred, as for any sync
        return "handed over"
    _send(session, None, jobs, integration, connection)
    return f"sent {len(jobs)}"


def recent(session: Session, limit: int = 50) -> list[tuple[Backfill, Progress]]:
    """The latest backfills of every team with their counts, newest first (the support console's list)."""
    backfills = session.scalars(select(Backfill).order_by(Backfill.id.desc()).limit(limit)).all()
    return [(backfill, progress(session, backfill)) for backfill in backfills]
