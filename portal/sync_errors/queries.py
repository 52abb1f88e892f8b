"""Read-side queries of the errors page and the sync detail page (the support console reuses them).

Every page costs a fixed number of SQL statements whatever the data or page size: rows are selected as plain
columns with their calendar, booking and team joined in, never loaded lazily row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..access import own_calendar_ids
from ..calendars.forms import question_label
from ..links import salesforce_record_url
from ..models import (
    ERROR_CODE_SQL,
    LISTED_SQL,
    MAX_DATABASE_ID,
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
from ..planner.sources import SYSTEM_ITEMS

# The states the errors page lists: failed, waiting, and failing attempts that will be retried automatically.
RETRYING = "retrying"  # pending again after a failed attempt
STATES = (SyncStatus.FAILED.value, SyncStatus.WAITING.value, RETRYING)
CHART_STATUSES = (SyncStatus.SYNCED, SyncStatus.FAILED, SyncStatus.WAITING)
HEALTH_DAYS = 14
# Beyond this many matching syncs the page says "1,000+" rather than count them all: counting reads an index entry
# per sync, so a higher limit makes every page of a team with many failures slower, and a person deciding what to
# fix first learns nothing more from "7,412" than from "1,000+".
COUNT_LIMIT = 1_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    cursor: Cursor | None = None
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
class Cursor:
    """A keyset position: the rows just older (or just newer) than the row at (created_at, id)."""

    created_at: datetime
    id: int
    newer: bool = False

    @property
    def token(self) -> str:
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def parse(cls, token: str, *, newer: bool = False) -> Cursor | None:
        """The cursor a pagination link carries, or None for anything else (the first page is shown)."""
        micros, _, row_id = token.partition(".")
        if not (_digits(micros, 16) and _digits(row_id, 10)):
            return None
        if not 0 < int(row_id) <= MAX_DATABASE_ID:
            return None
        return cls(EPOCH + timedelta(microseconds=int(micros)), int(row_id), newer)


def _digits(text: str, most: int) -> bool:
    """ASCII digits only (str.isdigit also accepts '²', which int() refuses), at most `most` of them."""
    return text.isascii() and text.isdigit() and len(text) <= most


@dataclass(frozen=True)
class Page:
    """One keyset page, newest first: links to the next older and newer pages, and how many rows match (at most
    COUNT_LIMIT of them are counted)."""

    rows: list  # ErrorRow here; AuditRow in the support console
    total: int
    per_page: int
    older: str | None = None  # cursor token of the page after this one
    newer: str | None = None  # cursor token of the page before this one

    @property
    def count_text(self) -> str:
        return f"{COUNT_LIMIT:,}+" if self.total > COUNT_LIMIT else f"{self.total:,}"


def keyset(
    keys: Select, created_at: InstrumentedAttribute, row_id: InstrumentedAttribute, cursor: Cursor | None, per_page: int
) -> Select:
    """`keys` (a filtered select of row ids) limited to the per_page + 1 rows next to the cursor, read along an
    index in (created_at, id) order: the same work whatever the table holds. Join the page's columns to it."""
    if cursor is None:
        return keys.order_by(created_at.desc(), row_id.desc()).limit(per_page + 1)
    position, at = tuple_(created_at, row_id), tuple_(cursor.created_at, cursor.id)
    if cursor.newer:
        return keys.where(position > at).order_by(created_at, row_id).limit(per_page + 1)
    return keys.where(position < at).order_by(created_at.desc(), row_id.desc()).limit(per_page + 1)


def cut(rows: list, cursor: Cursor | None, per_page: int) -> tuple[list, str | None, str | None]:
    """The rows of a keyset page (newest first, one extra read to learn whether there are more), and the tokens of
    the older and newer pages next to it, None where there is none."""
    more = len(rows) > per_page
    newer_side = cursor is not None and cursor.newer
    rows = rows[1:] if more and newer_side else rows[:per_page]
    if not rows:
        return [], None, None
    has_older = more or newer_side
    has_newer = cursor is not None and (more or not newer_side)
    older = Cursor(rows[-1].created_at, rows[-1].id).token if has_older else None
    newer = Cursor(rows[0].created_at, rows[0].id).token if has_newer else None
    return rows, older, newer


def capped_count(session: Session, statement: Select) -> int:
    """How many rows `statement` selects, counting no further than COUNT_LIMIT + 1."""
    return session.scalar(capped_count_of(statement)) or 0


def capped_count_of(statement: Select) -> Select:
    return select(func.count()).select_from(statement.limit(COUNT_LIMIT + 1).subquery())


def page_total(session: Session, found: list, statement: Select) -> int:
    """The capped count a page's rows carry in their `total` column (selected beside them, one statement fewer);
    a page with no rows (a cursor past the end) counts on its own."""
    return found[0].total if found else capped_count(session, statement)


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
    """The listed syncs (LISTED_SQL, as the partial indexes spell it), narrowed to one state if asked."""
    listed = text(f"({LISTED_SQL})")
    if state == SyncStatus.FAILED:
        return and_(listed, SyncJob.status == SyncStatus.FAILED)
    if state == SyncStatus.WAITING:
        return and_(listed, SyncJob.status == SyncStatus.WAITING)
    if state == RETRYING:
        return and_(listed, SyncJob.status == SyncStatus.PENDING)
    return listed


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
    """What the page calls a sync's error code: Salesforce's code, or why it waits when it has none (the
    expression the code indexes are built on)."""
    return literal_column(ERROR_CODE_SQL)


def like_literal(text: str) -> str:
    """Text for a LIKE pattern with its own wildcards taken literally (escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_contains(text: str) -> str:
    return f"%{like_literal(text)}%"


def _search_clause(text: str) -> ColumnElement[bool]:
    """A booking id, or part of the guest's e-mail (checked only for the rows read, not joined to every row)."""
    by_email = exists().where(
        Booking.id == SyncJob.booking_id, Booking.guest_email.ilike(like_contains(text), escape="\\")
    )
    if _digits(text, 9):
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


def error_page(session: Session, scope: Scope, filters: ErrorFilters) -> Page:
    """One keyset page of failed, waiting and retrying syncs, newest first, and how many match (counted up to
    COUNT_LIMIT). One statement, not reading every failure: the page's ids are read along an index and only those
    rows are joined to their calendar, booking and team; the capped count rides along as a column."""
    where = [visible_calendars(scope), *_filter_clauses(filters)]
    matching = select(SyncJob.id).where(*where)
    ids = keyset(matching, SyncJob.created_at, SyncJob.id, filters.cursor, filters.per_page).subquery()
    found = session.execute(
        select(*_ROW_COLUMNS, capped_count_of(matching).scalar_subquery().label("total"))
        .join(ids, ids.c.id == SyncJob.id)
        .join(Calendar, Calendar.id == SyncJob.calendar_id)
        .join(Booking, Booking.id == SyncJob.booking_id)
        .join(Team, Team.id == SyncJob.team_id)
        .order_by(SyncJob.created_at.desc(), SyncJob.id.desc())
    ).all()
    total = page_total(session, found, matching)
    rows, older, newer = cut(found, filters.cursor, filters.per_page)
    return Page([_row(r) for r in rows], total, filters.per_page, older, newer)


def _row(result: Any) -> ErrorRow:
    values = result._asdict()
    del values["total"]
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


def _calendars_of(scope: Scope) -> Select:
    """The calendars the viewer may filter by (all of the team's, or the member's own): id and name, by name."""
    statement = select(Calendar.id, Calendar.name).order_by(Calendar.name, Calendar.id)
    if scope.team_id is not None:
        statement = statement.where(Calendar.team_id == scope.team_id)
    if scope.member_user_id is not None:
        statement = statement.where(Calendar.id.in_(own_calendar_ids(scope.member_user_id)))
    return statement


def error_code_choices(session: Session, scope: Scope) -> list[str]:
    """Codes present among the listed syncs, for the code filter: one index probe per distinct code (a skip scan
    along the code indexes), not a read of every failure."""
    return list(session.scalars(_codes_of(scope)))


def filter_choices(session: Session, scope: Scope) -> tuple[list[tuple[int, str]], list[str]]:
    """calendar_choices and error_code_choices in one statement: the calendars' rows by name and id, then the
    codes' (id NULL) in order."""
    calendars = _calendars_of(scope).subquery()
    codes = _codes_of(scope).subquery()
    rows = session.execute(
        select(literal(0).label("part"), calendars.c.id, calendars.c.name.label("text"))
        .union_all(select(literal(1), null(), codes.c.code))
        .order_by(text("part, text, id"))
    ).all()
    return [(r.id, r.text) for r in rows if r.part == 0], [r.text for r in rows if r.part == 1]


def _codes_of(scope: Scope) -> Select:
    code = _code_column()

    def first_code_after(previous: ColumnElement[str] | None) -> Select:
        statement = (
            select(code.label("code"))
            .select_from(SyncJob)
            .where(visible_calendars(scope), _state_clause(""), code != "")
        )
        if previous is not None:
            statement = statement.where(code > previous)
        return statement.order_by(code).limit(1)

    codes = first_code_after(None).cte("codes", recursive=True)
    codes = codes.union_all(
        select(first_code_after(codes.c.code).scalar_subquery().label("code")).where(codes.c.code.is_not(None))
    )
    return select(codes.c.code).where(codes.c.code.is_not(None))


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
    # UTC midnight of the row's day: date_bin is cheaper per row than a zone conversion and a cast.
    day = func.date_bin(text("interval '1 day'"), SyncJob.created_at, EPOCH)
    rows = session.execute(
        select(day.label("day"), SyncJob.status, func.count())
        .where(visible_calendars(scope), SyncJob.status.in_(CHART_STATUSES))
        .where(SyncJob.created_at >= _start_of(first), SyncJob.created_at < _start_of(today + timedelta(days=1)))
        .group_by(day, SyncJob.status)
    ).all()
    counts: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(days)}
    for midnight, status, count in rows:
        counts[midnight.astimezone(UTC).date()][str(status)] = count
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
        (question_label(q), answers.pop(str(q.id), ""), corrected.get(str(q.id)))
        for q in calendar.questions
        if str(q.id) in answers or str(q.id) in corrected
    ]
    return labelled + [
        (_("Question %(key)s (removed)", key=key), value, corrected.get(key)) for key, value in answers.items()
    ]


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
    labels = {str(q.id): question_label(q) for q in calendar.questions}
    offending = {f.lower() for f in offending_fields}
    rows = [
        MappingRowShown(m.sf_field, _source_text(m, labels), m.fallback_value, m.sf_field.lower() in offending)
        for m in integration.mappings
    ]
    return MappingUsed(str(integration.object_name), integration.enabled, rows)


def _source_text(mapping: FieldMapping, question_labels: dict[str, str]) -> str:
    if mapping.source_kind == SourceKind.QUESTION:
        return _("Question: %(label)s", label=question_labels.get(mapping.source_key, _("(a removed question)")))
    if mapping.source_kind == SourceKind.ITEM:
        item = SYSTEM_ITEMS.get(mapping.source_key)
        return _("System item: %(item)s", item=_(item.label) if item else mapping.source_key)
    return _("Fixed value: %(value)s", value=mapping.fixed_value)
