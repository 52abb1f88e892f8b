"""Support console pages. Staff see and retry any team's syncs; they never dismiss them (design §3).
Each view writes an audit event naming the teams whose data it showed."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..audit import record_view
from ..extensions import db
from ..integrations.legacy_page import legacy_import_page
from ..sync import backfill as backfills
from ..sync_errors import actions
from ..sync_errors.forms import (
    ERROR_FILTER_ARGS,
    PER_PAGE_CHOICES,
    ConfirmForm,
    carried_filters,
    parse_error_filters,
)
from ..sync_errors.queries import (
    STATES,
    Scope,
    SyncDetail,
    error_code_choices,
    error_page,
    mapping_used,
    sync_detail,
    team_choices,
)
from . import bp
from .forms import AUDIT_FILTER_ARGS, parse_audit_filters
from .queries import audit_page

ALL_TEAMS = Scope(team_id=None)


@bp.get("/")
def index():
    return redirect(url_for(".failures"))


@bp.get("/syncs")
def failures():
    filters, problems = parse_error_filters(request.args, team_filter=True)
    page = error_page(db.session, ALL_TEAMS, filters)
    shown = sorted({row.team_id for row in page.rows})
    carried = carried_filters(request.args, ERROR_FILTER_ARGS)
    record_view("support.view_failures", team_id=filters.team_id, teams_shown=shown, filters=carried)
    return render_template(
        "support/failures.html",
        filters=filters,
        problems=problems,
        page=page,
        teams=team_choices(db.session),
        codes=error_code_choices(db.session, ALL_TEAMS),
        states=STATES,
        per_page_choices=PER_PAGE_CHOICES,
        query_args=carried,
        breadcrumbs=[(_("Support"), None), (_("Failed syncs"), None)],
    )


@bp.get("/backfills")
def backfill_list():
    rows = backfills.recent(db.session)
    record_view("support.view_backfills", team_id=None, teams_shown=sorted({b.team_id for b, _ in rows}))
    return render_template(
        "support/backfills.html",
        rows=rows,
        backfill_state_words=backfills.STATE_WORDS,
        breadcrumbs=[(_("Support"), None), (_("Earlier bookings sent"), None)],
    )


@bp.get("/teams/<int:team_id>/syncs/<int:sync_id>")
def detail(team_id: int, sync_id: int):
    found = _load_sync(team_id, sync_id)
    record_view("support.view_sync", team_id=team_id, target=found.job)
    return render_template(
        "support/detail.html",
        detail=found,
        team=found.team,
        mapping=mapping_used(db.session, found.calendar, found.job.error_fields or []),
        may_retry=actions.may_retry(found.job),
        retention_days=current_app.config["SYNC_TRAIL_RETENTION_DAYS"],
        breadcrumbs=_breadcrumbs(found),
    )


@bp.route("/teams/<int:team_id>/syncs/<int:sync_id>/retry", methods=["GET", "POST"])
def retry(team_id: int, sync_id: int):
    found = _load_sync(team_id, sync_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        job = actions.lock_job(db.session, sync_id) or abort(404)
        try:
            actions.retry_one(db.session, job, by_staff=True)
        except actions.ActionRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
        else:
            flash(_("The sync was queued for a new attempt."), "success")
        return redirect(url_for(".detail", team_id=team_id, sync_id=sync_id))
    record_view("support.view_sync", team_id=team_id, target=found.job, page="retry")
    return render_template(
        "sync_errors/confirm_retry.html",
        detail=found,
        form=form,
        may_retry=actions.may_retry(found.job),
        action_url=url_for(".retry", team_id=team_id, sync_id=sync_id),
        cancel_url=url_for(".detail", team_id=team_id, sync_id=sync_id),
        breadcrumbs=_breadcrumbs(found, (_("Retry"), None)),
    )


@bp.route("/legacy-import", methods=["GET", "POST"])
def legacy_import():
    """Staff carry legacy settings over for any team's calendars (each integration created is audited)."""
    return legacy_import_page(
        team_id=None,
        done_url=url_for(".failures"),
        breadcrumbs=[(_("Support"), url_for(".index")), (_("Import legacy settings"), None)],
        scope_text=_("As support staff you may name any team's calendars."),
    )


@bp.get("/audit")
def audit():
    filters, problems = parse_audit_filters(request.args)
    page = audit_page(db.session, filters)
    shown = sorted({row.team_id for row in page.rows if row.team_id is not None})
    carried = carried_filters(request.args, AUDIT_FILTER_ARGS)
    record_view("support.view_audit", team_id=filters.team_id, teams_shown=shown, filters=carried)
    return render_template(
        "support/audit.html",
        filters=filters,
        problems=problems,
        page=page,
        per_page_choices=PER_PAGE_CHOICES,
        query_args=carried,
        breadcrumbs=[(_("Support"), url_for(".failures")), (_("Audit log"), None)],
    )


def _load_sync(team_id: int, sync_id: int) -> SyncDetail:
    found = sync_detail(db.session, sync_id)
    if found is None or found.job.team_id != team_id:
        abort(404)
    return found


def _breadcrumbs(found: SyncDetail, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [
        (_("Support"), url_for(".failures")),
        (found.team.name, url_for(".failures", team=found.team.id)),
        (_("Sync #%(id)s", id=found.job.id), url_for(".detail", team_id=found.team.id, sync_id=found.job.id)),
        *tail,
    ]
