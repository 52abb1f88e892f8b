"""The calendar editor for a team's members: list, create, edit, duplicate, archive (and an owner's deletion of
a calendar without bookings), the archived calendars, and each calendar's bookings."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..access import TeamAccess, calendar_access, require, team_access
from ..extensions import db
from ..i18n import format_moment
from ..inputs import whole_number
from ..integrations import guard
from ..integrations.service import ServiceIntegrationState, booking_form_limits_in, service_integration_state
from ..models import Booking, Calendar, Membership, User, utcnow
from ..sync.states import booking_sync_states
from . import archive as archiving
from . import editor
from .forms import ArchiveForm, CalendarForm, ConfirmForm, question_label
from .mail import guest_name, send_withdrawn_mails

bp = Blueprint("calendars", __name__)

BOOKINGS_PER_PAGE = 50


@bp.get("/teams/<int:team_id>/calendars")
@login_required
def index(team_id: int):
    access = team_access(team_id)
    calendars = db.session.scalars(
        select(Calendar)
        .where(Calendar.team_id == team_id, Calendar.archived_at.is_(None))
        .order_by(Calendar.name, Calendar.id)
    ).all()
    return render_template(
        "calendars/index.html",
        access=access,
        team=access.team,
        calendars=calendars,
        breadcrumbs=[(access.team.name, None), (_("Calendars"), None)],
    )


@bp.route("/teams/<int:team_id>/calendars/new", methods=["GET", "POST"])
@login_required
def new(team_id: int):
    access = team_access(team_id)
    members = _members(team_id)
    form = CalendarForm(members=members)
    if request.method == "GET":
        editor.fill_hosts(form, members, [current_user.id])
        form.monday.data = form.tuesday.data = form.wednesday.data = "09:00-17:00"
        form.thursday.data = form.friday.data = "09:00-17:00"
        editor.add_blank_question_rows(form)
    elif _valid(form):
        try:
            calendar = editor.create_calendar(access.team, current_user, form)
        except editor.SlugTaken:
            _slug_taken(form)
        else:
            flash(_("Calendar “%(name)s” created.", name=calendar.name), "success")
            return redirect(url_for("calendars.edit", calendar_id=calendar.id))
    return _editor_page(form, access, None, status=200 if request.method == "GET" else 422)


@bp.route("/calendars/<int:calendar_id>/edit", methods=["GET", "POST"])
@login_required
def edit(calendar_id: int):
    # The hosts and weekly ranges come with the calendar (few rows each); the form shows both.
    calendar, access = calendar_access(
        calendar_id, options=(joinedload(Calendar.hosts), joinedload(Calendar.availability))
    )
    require(access.can_edit_calendar(calendar))
    members = _members(calendar.team_id)
    form = CalendarForm(members=members)
    mapping_risk = None
    if request.method == "GET":
        editor.fill_form(form, calendar, members)
    elif _valid(form):
        try:
            editor.update_calendar(calendar, form)
        except editor.SlugTaken:
            _slug_taken(form)
        except editor.MappingAtRisk as refusal:
            mapping_risk = refusal.risk
            form.confirm_mapping_changes.errors = ["Tick this box to save anyway, or change the settings above."]
        else:
            flash(_saved_message(form), "success")
            return redirect(url_for("calendars.edit", calendar_id=calendar.id))
    return _editor_page(form, access, calendar, status=200 if request.method == "GET" else 422, risk=mapping_risk)


def _saved_message(form: CalendarForm) -> str:
    if form.confirm_mapping_changes.data:
        return "Calendar saved. Its Salesforce integration needs attention: fix the rows named below."
    return "Calendar saved."


@bp.post("/calendars/<int:calendar_id>/duplicate")
@login_required
def duplicate(calendar_id: int):
    calendar, access = calendar_access(calendar_id)
    require(access.can_edit_calendar(calendar))
    copy = editor.duplicate_calendar(calendar, current_user)
    flash(_("Calendar duplicated as “%(name)s”. Check its URL slug before sharing it.", name=copy.name), "success")
    return redirect(url_for("calendars.edit", calendar_id=copy.id))


@bp.route("/calendars/<int:calendar_id>/archive", methods=["GET", "POST"])
@login_required
def archive(calendar_id: int):
    calendar, access = calendar_access(calendar_id)
    require(access.can_manage_calendar(calendar))
    if calendar.archived_at is not None:
        flash(_("Calendar “%(name)s” is already archived.", name=calendar.name), "warning")
        return redirect(url_for("calendars.archived", team_id=calendar.team_id))
    upcoming = archiving.upcoming_bookings(calendar, utcnow())
    form = ArchiveForm(upcoming_count=len(upcoming))
    if form.validate_on_submit():
        cancel = form.upcoming.data == "cancel"
        cancelled = archiving.archive_calendar(calendar, current_user, cancel_upcoming=cancel, now=utcnow())
        flash(_archived_message(calendar, len(upcoming), cancelled), "success")
        if not send_withdrawn_mails(cancelled):
            flash(_("The cancellation e-mails could not be sent; please tell those guests yourself."), "warning")
        return redirect(url_for("calendars.index", team_id=calendar.team_id))
    page = render_template(
        "calendars/archive.html",
        calendar=calendar,
        form=form,
        upcoming=upcoming,
        may_delete=access.can_delete_calendars and not archiving.booking_count(calendar),
        breadcrumbs=_calendar_crumbs(access, calendar, _("Archive")),
    )
    return page, 422 if form.is_submitted() else 200


def _archived_message(calendar: Calendar, upcoming: int, cancelled: list) -> str:
    message = _("Calendar “%(name)s” archived: its booking page is closed.", name=calendar.name)
    if cancelled:
        return " ".join(
            (
                message,
                ngettext(
                    "%(num)d upcoming booking was cancelled.",
                    "%(num)d upcoming bookings were cancelled.",
                    len(cancelled),
                ),
            )
        )
    if upcoming:
        return " ".join(
            (
                message,
                ngettext("Its %(num)d upcoming booking stands.", "Its %(num)d upcoming bookings stand.", upcoming),
            )
        )
    return message


@bp.get("/teams/<int:team_id>/calendars/archived")
@login_required
def archived(team_id: int):
    access = team_access(team_id)
    calendars = db.session.scalars(
        select(Calendar)
        .where(Calendar.team_id == team_id, Calendar.archived_at.is_not(None))
        .order_by(Calendar.archived_at.desc(), Calendar.id)
    ).all()
    return render_template(
        "calendars/archived.html",
        access=access,
        team=access.team,
        calendars=calendars,
        archived_by=_user_names({c.archived_by_id for c in calendars if c.archived_by_id}),
        breadcrumbs=[
            (access.team.name, None),
            (_("Calendars"), url_for("calendars.index", team_id=team_id)),
            (_("Archived"), None),
        ],
    )


@bp.route("/calendars/<int:calendar_id>/delete", methods=["GET", "POST"])
@login_required
def delete(calendar_id: int):
    """Permanent deletion: an owner's audited action, only for a calendar that never had a booking."""
    calendar, access = calendar_access(calendar_id)
    require(access.can_delete_calendars)
    form = ConfirmForm()
    if form.validate_on_submit():
        team_id, name = calendar.team_id, calendar.name
        try:
            archiving.delete_calendar(calendar)
        except archiving.CalendarHasBookings:
            flash(_("This calendar has bookings, so it cannot be deleted; archive it instead."), "error")
            return redirect(url_for("calendars.archive", calendar_id=calendar_id))
        flash(_("Calendar “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("calendars.index", team_id=team_id))
    return render_template(
        "calendars/delete.html",
        calendar=calendar,
        form=form,
        booking_count=archiving.booking_count(calendar),
        breadcrumbs=_calendar_crumbs(access, calendar, _("Delete")),
    )


@bp.get("/calendars/<int:calendar_id>/bookings")
@login_required
def bookings(calendar_id: int):
    calendar, access = calendar_access(calendar_id)
    require(access.can_see_bookings(calendar))
    page = whole_number(request.args.get("page", "1"), 5) or 1
    rows = db.session.scalars(
        select(Booking)
        .where(Booking.calendar_id == calendar.id)
        .order_by(Booking.start_at.desc(), Booking.id.desc())
        .offset((page - 1) * BOOKINGS_PER_PAGE)
        .limit(BOOKINGS_PER_PAGE + 1)
    ).all()
    return render_template(
        "calendars/bookings.html",
        calendar=calendar,
        access=access,
        bookings=rows[:BOOKINGS_PER_PAGE],
        page=page,
        has_more=len(rows) > BOOKINGS_PER_PAGE,
        hosts=_user_names({booking.host_id for booking in rows}),
        sync_states=booking_sync_states(db.session, [booking.id for booking in rows]),
        breadcrumbs=_calendar_crumbs(access, calendar, _("Bookings")),
    )


bp.add_app_template_filter(guest_name, "guest_name")
bp.add_app_template_global(question_label, "question_label")


@bp.app_template_filter("calendar_time")
def calendar_time(moment: datetime, zone_name: str) -> str:
    return format_moment(moment, zone_name, show_zone=False)


def _valid(form: CalendarForm) -> bool:
    valid = form.validate_on_submit()
    editor.add_blank_question_rows(form, count=1)
    return valid


def _slug_taken(form: CalendarForm) -> None:
    form.slug.errors = [*form.slug.errors, _("Another calendar already uses this URL slug; choose another.")]


def _editor_page(
    form: CalendarForm,
    access: TeamAccess,
    calendar: Calendar | None,
    *,
    status: int,
    risk: guard.MappingAtRisk | None = None,
):
    title = calendar.name if calendar else _("New calendar")
    # Loaded once for both the built-in questions' limits and the Service Integration section.
    state = service_integration_state(calendar, access.role) if calendar else None
    crumbs = (
        _calendar_crumbs(access, calendar, _("Edit"))
        if calendar
        else [
            (access.team.name, None),
            (_("Calendars"), url_for("calendars.index", team_id=access.team.id)),
            (_("New calendar"), None),
        ]
    )
    return (
        render_template(
            "calendars/edit.html",
            form=form,
            calendar=calendar,
            access=access,
            title=title,
            breadcrumbs=crumbs,
            mapping_risk=risk,
            salesforce_limits=_salesforce_limits(state),
            integration_state=state,
        ),
        status,
    )


def _salesforce_limits(state: ServiceIntegrationState | None) -> dict[str, int]:
    """Built-in question kind -> the length of the Salesforce field it is mapped to, shown beside its limit."""
    if state is None:
        return {}
    limits = booking_form_limits_in(state)
    return {q.kind.value: limits[q.id] for q in state.calendar.questions if q.id in limits}


def _calendar_crumbs(access: TeamAccess, calendar: Calendar, page: str) -> list[tuple[str, str | None]]:
    return [
        (access.team.name, None),
        (_("Calendars"), url_for("calendars.index", team_id=calendar.team_id)),
        (
            calendar.name,
            url_for("calendars.edit", calendar_id=calendar.id) if access.can_edit_calendar(calendar) else None,
        ),
        (page, None),
    ]


def _members(team_id: int) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id)
        .order_by(User.name, User.email)
    )
    return [(user_id, name or email) for user_id, name, email in rows]


def _user_names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(user_ids)))
    return {user_id: name or email for user_id, name, email in rows}
