"""The mapping editor's glue between the form, the models and the pure planner: filling the form, the source
pull-down, checking a submitted form with the planner's mapping validation, and the preview's cases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..links import booking_page_url
from ..models import (
    MAX_DATABASE_ID,
    Booking,
    Calendar,
    OnCancel,
    QuestionKind,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    SyncEvent,
)
from ..planner import soql
from ..planner.fields import FieldInfo, ObjectFields
from ..planner.inputs import BookingSnapshot, IntegrationSettings, MappingRow, QuestionSnapshot, SyncRequest
from ..planner.plan import read_fields
from ..planner.preview import Preview, preview
from ..planner.rules import rule_or_default
from ..planner.sources import QUESTION_KINDS, SYSTEM_ITEMS, default_mapping, default_question_kind
from ..planner.validation import check_mapping
from ..sync import snapshots
from .forms import BLANK_ROWS, IntegrationForm, MappingRowForm, SourceOption

PREVIEW_BOOKINGS = 20


# -- filling the form ----------------------------------------------------------------------------------------------


def object_name_or_default(value: str | None) -> str:
    objects = (SalesforceObject.LEAD.value, SalesforceObject.CONTACT.value)
    return value if value in objects else SalesforceObject.LEAD.value


def chosen_object(form: IntegrationForm) -> str:
    return object_name_or_default(form.object_name.data)


def question_snapshots(calendar: Calendar) -> tuple[QuestionSnapshot, ...]:
    return tuple(snapshots.question_snapshot(q) for q in sorted(calendar.questions, key=lambda q: q.position))


def fill_form(form: IntegrationForm, integration: SalesforceIntegration) -> None:
    """The saved settings and rows, then blank rows."""
    settings = snapshots.settings_snapshot(integration)
    form.object_name.data = settings.object_name
    form.register_event.data = "register" if settings.register_event else "not_register"
    form.overwrite.data = "update" if settings.overwrite else "not_update"
    form.contact_first.data = settings.contact_first
    form.on_cancel.data = settings.on_cancel
    for row in settings.mappings:
        form.rows.append_entry(_row_data(row))
    form.add_blank_rows()


def start_rows(form: IntegrationForm, calendar: Calendar, fields: ObjectFields) -> None:
    """A new integration's first rows: the default mapping for the object (design §1), then blank rows."""
    for row in default_mapping(question_snapshots(calendar), fields):
        form.rows.append_entry(_row_data(row))
    form.add_blank_rows()


def tidy_rows(form: IntegrationForm, extra_blank: int = 0) -> None:
    """Before showing a submitted form again: drop removed and blank rows, then offer blank ones."""
    form.drop_finished_rows()
    form.add_blank_rows(BLANK_ROWS + extra_blank)


def _row_data(row: MappingRow) -> dict:
    source = SourceKind.FIXED.value if row.source_kind == SourceKind.FIXED else f"{row.source_kind}:{row.source_key}"
    return {
        "sf_field": row.sf_field,
        "source": source,
        "fixed_value": row.fixed_value,
        "fallback_value": row.fallback_value,
        "write_rule": row.write_rule,
    }


def source_options(calendar: Calendar) -> list[SourceOption]:
    """The booking form's questions (in form order), then the system items."""
    options = []
    for question in question_snapshots(calendar):
        kind = QUESTION_KINDS.get(question.kind)
        need = "required" if question.required else "optional"
        label = f"{question.label} ({kind.label if kind else question.kind}, {need})"
        options.append(SourceOption(f"{SourceKind.QUESTION.value}:{question.id}", label, "Booking form questions"))
    for item in SYSTEM_ITEMS.values():
        options.append(SourceOption(f"{SourceKind.ITEM.value}:{item.key}", item.label, "System items"))
    return options


def picklist_fields(fields: ObjectFields) -> dict[str, FieldInfo]:
    """Fields whose active values the fixed-value box suggests, by API name."""
    return {info.name: info for info in fields.offered(overwrite=False) if info.picklist_values}


# -- remedies for a required field no row fills -------------------------------------------------------------------

# Built-in questions the editor may add to the booking form in one click; the name questions follow the name format.
ADDABLE_KINDS = frozenset({QuestionKind.COMPANY, QuestionKind.PHONE})


@dataclass(frozen=True)
class MissingField:
    """A field Salesforce requires that no row fills, with the built-in question that could ask it (if any)."""

    field: FieldInfo
    ask_kind: QuestionKind | None

    @property
    def ask_label(self) -> str:
        return QUESTION_KINDS[self.ask_kind].label if self.ask_kind else ""


def missing_required(form: IntegrationForm, calendar: Calendar, fields: ObjectFields) -> list[MissingField]:
    settings, _ = settings_from_form(form)
    mapped = {row.sf_field.strip().lower() for row in settings.mappings}
    asked = {question.kind for question in calendar.questions}
    missing = []
    for info in fields.required_on_create:
        if info.name.lower() in mapped:
            continue
        kind = default_question_kind(info.name)
        addable = kind in ADDABLE_KINDS and kind not in asked
        missing.append(MissingField(info, kind if addable else None))
    return missing


def add_row(form: IntegrationForm, row: MappingRow) -> None:
    """Add a row to the unsaved form, before its blank rows (the remedies' second half: the editor still saves)."""
    form.drop_finished_rows()
    form.rows.append_entry(_row_data(row))


# -- checking a submitted form -------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    settings: IntegrationSettings
    ok: bool = True
    mapping_errors: list[str] = field(default_factory=list)


def settings_from_form(form: IntegrationForm) -> tuple[IntegrationSettings, list[MappingRowForm]]:
    """The planner's settings from the form, and the row forms they came from (same order)."""
    row_forms = form.live_rows()
    object_name = chosen_object(form)
    on_cancel = form.on_cancel.data if form.on_cancel.data in {o.value for o in OnCancel} else OnCancel.DELETE_EVENT
    settings = IntegrationSettings(
        object_name=object_name,
        register_event=form.register_event.data != "not_register",
        overwrite=form.overwrites,
        contact_first=bool(form.contact_first.data) and object_name == SalesforceObject.LEAD,
        on_cancel=str(on_cancel),
        mappings=tuple(_row_from_form(row) for row in row_forms),
    )
    return settings, row_forms


def _row_from_form(row: MappingRowForm) -> MappingRow:
    source = (row.source.data or "").strip()
    rule = rule_or_default(row.write_rule.data or "", row.sf_field.data or "")
    if source == SourceKind.FIXED:
        fixed = (row.fixed_value.data or "").strip()
        return MappingRow(row.sf_field.data or "", SourceKind.FIXED, fixed_value=fixed, write_rule=rule)
    kind, _, key = source.partition(":")
    return MappingRow(
        sf_field=row.sf_field.data or "",
        source_kind=kind,
        source_key=key,
        fallback_value=(row.fallback_value.data or "").strip(),
        write_rule=rule,
    )


def check(form: IntegrationForm, calendar: Calendar, fields: ObjectFields) -> CheckResult:
    """Validate the form, then the mapping with the planner's checks; each problem is put on its row."""
    settings, row_forms = settings_from_form(form)
    result = CheckResult(settings, ok=form.validate())
    problems = check_mapping(fields, question_snapshots(calendar), settings.mappings, overwrite=settings.overwrite)
    for problem in problems:
        result.ok = False
        if problem.row is None:
            result.mapping_errors.append(problem.message)
        else:
            row_forms[problem.row].row_errors.append(problem.message)
    form.mapping_errors = result.mapping_errors
    return result


# -- a refused save's summary -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One line of the "Not saved" banner: where the problem is (an anchor on the page) and what it is."""

    anchor: str
    label: str
    message: str
    is_row: bool = False


def refusals(form: IntegrationForm) -> list[Refusal]:
    """Every refused row (numbered as the page shows them), then the mapping as a whole and the settings."""
    found = []
    for number, entry in enumerate(form.rows, start=1):
        row = entry.form
        messages = [*row.row_errors, *(error for errors in row.errors.values() for error in errors)]
        if messages:
            label = f"Row {number}" + (f" ({row.sf_field.data})" if row.sf_field.data else "")
            found.append(Refusal(row_anchor(number), label, messages[0], is_row=True))
    if form.mapping_errors:
        found.append(Refusal("mapping-problems", "The mapping", form.mapping_errors[0]))
    settings_errors = [errors for name, errors in form.errors.items() if name != "rows"]
    if settings_errors:
        found.append(Refusal("integration-settings", "The settings", settings_errors[0][0]))
    return found


def row_anchor(number: int) -> str:
    return f"row-{number}"


# -- preview -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewPage:
    booking: BookingSnapshot
    result: Preview


def recent_bookings(calendar: Calendar) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.calendar_id == calendar.id)
            .order_by(Booking.start_at.desc(), Booking.id.desc())
            .limit(PREVIEW_BOOKINGS)
        )
    )


def booking_for_preview(calendar: Calendar, booking_id: str) -> Booking | None:
    """A real booking of this calendar when one is asked for by id; None means the sample booking."""
    if not (booking_id.isascii() and booking_id.isdigit()) or len(booking_id) > len(str(MAX_DATABASE_ID)):
        return None  # "²" passes isdigit but not int(); Python refuses to read more than 4,300 digits
    if not 0 < int(booking_id) <= MAX_DATABASE_ID:
        return None  # beyond the id column's range PostgreSQL would fail
    booking = db.session.get(Booking, int(booking_id))
    return booking if booking is not None and booking.calendar_id == calendar.id else None


def preview_booking(calendar: Calendar, booking: Booking | None, zone_name: str) -> BookingSnapshot:
    """The chosen booking, or a sample one tomorrow at 10:00 in the viewer's time zone (zone_name)."""
    page_url = booking_page_url(calendar)  # as the sync writes it
    if booking is not None:
        return snapshots.booking_snapshot(booking, booking_page_url=page_url)
    zone = ZoneInfo(zone_name)
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(10), tzinfo=zone).astimezone(UTC)
    return snapshots.sample_booking(calendar, start_at=start, booking_page_url=page_url)


def preview_request(settings: IntegrationSettings, fields: ObjectFields, booking: BookingSnapshot) -> SyncRequest:
    """What the planner previews: the booking as a new one, for saved or unsaved settings."""
    return SyncRequest(
        event=SyncEvent.CREATED,
        booking=booking,
        settings=settings,
        fields=fields,
        api_version=current_app.config["SALESFORCE_API_VERSION"],
    )


def guest_record_query(sync: SyncRequest) -> str:
    """The sync's own look-up of the guest's record with the fields the write rules decide on ("" when existing
    records are never updated, so no current value matters)."""
    if not sync.settings.overwrite:
        return ""
    email, wanted = sync.booking.guest_email.strip(), read_fields(sync)
    if sync.settings.object_name == SalesforceObject.CONTACT:
        return soql.contact_by_email(email, wanted)
    return soql.lead_by_email(email, wanted)


def preview_page(sync: SyncRequest, host_user_id: str, record: dict | None) -> PreviewPage:
    """Both cases as the planner would write them; host_user_id is the host's Salesforce User ("" if none); record:
    the guest's record as the look-up returned it (None when there is none or it was not looked up)."""
    record_id = str(record.get("Id") or "") if record else ""
    shown = preview(sync, host_user_id=host_user_id, existing_record_id=record_id, current=record)
    return PreviewPage(sync.booking, shown)


def pretty_json(value: object) -> str:
    """A request body as people read it (the template escapes it for HTML)."""
    return json.dumps(value, indent=2, ensure_ascii=False)
