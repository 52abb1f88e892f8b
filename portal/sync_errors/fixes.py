"""Fix and retry (issue 12): which of the guest's values a failed sync's fields come from, the form that corrects
only those, and what Salesforce would receive with the corrections (the planner's preview: nothing is written)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from ..integrations.editor import preview_page, preview_request
from ..links import booking_page_url
from ..models import Booking, Calendar, FieldMapping, SalesforceConnection, SalesforceIntegration, SyncJob
from ..planner.fields import ObjectFields, fields_from_describe
from ..planner.inputs import QuestionSnapshot
from ..planner.preview import Preview
from ..planner.sources import GUEST_COLUMNS, answer_limit, questions_feeding
from ..planner.validation import check_mapping
from ..salesforce import describe
from ..salesforce.errors import SalesforceError
from ..sync import snapshots


@dataclass(frozen=True)
class FixTarget:
    """One value a person may correct: the question, the failing fields it feeds, the guest's own answer and the
    correction stored earlier (None when there is none)."""

    question: QuestionSnapshot
    sf_fields: tuple[str, ...]
    original: str
    corrected: str | None

    @property
    def key(self) -> str:
        return str(self.question.id)

    @property
    def current(self) -> str:
        return self.original if self.corrected is None else self.corrected


def original_answer(booking: Booking, question: QuestionSnapshot) -> str:
    """What the guest typed, as the sync reads it: the answer, or the booking's own column for built-in questions."""
    answer = str((booking.answers or {}).get(str(question.id), ""))
    if not answer.strip() and question.kind in GUEST_COLUMNS:
        answer = getattr(booking, GUEST_COLUMNS[question.kind]) or ""
    return answer


def fix_targets(job: SyncJob, integration: SalesforceIntegration | None) -> list[FixTarget]:
    """The questions whose answers the failing fields come from (only those); empty when none does."""
    if integration is None or not job.error_fields:
        return []
    booking, calendar = job.booking, job.calendar
    questions = tuple(snapshots.question_snapshot(q) for q in calendar.questions)
    rows = snapshots.mapping_rows(integration.mappings)
    corrections = booking.corrections or {}
    return [
        FixTarget(question, sf_fields, original_answer(booking, question), corrections.get(str(question.id)))
        for question, sf_fields in questions_feeding(rows, questions, job.error_fields)
    ]


class FixForm(FlaskForm):
    """One text box per FixTarget (added by fix_form), and the two ways to submit."""

    show_preview = SubmitField("Show the Salesforce values")
    save = SubmitField("Save and retry")


def fix_form(targets: list[FixTarget], formdata=None) -> FixForm:
    """The form for these targets, filled with their current values until something is submitted."""

    class _Form(FixForm):
        pass

    for target in targets:
        limit = answer_limit(target.question)
        validators = [Length(max=limit, message=f"Use at most {limit} characters.")] if limit else []
        setattr(_Form, f"q{target.key}", StringField(target.question.label, validators=validators))
    form = _Form(formdata=formdata, data={f"q{t.key}": t.current for t in targets})
    return form


def corrections_from(form: FixForm, targets: list[FixTarget]) -> dict[str, str]:
    """Question id (text) -> the value the form holds for it, trimmed."""
    return {target.key: (form[f"q{target.key}"].data or "").strip() for target in targets}


@dataclass(frozen=True)
class FixPreview:
    result: Preview | None
    problem: str = ""  # why no preview could be made (Salesforce's fields could not be read)


def preview_with(
    booking: Booking,
    integration: SalesforceIntegration,
    connection: SalesforceConnection | None,
    corrections: dict[str, str],
) -> FixPreview:
    """What a create would send with these corrections over the stored ones (no write to Salesforce)."""
    if connection is None or connection.refresh_token_encrypted is None:
        return FixPreview(None, "The team's Salesforce org is not connected, so its fields cannot be read.")
    fields, problem = _fields(connection, integration.object_name.value)
    if fields is None:
        return FixPreview(None, problem)
    calendar: Calendar = booking.calendar
    snapshot = snapshots.booking_snapshot(
        booking,
        booking_page_url=booking_page_url(calendar),
        corrections={**(booking.corrections or {}), **corrections},
    )
    sync = preview_request(snapshots.settings_snapshot(integration), fields, snapshot)
    return FixPreview(preview_page(sync, host_user_id="", record=None).result)


def fallback_problems(
    integration: SalesforceIntegration, connection: SalesforceConnection | None, row: FieldMapping, value: str
) -> list[str]:
    """Why this fallback would not fit the row's field, by the mapping editor's own checks (empty: it fits)."""
    if connection is None or connection.refresh_token_encrypted is None:
        return ["The team's Salesforce org is not connected, so the field's limits cannot be checked."]
    fields, problem = _fields(connection, integration.object_name.value)
    if fields is None:
        return [problem]
    rows = tuple(
        replace(r, fallback_value=value) if r.sf_field == row.sf_field else r
        for r in snapshots.mapping_rows(integration.mappings)
    )
    questions = tuple(snapshots.question_snapshot(q) for q in integration.calendar.questions)
    problems = check_mapping(fields, questions, rows, overwrite=integration.overwrite)
    return [p.message for p in problems if p.row is not None and rows[p.row].sf_field == row.sf_field]


def _fields(connection: SalesforceConnection, object_name: str) -> tuple[ObjectFields | None, str]:
    try:
        cache = describe.describe_of(connection, object_name)
    except SalesforceError as failure:
        return None, f"Salesforce's fields could not be read: {failure.message}"
    return fields_from_describe(cache.payload), ""
