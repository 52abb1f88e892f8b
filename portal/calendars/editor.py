"""Calendar editor services: apply a validated editor form and duplicate, each audited in one commit
(archiving and deletion: portal.calendars.archive).

Question ids stay stable across edits because bookings' answers and Salesforce mappings refer to them.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..inputs import whole_number
from ..integrations import guard
from ..models import AvailabilityRange, Calendar, CalendarHost, NameFormat, Question, QuestionKind, Team, User
from .forms import BUILT_IN_LABELS, CalendarForm

SLUG_CONSTRAINT = "uq_calendars_slug"
CUSTOM = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT, QuestionKind.SINGLE_SELECT, QuestionKind.CHECKBOX)


class SlugTaken(Exception):
    """Another calendar already uses this URL slug."""


def slug_is_free(slug: str, calendar_id: int | None = None) -> bool:
    query = select(Calendar.id).where(Calendar.slug == slug)
    if calendar_id is not None:
        query = query.where(Calendar.id != calendar_id)
    return db.session.scalar(query) is None


def create_calendar(team: Team, created_by: User, form: CalendarForm) -> Calendar:
    calendar = Calendar(team_id=team.id, created_by_id=created_by.id)
    with _slug_guard():
        _apply(calendar, form)
        db.session.add(calendar)
        db.session.flush()
        audit.record("calendar.created", team_id=team.id, target=calendar, name=calendar.name)
        db.session.commit()
    return calendar


class MappingAtRisk(Exception):
    """Saving would leave the calendar's Salesforce mapping unable to fill fields (integrations.guard); nothing was
    saved, so the editor shows which rows and why, and asks for an explicit confirmation."""

    def __init__(self, risk: guard.MappingAtRisk) -> None:
        super().__init__(risk.summary())
        self.risk = risk


def update_calendar(calendar: Calendar, form: CalendarForm) -> Calendar:
    # Taken before any change is pending: it may call Salesforce (the describe, the hosts' Users).
    mapping_guard = guard.guard_for(calendar, form.chosen_hosts())
    with _slug_guard():
        _apply(calendar, form)
        problems = mapping_guard.after(calendar)
        risk = mapping_guard.risk(problems)
        if risk is not None and not form.confirm_mapping_changes.data:
            db.session.rollback()
            raise MappingAtRisk(risk)
        guard.record_outcome(mapping_guard, risk, problems)
        audit.record("calendar.updated", team_id=calendar.team_id, target=calendar, name=calendar.name)
        db.session.commit()
    return calendar


@contextmanager
def _slug_guard():
    """Two editors saving the same slug at once: the unique constraint decides, reported like a taken slug."""
    try:
        yield
    except IntegrityError as error:
        db.session.rollback()
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) == SLUG_CONSTRAINT:
            raise SlugTaken() from error
        raise


def duplicate_calendar(calendar: Calendar, created_by: User) -> Calendar:
    """A copy with every setting, host and question (new ids), named "Copy of …" and with a fresh slug."""
    copy = Calendar(
        team_id=calendar.team_id,
        created_by_id=created_by.id,
        name=f"Copy of {calendar.name}"[:120],
        private_name=calendar.private_name,
        slug=_free_slug(calendar.slug),
        duration_minutes=calendar.duration_minutes,
        time_zone=calendar.time_zone,
        buffer_minutes=calendar.buffer_minutes,
        min_notice_minutes=calendar.min_notice_minutes,
        window_days=calendar.window_days,
        meeting_url=calendar.meeting_url,
        name_format=calendar.name_format,
    )
    copy.hosts = [CalendarHost(user_id=h.user_id, position=h.position) for h in calendar.hosts]
    copy.availability = [
        AvailabilityRange(weekday=r.weekday, start_time=r.start_time, end_time=r.end_time)
        for r in calendar.availability
    ]
    copy.questions = [
        Question(
            kind=q.kind,
            label=q.label,
            required=q.required,
            options=list(q.options),
            max_length=q.max_length,
            position=q.position,
        )
        for q in calendar.questions
    ]
    db.session.add(copy)
    db.session.flush()
    audit.record("calendar.duplicated", team_id=calendar.team_id, target=copy, source_calendar_id=calendar.id)
    db.session.commit()
    return copy


def fill_form(form: CalendarForm, calendar: Calendar, members: list[tuple[int, str]]) -> None:
    """Put a calendar's settings into an editor form (GET)."""
    form.process(obj=calendar)
    for field in form.availability_fields:
        field.data = ", ".join(
            f"{r.start_time:%H:%M}-{r.end_time:%H:%M}" for r in calendar.availability if r.weekday == field.weekday
        )
    kinds = {q.kind: q for q in calendar.questions}
    form.company.data = _optional_state(kinds.get(QuestionKind.COMPANY))
    form.phone.data = _optional_state(kinds.get(QuestionKind.PHONE))
    form.name_format.data = calendar.name_format.value
    for question in calendar.questions:
        if question.kind in BUILT_IN_LABELS:
            form.built_in_limits[question.kind.value].data = question.max_length
    fill_hosts(form, members, [h.user_id for h in calendar.hosts])
    custom = [q for q in calendar.questions if q.kind in CUSTOM]
    form.questions.entries = []
    for question in custom:
        form.questions.append_entry(
            {
                "id": str(question.id),
                "kind": question.kind.value,
                "label": question.label,
                "required": question.required,
                "max_length": question.max_length,
                "options": "\n".join(question.options),
            }
        )
    add_blank_question_rows(form)


def fill_hosts(form: CalendarForm, members: list[tuple[int, str]], host_ids: list[int]) -> None:
    form.hosts.entries = []
    for user_id, _ in members:
        order = host_ids.index(user_id) + 1 if user_id in host_ids else None
        form.hosts.append_entry({"user_id": str(user_id), "selected": user_id in host_ids, "order": order})


def add_blank_question_rows(form: CalendarForm, count: int = 2) -> None:
    for _ in range(count):
        form.questions.append_entry({"kind": QuestionKind.SHORT_TEXT.value})


def _optional_state(question: Question | None) -> str:
    if question is None:
        return "off"
    return "required" if question.required else "optional"


def _apply(calendar: Calendar, form: CalendarForm) -> None:
    if not slug_is_free(form.slug.data, calendar.id):
        raise SlugTaken(form.slug.data)
    for name in (
        "name",
        "private_name",
        "slug",
        "duration_minutes",
        "time_zone",
        "buffer_minutes",
        "min_notice_minutes",
        "window_days",
    ):
        setattr(calendar, name, form[name].data)
    calendar.meeting_url = form.meeting_url.data or ""
    calendar.name_format = NameFormat(form.name_format.data)
    calendar.availability = [
        AvailabilityRange(weekday=r.weekday, start_time=r.start, end_time=r.end) for r in form.weekly_ranges()
    ]
    _apply_hosts(calendar, form.chosen_hosts())
    _apply_questions(calendar, form)


def _apply_hosts(calendar: Calendar, user_ids: list[int]) -> None:
    existing = {host.user_id: host for host in calendar.hosts}
    calendar.hosts = [existing.get(user_id) or CalendarHost(user_id=user_id) for user_id in user_ids]
    for position, host in enumerate(calendar.hosts):
        host.position = position


def _apply_questions(calendar: Calendar, form: CalendarForm) -> None:
    """Built-in questions follow the name format and company/phone choices; custom rows update in place."""
    by_id = {question.id: question for question in calendar.questions if question.id is not None}
    by_kind = {question.kind: question for question in calendar.questions}
    names = (
        [QuestionKind.FULL_NAME]
        if form.name_format.data == NameFormat.FULL
        else [QuestionKind.FAMILY_NAME, QuestionKind.GIVEN_NAME]
    )
    ordered = [_built_in(by_kind, kind, required=True) for kind in [*names, QuestionKind.EMAIL]]
    for kind, state in ((QuestionKind.COMPANY, form.company.data), (QuestionKind.PHONE, form.phone.data)):
        if state != "off":
            ordered.append(_built_in(by_kind, kind, required=state == "required"))
    for question in ordered:
        question.max_length = form.built_in_limits[question.kind.value].data
    for row in form.questions:
        row_form = row.form
        if row_form.is_blank or row_form.remove.data:
            continue
        question_id = whole_number(row_form.id.data, 10)
        question = by_id.get(question_id) if question_id else None
        if question is None or question.kind not in CUSTOM:
            question = Question()
        question.kind = QuestionKind(row_form.kind.data)
        question.label = row_form.label.data
        question.required = bool(row_form.required.data)
        question.max_length = row_form.max_length.data
        question.options = row_form.option_list() if question.kind == QuestionKind.SINGLE_SELECT else []
        ordered.append(question)
    for position, question in enumerate(ordered):
        question.position = position
    calendar.questions = ordered


def _built_in(by_kind: dict[QuestionKind, Question], kind: QuestionKind, *, required: bool) -> Question:
    question = by_kind.get(kind) or Question(kind=kind, label=BUILT_IN_LABELS[kind], max_length=None)
    question.required = required or kind == QuestionKind.EMAIL
    return question


def _free_slug(slug: str) -> str:
    base = slug[:70].rstrip("-")
    for _ in range(20):
        candidate = f"{base}-{secrets.token_hex(3)}"
        if slug_is_free(candidate):
            return candidate
    raise RuntimeError("could not find a free slug")
