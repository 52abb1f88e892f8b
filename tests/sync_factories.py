"""Factories for bookings, sync jobs and their attempts as the sync engine records them, for tests of the pages
that read those records (errors page, support console, notifications, retention)."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, g, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session

from portal.models import (
    Booking,
    Calendar,
    FieldMapping,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncStatus,
    User,
)

_slot = itertools.count(1)
BOOKINGS_FROM = datetime(2031, 1, 6, 9, tzinfo=UTC)


def make_booking(
    session: Session, calendar: Calendar, *, host: User | None = None, guest_email: str | None = None, **fields
) -> Booking:
    """A confirmed booking an hour-slot apart from every other one made here, so hosts are never double-booked."""
    n = next(_slot)
    start = fields.pop("start_at", BOOKINGS_FROM + timedelta(hours=n))
    end = start + timedelta(minutes=calendar.duration_minutes)
    host_id = host.id if host else (calendar.hosts[0].user_id if calendar.hosts else calendar.created_by_id)
    booking = Booking(
        calendar_id=calendar.id,
        host_id=host_id,
        start_at=start,
        end_at=end,
        busy_from=start,
        busy_until=end,
        guest_name=fields.pop("guest_name", f"Guest {n}"),
        guest_email=guest_email or f"guest{n}@example.test",
        manage_token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        **fields,
    )
    session.add(booking)
    session.flush()
    return booking


def make_sync(
    session: Session,
    booking: Booking,
    *,
    status: SyncStatus = SyncStatus.FAILED,
    error_code: str = "REQUIRED_FIELD_MISSING",
    error_fields: list[str] | None = None,
    created_at: datetime | None = None,
    **fields,
) -> SyncJob:
    """A sync job as the engine leaves it; failed on a required field unless told otherwise."""
    defaults = dict(
        error_message="Required fields are missing: [Company]" if error_code == "REQUIRED_FIELD_MISSING" else "",
        attempts=1,
        retryable=False,
    )
    defaults.update(fields)
    job = SyncJob(
        team_id=booking.calendar.team_id,
        calendar_id=booking.calendar_id,
        booking_id=booking.id,
        event=SyncEvent.CREATED,
        status=status,
        error_code=error_code,
        error_fields=["Company"]
        if error_fields is None and error_code == "REQUIRED_FIELD_MISSING"
        else (error_fields or []),
        created_at=created_at or datetime.now(UTC),
        **defaults,
    )
    session.add(job)
    session.flush()
    return job


def make_attempt(
    session: Session, job: SyncJob, number: int = 1, *, trail: list[dict] | None = None, started_at=None, **fields
) -> SyncAttempt:
    attempt = SyncAttempt(
        sync_job_id=job.id,
        number=number,
        started_at=started_at or datetime.now(UTC),
        outcome=fields.pop("outcome", "failed"),
        error_code=fields.pop("error_code", job.error_code),
        api_calls=fields.pop("api_calls", 1),
        trail=trail if trail is not None else sample_trail(),
        **fields,
    )
    session.add(attempt)
    session.flush()
    return attempt


def sample_trail() -> list[dict]:
    """A redacted request/response pair like the engine records."""
    return [
        {
            "request": {"method": "POST", "path": "/services/data/v62.0/composite", "body": {"LastName": "Guest"}},
            "response": {
                "status": 400,
                "body": [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Company]"}],
            },
        }
    ]


def make_integration(session: Session, calendar: Calendar, rows: list[tuple[str, SourceKind, str]] | None = None):
    """A Lead integration mapping LastName <- the name question, Company <- the company question by default."""
    questions = {q.kind.value: q for q in calendar.questions}
    rows = rows or [
        ("LastName", SourceKind.QUESTION, str(questions["full_name"].id)),
        ("Email", SourceKind.QUESTION, str(questions["email"].id)),
        ("Company", SourceKind.QUESTION, str(questions["company"].id)),
    ]
    integration = SalesforceIntegration(calendar_id=calendar.id, object_name=SalesforceObject.LEAD)
    integration.mappings = [
        FieldMapping(
            position=i,
            sf_field=field,
            source_kind=kind,
            source_key=key if kind != SourceKind.FIXED else "",
            fixed_value=key if kind == SourceKind.FIXED else "",
        )
        for i, (field, kind, key) in enumerate(rows)
    ]
    session.add(integration)
    session.flush()
    return integration


def csrf_token(client: FlaskClient) -> str:
    """A CSRF token valid for the client's session (as a rendered form would carry)."""
    app: Flask = client.application
    with app.test_request_context():
        g.pop("csrf_token", None)  # the suite's app context is shared: Flask-WTF may have cached another token
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as client_session:
        client_session["csrf_token"] = raw
    return token
