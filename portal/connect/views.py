"""Team Settings -> Integrations -> Salesforce: the connection page, Connect (OAuth web server flow with PKCE),
the OAuth callback, and Disconnect after a confirmation. Views go load -> authorize -> validate -> act."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import TeamAccess, membership_of, require, team_access
from ..extensions import db
from ..integrations.legacy_page import legacy_import_page
from ..links import public_url
from ..models import Role, SalesforceConnection
from ..salesforce import connections, oauth, pending
from ..salesforce.connections import ConnectFailed, PendingConnect
from ..sync.states import connection_history, plan_sentence, team_sync_counts
from .forms import ConnectForm, DisconnectForm

bp = Blueprint("salesforce", __name__)

PAGE = "/teams/<int:team_id>/settings/integrations/salesforce"
REASON_HELP = {
    "invalid_grant": "Salesforce revoked the portal's access (the token was deleted, the connected app blocked, or "
    "its refresh token policy expired it). Reconnect; ask your Salesforce admin to set the connected app's "
    "refresh token policy to “valid until revoked”.",
    "inactive_user": "The Salesforce user who connected is no longer active. Reconnect as an active user.",
    "inactive_org": "The Salesforce org is inactive or locked. Reconnect once it is active again.",
}


@bp.get(PAGE)
@login_required
def page(team_id: int):
    access = team_access(team_id, staff_may_view=True)
    return _page(access, ConnectForm(data=_form_defaults(_connection_of(team_id))))


@bp.post(PAGE + "/connect")
@login_required
def connect(team_id: int):
    access = _manager_access(team_id)
    _require_premium(access)
    if not current_app.config["SALESFORCE_CLIENT_ID"]:
        abort(503, description="Salesforce is not set up on this portal yet (SALESFORCE_CLIENT_ID is empty).")
    form = ConnectForm()
    login_url = form.validate_for(current_app.config)
    if login_url is None:
        return _page(access, form), 400
    redirect_uri = public_url("salesforce.callback")
    authorization = oauth.authorization_request(login_url, current_app.config["SALESFORCE_CLIENT_ID"], redirect_uri)
    pending.remember(
        authorization.state,
        PendingConnect(access.team.id, current_user.id, login_url, authorization.code_verifier, redirect_uri),
    )
    return redirect(authorization.url)


@bp.get("/integrations/salesforce/callback")
@login_required
def callback():
    attempt = pending.take(request.args.get("state"))
    if attempt is None:
        flash(
            "This Salesforce sign-in was already used or has expired, so nothing was changed. "
            "Start again with Connect on the Salesforce page.",
            "error",
        )
        return redirect(_start_page())
    access = _manager_access(attempt.team_id)
    _require_premium(access)
    require(attempt.user_id == current_user.id)
    back = url_for("salesforce.page", team_id=attempt.team_id)
    error = request.args.get("error")
    if error == "access_denied":
        flash("You chose Deny on Salesforce, so nothing was connected.", "warning")
        return redirect(back)
    if error or not request.args.get("code"):
        description = (request.args.get("error_description") or error or "no authorization code")[:200]
        flash(f"Salesforce did not connect: {description}.", "error")
        return redirect(back)
    try:
        outcome = connections.connect_with_code(attempt, request.args["code"], current_user)
    except ConnectFailed as failure:
        flash(str(failure), "error")
        return redirect(back)
    verb = "Reconnected" if outcome.reconnected else "Connected"
    flash(f"{verb} to Salesforce org {outcome.connection.org_id} as {outcome.connection.username}.", "success")
    return redirect(back)


@bp.get(PAGE + "/disconnect")
@login_required
def confirm_disconnect(team_id: int):
    access = _manager_access(team_id)
    connection = _connection_of(team_id)
    if connection is None:
        flash("Salesforce is not connected.", "warning")
        return redirect(url_for("salesforce.page", team_id=team_id))
    return render_template(
        "salesforce/disconnect.html", **_context(access), connection=connection, form=DisconnectForm()
    )


@bp.post(PAGE + "/disconnect")
@login_required
def disconnect(team_id: int):
    access = _manager_access(team_id)
    form = DisconnectForm()
    if not form.validate_on_submit():
        abort(400, description="The form was incomplete. Go back and try again.")
    revoked = connections.disconnect(access.team.id, current_user)
    if revoked is None:
        flash("Salesforce is not connected.", "warning")
    elif revoked:
        flash("Salesforce was disconnected and the portal's access was revoked in Salesforce.", "success")
    else:
        flash(
            "Salesforce was disconnected here, but Salesforce could not be reached to revoke the portal's access. "
            "A Salesforce admin can revoke it under Connected Apps OAuth Usage.",
            "warning",
        )
    return redirect(url_for("salesforce.page", team_id=team_id))


@bp.route(PAGE + "/legacy-import", methods=["GET", "POST"])
@login_required
def legacy_import(team_id: int):
    """Owners and admins carry legacy "information to be retrieved" settings over into this team's calendars."""
    access = _manager_access(team_id)
    page_url = url_for("salesforce.page", team_id=team_id)
    return legacy_import_page(
        team_id=access.team.id,
        done_url=page_url,
        breadcrumbs=[*_context(access)["breadcrumbs"][:-1], ("Salesforce", page_url), ("Import legacy settings", None)],
        scope_text=f"The file may name calendars of {access.team.name} only.",
    )


# -- helpers -----------------------------------------------------------------------------------


def _start_page() -> str:
    """Where to go when the callback belongs to no attempt: the current space's Salesforce page."""
    team_id = current_user.current_team_id
    if team_id is not None and membership_of(current_user.id, team_id) is not None:
        return url_for("salesforce.page", team_id=team_id)
    return url_for("home.index")


def _manager_access(team_id: int) -> TeamAccess:
    """Owners and admins act; everyone else who may see the page (staff included) gets 403."""
    access = team_access(team_id, staff_may_view=True)
    require(access.can_manage_salesforce)
    return access


def _require_premium(access: TeamAccess) -> None:
    if not access.team.is_premium:
        abort(403, description=plan_sentence(is_owner=access.role == Role.OWNER))


def _connection_of(team_id: int) -> SalesforceConnection | None:
    return db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == team_id))


def _form_defaults(connection: SalesforceConnection | None) -> dict:
    """Reconnecting starts from the host the team connected through."""
    if connection is None:
        return {}
    config = current_app.config
    for environment in ("production", "sandbox"):
        if oauth.login_url_for(environment, "", config) == connection.login_url:
            return {"environment": environment}
    return {"environment": "mydomain", "my_domain": urlsplit(connection.login_url).netloc}


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _context(access: TeamAccess) -> dict:
    team = access.team
    return {
        "team": team,
        "access": access,
        "section": "Integrations",
        "when": _when,
        "breadcrumbs": [
            ("Team settings", url_for("teams.settings", team_id=team.id)),
            ("Integrations", url_for("teams.integrations", team_id=team.id)),
            ("Salesforce", None),
        ],
    }


def _page(access: TeamAccess, form: ConnectForm):
    connection = _connection_of(access.team.id)
    reason_code = connection.status_reason.partition(":")[0] if connection else ""
    return render_template(
        "salesforce/page.html",
        **_context(access),
        connection=connection,
        form=form,
        reason_help=REASON_HELP.get(reason_code, ""),
        premium_notice=plan_sentence(is_owner=access.role == Role.OWNER),
        history=connection_history(db.session, access.team.id, connection),
        sync_counts=team_sync_counts(db.session, access.team.id, access.visible_calendar_ids()),
    )
