"""Who may do what (design §3): loading a team or calendar for the current user, 404 for outsiders, 403 for
insufficient roles. Views call these first: load -> authorize -> act."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, session
from flask_login import current_user, user_logged_in
from sqlalchemy import select

from .extensions import db, login_manager
from .models import Calendar, Membership, Role, Team, User

MANAGERS = (Role.OWNER, Role.ADMIN)
EDITORS = (Role.OWNER, Role.ADMIN, Role.ADMIN_ASSISTANT)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    user_logged_in.connect(_remember_session_version, app)


SESSION_VERSION_KEY = "_session_version"


def _load_user(user_id: str) -> User | None:
    """The session's user, unless their sessions were ended since it began (logout, removal, role change)."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 11 else None
    if user is None or session.get(SESSION_VERSION_KEY) != user.session_version:
        return None
    return user


def _remember_session_version(app: Flask, user: User, **extra) -> None:
    session[SESSION_VERSION_KEY] = user.session_version


@dataclass(frozen=True)
class TeamAccess:
    """The current user's standing in a team: their membership (None for staff looking in)."""

    team: Team
    membership: Membership | None

    @property
    def role(self) -> Role | None:
        return self.membership.role if self.membership else None

    @property
    def is_staff_view(self) -> bool:
        return self.membership is None

    @property
    def can_manage_salesforce(self) -> bool:
        return self.role in MANAGERS

    @property
    def can_manage_members(self) -> bool:
        return self.role == Role.OWNER

    def can_edit_calendar(self, calendar: Calendar) -> bool:
        """Owners, admins and admin assistants edit every calendar; members those they created or host."""
        if self.role in EDITORS:
            return True
        if self.role != Role.MEMBER:
            return False
        user_id = current_user.id
        return calendar.created_by_id == user_id or any(host.user_id == user_id for host in calendar.hosts)


def membership_of(user_id: int, team_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.team_id == team_id, Membership.user_id == user_id))


def team_access(team_id: int, *, staff_may_view: bool = False) -> TeamAccess:
    """Load a team for the current user: 404 unless they belong to it (or are staff, where allowed)."""
    team = db.session.get(Team, team_id)
    if team is None:
        abort(404)
    membership = membership_of(current_user.id, team.id)
    if membership is None and not (staff_may_view and current_user.is_staff):
        abort(404)
    return TeamAccess(team, membership)


def calendar_access(calendar_id: int, *, staff_may_view: bool = False) -> tuple[Calendar, TeamAccess]:
    """Load a calendar and the current user's access to its team (404 for outsiders)."""
    calendar = db.session.get(Calendar, calendar_id)
    if calendar is None:
        abort(404)
    return calendar, team_access(calendar.team_id, staff_may_view=staff_may_view)


def require(condition: bool) -> None:
    """403 unless the condition holds (call after loading, before acting)."""
    if not condition:
        abort(403)
