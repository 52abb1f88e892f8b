"""A team's sync errors page, each sync's detail, and the actions on them (retry one, retry all with a code,
dismiss with a note). Members see only the calendars they created or host (design §3); staff use the support
console instead. Each view loads (404), authorizes (403), validates, acts once, flashes, redirects."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..access import TeamAccess, require, team_access
from ..extensions import db
from ..models import utcnow
from . import actions, presenters
from .chart import health_chart
from .forms import (
    ERROR_FILTER_ARGS,
    PER_PAGE_CHOICES,
    ConfirmForm,
    DismissForm,
    RetryAllForm,
    carried_filters,
    parse_error_filters,
)
from .queries import (
    STATES,
    Scope,
    SyncDetail,
    calendar_choices,
    count_to_retry_by_code,
    error_code_choices,
    error_page,
    health_counts,
    mapping_used,
    sync_detail,
)

bp = Blueprint("sync_errors", __name__)


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
    return render_template(
        "sync_errors/errors.html",
        team=access.team,
        access=access,
        filters=filters,
        problems=problems,
        page=page,
        chart=chart,
        calendars=calendar_choices(db.session, scope),
        codes=error_code_choices(db.session, scope),
        states=STATES,
        per_page_choices=PER_PAGE_CHOICES,
        query_args=carried_filters(request.args, ERROR_FILTER_ARGS),
        breadcrumbs=_breadcrumbs(access, ("Sync errors", None)),
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
        may_retry=actions.may_retry(found.job),
        may_dismiss=actions.may_dismiss(found.job),
        retention_days=current_app.config["SYNC_TRAIL_RETENTION_DAYS"],
        mapping_url=url_for("integrations.edit", calendar_id=found.calendar.id),
        breadcrumbs=_sync_breadcrumbs(access, found),
    )


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
            flash("The sync was queued for a new attempt.", "success")
        return redirect(url_for(".detail", team_id=team_id, sync_id=sync_id))
    return render_template(
        "sync_errors/confirm_retry.html",
        team=access.team,
        detail=found,
        form=form,
        may_retry=actions.may_retry(found.job),
        action_url=url_for(".retry", team_id=team_id, sync_id=sync_id),
        cancel_url=url_for(".detail", team_id=team_id, sync_id=sync_id),
        breadcrumbs=_sync_breadcrumbs(access, found, ("Retry", None)),
    )


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
        flash(f"Sync #{sync_id} was dismissed; it no longer appears among the errors.", "success")
        return redirect(url_for(".errors", team_id=team_id))
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "sync_errors/dismiss.html",
        team=access.team,
        detail=found,
        form=form,
        may_dismiss=actions.may_dismiss(found.job),
        breadcrumbs=_sync_breadcrumbs(access, found, ("Dismiss", None)),
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
            flash(f"{count} sync{'s' if count != 1 else ''} with {form.code.data} queued for a new attempt.", "success")
        else:
            flash(f"No failed or waiting sync has the code {form.code.data}.", "warning")
        return redirect(url_for(".errors", team_id=team_id, code=form.code.data))
    if form.is_submitted() or not form.code.data or len(form.code.data) > 80:
        abort(400, description="Choose an error code on the errors page first.")
    code = form.code.data
    return render_template(
        "sync_errors/confirm_retry_all.html",
        team=access.team,
        form=form,
        code=code,
        explanation=presenters.explain_sync(code, code, [], ""),
        count=count_to_retry_by_code(db.session, scope, code),
        breadcrumbs=_breadcrumbs(access, ("Sync errors", url_for(".errors", team_id=team_id)), ("Retry all", None)),
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


def _breadcrumbs(access: TeamAccess, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    team_id = access.team.id
    return [
        ("Team settings", url_for("teams.settings", team_id=team_id)),
        ("Integrations", url_for("teams.integrations", team_id=team_id)),
        ("Salesforce", url_for("salesforce.page", team_id=team_id)),
        *tail,
    ]


def _sync_breadcrumbs(access: TeamAccess, found: SyncDetail, *tail: tuple[str, str | None]):
    team_id = access.team.id
    return _breadcrumbs(
        access,
        ("Sync errors", url_for(".errors", team_id=team_id)),
        (f"Sync #{found.job.id}", url_for(".detail", team_id=team_id, sync_id=found.job.id)),
        *tail,
    )
