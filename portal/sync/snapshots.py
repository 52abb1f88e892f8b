"""Builders of the planner's immutable inputs from the models. They only read attributes (no queries of their own;
load the relationships they read with the objects), so the sync service and the editor's preview plan from the
same inputs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..enums import WriteRule
from ..planner.fields import ObjectFields
from ..planner.inputs import (
    BookingSnapshot,
    IntegrationSettings,
    LinkSnapshot,
    MappingRow,
    QuestionSnapshot,
    SyncRequest,
)
from ..planner.preview import SAMPLE_ANSWERS, sample_answers
from ..planner.sources import GUEST_COLUMNS

if TYPE_CHECKING:
    from ..models import Booking, Calendar, FieldMapping, Question, SalesforceIntegration, SalesforceLink, User


def question_snapshot(question: Question) -> QuestionSnapshot:
    return QuestionSnapshot(
        id=question.id,
        kind=str(question.kind),
        label=question.label,
        required=bool(question.required),
        options=tuple(question.options or ()),
        max_length=question.max_length,
    )


def _questions(calendar: Calendar) -> tuple[QuestionSnapshot, ...]:
    return tuple(question_snapshot(q) for q in sorted(calendar.questions, key=lambda q: q.position))


def _answers(raw: dict[str, str] | None) -> tuple[tuple[int, str], ...]:
    """The booking's answers keyed by question id (stored as text keys in JSON)."""
    return tuple(
        (int(key), str(value)) for key, value in (raw or {}).items() if str(key).isascii() and str(key).isdigit()
    )


def booking_snapshot(
    booking: Booking, *, booking_page_url: str, corrections: dict[str, str] | None = None
) -> BookingSnapshot:
    """Reads the booking, its calendar with the questions, and its host. Values corrected for Salesforce (Fix and
    retry) win over the guest's answers: `corrections` when given (a preview of unsaved ones), else the stored."""
    calendar = booking.calendar
    host = booking.host
    corrected = dict(booking.corrections or {}) if corrections is None else corrections
    guest = {column: getattr(booking, column) or "" for column in GUEST_COLUMNS.values()}
    for question in calendar.questions:
        if str(question.id) in corrected and str(question.kind) in GUEST_COLUMNS:
            guest[GUEST_COLUMNS[str(question.kind)]] = corrected[str(question.id)]
    return BookingSnapshot(
        booking_id=booking.id,
        calendar_name=calendar.name,
        calendar_private_name=calendar.private_name or "",
        time_zone=calendar.time_zone,
        meeting_url=calendar.meeting_url or "",
        booking_page_url=booking_page_url,
        start_at=booking.start_at,
        end_at=booking.end_at,
        host_email=host.email if host is not None else "",
        host_name=host.name if host is not None else "",
        name_format=str(calendar.name_format),
        questions=_questions(calendar),
        answers=_answers({**(booking.answers or {}), **corrected}),
        **guest,
    )


def mapping_rows(mappings: Iterable[FieldMapping]) -> tuple[MappingRow, ...]:
    return tuple(
        MappingRow(
            sf_field=m.sf_field,
            source_kind=str(m.source_kind),
            source_key=m.source_key or "",
            fixed_value=m.fixed_value or "",
            fallback_value=m.fallback_value or "",
            write_rule=WriteRule(m.write_rule or WriteRule.ALWAYS),
        )
        for m in sorted(mappings, key=lambda m: m.position)
    )


def settings_snapshot(integration: SalesforceIntegration) -> IntegrationSettings:
    """Reads the integration and its mapping rows."""
    return IntegrationSettings(
        object_name=str(integration.object_name),
        register_event=bool(integration.register_event),
        overwrite=bool(integration.overwrite),
        contact_first=bool(integration.contact_first),
        on_cancel=str(integration.on_cancel),
        mappings=mapping_rows(integration.mappings),
    )


def link_snapshot(link: SalesforceLink | None) -> LinkSnapshot | None:
    if link is None or not link.record_id:
        return None
    return LinkSnapshot(sf_object=link.sf_object, record_id=link.record_id, event_id=link.event_id or "")


def sync_request(
    event: str,
    booking: Booking,
    integration: SalesforceIntegration,
    fields: ObjectFields,
    *,
    api_version: str,
    booking_page_url: str,
    link: SalesforceLink | None = None,
    known_record_id: str | None = None,
) -> SyncRequest:
    """One SyncJob event (SyncJob.event) ready to plan; fields: the cached describe of integration.object_name;
    known_record_id: the guest's record of that object an earlier booking's link holds (SyncRequest says when)."""
    return SyncRequest(
        event=str(event),
        booking=booking_snapshot(booking, booking_page_url=booking_page_url),
        settings=settings_snapshot(integration),
        fields=fields,
        api_version=api_version,
        link=link_snapshot(link),
        known_record_id=known_record_id or "",
    )


def sample_booking(
    calendar: Calendar, *, start_at: datetime, booking_page_url: str, host: User | None = None
) -> BookingSnapshot:
    """A made-up booking of this calendar for the editor's preview: sample answers to every question, at start_at
    (passed in: no clock here), hosted by `host` (default: the calendar's first participating member)."""
    questions = _questions(calendar)
    answers = sample_answers(questions)
    by_kind = {q.kind: text for q, (_, text) in zip(questions, answers, strict=True)}
    hosts = sorted(calendar.hosts, key=lambda h: h.position)
    host = host if host is not None else (hosts[0].user if hosts else None)
    guest = {column: by_kind.get(kind, "") for kind, column in GUEST_COLUMNS.items()}
    guest["guest_email"] = guest["guest_email"] or SAMPLE_ANSWERS["email"]  # the lookup needs one
    return BookingSnapshot(
        booking_id=0,
        calendar_name=calendar.name,
        calendar_private_name=calendar.private_name or "",
        time_zone=calendar.time_zone,
        meeting_url=calendar.meeting_url or "",
        booking_page_url=booking_page_url,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=calendar.duration_minutes),
        host_email=host.email if host is not None else "",
        host_name=host.name if host is not None else "",
        name_format=str(calendar.name_format),
        questions=questions,
        answers=answers,
        **guest,
    )
