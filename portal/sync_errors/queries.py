"""Read-side queries of the errors page and the sync detail page (the support console reuses them).

Every page costs a fixed number of SQL statements whatever the data or page size: rows are selected as plain
columns with their calendar, booking and team joined in, never loaded lazily row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, and_, cast, exists, func, or_, select, true
from sqlalchemy.orm import Session

from ..access import own_calendar_ids
from ..links import salesforce_record_url
from ..models import (
    Booking,
    Calendar,
    FieldMapping,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceLink,
    SourceKind,
    SyncAttempt,
    SyncJob,
    SyncStatus,
    Team,
)

# The states the errors page lists: failed, waiting, and failing attempts that will be retried automatically.
RETRYING = "retrying"  # pending again after a failed attempt
STATES = (SyncStatus.FAILED.value, SyncStatus.WAITING.value, RETRYING)
CHART_STATUSES = (SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.WAITING)
HEALTH_DAYS = 14


@dataclass(frozen=True)
class Scope:
    """Which syncs a viewer may see: one team (or every team, for staff), optionally only a member's calendars."""

    team_id: int | None
    member_user_id: int | None = None


@dataclass(frozen=True)
class ErrorFilters:
    calendar_id: int | None = None
    error_code: str = ""
    state: str = ""  # one of STATES, or "" for all of them
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""  # a guest e-mail (or part of one) or a booking id
    team_id: int | None = None  # support console only
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class ErrorRow:
    id: int
    team_id: int
    team_name: str
    calendar_id: int
    calendar_name: str
    calendar_time_zone: str
    booking_id: int
    guest_email: str
    guest_name: str
    booking_start: datetime
    event: str
    status: str
    reason: str
    error_code: str
    error_message: str
    error_fields: list[str]
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime

    @property
    def state(self) -> str:
        return RETRYING if self.status == SyncStatus.PENDING else str(self.status)


@dataclass(frozen=True)
class Page:
    rows: list  # ErrorRow here; AuditRow in the support console
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# --- scope and filters -----------------------------------------------------------------------------------------


def visible_calendars(scope: Scope) -> ColumnElement[bool]:
    """SyncJob rows the scope may see, as a WHERE clause."""
    clauses = []
    if scope.team_id is not None:
        clauses.append(SyncJob.team_id == scope.team_id)
    if scope.member_user_id is not None:
        clauses.append(SyncJob.calendar_id.in_(own_calendar_ids(scope.member_user_id)))
    return and_(true(), *clauses)


def _state_clause(state: str) -> ColumnElement[bool]:
    if state == SyncStatus.FAILED:
        return SyncJob.status == SyncStatus.FAILED
    if state == SyncStatus.WAITING:
        return SyncJob.status == SyncStatus.WAITING
    if state == RETRYING:
        return and_(SyncJob.status == SyncStatus.PENDING, SyncJob.error_code != "")
    return or_(*(_state_clause(s) for s in STATES))


def _filter_clauses(filters: ErrorFilters) -> list[ColumnElement[bool]]:
    clauses = [_state_clause(filters.state)]
    if filters.calendar_id is not None:
        clauses.append(SyncJob.calendar_id == filters.calendar_id)
    if filters.team_id is not None:
        clauses.append(SyncJob.team_id == filters.team_id)
    if filters.error_code:
        clauses.append(_code_column() == filters.error_code)
    if filters.date_from is not None:
        clauses.append(SyncJob.created_at >= _start_of(filters.date_from))
    if filters.date_to is not None:
        clauses.append(SyncJob.created_at < _start_of(filters.date_to + timedelta(days=1)))
    if filters.search:
        clauses.append(_search_clause(filters.search))
    return clauses


def _code_column() -> ColumnElement[str]:
    """What the page calls a sync's error code: Salesforce's code, or why it waits when it has none."""
    return func.coalesce(func.nullif(SyncJob.error_code, ""), SyncJob.reason)


def like_literal(text: str) -> str:
    """Text for a LIKE pattern with its own wildcards taken literally (escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_contains(text: str) -> str:
    return f"%{like_literal(text)}%"


def _search_clause(text: str) -> ColumnElement[bool]:
    by_email = Booking.guest_email.ilike(like_contains(text), escape="\\")
    if text.isdigit() and len(text) < 10:
        return or_(by_email, SyncJob.booking_id == int(text))
    return by_email


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# --- the errors list -------------------------------------------------------------------------------------------


_ROW_COLUMNS = (
    SyncJob.id,
    SyncJob.team_id,
    Team.name.label("team_name"),
    SyncJob.calendar_id,
    Calendar.name.label("calendar_name"),
    Calendar.time_zone.label("calendar_time_zone"),
    SyncJob.booking_id,
    Booking.guest_email,
    Booking.guest_name,
    Booking.start_at.label("booking_start"),
    SyncJob.event,
    SyncJob.status,
    SyncJob.reason,
    SyncJob.error_code,
    SyncJob.error_message,
    SyncJob.error_fields,
    SyncJob.attempts,
    SyncJob.next_attempt_at,
    SyncJob.created_at,
)


def _joined(statement: Select) -> Select:
    return (
        statement.join(Calendar, Calendar.id == SyncJob.calendar_id)
        .join(Booking, Booking.id == SyncJob.booking_id)
        .join(Team, Team.id == SyncJob.team_id)
    )


def error_page(session: Session, scope: Scope, filters: ErrorFilters) -> Page:
    """One page of failed, waiting and retrying syncs, newest first (two statements: the rows and the count)."""
    where = [visible_calendars(scope), *_filter_clauses(filters)]
    rows = session.execute(
        _joined(select(*_ROW_COLUMNS))
        .where(*where)
        .order_by(SyncJob.created_at.desc(), SyncJob.id.desc())
        .limit(filters.per_page)
        .offset((filters.page - 1) * filters.per_page)
    ).all()
    total = session.scalar(_joined(select(func.count())).select_from(SyncJob).where(*where)) or 0
    return Page([_row(r) for r in rows], total, filters.page, filters.per_page)


def _row(result: Any) -> ErrorRow:
    values = result._asdict()
    values["event"] = str(values["event"])
    values["status"] = str(values["status"])
    values["error_fields"] = list(values["error_fields"] or [])
    return ErrorRow(**values)


def jobs_to_retry_by_code(session: Session, scope: Scope, code: str) -> list[SyncJob]:
    """The failed or waiting syncs with this code that the viewer may retry, locked (a row a worker holds is skipped)."""
    return list(
        session.scalars(
            select(SyncJob)
            .where(visible_calendars(scope), _code_column() == code)
            .where(SyncJob.status.in_((SyncStatus.FAILED, SyncStatus.WAITING)))
            .order_by(SyncJob.id)
            .with_for_update(skip_locked=True)
        )
    )


def count_to_retry_by_code(session: Session, scope: Scope, code: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SyncJob)
            .where(visible_calendars(scope), _code_column() == code)
            .where(SyncJob.status.in_((SyncStatus.FAILED, SyncStatus.WAITING)))
        )
        or 0
    )


def _same_cause(calendar_id: int, code: str, sf_field: str) -> list[ColumnElement[bool]]:
    """Failed or waiting syncs of a calendar that failed with this code on this field."""
    return [
        SyncJob.calendar_id == calendar_id,
        SyncJob.error_code == code,
        SyncJob.error_fields.contains([sf_field]),
        SyncJob.status.in_((SyncStatus.FAILED, SyncStatus.WAITING)),
    ]


def jobs_with_cause(session: Session, calendar_id: int, code: str, sf_field: str) -> list[SyncJob]:
    """Those syncs, locked (a row a worker holds is skipped), for "apply a fallback and retry all"."""
    statement = select(SyncJob).where(*_same_cause(calendar_id, code, sf_field)).order_by(SyncJob.id)
    return list(session.scalars(statement.with_for_update(skip_locked=True)))


def created_calendar_ids(session: Session, team_id: int, user_id: int) -> set[int]:
    statement = select(Calendar.id).where(Calendar.team_id == team_id, Calendar.created_by_id == user_id)
    return set(session.scalars(statement))


def count_with_cause(session: Session, calendar_id: int, code: str, sf_field: str) -> int:
    statement = select(func.count()).select_from(SyncJob).where(*_same_cause(calendar_id, code, sf_field))
    return session.scalar(statement) or 0


# --- filter choices --------------------------------------------------------------------------------------------


def calendar_choices(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """The calendars the viewer may filter by (all of the team's, or the member's own)."""
    statement = select(Calendar.id, Calendar.name).order_by(Calendar.name, Calendar.id)
    if scope.team_id is not None:
        statement = statement.where(Calendar.team_id == scope.team_id)
    if scope.member_user_id is not None:
        statement = statement.where(Calendar.id.in_(own_calendar_ids(scope.member_user_id)))
    return [(row.id, row.name) for row in session.execute(statement)]


def error_code_choices(session: Session, scope: Scope) -> list[str]:
    """Codes present among the listed syncs, for the code filter."""
    code = _code_column()
    statement = (
        select(code).where(visible_calendars(scope), _state_clause(""), code != "").group_by(code).order_by(code)
    )
    return list(session.scalars(statement))


def team_choices(session: Session) -> list[tuple[int, str]]:
    """Teams with listed syncs, for the support console's team filter."""
    statement = (
        select(Team.id, Team.name)
        .where(exists().where(SyncJob.team_id == Team.id, _state_clause("")))
        .order_by(Team.name, Team.id)
    )
    return [(row.id, row.name) for row in session.execute(statement)]


# --- health at a glance ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCounts:
    day: date
    synced: int = 0
    failed: int = 0
    waiting: int = 0

    @property
    def total(self) -> int:
        return self.synced + self.failed + self.waiting


def health_counts(session: Session, scope: Scope, today: date, days: int = HEALTH_DAYS) -> list[DayCounts]:
    """Synced, failed and waiting syncs per day (UTC, by when the booking change happened), oldest day first."""
    first = today - timedelta(days=days - 1)
    day = cast(func.timezone("UTC", SyncJob.created_at), Date)
    rows = session.execute(
        select(day.label("day"), SyncJob.status, func.count())
        .where(visible_calendars(scope), SyncJob.status.in_(CHART_STATUSES))
        .where(SyncJob.created_at >= _start_of(first), SyncJob.created_at < _start_of(today + timedelta(days=1)))
        .group_by(day, SyncJob.status)
    ).all()
    counts: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(days)}
    for row_day, status, count in rows:
        counts[row_day][str(status)] = count
    return [DayCounts(d, **c) for d, c in counts.items()]


# --- one sync in detail ----------------------------------------------------------------------------------------


@dataclass
class SyncDetail:
    job: SyncJob
    team: Team
    calendar: Calendar
    booking: Booking
    attempts: list[SyncAttempt]
    record_url: str
    answers: list[tuple[str, str, str | None]] = field(default_factory=list)  # label, guest's answer, correction


def sync_detail(session: Session, sync_id: int) -> SyncDetail | None:
    """A sync with its team, calendar, booking, attempts and the link to its Salesforce record, if any."""
    found = session.execute(
        select(SyncJob, Team, Calendar, Booking)
        .join(Team, Team.id == SyncJob.team_id)
        .join(Calendar, Calendar.id == SyncJob.calendar_id)
        .join(Booking, Booking.id == SyncJob.booking_id)
        .where(SyncJob.id == sync_id)
    ).first()
    if found is None:
        return None
    job, team, calendar, booking = found
    attempts = list(
        session.scalars(select(SyncAttempt).where(SyncAttempt.sync_job_id == job.id).order_by(SyncAttempt.number))
    )
    detail = SyncDetail(job, team, calendar, booking, attempts, _record_url(session, job))
    detail.answers = _answers(calendar, booking)
    return detail


def _record_url(session: Session, job: SyncJob) -> str:
    """The booking's record (its Salesforce link, else the job's record) in the team's org as connected now."""
    link = session.get(SalesforceLink, job.booking_id)
    record_id = link.record_id if link is not None and link.record_id else job.sf_record_id
    if not record_id:
        return ""
    instance_url = session.scalar(
        select(SalesforceConnection.instance_url).where(SalesforceConnection.team_id == job.team_id)
    )
    return salesforce_record_url(instance_url or "", record_id)


def _answers(calendar: Calendar, booking: Booking) -> list[tuple[str, str, str | None]]:
    """The booking form's answers labelled by their questions, in form order (answers of deleted questions last),
    each with the value corrected for Salesforce, if any (Fix and retry)."""
    answers = dict(booking.answers or {})
    corrected = booking.corrections or {}
    labelled = [
        (q.label, answers.pop(str(q.id), ""), corrected.get(str(q.id)))
        for q in calendar.questions
        if str(q.id) in answers or str(q.id) in corrected
    ]
    return labelled + [(f"Question {key} (removed)", value, corrected.get(key)) for key, value in answers.items()]


# --- the mapping a calendar syncs with -------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingRowShown:
    sf_field: str
    source: str
    fallback: str
    offending: bool


@dataclass(frozen=True)
class MappingUsed:
    object_name: str
    enabled: bool
    rows: list[MappingRowShown]


def mapping_used(session: Session, calendar: Calendar, offending_fields: list[str]) -> MappingUsed | None:
    """The calendar's Salesforce integration and its mapping rows, the rows naming an offending field marked."""
    integration = session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar.id))
    if integration is None:
        return None
    labels = {str(q.id): q.label for q in calendar.questions}
    offending = {f.lower() for f in offending_fields}
    rows = [
        MappingRowShown(m.sf_field, _source_text(m, labels), m.fallback_value, m.sf_field.lower() in offending)
        for m in integration.mappings
    ]
    return MappingUsed(str(integration.object_name), integration.enabled, rows)


def _source_text(mapping: FieldMapping, question_labels: dict[str, str]) -> str:
    if mapping.source_kind == SourceKind.QUESTION:
        return f"Question: {question_labels.get(mapping.source_key, '(a removed question)')}"
    if mapping.source_kind == SourceKind.ITEM:
        return f"System item: {mapping.source_key.replace('_', ' ')}"
    return f"Fixed value: {mapping.fixed_value}"
