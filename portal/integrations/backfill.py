"""Service Integration → Salesforce → Send earlier bookings: choose the days, see what would be sent and what it
costs, start; then a progress bar (static/js/backfill-progress.js polls `progress`) with Stop and Resume. The work
itself is portal.sync.backfill."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..access import calendar_access
from ..extensions import db
from ..models import ACTIVE_BACKFILL_STATES, Calendar, utcnow
from ..sync import backfill as backfills
from . import bp
from .forms import BackfillRangeForm
from .views import _crumbs, _editable_integration, _unavailable_page, service_integration_state


@bp.get("/calendars/<int:calendar_id>/integrations/salesforce/backfill")
@login_required
def backfill_page(calendar_id: int):
    calendar, _integration = _editable_integration(calendar_id)
    _calendar, access = calendar_access(calendar_id)
    state = service_integration_state(calendar)
    if state.unavailable_reason:
        return _unavailable_page(state, access)
    form = BackfillRangeForm(request.args or None, data=_default_range(calendar))
    preview = None
    if form.validate():
        booked_from, booked_until = _range(calendar, form)
        preview = backfills.preview(db.session, calendar, booked_from, booked_until)
    latest = backfills.latest_of(db.session, calendar)
    return render_template(
        "integrations/backfill.html",
        calendar=calendar,
        form=form,
        preview=preview,
        checked="booked_from" in request.args and preview is not None,
        latest=latest,
        progress=backfills.progress(db.session, latest) if latest else None,
        active=latest is not None and latest.state in ACTIVE_BACKFILL_STATES,
        state_words=backfills.STATE_WORDS,
        breadcrumbs=_crumbs(access, calendar, _("Send earlier bookings")),
    )


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/backfill")
@login_required
def backfill_start(calendar_id: int):
    calendar, _integration = _editable_integration(calendar_id)
    if service_integration_state(calendar).unavailable_reason:
        flash(_("Salesforce is not ready for this calendar; see the integration page."), "error")
        return redirect(url_for("integrations.backfill_page", calendar_id=calendar.id))
    form = BackfillRangeForm(request.form)
    if not form.validate():
        problems = " ".join(str(e) for errs in form.errors.values() for e in errs)
        flash(_("Choose the first and last day again: %(problems)s", problems=problems))
        return redirect(url_for("integrations.backfill_page", calendar_id=calendar.id))
    booked_from, booked_until = _range(calendar, form)
    try:
        backfills.start(calendar, current_user, booked_from, booked_until)
    except backfills.BackfillRefused as refused:
        flash(_(str(refused)), "error")
    else:
        flash(_("Sending earlier bookings to Salesforce. You can leave this page; it carries on."), "success")
    return redirect(url_for("integrations.backfill_page", calendar_id=calendar.id))


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/backfill/stop")
@login_required
def backfill_stop(calendar_id: int):
    return _change(calendar_id, backfills.stop, _l("Stopped. Bookings already sent stay in Salesforce."))


@bp.post("/calendars/<int:calendar_id>/integrations/salesforce/backfill/resume")
@login_required
def backfill_resume(calendar_id: int):
    return _change(calendar_id, backfills.resume, _l("Sending resumes where it stopped."))


def _change(calendar_id: int, action, done_message):
    calendar, _integration = _editable_integration(calendar_id)
    latest = backfills.latest_of(db.session, calendar)
    if latest is None:
        flash(_("Nothing is being sent for this calendar."), "error")
    else:
        try:
            action(latest)
        except backfills.BackfillRefused as refused:
            flash(_(str(refused)), "error")  # the service's refusals are marked messages
        else:
            flash(str(done_message), "success")
    return redirect(url_for("integrations.backfill_page", calendar_id=calendar.id))


@bp.get("/calendars/<int:calendar_id>/integrations/salesforce/backfill/progress")
@login_required
def backfill_progress(calendar_id: int):
    calendar, _integration = _editable_integration(calendar_id)
    latest = backfills.latest_of(db.session, calendar)
    if latest is None:
        return jsonify(state="none")
    progress = backfills.progress(db.session, latest)
    return jsonify(
        state=progress.state,
        state_words=str(backfills.STATE_WORDS[progress.state]),
        percent=progress.percent,
        total=progress.total,
        done=progress.done,
        created=progress.created,
        updated=progress.updated,
        linked=progress.linked,
        skipped=progress.skipped,
        failed=progress.failed,
        retrying=progress.retrying,
        reason=_(progress.reason) if progress.reason else "",  # stored as the marked English message
    )


def _default_range(calendar: Calendar) -> dict:
    zone = ZoneInfo(calendar.time_zone)
    first = backfills.first_booking_at(db.session, calendar)
    today = utcnow().astimezone(zone).date()
    return {"booked_from": first.astimezone(zone).date() if first else today, "booked_to": today}


def _range(calendar: Calendar, form: BackfillRangeForm) -> tuple[datetime, datetime]:
    """The chosen days as [start of the first, start of the day after the last) in the calendar's zone, up to now."""
    zone = ZoneInfo(calendar.time_zone)
    defaults = _default_range(calendar)
    first: date = form.booked_from.data or defaults["booked_from"]
    last: date = form.booked_to.data or defaults["booked_to"]
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start, min(end, utcnow())
