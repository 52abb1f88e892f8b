"""A team's sync errors page, each sync's detail, and the actions on them (retry one, retry all with a code,
dismiss with a note, fix the booking's values and retry, apply a fallback to a row and retry all on it). Members see only the calendars they created or host (design §3); staff use the support
console instead. Each view loads (404), authorizes (403), validates, acts once, flashes, redirects."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import TeamAccess, require, team_access
from ..extensions import db
from ..integrations.service import integration_of
from ..models import SalesforceConnection, SourceKind, SyncStatus, utcnow
from . import actions, fixes, presenters
from .chart import health_chart
from .forms import (
    ERROR_FILTER_ARGS,
    PER_PAGE_CHOICES,
    ConfirmForm,
    DismissForm,
    FallbackForm,
    RetryAllForm,
    carried_filters,
    parse_error_filters,
)
from .queries import (
    STATES,
    Scope,
    SyncDetail,
    count_to_retry_by_code,
    count_with_cause,
    created_calendar_ids,
    error_page,
    filter_choices,
    health_counts,
    mapping_used,
    sync_detail,
)

bp = Blueprint("sync_errors", __name__)

# While a sync is in one of these, its detail page updates itself.
IN_PROGRESS = (SyncStatus.PENDING, SyncStatus.RUNNING)


def scope_of(access: TeamAccess) -> Scope:
    """The syncs the viewer may see, by the bookings rule of portal.access (design §3)."""
    return Scope(access.team.id, access.bookings_limited_to)


@bp.get("/teams/<int:team_id>/salesforce/errors")
@login_required
def errors(team_id: int):
    access = team_access(team_id)
    scope = scope_of(access)
    filters, problems = parse_error_filters(request.args)
    page = error_page(db.session, scope, filters)
    chart = health_chart(health_counts(db.session, scope, today=utcnow().date()))
    calendars, codes = filter_choices(db.session, scope)
    return render_template(
        "sync_errors/errors.html",
        team=access.team,
        access=access,
        filters=filters,
        problems=problems,
        page=page,
        chart=chart,
        calendars=calendars,
        codes=codes,
        states=STATES,
        per_page_choices=PER_PAGE_CHOICES,
        query_args=carried_filters(request.args, ERROR_FILTER_ARGS),
        fix_calendar_ids=_fixable_calendar_ids(access),
        breadcrumbs=_breadcrumbs(access, (_("Sync errors"), None)),
    )


@bp.get("/teams/<int:team_id>/salesforce/syncs/<int:sync_id>")
@login_required
def detail(team_id: int, sync_id: int):
    access, found = _load_sync(team_id, sync_id)
    return render_template(
        "sync_errors/detail.html",
        team=access.team,
        detail=found,
        mapping=mapping_used(db.session, found.calendar, found.job.error_fields or []),
        remedies=presenters.remedies(found.job, may_fix=access.can_manage_calendar(found.calendar)),
        may_fix=access.can_manage_calendar(found.calendar),
        may_retry=actions.may_retry(found.job),
        may_dismiss=actions.may_dismiss(found.job),
        in_progress=found.job.status in IN_PROGRESS,
        retention_days=current_app.config["SYNC_TRAIL_RETENTION_DAYS"],
        mapping_url=url_for("integrations.edit", calendar_id=found.calendar.id),
        breadcrumbs=_sync_breadcrumbs(access, found),
    )


@bp.get("/teams/<int:team_id>/salesforce/syncs/<int:sync_id>/state")
@login_required
def state(team_id: int, sync_id: int):
    """The sync's state as JSON, polled by static/js/sync-progress.js while the sync is queued or sending."""
    _access, found = _load_sync(team_id, sync_id)
    job = found.job
    return jsonify(status=job.status.value, attempts=job.attempts, done=job.status not in IN_PROGRESS)


@bp.route("/teams/<int:team_id>/salesforce/syncs/<int:sync_id>/retry", methods=["GET", "POST"])
@login_required
def retry(team_id: int, sync_id: int):
    access, found = _load_sync(team_id, sync_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        job = actions.lock_job(db.session, sync_id) or abort(404)
        try:
            actions.retry_one(db.session, job)
        except actions.ActionRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
        else:
            flash(_("The sync was queued for a new attempt."), "success")
        return redirect(url_for(".detail", team_id=team_id, sync_id=sync_id))
    return render_template(
        "sync_errors/confirm_retry.html",
        team=access.team,
        detail=found,
        form=form,
        may_retry=actions.may_retry(found.job),
        action_url=url_for(".retry", team_id=team_id, sync_id=sync_id),
        cancel_url=url_for(".detail", team_id=team_id, sync_id=sync_id),
        breadcrumbs=_sync_breadcrumbs(access, found, (_("Retry"), None)),
    )


@bp.route("/teams/<int:team_id>/salesforce/syncs/<int:sync_id>/fix", methods=["GET", "POST"])
@login_required
def fix(team_id: int, sync_id: int):
    """Fix and retry: correct the guest's values the failing fields come from, see what Salesforce would get, retry."""
    access, found = _load_sync(team_id, sync_id)
    require(access.can_manage_calendar(found.calendar))  # those who may change the calendar's integration
    integration = integration_of(found.calendar)
    targets = fixes.fix_targets(found.job, integration)
    form = fixes.fix_form(targets, request.form if request.method == "POST" else None)
    status = 200
    if form.is_submitted() and not targets:
        return redirect(url_for(".fix", team_id=team_id, sync_id=sync_id))  # the page says why nothing can be fixed
    if form.is_submitted():
        if form.validate() and form.save.data:
            job = actions.lock_job(db.session, sync_id) or abort(404)
            originals = {target.key: target.original for target in targets}
            try:
                actions.fix_and_retry(db.session, job, found.booking, fixes.corrections_from(form, targets), originals)
            except actions.ActionRefused as refusal:
                db.session.rollback()
                flash(str(refusal), "error")
            else:
                flash(_("The corrected values were saved and the sync was queued for a new attempt."), "success")
            return redirect(url_for(".detail", team_id=team_id, sync_id=sync_id))
        status = 200 if not form.errors else 422
    corrections = fixes.corrections_from(form, targets) if not form.errors else {}
    preview = (
        fixes.preview_with(found.booking, integration, _connection(team_id), corrections)
        if integration is not None and targets
        else None
    )
    page = render_template(
        "sync_errors/fix.html",
        team=access.team,
        detail=found,
        targets=targets,
        form=form,
        preview=preview,
        may_retry=actions.may_retry(found.job),
        fallback=_fallback_offer(found, integration),
        mapping_url=url_for("integrations.edit", calendar_id=found.calendar.id),
        breadcrumbs=_sync_breadcrumbs(access, found, (_("Fix and retry"), None)),
    )
    return page, status


@bp.post("/teams/<int:team_id>/salesforce/syncs/<int:sync_id>/fallback")
@login_required
def fallback(team_id: int, sync_id: int):
    """Apply a fallback to the failing row and retry every sync of the calendar that failed on it."""
    access, found = _load_sync(team_id, sync_id)
    require(access.can_manage_calendar(found.calendar))
    offer = _fallback_offer(found, integration_of(found.calendar))
    form = FallbackForm()
    if offer is None or not form.validate_on_submit():
        refusal = _("This sync did not fail on a blank field of a mapping row, so no fallback applies.")
        for message in (form.value.errors or [_("The form expired; try again.")]) if offer else [refusal]:
            flash(message, "error")
        return redirect(url_for(".fix", team_id=team_id, sync_id=sync_id))
    value = form.value.data.strip()
    problems = fixes.fallback_problems(offer.row.integration, _connection(team_id), offer.row, value)
    if problems:
        for message in problems:
            flash(_("Not applied: %(problem)s", problem=message), "error")
        return redirect(url_for(".fix", team_id=team_id, sync_id=sync_id))
    count = actions.apply_fallback_and_retry(db.session, found.job, offer.row, value)
    flash(
        ngettext(
            "%(field)s now falls back to “%(value)s”; %(num)d sync queued for a new attempt.",
            "%(field)s now falls back to “%(value)s”; %(num)d syncs queued for a new attempt.",
            count,
            field=offer.row.sf_field,
            value=value,
        ),
        "success",
    )
    return redirect(url_for(".errors", team_id=team_id, calendar=found.calendar.id))


@bp.route("/teams/<int:team_id>/salesforce/syncs/<int:sync_id>/dismiss", methods=["GET", "POST"])
@login_required
def dismiss(team_id: int, sync_id: int):
    access, found = _load_sync(team_id, sync_id)
    form = DismissForm()
    if form.validate_on_submit():
        job = actions.lock_job(db.session, sync_id) or abort(404)
        try:
            actions.dismiss(db.session, job, form.note.data.strip(), user_id=current_user.id)
        except actions.ActionRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            return redirect(url_for(".detail", team_id=team_id, sync_id=sync_id))
        flash(_("Sync #%(id)s was dismissed; it no longer appears among the errors.", id=sync_id), "success")
        return redirect(url_for(".errors", team_id=team_id))
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "sync_errors/dismiss.html",
        team=access.team,
        detail=found,
        form=form,
        may_dismiss=actions.may_dismiss(found.job),
        breadcrumbs=_sync_breadcrumbs(access, found, (_("Dismiss"), None)),
    )
    return page, status


@bp.route("/teams/<int:team_id>/salesforce/errors/retry", methods=["GET", "POST"])
@login_required
def retry_all(team_id: int):
    access = team_access(team_id)
    scope = scope_of(access)
    form = RetryAllForm(code=request.args.get("code", ""))
    if form.validate_on_submit():
        count = actions.retry_by_code(db.session, scope, form.code.data)
        if count:
            flash(
                ngettext(
                    "%(num)d sync with %(code)s queued for a new attempt.",
                    "%(num)d syncs with %(code)s queued for a new attempt.",
                    count,
                    code=form.code.data,
                ),
                "success",
            )
        else:
            flash(_("No failed or waiting sync has the code %(code)s.", code=form.code.data), "warning")
        return redirect(url_for(".errors", team_id=team_id, code=form.code.data))
    if form.is_submitted() or not form.code.data or len(form.code.data) > 80:
        abort(400, description=_("Choose an error code on the errors page first."))
    code = form.code.data
    return render_template(
        "sync_errors/confirm_retry_all.html",
        team=access.team,
        form=form,
        code=code,
        explanation=presenters.explain_sync(code, code, [], ""),
        count=count_to_retry_by_code(db.session, scope, code),
        breadcrumbs=_breadcrumbs(
            access, (_("Sync errors"), url_for(".errors", team_id=team_id)), (_("Retry all"), None)
        ),
    )


# --- helpers ---------------------------------------------------------------------------------------------------


def _load_sync(team_id: int, sync_id: int) -> tuple[TeamAccess, SyncDetail]:
    """404 unless the sync is this team's; 403 unless the user may see its calendar."""
    access = team_access(team_id)
    found = sync_detail(db.session, sync_id)
    if found is None or found.job.team_id != access.team.id:
        abort(404)
    require(access.can_see_bookings(found.calendar))
    return access, found


def _fixable_calendar_ids(access: TeamAccess) -> set[int] | None:
    """The calendars whose failed bookings the viewer may fix, being allowed to change their integration (None:
    every calendar of the team): a member, those they created."""
    if access.bookings_limited_to is None:
        return None
    return created_calendar_ids(db.session, access.team.id, current_user.id)


def _connection(team_id: int) -> SalesforceConnection | None:
    return db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == team_id))


def _fallback_offer(found: SyncDetail, integration) -> presenters.FallbackOffer | None:
    """ "Apply a fallback to the row and retry all N": for a blank required field fed by a question, while failing."""
    job = found.job
    if integration is None or job.error_code != "REQUIRED_FIELD_MISSING" or not actions.may_retry(job):
        return None
    wanted = {name.lower() for name in job.error_fields or []}
    row = next(
        (m for m in integration.mappings if m.sf_field.lower() in wanted and m.source_kind == SourceKind.QUESTION),
        None,
    )
    if row is None:
        return None
    count = count_with_cause(db.session, found.calendar.id, job.error_code, row.sf_field)
    return presenters.FallbackOffer(row, count, FallbackForm(value=row.fallback_value))


def _breadcrumbs(access: TeamAccess, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    team_id = access.team.id
    return [
        (_("Team settings"), url_for("teams.settings", team_id=team_id)),
        (_("Integrations"), url_for("teams.integrations", team_id=team_id)),
        (_("Salesforce"), url_for("salesforce.page", team_id=team_id)),
        *tail,
    ]


def _sync_breadcrumbs(access: TeamAccess, found: SyncDetail, *tail: tuple[str, str | None]):
    team_id = access.team.id
    return _breadcrumbs(
        access,
        (_("Sync errors"), url_for(".errors", team_id=team_id)),
        (_("Sync #%(id)s", id=found.job.id), url_for(".detail", team_id=team_id, sync_id=found.job.id)),
        *tail,
    )
