"""The mapping sources catalogue (design §1): booking-form question kinds and the system items, each with a stable
key, a label, the Salesforce field types it can fit, and how its value comes out of a booking snapshot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..enums import QuestionKind, SourceKind, WriteRule
from .fields import TEXT_TYPES, ObjectFields
from .inputs import BookingSnapshot, MappingRow, QuestionSnapshot
from .words import N_


@dataclass(frozen=True)
class Host:
    """The booking's participating member; user_id is their Salesforce User, once looked up by e-mail."""

    email: str
    name: str
    user_id: str = ""


# What a source yields: text, a ticked box, a number, a moment in the calendar's time zone, or the host.
SourceValue = str | bool | int | datetime | Host

FREE_TEXT_FITS = TEXT_TYPES | {"picklist", "multipicklist"}


@dataclass(frozen=True)
class QuestionKindInfo:
    kind: str
    label: str
    fits: frozenset[str]
    answer_cap: int  # the booking form's limit when the question sets none (portal.calendars.forms.KIND_MAX_LENGTH)
    typed_by_guest: bool = True  # free text, as opposed to a choice or a tick


def _kind(kind: str, label: str, fits: set[str], cap: int, typed: bool = True) -> tuple[str, QuestionKindInfo]:
    return kind, QuestionKindInfo(kind, label, frozenset(fits), cap, typed)


QUESTION_KINDS = MappingProxyType(
    dict(
        [
            _kind(QuestionKind.FULL_NAME, N_("Name"), FREE_TEXT_FITS, 200),
            _kind(QuestionKind.FAMILY_NAME, N_("Family name"), FREE_TEXT_FITS, 100),
            _kind(QuestionKind.GIVEN_NAME, N_("Given name"), FREE_TEXT_FITS, 100),
            _kind(QuestionKind.EMAIL, N_("E-mail"), TEXT_TYPES | {"email"}, 320),
            _kind(QuestionKind.COMPANY, N_("Company"), FREE_TEXT_FITS, 200),
            _kind(QuestionKind.PHONE, N_("Phone"), TEXT_TYPES | {"phone"}, 40),
            _kind(QuestionKind.SHORT_TEXT, N_("Short text"), FREE_TEXT_FITS, 500),
            _kind(QuestionKind.LONG_TEXT, N_("Long text"), set(TEXT_TYPES), 10000),
            _kind(QuestionKind.SINGLE_SELECT, N_("Choice"), FREE_TEXT_FITS, 200, typed=False),
            _kind(QuestionKind.CHECKBOX, N_("Checkbox"), TEXT_TYPES | {"boolean"}, 3, typed=False),
        ]
    )
)
# Built-in questions whose answers the booking also keeps in its own columns.
GUEST_COLUMNS = MappingProxyType(
    {
        QuestionKind.FULL_NAME: "guest_name",
        QuestionKind.FAMILY_NAME: "guest_family_name",
        QuestionKind.GIVEN_NAME: "guest_given_name",
        QuestionKind.EMAIL: "guest_email",
        QuestionKind.COMPANY: "guest_company",
        QuestionKind.PHONE: "guest_phone",
    }
)
_CHECKED = frozenset({"yes", "y", "true", "on", "1", "checked"})


def answer_limit(question: QuestionSnapshot) -> int:
    """The most characters the booking form accepts for this question."""
    cap = QUESTION_KINDS[question.kind].answer_cap if question.kind in QUESTION_KINDS else 0
    return min(question.max_length or cap, cap) if cap else question.max_length or 0


def checkbox_checked(answer: str) -> bool:
    return answer.strip().lower() in _CHECKED


def question_value(booking: BookingSnapshot, question: QuestionSnapshot) -> SourceValue:
    """The guest's answer; built-in questions fall back to the booking's guest columns."""
    answer = booking.answer_to(question.id)
    if not answer.strip() and question.kind in GUEST_COLUMNS:
        answer = getattr(booking, GUEST_COLUMNS[question.kind])
    return checkbox_checked(answer) if question.kind == QuestionKind.CHECKBOX else answer


@dataclass(frozen=True)
class SystemItem:
    key: str
    label: str
    fits: frozenset[str]
    value_of: Callable[[BookingSnapshot], SourceValue]
    max_length: int | None = None  # the longest text it can produce, when known


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_start(booking: BookingSnapshot) -> datetime:
    return booking.start_at.astimezone(_zone(booking.time_zone))


def local_end(booking: BookingSnapshot) -> datetime:
    return booking.end_at.astimezone(_zone(booking.time_zone))


def booking_time_text(booking: BookingSnapshot) -> str:
    """e.g. "2025-03-04 10:00-10:30 (Europe/Berlin)", in the calendar's time zone."""
    start, end = local_start(booking), local_end(booking)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}-{end_text} ({booking.time_zone})"


MOMENT_FITS = TEXT_TYPES | {"datetime", "date"}
URL_FITS = TEXT_TYPES | {"url"}
SYSTEM_ITEMS = MappingProxyType(
    {
        item.key: item
        for item in (
            SystemItem("calendar_name", N_("Calendar name"), FREE_TEXT_FITS, lambda b: b.calendar_name, 120),
            SystemItem(
                "calendar_private_name",
                N_("Private calendar name"),
                FREE_TEXT_FITS,
                lambda b: b.calendar_private_name,
                120,
            ),
            SystemItem("booking_start", N_("Booking start"), MOMENT_FITS, local_start, 20),
            SystemItem("booking_end", N_("Booking end"), MOMENT_FITS, local_end, 20),
            SystemItem("booking_datetime_text", N_("Booking date and time (text)"), TEXT_TYPES, booking_time_text, 100),
            SystemItem("meeting_url", N_("Web meeting URL"), URL_FITS, lambda b: b.meeting_url, 500),
            SystemItem(
                "participating_member",
                N_("Participating member (host → Owner)"),
                TEXT_TYPES | {"reference", "email"},
                lambda b: Host(b.host_email, b.host_name),
                200,
            ),
            SystemItem("booking_id", N_("Booking ID"), TEXT_TYPES | {"int", "double"}, lambda b: b.booking_id, 20),
            SystemItem("booking_page_url", N_("Booking page URL"), URL_FITS, lambda b: b.booking_page_url),
        )
    }
)
HOST_ITEM = "participating_member"


def question_for(row: MappingRow, questions: Sequence[QuestionSnapshot]) -> QuestionSnapshot | None:
    key = row.source_key.strip()
    return next((q for q in questions if key.isascii() and key.isdigit() and q.id == int(key)), None)


def source_value(row: MappingRow, booking: BookingSnapshot, host_user_id: str = "") -> SourceValue | None:
    """The row's raw value for this booking; None when its question or item no longer exists."""
    if row.source_kind == SourceKind.FIXED:
        return row.fixed_value
    if row.source_kind == SourceKind.QUESTION:
        question = question_for(row, booking.questions)
        return None if question is None else question_value(booking, question)
    item = SYSTEM_ITEMS.get(row.source_key) if row.source_kind == SourceKind.ITEM else None
    if item is None:
        return None
    value = item.value_of(booking)
    return replace(value, user_id=host_user_id) if isinstance(value, Host) else value


def maps_host(rows: Sequence[MappingRow]) -> bool:
    return any(row.source_kind == SourceKind.ITEM and row.source_key == HOST_ITEM for row in rows)


_DEFAULT_TARGETS = (
    (QuestionKind.FULL_NAME, "LastName"),  # a full name goes whole into LastName: never guess a split
    (QuestionKind.FAMILY_NAME, "LastName"),
    (QuestionKind.GIVEN_NAME, "FirstName"),
    (QuestionKind.EMAIL, "Email"),
    (QuestionKind.COMPANY, "Company"),
    (QuestionKind.PHONE, "Phone"),
)


# Fields sales teams own once a record exists: the owner, the source, and the person's name and company.
_CREATE_ONLY_BY_DEFAULT = frozenset({"ownerid", "leadsource", "company", "firstname", "lastname", "salutation"})


def default_write_rule(sf_field: str) -> WriteRule:
    """The rule a new mapping row starts with (design §5 "Write rules")."""
    return WriteRule.ON_CREATE if sf_field.strip().lower() in _CREATE_ONLY_BY_DEFAULT else WriteRule.ALWAYS


def default_question_kind(field_name: str) -> QuestionKind | None:
    """The built-in question kind the default mapping fills this standard field from (Company for Company)."""
    return next((kind for kind, target in _DEFAULT_TARGETS if target.lower() == field_name.lower()), None)


def default_mapping(questions: Sequence[QuestionSnapshot], fields: ObjectFields) -> tuple[MappingRow, ...]:
    """The starting mapping of a new integration: name, e-mail, company and phone to their standard fields."""
    rows = []
    for kind, field_name in _DEFAULT_TARGETS:
        question = next((q for q in questions if q.kind == kind), None)
        target = fields.get(field_name)
        if question is not None and target is not None and target.createable:
            rows.append(
                MappingRow(
                    target.name, SourceKind.QUESTION, str(question.id), write_rule=default_write_rule(target.name)
                )
            )
    return tuple(rows)


def questions_feeding(
    rows: Sequence[MappingRow], questions: Sequence[QuestionSnapshot], sf_fields: Sequence[str]
) -> tuple[tuple[QuestionSnapshot, tuple[str, ...]], ...]:
    """The booking questions whose answers the mapping sends to these Salesforce fields (API names ignore case),
    each with the fields it feeds, in form order: the values Fix and retry lets a person correct."""
    wanted = {name.lower() for name in sf_fields}
    fed: dict[int, list[str]] = {}
    for row in rows:
        question = question_for(row, questions) if row.source_kind == SourceKind.QUESTION else None
        if question is not None and row.sf_field.lower() in wanted:
            fed.setdefault(question.id, []).append(row.sf_field)
    return tuple((q, tuple(fed[q.id])) for q in questions if q.id in fed)
