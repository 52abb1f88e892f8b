"""Who may do what (design §3): loading a team or calendar for the current user, 404 for outsiders, 403 for
insufficient roles. Views call these first: load -> authorize -> act."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, g, session
from flask_babel import gettext
from flask_login import current_user, user_logged_in
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from .extensions import db, login_manager
from .inputs import whole_number
from .models import MAX_DATABASE_ID, Calendar, CalendarHost, Membership, Role, Team, User

MANAGERS = (Role.OWNER, Role.ADMIN)
EDITORS = (Role.OWNER, Role.ADMIN, Role.ADMIN_ASSISTANT)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.localize_callback = gettext  # Flask-Login flashes it in the viewer's language
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    user_logged_in.connect(_remember_session_version, app)


SESSION_VERSION_KEY = "_session_version"


def _load_user(user_id: str) -> User | None:
    """The session's user, unless their sessions were ended since it began (logout, removal, role change)."""
    key = whole_number(user_id, 10)
    user = db.session.get(User, key) if key is not None and key <= MAX_DATABASE_ID else None
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

    # -- bookings and calendars: the one statement of the rule (design §3) ------------------------------------

    @property
    def bookings_limited_to(self) -> int | None:
        """Whose own calendars bound the bookings this viewer sees: a member's id, or None for the whole team.

        Owners, admins and admin assistants see every calendar's bookings and syncs (staff, on the pages open to
        them, too); a member sees those of the calendars they created or host. SQL lists use
        `own_calendar_ids(bookings_limited_to)`, single pages `can_see_bookings`: the same rule."""
        return current_user.id if self.role == Role.MEMBER else None

    def visible_calendar_ids(self) -> Select | None:
        """The calendars whose bookings and syncs lists may show this viewer (None: all of the team's)."""
        member_id = self.bookings_limited_to
        return None if member_id is None else own_calendar_ids(member_id)

    def can_see_bookings(self, calendar: Calendar) -> bool:
        """May see the calendar's bookings: guests' details, answers and their syncs."""
        member_id = self.bookings_limited_to
        return member_id is None or is_own_calendar(calendar, member_id)

    def can_edit_calendar(self, calendar: Calendar) -> bool:
        """Owners, admins and admin assistants edit every calendar; members those they created or host."""
        if self.role in EDITORS:
            return True
        return self.role == Role.MEMBER and is_own_calendar(calendar, current_user.id)

    def can_manage_calendar(self, calendar: Calendar) -> bool:
        """Archive the calendar or change its Salesforce integration: owners, admins, admin assistants, and the
        member who created it; a member who only hosts it may not (it would change where others' bookings go)."""
        if self.role in EDITORS:
            return True
        return self.role == Role.MEMBER and calendar.created_by_id == current_user.id

    @property
    def can_delete_calendars(self) -> bool:
        """Permanently delete a calendar (one without bookings): owners only, audited."""
        return self.role == Role.OWNER


def is_own_calendar(calendar: Calendar, user_id: int) -> bool:
    """The user created or hosts the calendar (the Python twin of own_calendar_ids)."""
    return calendar.created_by_id == user_id or any(host.user_id == user_id for host in calendar.hosts)


def own_calendar_ids(user_id: int) -> Select:
    """Ids of the calendars the user created or hosts (the SQL twin of is_own_calendar)."""
    hosted = exists().where(CalendarHost.calendar_id == Calendar.id, CalendarHost.user_id == user_id)
    return select(Calendar.id).where(or_(Calendar.created_by_id == user_id, hosted))


def membership_of(user_id: int, team_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.team_id == team_id, Membership.user_id == user_id))


def team_access(team_id: int, *, staff_may_view: bool = False) -> TeamAccess:
    """Load a team for the current user: 404 unless they belong to it (or are staff, where allowed). A member's
    team comes from their memberships, which the navigation shows too (one statement for both)."""
    membership = next((m for m in my_memberships() if m.team_id == team_id), None)
    if membership is not None:
        return TeamAccess(membership.team, membership)
    team = db.session.get(Team, team_id)
    if team is None or not (staff_may_view and current_user.is_staff):
        abort(404)
    return TeamAccess(team, None)


def my_memberships() -> list[Membership]:
    """The current user's memberships with their teams, personal space first, then teams by name; read once per
    request (views that change memberships redirect before anything is shown)."""
    user_id = current_user.id
    if g.get("my_memberships", (None,))[0] != user_id:  # a context that outlives a request may see another user
        g.my_memberships = (user_id, memberships_of(user_id))
    return g.my_memberships[1]


def memberships_of(user_id: int) -> list[Membership]:
    """A user's memberships with their teams (one statement), personal space first, then teams by name."""
    statement = (
        select(Membership)
        .join(Team)
        .options(contains_eager(Membership.team))
        .where(Membership.user_id == user_id)
        .order_by(Team.is_personal.desc(), func.lower(Team.name), Team.id)
    )
    return list(db.session.scalars(statement))


def calendar_access(calendar_id: int, *, staff_may_view: bool = False, options=()) -> tuple[Calendar, TeamAccess]:
    """Load a calendar and the current user's access to its team (404 for outsiders); options: loader options for
    the calendar (e.g. joinedload of its hosts)."""
    statement = select(Calendar).where(Calendar.id == calendar_id).options(*options)
    calendar = db.session.scalars(statement).unique().first()
    if calendar is None:
        abort(404)
    return calendar, team_access(calendar.team_id, staff_may_view=staff_may_view)


def require(condition: bool) -> None:
    """403 unless the condition holds (call after loading, before acting)."""
    if not condition:
        abort(403)
