"""Service Integration → Salesforce pages of a calendar. Each view loads the calendar (404 for outsiders), checks
that the user may edit it (403), checks the team's plan and connection, validates, calls one service, flashes."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required

from ..access import TeamAccess, calendar_access, require
from ..models import Booking, Calendar, SalesforceConnection, SalesforceIntegration, SourceKind
from ..planner import soql
from ..planner.fields import ObjectFields, fields_from_describe
from ..planner.inputs import IntegrationSettings, MappingRow
from ..planner.sources import maps_host
from ..salesforce import describe
from ..salesforce.client import client_for_connection
from ..salesforce.errors import SalesforceError
from ..sync import snapshots
from ..zones import viewer_zone
from . import bp, editor, service
from .forms import IntegrationForm
from .service import ServiceIntegrationState, service_integration_state

# -- the editor ----------------------------------------------------------------------------------------------------


@bp.route("/calendars/<int:calendar_id>/integrations/salesforce/new", methods=["GET", "POST"])
@login_required
def new(calendar_id: int):
    calendar, access = _editable_calendar(calendar_id)
    if service.integration_of(calendar) is not None:
        return redirect(url_for("integrations.edit", calendar_id=calendar.id))
    return _editor_page(calendar, access, None)


@bp.route("/calendars/<int:calendar_id>/integrations/salesforce", methods=["GET", "POST"])
@login_required
def edit(calendar_id: int):
    calendar, access = _editable_calendar(calendar_id)
    integration = service.integration_of(calendar)
    if integration is None:
        return redirect(url_for("integrations.new", calendar_id=calendar.id))
    return _editor_page(calendar, access, integration)


def _editor_page(calendar: Calendar, access: TeamAccess, integration: SalesforceIntegration | None):
    state = service_integration_state(calendar, access.role)
    if state.unavailable_reason:
        return _unavailable_page(state, access)
    form = IntegrationForm(request.form if request.method == "POST" else None)
    if request.method == "GET" and integration is not None:
        editor.fill_form(form, integration)
    fields, problem = _object_fields(state.connection, editor.chosen_object(form))
    if problem:
        return _describe_failed_page(state, access, problem)
    if request.method == "GET":
        if integration is None:
            editor.start_rows(form, calendar, fields)
        return _render_editor(form, state, access, fields, 200)
    if form.ask_question.data or form.use_fixed.data:
        _apply_remedy(form, calendar, fields)
    elif form.save.data:
        result = editor.check(form, calendar, fields)
        if result.ok:
            saved = service.save_integration(calendar, result.settings)
            rows = len(saved.mappings)
            flash(
                ngettext(
                    "Salesforce integration saved: %(object)s with %(num)d row.",
                    "Salesforce integration saved: %(object)s with %(num)d rows.",
                    rows,
                    object=_(saved.object_name.value),
                ),
                "success",
            )
            return redirect(url_for("integrations.edit", calendar_id=calendar.id))
    # Not saved: a refused save, "Add row" or "Update field lists" shows the form again.
    editor.tidy_rows(form, extra_blank=1 if form.add_row.data else 0)
    return _render_editor(form, state, access, fields, 422 if form.save.data else 200)


def _apply_remedy(form: IntegrationForm, calendar: Calendar, fields: ObjectFields) -> None:
    """One click on a required field's remedy: ask its question on the booking form (saved at once) or fill it with
    the typed fixed value; either adds the row to the unsaved mapping, which the editor then saves."""
    missing = {item.field.name: item for item in editor.missing_required(form, calendar, fields)}
    asked = missing.get(form.ask_question.data or "")
    if asked is not None and asked.ask_kind is not None:
        question = service.ask_built_in_question(calendar, asked.ask_kind)
        editor.add_row(form, MappingRow(asked.field.name, SourceKind.QUESTION, str(question.id)))
        flash(
            _(
                "The booking form now asks “%(question)s” (required), mapped to %(field)s. Click Integration to "
                "save the mapping.",
                question=question.label,
                field=asked.field.display,
            ),
            "success",
        )
        return
    filled = missing.get(form.use_fixed.data or "")
    value = request.form.get(f"remedy-{filled.field.name}", "").strip() if filled else ""
    if filled is not None and value:
        # Added as typed: saving checks it like any other fixed value (never shortened).
        editor.add_row(form, MappingRow(filled.field.name, SourceKind.FIXED, fixed_value=value))
        flash(
            _(
                "%(field)s is filled with the value you typed. Click Integration to save it.",
                field=filled.field.display,
            ),
            "success",
        )
    elif filled is not None:
        form.mapping_errors = [
            _("Type the value to fill %(field)s with, then click “Fill it”.", field=filled.field.display)
        ]


def _render_editor(form, state: ServiceIntegrationState, access: TeamAccess, fields: ObjectFields, status: int):
    calendar = state.calendar
    form.set_choices(fields, editor.source_options(calendar))
    cache = describe.cached_describe(state.connection, fields.object_name)
    return (
        render_template(
            "integrations/edit.html",
            form=form,
            calendar=calendar,
            integration=state.integration,
            fields=fields,
            picklists=editor.picklist_fields(fields),
            missing_fields=editor.missing_required(form, calendar, fields),
            refusals=editor.refusals(form) if status == 422 else [],
            row_anchor=editor.row_anchor,
            describe_fetched_at=cache.fetched_at if cache else None,
            breadcrumbs=_crumbs(access, calendar, _("Salesforce integration")),
        ),
        status,
    )


def _object_fields(connection: SalesforceConnection, object_name: str) -> tuple[ObjectFields | None, str]:
    """The object's fields from the cached describe (fetched once if missing), or why they could not be had."""
    try:
        cache = describe.describe_of(connection, object_name)
    except SalesforceError as failure:
        return None, failure.message
    return fields_from_describe(cache.payload), ""


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/refresh-fields")
@login_required
def refresh_fields(calendar_id: int):
    calendar, access = _editable_calendar(calendar_id)
    state = service_integration_state(calendar, access.role)
    if state.unavailable_reason:
        return _unavailable_page(state, access)
    object_name = editor.object_name_or_default(request.form.get("object_name"))
    try:
        describe.refresh_describe(state.connection, object_name)
    except SalesforceError as failure:
        return _describe_failed_page(state, access, failure.message)
    flash(_("Salesforce fields of %(object)s refreshed.", object=_(object_name)), "success")
    target = "integrations.edit" if state.integration else "integrations.new"
    return redirect(url_for(target, calendar_id=calendar.id))


# -- pause, resume, remove -----------------------------------------------------------------------------------------


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/pause")
@login_required
def pause(calendar_id: int):
    calendar, integration = _editable_integration(calendar_id)
    service.set_paused(integration, True)
    flash(_("Salesforce integration paused: new bookings are not sent until you resume it."), "success")
    return redirect(url_for("calendars.edit", calendar_id=calendar.id, _anchor="advanced-settings"))


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/resume")
@login_required
def resume(calendar_id: int):
    calendar, integration = _editable_integration(calendar_id)
    service.set_paused(integration, False)
    flash(_("Salesforce integration resumed."), "success")
    return redirect(url_for("calendars.edit", calendar_id=calendar.id, _anchor="advanced-settings"))


@bp.route("/calendars/<int:calendar_id>/integrations/salesforce/remove", methods=["GET", "POST"])
@login_required
def remove(calendar_id: int):
    calendar, integration = _editable_integration(calendar_id)
    if request.method == "POST":
        service.remove_integration(integration)
        flash(_("Salesforce integration removed. Records already in Salesforce stay there."), "success")
        return redirect(url_for("calendars.edit", calendar_id=calendar.id, _anchor="advanced-settings"))
    _calendar, access = calendar_access(calendar_id)
    return render_template(
        "integrations/remove.html",
        calendar=calendar,
        integration=integration,
        breadcrumbs=_crumbs(access, calendar, _("Remove Salesforce integration")),
    )


# -- preview -------------------------------------------------------------------------------------------------------


@bp.get("/calendars/<int:calendar_id>/integrations/salesforce/preview")
@login_required
def preview(calendar_id: int):
    calendar, integration = _editable_integration(calendar_id)
    _calendar, access = calendar_access(calendar_id)
    chosen = editor.booking_for_preview(calendar, request.args.get("booking", ""))
    return _preview_page(calendar, access, snapshots.settings_snapshot(integration), integration, chosen)


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/preview")
@login_required
def preview_unsaved(calendar_id: int):
    """The editor's "Preview" button: the form as it stands, saved or not, with a sample booking; nothing is
    stored and nothing written to Salesforce."""
    calendar, access = _editable_calendar(calendar_id)
    settings, _problems = editor.settings_from_form(IntegrationForm(request.form))
    return _preview_page(calendar, access, settings, service.integration_of(calendar), None, unsaved=True)


def _preview_page(
    calendar: Calendar,
    access: TeamAccess,
    settings: IntegrationSettings,
    integration: SalesforceIntegration | None,
    chosen: Booking | None,
    *,
    unsaved: bool = False,
):
    state = service_integration_state(calendar, access.role)
    if state.unavailable_reason:
        return _unavailable_page(state, access)
    fields, problem = _object_fields(state.connection, settings.object_name)
    if problem:
        return _describe_failed_page(state, access, problem)
    zone = viewer_zone(calendar.time_zone)
    booking = editor.preview_booking(calendar, chosen, zone)
    needs_host = settings.register_event or maps_host(settings.mappings)
    host_user_id, host_problem = _host_user_id(state.connection, booking.host_email if needs_host else "")
    sync = editor.preview_request(settings, fields, booking)
    record, record_problem = _guest_record(state.connection, editor.guest_record_query(sync), booking.guest_email)
    return render_template(
        "integrations/preview.html",
        calendar=calendar,
        integration=integration,
        object_name=settings.object_name,
        unsaved=unsaved,
        chosen=chosen,
        recent_bookings=[] if unsaved else editor.recent_bookings(calendar),
        page=editor.preview_page(sync, host_user_id, record),
        host_user_id=host_user_id,
        host_problem=host_problem or record_problem,
        record_found=record is not None,
        updates_existing=settings.overwrite,
        pretty_json=editor.pretty_json,
        zone=zone,
        breadcrumbs=_crumbs(access, calendar, _("Preview")),
    )


def _host_user_id(connection: SalesforceConnection, host_email: str) -> tuple[str, str]:
    """The host's active Salesforce User id, read as the sync reads it (a query, never a write), or why not."""
    if not host_email:
        return "", ""
    try:
        with client_for_connection(connection.id) as client:
            records = client.query(soql.user_by_email(host_email)).get("records", [])
    except SalesforceError as failure:
        return "", _("The host's Salesforce user could not be looked up: %(message)s", message=failure.message)
    matching = [r["Id"] for r in records if str(r.get("Email") or "").lower() == host_email.lower()]
    return (matching[0], "") if matching else ("", "")


def _guest_record(connection: SalesforceConnection, query: str, email: str) -> tuple[dict | None, str]:
    """The guest's record with the fields the write rules decide on, read as the sync reads it, or why not."""
    if not query:
        return None, ""
    try:
        with client_for_connection(connection.id) as client:
            records = client.query(query).get("records", [])
    except SalesforceError as failure:
        return None, f"The guest's Salesforce record could not be looked up: {failure.message}"
    matching = [r for r in records if str(r.get("Email") or "").strip().lower() == email.strip().lower()]
    return (matching[0] if matching else None), ""


# -- helpers -------------------------------------------------------------------------------------------------------


def _editable_calendar(calendar_id: int) -> tuple[Calendar, TeamAccess]:
    """A calendar whose integration the user may change (design §3: not a member who only hosts it)."""
    calendar, access = calendar_access(calendar_id)
    require(access.can_manage_calendar(calendar))
    return calendar, access


def _editable_integration(calendar_id: int) -> tuple[Calendar, SalesforceIntegration]:
    calendar, _access = _editable_calendar(calendar_id)
    integration = service.integration_of(calendar)
    if integration is None:
        abort(404, description=_("This calendar has no Salesforce integration."))
    return calendar, integration


def _unavailable_page(state: ServiceIntegrationState, access: TeamAccess):
    calendar = state.calendar
    return (
        render_template(
            "integrations/unavailable.html",
            state=state,
            calendar=calendar,
            breadcrumbs=_crumbs(access, calendar, _("Salesforce integration")),
        ),
        403,
    )


def _describe_failed_page(state: ServiceIntegrationState, access: TeamAccess, problem: str):
    calendar = state.calendar
    return (
        render_template(
            "integrations/describe_failed.html",
            state=state,
            calendar=calendar,
            problem=problem,
            breadcrumbs=_crumbs(access, calendar, _("Salesforce integration")),
        ),
        200,  # the page itself works: it explains that Salesforce did not answer and what to do
    )


def _crumbs(access: TeamAccess, calendar: Calendar, page: str) -> list[tuple[str, str | None]]:
    return [
        (access.team.name, None),
        (_("Calendars"), url_for("calendars.index", team_id=calendar.team_id)),
        (calendar.name, url_for("calendars.edit", calendar_id=calendar.id)),
        (_("Advanced settings"), url_for("calendars.edit", calendar_id=calendar.id, _anchor="advanced-settings")),
        (page, None),
    ]
