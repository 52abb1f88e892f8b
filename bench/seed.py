"""Data the benchmarks need, committed through the portal's models and services: a premium team, calendars open
around the clock, a Salesforce connection to the emulator, integrations, bookings (through the booking service,
so the outbox writes and enqueues their sync jobs) and, for the errors page, thousands of failed syncs."""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from flask import Flask
from sqlalchemy import func, insert, select, text

from portal.calendars import booking as booking_service
from portal.calendars.booking import GuestDetails
from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import (
    AvailabilityRange,
    Booking,
    Calendar,
    CalendarHost,
    FieldMapping,
    Membership,
    Plan,
    Question,
    QuestionKind,
    Role,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncStatus,
    Team,
    User,
    WriteRule,
)
from portal.planner.sources import default_write_rule
from portal.salesforce.describe import refresh_describe
from portal.salesforce.tokens import apply_token_response

# Bookings are made "as of" NOW into slots from FIRST_SLOT on: every calendar here is open 00:00-23:30 UTC daily.
NOW = datetime(2031, 3, 3, 0, 0, tzinfo=UTC)
FIRST_SLOT = datetime(2031, 3, 4, 0, 0, tzinfo=UTC)
SLOTS_PER_DAY = 47
ALL_DAY = {day: (clock(0), clock(23, 30)) for day in range(7)}
OFFICE_HOURS = {day: (clock(9), clock(17)) for day in range(5)}
FINAL = (SyncStatus.SYNCED, SyncStatus.SKIPPED, SyncStatus.WAITING, SyncStatus.FAILED, SyncStatus.DISMISSED)


@dataclass
class SeededTeam:
    """Ids of a seeded team: its owner (who logs in), the host of its calendars and its first calendar."""

    team_id: int
    owner_email: str
    host_email: str
    calendar_id: int
    slug: str


class Slots:
    """Distinct 30-minute slots for one host, in order (a host is never double-booked across calendars)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def next(self) -> datetime:
        n = next(self._counter)
        return FIRST_SLOT + timedelta(days=n // SLOTS_PER_DAY, minutes=30 * (n % SLOTS_PER_DAY))


def seed_team(app: Flask, label: str = "bench", *, office_hours: bool = False) -> SeededTeam:
    """A premium team with an owner, a host (also a member) and one calendar, open around the clock (for syncing
    many bookings) or, with office_hours, 09:00-17:00 UTC Monday to Friday as a typical public calendar."""
    with app.app_context():
        team = Team(name=f"{label.title()} Team", plan=Plan.PREMIUM)
        db.session.add(team)
        db.session.flush()
        owner = _member(team, f"owner@{label}.example", "Olive Owner", Role.OWNER)
        host = _member(team, f"host@{label}.example", "Hal Host", Role.MEMBER)
        hours = OFFICE_HOURS if office_hours else ALL_DAY
        calendar = add_calendar(
            team.id, owner.id, [host.id], name="Discovery call", slug=f"{label}-discovery", hours=hours
        )
        db.session.commit()
        seeded = SeededTeam(team.id, owner.email, host.email, calendar.id, calendar.slug)
        db.session.remove()
    return seeded


def _member(team: Team, email: str, name: str, role: Role) -> User:
    user = User(email=email, name=name, email_verified=True, current_team_id=team.id)
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(team_id=team.id, user_id=user.id, role=role))
    return user


def add_calendar(
    team_id: int, owner_id: int, host_ids: list[int], *, name: str, slug: str, hours: dict = ALL_DAY
) -> Calendar:
    """A calendar bookable for two years in 30-minute slots without notice or buffer; `hours` maps weekday to
    (start, end) in UTC."""
    calendar = Calendar(
        team_id=team_id,
        created_by_id=owner_id,
        name=name,
        private_name=f"{name} (bench)",
        slug=slug,
        duration_minutes=30,
        time_zone="UTC",
        buffer_minutes=0,
        min_notice_minutes=0,
        window_days=730,
        meeting_url="https://meet.example.com/bench",
    )
    calendar.hosts = [CalendarHost(user_id=user_id, position=i) for i, user_id in enumerate(host_ids)]
    calendar.availability = [AvailabilityRange(weekday=d, start_time=s, end_time=e) for d, (s, e) in hours.items()]
    calendar.questions = [
        Question(kind=QuestionKind.FULL_NAME, label="Name", required=True, max_length=80, position=0),
        Question(kind=QuestionKind.EMAIL, label="E-mail", required=True, max_length=80, position=1),
        Question(kind=QuestionKind.COMPANY, label="Company", required=False, max_length=80, position=2),
        Question(kind=QuestionKind.PHONE, label="Phone", required=False, max_length=40, position=3),
    ]
    db.session.add(calendar)
    db.session.flush()
    return calendar


def connect_salesforce(app: Flask, seeded: SeededTeam, emulator, control) -> None:
    """Store a connection as Connect leaves it (tokens issued by the emulator), and make the host a Salesforce User
    so Events get an OwnerId."""
    control.add_user(username=seeded.host_email, email=seeded.host_email, last_name="Host")
    tokens = control.issue_tokens()
    with app.app_context():
        connection = SalesforceConnection(team_id=seeded.team_id, login_url=emulator.production_url.rstrip("/"))
        _store_tokens(connection, tokens)
        db.session.add(connection)
        db.session.commit()
        for object_name in ("Lead", "Contact"):
            refresh_describe(connection, object_name)  # what opening the mapping editor does
        db.session.commit()
        db.session.remove()


def reconnect_salesforce(app: Flask, seeded: SeededTeam, control) -> None:
    """After the emulator's org was reset: the host is a Salesforce User again and the connection has new tokens."""
    control.add_user(username=seeded.host_email, email=seeded.host_email, last_name="Host")
    tokens = control.issue_tokens()
    with app.app_context():
        connection = db.session.scalar(
            select(SalesforceConnection).where(SalesforceConnection.team_id == seeded.team_id)
        )
        _store_tokens(connection, tokens)
        db.session.commit()
        db.session.remove()


def _store_tokens(connection: SalesforceConnection, tokens: dict) -> None:
    apply_token_response(connection, tokens, token_cipher())
    connection.identity_url = tokens["id"]
    connection.org_id, connection.sf_user_id = tokens["id"].rstrip("/").split("/")[-2:]
    connection.username = "admin@example-org.test"


def add_integrated_calendar(
    app: Flask,
    seeded: SeededTeam,
    name: str,
    *,
    object_name: SalesforceObject = SalesforceObject.LEAD,
    register_event: bool = True,
    overwrite: bool = False,
    contact_first: bool = True,
    rules: dict[str, WriteRule] | None = None,
) -> int:
    """A calendar (hosted by the team's host) with a Salesforce integration mapping name, e-mail, company, phone;
    rules: each row's write rule by field (default: what a new row starts with)."""
    with app.app_context():
        owner_id = db.session.scalar(select(User.id).where(User.email == seeded.owner_email))
        host_id = db.session.scalar(select(User.id).where(User.email == seeded.host_email))
        slug = f"{name}-{seeded.team_id}".replace("_", "-")
        calendar = add_calendar(seeded.team_id, owner_id, [host_id], name=name.replace("_", " ").title(), slug=slug)
        integration = SalesforceIntegration(
            calendar_id=calendar.id,
            object_name=object_name,
            register_event=register_event,
            overwrite=overwrite,
            contact_first=contact_first,
        )
        integration.mappings = [
            FieldMapping(
                position=i,
                sf_field=sf_field,
                source_kind=kind,
                source_key=key,
                fixed_value=value,
                write_rule=WriteRule((rules or {}).get(sf_field) or default_write_rule(sf_field)),
            )
            for i, (sf_field, kind, key, value) in enumerate(_mapping_rows(calendar, object_name))
        ]
        db.session.add(integration)
        db.session.commit()
        calendar_id = calendar.id
        db.session.remove()
    return calendar_id


def _mapping_rows(calendar: Calendar, object_name: SalesforceObject):
    q = {question.kind.value: str(question.id) for question in calendar.questions}
    rows = [("LastName", SourceKind.QUESTION, q["full_name"], ""), ("Email", SourceKind.QUESTION, q["email"], "")]
    if object_name == SalesforceObject.LEAD:
        rows += [("Company", SourceKind.QUESTION, q["company"], ""), ("LeadSource", SourceKind.FIXED, "", "Web")]
    return rows + [("Phone", SourceKind.QUESTION, q["phone"], "")]


class Booker:
    """Books through portal.calendars.booking.book, as the public booking page does: the booking and its sync job
    commit together and the job is enqueued right after the commit."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.slots = Slots()

    def book(self, calendar_id: int, email: str, name: str = "Gita Guest", company: str = "Acme") -> int:
        with self.app.app_context():
            calendar = db.session.get(Calendar, calendar_id)
            q = {question.kind.value: str(question.id) for question in calendar.questions}
            answers = {q["full_name"]: name, q["email"]: email, q["company"]: company, q["phone"]: ""}
            guest = GuestDetails(email=email, name=name, company=company, answers=answers)
            token = f"bench-{time.monotonic_ns()}"
            booking_id = booking_service.book(calendar, self.slots.next(), guest, token, now=NOW).id
            db.session.remove()
        return booking_id

    def reschedule(self, booking_id: int) -> None:
        with self.app.app_context():
            booking_service.reschedule(db.session.get(Booking, booking_id), self.slots.next(), now=NOW)
            db.session.remove()

    def cancel(self, booking_id: int) -> None:
        with self.app.app_context():
            booking_service.cancel(db.session.get(Booking, booking_id), now=NOW)
            db.session.remove()


def sync_states(app: Flask, booking_ids: list[int]) -> dict[SyncStatus, int]:
    """How many of these bookings' sync jobs are in each state."""
    with app.app_context():
        rows = db.session.execute(
            select(SyncJob.status, func.count()).where(SyncJob.booking_id.in_(booking_ids)).group_by(SyncJob.status)
        ).all()
        db.session.remove()
    return {status: count for status, count in rows}


def wait_for_syncs(app: Flask, booking_ids: list[int], timeout: float, poll: float = 0.2) -> dict[SyncStatus, int]:
    """Until each of these bookings' sync jobs reached a final state (or the timeout); returns the states."""
    deadline = time.monotonic() + timeout
    while True:
        states = sync_states(app, booking_ids)
        if sum(states.values()) < len(booking_ids):
            raise SystemExit(f"{len(booking_ids)} bookings but {sum(states.values())} sync jobs: no integration?")
        if all(status in FINAL for status in states) or time.monotonic() > deadline:
            return states
        time.sleep(poll)


# -- the errors page's data --------------------------------------------------------------------------------------

ERROR_ROWS = [
    ("REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]", ["Company"], False),
    ("INVALID_EMAIL_ADDRESS", "Email: invalid email address: nobody@", ["Email"], False),
    ("STRING_TOO_LONG", "First Name: data value too large (max length=40)", ["FirstName"], False),
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone is required for partners", ["Phone"], False),
    ("SERVER_UNAVAILABLE", "Salesforce answered 503 five times", [], True),
]


def seed_failed_syncs(app: Flask, seeded: SeededTeam, count: int) -> None:
    """`count` past bookings of the team's calendar whose syncs failed (five kinds of error, one attempt each with
    a trail), created over the last 30 days so the health chart has data; inserted in bulk."""
    with app.app_context():
        calendar = db.session.get(Calendar, seeded.calendar_id)
        host_id = calendar.hosts[0].user_id
        start = datetime(2029, 1, 1, tzinfo=UTC)
        now = datetime.now(UTC)
        bookings = [_past_booking(calendar.id, host_id, start + timedelta(hours=n), n) for n in range(count)]
        booking_ids = db.session.scalars(insert(Booking).returning(Booking.id, sort_by_parameter_order=True), bookings)
        jobs = [
            _failed_job(seeded.team_id, calendar.id, booking_id, n, now - timedelta(minutes=4 * n))
            for n, booking_id in enumerate(booking_ids.all())
        ]
        job_ids = db.session.scalars(insert(SyncJob).returning(SyncJob.id, sort_by_parameter_order=True), jobs).all()
        attempts = [
            {"sync_job_id": job_id, "number": 1, "outcome": "failed", "error_code": job["error_code"], "api_calls": 2}
            | {"trail": [{"request": {"method": "POST", "path": "/services/data/v62.0/composite"}}]}
            for job_id, job in zip(job_ids, jobs, strict=True)
        ]
        db.session.execute(insert(SyncAttempt), attempts)
        db.session.commit()
        db.session.remove()
        # What autovacuum would have done by now: statistics, and the visibility map that lets index-only scans
        # skip the table (VACUUM cannot run inside a transaction).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _past_booking(calendar_id: int, host_id: int, start: datetime, n: int) -> dict:
    end = start + timedelta(minutes=30)
    return dict(
        calendar_id=calendar_id,
        host_id=host_id,
        start_at=start,
        end_at=end,
        busy_from=start,
        busy_until=end,
        guest_name=f"Failed Guest {n}",
        guest_email=f"failed{n}@guests.example",
        guest_company="" if n % 5 == 0 else "Guestco",
        manage_token_hash=hashlib.sha256(f"bench-failed-{calendar_id}-{n}".encode()).hexdigest(),
        answers={},
    )


def _failed_job(team_id: int, calendar_id: int, booking_id: int, n: int, created_at: datetime) -> dict:
    code, message, fields, retryable = ERROR_ROWS[n % len(ERROR_ROWS)]
    return dict(
        team_id=team_id,
        calendar_id=calendar_id,
        booking_id=booking_id,
        event=SyncEvent.CREATED,
        status=SyncStatus.FAILED,
        attempts=1,
        error_code=code,
        error_message=message,
        error_fields=fields,
        retryable=retryable,
        created_at=created_at,
        finished_at=created_at,
    )


def seed_upcoming_bookings(app: Flask, seeded: SeededTeam, count: int) -> None:
    """Confirmed bookings in the coming days, so the booking page has taken slots to leave out."""
    with app.app_context():
        calendar = db.session.get(Calendar, seeded.calendar_id)
        host_id = calendar.hosts[0].user_id
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        bookings = [
            _past_booking(calendar.id, host_id, first + timedelta(hours=3 * n), 10**6 + n) for n in range(count)
        ]
        db.session.execute(insert(Booking), bookings)
        db.session.commit()
        db.session.remove()


def seed_host_calendars(app: Flask, label: str, host_counts: tuple[int, ...], past_bookings: int) -> dict[int, str]:
    """A team whose hosts each have `past_bookings` past bookings and 10 in the coming days (at times that differ
    from host to host), and for each count in host_counts an office-hours calendar with that many of them as
    hosts; returns each calendar's slug by its number of hosts."""
    with app.app_context():
        team = Team(name=f"{label.title()} Team", plan=Plan.PREMIUM)
        db.session.add(team)
        db.session.flush()
        owner = _member(team, f"owner@{label}.example", "Olive Owner", Role.OWNER)
        hosts = [_member(team, f"host{n}@{label}.example", f"Host {n}", Role.MEMBER) for n in range(max(host_counts))]
        calendars = {
            count: add_calendar(
                team.id,
                owner.id,
                [host.id for host in hosts[:count]],
                name=f"{count} hosts",
                slug=f"{label}-{count}-hosts",
                hours=OFFICE_HOURS,
            )
            for count in host_counts
        }
        calendar_id = calendars[max(host_counts)].id
        past_start = datetime(2029, 1, 1, tzinfo=UTC)
        soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        bookings = []
        for h, host in enumerate(hosts):
            base = 2 * 10**6 + h * (past_bookings + 10)
            bookings += [
                _past_booking(calendar_id, host.id, past_start + timedelta(hours=n), base + n)
                for n in range(past_bookings)
            ]
            bookings += [
                _past_booking(
                    calendar_id, host.id, soon + timedelta(hours=5 * n, minutes=30 * (h % 2)), base + 10**5 + n
                )
                for n in range(10)
            ]
        db.session.execute(insert(Booking), bookings)
        db.session.commit()
        slugs = {count: calendar.slug for count, calendar in calendars.items()}
        db.session.remove()
    return slugs
