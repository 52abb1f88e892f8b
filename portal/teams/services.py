"""Teams and their people: creating teams and personal spaces, adding members by e-mail, roles, removal.

Every change that could leave a team without an owner locks the team row first, so two owners demoting
each other at the same moment cannot both succeed.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..access import memberships_of
from ..audit import record
from ..extensions import db
from ..models import Invitation, Membership, Plan, Role, Team, User, utcnow


class MembershipRefused(Exception):
    """The change would break a rule about members; the message says which, for the person who asked.
    Raised before anything is changed, so the caller has nothing to roll back."""


def create_team(name: str, owner: User) -> Team:
    team = Team(name=name.strip(), plan=Plan.FREE)
    db.session.add(team)
    db.session.flush()
    db.session.add(Membership(team_id=team.id, user_id=owner.id, role=Role.OWNER))
    owner.current_team_id = team.id
    record("team.created", team_id=team.id, target=team, actor_id=owner.id, name=team.name)
    db.session.commit()
    return team


def create_personal_space(user: User) -> Team:
    """Every account gets a space of its own on first login, owned by that account."""
    space = Team(name=f"{user.name or user.email} (personal)"[:120], plan=Plan.FREE, is_personal=True)
    db.session.add(space)
    db.session.flush()
    db.session.add(Membership(team_id=space.id, user_id=user.id, role=Role.OWNER))
    user.current_team_id = space.id
    return space


def spaces_of(user: User) -> list[Membership]:
    """The user's memberships with their teams, personal space first, then teams by name."""
    return memberships_of(user.id)


def current_space(user: User, memberships: list[Membership] | None = None) -> Team | None:
    """The space the user last switched to, or their first one if they no longer belong to it (among
    `memberships`, spaces_of(user) when not given)."""
    memberships = spaces_of(user) if memberships is None else memberships
    for membership in memberships:
        if membership.team_id == user.current_team_id:
            return membership.team
    return memberships[0].team if memberships else None


def members_of(team: Team) -> list[Membership]:
    statement = (
        select(Membership).join(User).where(Membership.team_id == team.id).order_by(func.lower(User.name), User.email)
    )
    return list(db.session.scalars(statement))


def pending_invitations(team: Team) -> list[Invitation]:
    statement = (
        select(Invitation)
        .where(Invitation.team_id == team.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.email)
    )
    return list(db.session.scalars(statement))


def add_member(team: Team, email: str, role: Role, invited_by: User) -> Membership | Invitation:
    added = _add_member(team, email, role, invited_by)
    db.session.commit()
    return added


def _add_member(team: Team, email: str, role: Role, invited_by: User) -> Membership | Invitation:
    """Add the account with this verified e-mail now, or save an invitation that binds at its first login.

    An account whose e-mail was never verified is not added: whoever controls that mailbox has not proven
    it (design §3), so they get the invitation like anyone else and it binds once they log in verified.
    """
    if team.is_personal:
        raise MembershipRefused(_("A personal space has only you in it. Create a team to work with others."))
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email, User.email_verified.is_(True)))
    if user is not None:
        return _add_existing_user(team, user, role, invited_by)
    return _invite(team, email, role, invited_by)


def _add_existing_user(team: Team, user: User, role: Role, invited_by: User) -> Membership:
    if db.session.scalar(select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)):
        raise MembershipRefused(f"{user.email} is already a member of {team.name}.")
    membership = Membership(team_id=team.id, user_id=user.id, role=role)
    db.session.add(membership)
    db.session.flush()
    record("member.added", team_id=team.id, target=membership, actor_id=invited_by.id, email=user.email, role=role)
    return membership


def _invite(team: Team, email: str, role: Role, invited_by: User) -> Invitation:
    pending = db.session.scalar(
        select(Invitation).where(
            Invitation.team_id == team.id, Invitation.email == email, Invitation.accepted_at.is_(None)
        )
    )
    if pending is not None:
        pending.role = role  # inviting again with another role updates the pending invitation
        invitation = pending
    else:
        invitation = Invitation(team_id=team.id, email=email, role=role, invited_by_id=invited_by.id)
        db.session.add(invitation)
        db.session.flush()
    record("member.invited", team_id=team.id, target=invitation, actor_id=invited_by.id, email=email, role=role)
    return invitation


def change_role(team: Team, membership: Membership, role: Role, changed_by: User) -> None:
    _lock(team)
    if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(team) <= 1:
        raise MembershipRefused(f"{team.name} must keep an owner. Make someone else an owner first.")
    previous = membership.role
    membership.role = role
    membership.user.end_sessions()  # pages open under the old role must not keep its rights
    record(
        "member.role_changed",
        team_id=team.id,
        target=membership,
        actor_id=changed_by.id,
        email=membership.user.email,
        previous=previous,
        role=role,
    )
    db.session.commit()


def remove_member(team: Team, membership: Membership, removed_by: User) -> None:
    _lock(team)
    if membership.role == Role.OWNER and _owner_count(team) <= 1:
        raise MembershipRefused(f"{team.name} must keep an owner, so its last owner cannot be removed.")
    user = membership.user
    db.session.delete(membership)
    user.end_sessions()  # a removed member's open sessions must not keep reaching the team
    if user.current_team_id == team.id:
        user.current_team_id = None  # current_space() falls back to their first remaining space
    record("member.removed", team_id=team.id, target=membership, actor_id=removed_by.id, email=user.email)
    db.session.commit()


def revoke_invitation(team: Team, invitation: Invitation, revoked_by: User) -> None:
    db.session.delete(invitation)
    record(
        "member.invitation_revoked", team_id=team.id, target=invitation, actor_id=revoked_by.id, email=invitation.email
    )
    db.session.commit()


def rename_team(team: Team, name: str, renamed_by: User) -> None:
    previous = team.name
    team.name = name.strip()
    record("team.renamed", team_id=team.id, target=team, actor_id=renamed_by.id, previous=previous, name=team.name)
    db.session.commit()


def bind_invitations(user: User, verified_email: str) -> list[Team]:
    """Turn pending invitations for a *verified* e-mail into memberships; returns the teams joined."""
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.email == verified_email.lower(), Invitation.accepted_at.is_(None))
    )
    joined = []
    for invitation in invitations:
        invitation.accepted_at = utcnow()
        if db.session.scalar(
            select(Membership).where(Membership.team_id == invitation.team_id, Membership.user_id == user.id)
        ):
            continue
        db.session.add(Membership(team_id=invitation.team_id, user_id=user.id, role=invitation.role))
        record("member.joined", team_id=invitation.team_id, target=invitation, actor_id=user.id, role=invitation.role)
        joined.append(invitation.team)
    db.session.flush()
    return joined


def _lock(team: Team) -> None:
    db.session.execute(select(Team.id).where(Team.id == team.id).with_for_update())


def _owner_count(team: Team) -> int:
    return db.session.scalar(select(func.count()).where(Membership.team_id == team.id, Membership.role == Role.OWNER))


def set_plan(team: Team, plan: Plan) -> None:
    """Change a team's plan (an operator command; billing is outside the portal)."""
    previous = team.plan
    team.plan = plan
    record("team.plan_changed", team_id=team.id, target=team, previous=previous.value, plan=plan.value, via="cli")
    db.session.commit()
