"""Team pages: the dashboard of the current space, creating a team, and Team Settings (General, Members,
Integrations). Each view loads (404 for outsiders), authorizes (403), validates, calls a service, flashes."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from ..access import require, team_access
from ..extensions import db
from ..integrations.service import needing_attention
from ..models import Invitation, Membership, Role, SalesforceConnection
from ..sync.states import connection_history, team_sync_counts
from . import bp, services
from .forms import AddMemberForm, RoleForm, TeamNameForm


@bp.get("/dashboard")
@login_required
def dashboard():
    space = services.current_space(current_user)
    if space is None:
        return render_template("teams/no_space.html", form=TeamNameForm())
    access = team_access(space.id)
    members = services.members_of(space)
    connection = db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == space.id))
    return render_template(
        "teams/dashboard.html",
        team=space,
        access=access,
        member_count=len(members),
        connection=connection,
        history=connection_history(db.session, space.id, connection),
        sync_counts=team_sync_counts(db.session, space.id, access.visible_calendar_ids()),
        needing_attention=needing_attention(space.id, access.visible_calendar_ids()),
    )


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def create():
    form = TeamNameForm()
    if form.validate_on_submit():
        team = services.create_team(form.name.data, owner=current_user)
        flash(f"{team.name} is ready. Add the people you work with under Members.", "success")
        return redirect(url_for("teams.members", team_id=team.id))
    return render_template("teams/create.html", form=form, breadcrumbs=[("New team", None)])


@bp.route("/teams/<int:team_id>/settings", methods=["GET", "POST"])
@login_required
def settings(team_id: int):
    access = team_access(team_id)
    form = TeamNameForm(obj=access.team)
    if form.is_submitted():
        require(access.can_manage_members)
        if form.validate():
            services.rename_team(access.team, form.name.data, renamed_by=current_user)
            flash("The team's name was saved.", "success")
            return redirect(url_for("teams.settings", team_id=team_id))
    return _settings_page("teams/settings_general.html", access, "General", form=form)


@bp.get("/teams/<int:team_id>/settings/members")
@login_required
def members(team_id: int):
    access = team_access(team_id)
    return _members_page(access, AddMemberForm())


@bp.post("/teams/<int:team_id>/settings/members/add")
@login_required
def add_member(team_id: int):
    access = team_access(team_id)
    require(access.can_manage_members)
    form = AddMemberForm()
    if not form.validate():
        return _members_page(access, form), 400
    try:
        added = services.add_member(access.team, form.email.data, Role(form.role.data), invited_by=current_user)
    except services.MembershipRefused as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("teams.members", team_id=team_id))
    if isinstance(added, Membership):
        flash(f"{added.user.email} is now a member of {access.team.name}.", "success")
    else:
        flash(
            f"Invitation saved for {added.email}. It takes effect when they log in with an account whose "
            "provider has verified that e-mail address.",
            "success",
        )
    return redirect(url_for("teams.members", team_id=team_id))


@bp.post("/teams/<int:team_id>/settings/members/<int:user_id>/role")
@login_required
def change_role(team_id: int, user_id: int):
    access = team_access(team_id)
    membership = _membership_or_404(team_id, user_id)
    require(access.can_manage_members)
    form = RoleForm()
    if not form.validate():
        abort(400, description="Choose one of the roles offered.")
    try:
        services.change_role(access.team, membership, Role(form.role.data), changed_by=current_user)
    except services.MembershipRefused as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("teams.members", team_id=team_id))
    _keep_own_session(user_id)
    flash(f"{membership.user.email} is now {membership.role.label.lower()}.", "success")
    return redirect(url_for("teams.members", team_id=team_id))


@bp.post("/teams/<int:team_id>/settings/members/<int:user_id>/remove")
@login_required
def remove_member(team_id: int, user_id: int):
    access = team_access(team_id)
    membership = _membership_or_404(team_id, user_id)
    require(access.can_manage_members)
    email = membership.user.email
    try:
        services.remove_member(access.team, membership, removed_by=current_user)
    except services.MembershipRefused as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("teams.members", team_id=team_id))
    _keep_own_session(user_id)
    flash(f"{email} was removed from {access.team.name}.", "success")
    if user_id == current_user.id:
        return redirect(url_for("teams.dashboard"))
    return redirect(url_for("teams.members", team_id=team_id))


def _keep_own_session(user_id: int) -> None:
    """Changing someone ends their sessions; the person doing it to themselves stays signed in here."""
    if user_id == current_user.id:
        login_user(current_user._get_current_object())  # the proxy itself would point at itself


@bp.post("/teams/<int:team_id>/settings/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(team_id: int, invitation_id: int):
    access = team_access(team_id)
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.team_id == team_id, Invitation.accepted_at.is_(None)
        )
    )
    if invitation is None:
        abort(404)
    require(access.can_manage_members)
    services.revoke_invitation(access.team, invitation, revoked_by=current_user)
    flash(f"The invitation for {invitation.email} was withdrawn.", "success")
    return redirect(url_for("teams.members", team_id=team_id))


@bp.get("/teams/<int:team_id>/settings/integrations")
@login_required
def integrations(team_id: int):
    access = team_access(team_id)
    return _settings_page("teams/settings_integrations.html", access, "Integrations")


def _membership_or_404(team_id: int, user_id: int) -> Membership:
    membership = db.session.scalar(
        select(Membership).where(Membership.team_id == team_id, Membership.user_id == user_id)
    )
    if membership is None:
        abort(404)
    return membership


def _members_page(access, form: AddMemberForm):
    team = access.team
    return _settings_page(
        "teams/settings_members.html",
        access,
        "Members",
        form=form,
        members=services.members_of(team),
        invitations=services.pending_invitations(team),
        roles=list(Role),
    )


def _settings_page(template: str, access, section: str, **context):
    team = access.team
    breadcrumbs = [("Team settings", url_for("teams.settings", team_id=team.id)), (section, None)]
    return render_template(template, team=team, access=access, section=section, breadcrumbs=breadcrumbs, **context)
