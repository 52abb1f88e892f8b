"""A committed "world" for end-to-end sync tests: a premium team connected to the emulator, a calendar with a
Salesforce integration, real RQ workers, and helpers to book, wait for syncs and read the emulator's log."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.calendars import booking as booking_service
from portal.calendars.booking import GuestDetails
from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import (
    Booking,
    Calendar,
    FieldMapping,
    OnCancel,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    SyncJob,
    SyncStatus,
    WriteRule,
)
from portal.salesforce.describe import refresh_describe
from tests.factories import Factory
from tests.fixtures.services import WorkerProcesses
from tests.salesforce_flow import store_connection

NOW = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)  # a Monday; the factory calendar is open 09:00-17:00 UTC every day
FIRST_SLOT = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
FINAL = (SyncStatus.SYNCED, SyncStatus.SKIPPED, SyncStatus.WAITING, SyncStatus.FAILED, SyncStatus.DISMISSED)
_slots = itertools.count()


def sync_app(base_config: dict, database_url: str, queue_suffix: str, **overrides):
    """An app on its own committed database and RQ queue, with quick retries for tests."""
    from portal import create_app

    return create_app(
        {
            **base_config,
            "DATABASE_URL": database_url,
            "RQ_QUEUE_PREFIX": base_config["RQ_QUEUE_PREFIX"] + queue_suffix,
            "SYNC_RETRY_BACKOFF_SECONDS": [1, 1, 2],
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000",  # a loopback callback, as the emulator accepts
            **overrides,
        }
    )


@contextmanager
def open_sync_app(base_config: dict, database_url: str, queue_suffix: str, **overrides) -> Iterator:
    """sync_app for a fixture's lifetime: its database connections are closed when the block ends."""
    app = sync_app(base_config, database_url, queue_suffix, **overrides)
    try:
        yield app
    finally:
        app.extensions["database"].engine.dispose()


@contextmanager
def running_workers(app, count: int) -> Iterator[WorkerProcesses]:
    """`count` real `python -m jobs.worker` processes on the app's queue, stopped when the block ends."""
    workers = WorkerProcesses()
    workers.start(app, count)
    try:
        yield workers
    finally:
        workers.stop()


def next_slot() -> datetime:
    """A distinct free slot for every booking of the test session (hours 9-16 over consecutive days)."""
    n = next(_slots)
    return FIRST_SLOT + timedelta(days=n // 8, hours=n % 8)


@dataclass
class World:
    app: object
    emulator: object
    control: object
    team_id: int = 0
    owner_id: int = 0
    calendar_id: int = 0
    host_email: str = ""
    questions: dict[str, int] = field(default_factory=dict)

    # -- building ----------------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        app,
        emulator,
        control,
        *,
        object_name: SalesforceObject = SalesforceObject.LEAD,
        register_event: bool = True,
        overwrite: bool = False,
        contact_first: bool = True,
        on_cancel: OnCancel = OnCancel.DELETE_EVENT,
        company_required: bool = False,
        rows: list[tuple[str, str, str, str]] | None = None,
        rules: dict[str, str] | None = None,
        hosts: int = 1,
    ) -> World:
        """rules: a write rule by Salesforce field (others are written always); hosts: participating members, each
        a Salesforce User too."""
        world = cls(app, emulator, control)
        with app.app_context():
            factory = Factory(db.session)
            team, people = factory.team_with_roles()
            members = [people["member"], *(factory.member(team) for _ in range(hosts - 1))]
            for host in members:
                control.add_user(username=host.email, email=host.email, last_name="Host")
            host = members[0]
            calendar = factory.calendar(team, created_by=people["owner"], hosts=members, name="Discovery call")
            for question in calendar.questions:
                if question.kind.value == "company":
                    question.required = company_required
            world.team_id, world.calendar_id, world.host_email = team.id, calendar.id, host.email
            world.owner_id = people["owner"].id
            world.questions = {q.kind.value: q.id for q in calendar.questions}
            integration = SalesforceIntegration(
                calendar_id=calendar.id,
                object_name=object_name,
                register_event=register_event,
                overwrite=overwrite,
                contact_first=contact_first,
                on_cancel=on_cancel,
            )
            integration.mappings = [
                FieldMapping(
                    position=i,
                    sf_field=sf_field,
                    source_kind=SourceKind(kind),
                    source_key=key,
                    fixed_value=value,
                    write_rule=WriteRule((rules or {}).get(sf_field, WriteRule.ALWAYS)),
                )
                for i, (sf_field, kind, key, value) in enumerate(world._rows(object_name, rows))
            ]
            db.session.add(integration)
            db.session.commit()
            connection = store_connection(
                db.session, team.id, control.issue_tokens(), emulator.production_url, token_cipher()
            )
            refresh_describe(connection, object_name.value)  # what opening the mapping editor does
            db.session.commit()
            db.session.remove()
        control.clear_log()
        return world

    def _rows(self, object_name: SalesforceObject, rows):
        if rows is not None:
            return [(f, k, self._key(k, key), v) for f, k, key, v in rows]
        q = self.questions
        base = [("LastName", "question", str(q["full_name"]), ""), ("Email", "question", str(q["email"]), "")]
        if object_name == SalesforceObject.LEAD:
            base += [("Company", "question", str(q["company"]), ""), ("LeadSource", "fixed", "", "Web")]
        return base + [("Phone", "question", str(q["phone"]), "")]

    def _key(self, kind: str, key: str) -> str:
        return str(self.questions[key]) if kind == "question" and key in self.questions else key

    # -- acting ------------------------------------------------------------------------------------------------

    def add_calendar(self) -> int:
        """Another calendar of the team, hosted by the same member, with a copy of the first one's integration."""
        with self.app.app_context():
            first = db.session.get(Calendar, self.calendar_id)
            factory = Factory(db.session)
            calendar = factory.calendar(first.team, created_by=first.created_by, hosts=[h.user for h in first.hosts])
            source = db.session.scalar(
                select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == first.id)
            )
            copy = SalesforceIntegration(calendar_id=calendar.id, object_name=source.object_name)
            by_kind = {q.kind.value: q.id for q in calendar.questions}
            old_kind = {str(q.id): q.kind.value for q in first.questions}
            copy.mappings = [
                FieldMapping(
                    position=m.position,
                    sf_field=m.sf_field,
                    source_kind=m.source_kind,
                    source_key=str(by_kind[old_kind[m.source_key]]) if m.source_key in old_kind else m.source_key,
                    fixed_value=m.fixed_value,
                    write_rule=m.write_rule,
                )
                for m in source.mappings
            ]
            db.session.add(copy)
            db.session.commit()
            calendar_id = calendar.id
            db.session.remove()
        return calendar_id

    def book(
        self,
        email: str,
        name: str = "Gita Guest",
        company: str = "Acme",
        phone: str = "",
        start=None,
        calendar_id: int | None = None,
    ) -> int:
        q = self.questions
        answers = {
            str(q["full_name"]): name,
            str(q["email"]): email,
            str(q["company"]): company,
            str(q["phone"]): phone,
        }
        guest = GuestDetails(email=email, name=name, company=company, phone=phone, answers=answers)
        with self.app.app_context():
            calendar = db.session.get(Calendar, calendar_id or self.calendar_id)
            booking = booking_service.book(
                calendar, start or next_slot(), guest, f"token-{time.monotonic_ns()}", now=NOW
            )
            booking_id = booking.id
            db.session.remove()
        return booking_id

    def reschedule(self, booking_id: int, start=None) -> None:
        with self.app.app_context():
            booking_service.reschedule(db.session.get(Booking, booking_id), start or next_slot(), now=NOW)
            db.session.remove()

    def cancel(self, booking_id: int) -> None:
        with self.app.app_context():
            booking_service.cancel(db.session.get(Booking, booking_id), now=NOW)
            db.session.remove()

    # -- observing ---------------------------------------------------------------------------------------------

    def jobs(self, booking_id: int) -> list[SyncJob]:
        with self.app.app_context():
            jobs = db.session.scalars(
                select(SyncJob).where(SyncJob.booking_id == booking_id).order_by(SyncJob.id)
            ).all()
            db.session.remove()
        return list(jobs)

    def wait(self, booking_id: int, *, count: int = 1, statuses=FINAL, timeout: float = 60) -> list[SyncJob]:
        """Wait until the booking's `count` jobs all reached one of `statuses`."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.jobs(booking_id)
            if len(jobs) >= count and all(job.status in statuses for job in jobs):
                return jobs
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"sync jobs did not finish: {[(j.id, j.event, j.status, j.error_code) for j in jobs]}"
                )
            time.sleep(0.2)

    def connection(self) -> SalesforceConnection:
        with self.app.app_context():
            connection = db.session.scalar(
                select(SalesforceConnection).where(SalesforceConnection.team_id == self.team_id)
            )
            db.session.remove()
        return connection

    def records(self, sobject: str, email: str | None = None) -> list[dict]:
        records = [r for r in self.control.records(sobject) if not r.get("IsDeleted")]
        if email is not None:
            records = [r for r in records if (r.get("Email") or "").lower() == email.lower()]
        return records

    def events_for(self, who_id: str) -> list[dict]:
        return [e for e in self.records("Event") if e.get("WhoId") == who_id]

    def instance_calls(self) -> list[dict]:
        return [e for e in self.control.request_log() if e["listener"] == "instance" and e["api_call"]]

    def token_calls(self) -> list[dict]:
        return [e for e in self.control.request_log() if e["path"] == "/services/oauth2/token"]
