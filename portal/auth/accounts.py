"""Turning a validated provider login into a portal account.

Accounts are found by their (provider, subject) identity. A login by an unknown subject joins an existing
account only through an e-mail the provider verified; otherwise it starts a new account with a personal space.
Pending invitations bind only to a verified e-mail (design §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit import record
from ..extensions import db
from ..models import Identity, Team, User, utcnow
from ..teams.services import bind_invitations, create_personal_space
from .providers import PROVIDERS, ProviderLogin

MAX_EMAIL_LENGTH = 320  # the users.email column


class LoginRefused(Exception):
    """The provider vouched for someone we may not sign in; the message is shown on the login page.
    Raised before anything is changed."""


@dataclass
class SignedIn:
    user: User
    joined: list[Team] = field(default_factory=list)


def sign_in(login: ProviderLogin) -> SignedIn:
    """Find or create the account for this login, bind invitations and commit. Retried once if a parallel
    first login of the same person won the race to create the account."""
    try:
        return _sign_in(login)
    except IntegrityError:
        db.session.rollback()
        return _sign_in(login)


def _sign_in(login: ProviderLogin) -> SignedIn:
    identity = db.session.scalar(
        select(Identity).where(Identity.provider == login.provider, Identity.subject == login.subject)
    )
    user = identity.user if identity else _account_for_new_identity(login)
    if login.name:
        user.name = login.name
    if login.email_verified and login.email == user.email:
        user.email_verified = True
    user.last_login_at = utcnow()
    joined = bind_invitations(user, login.email) if login.email_verified else []
    if joined:
        user.current_team_id = joined[-1].id
    record("auth.login", team_id=None, target=user, actor_id=user.id, provider=login.provider)
    db.session.commit()
    return SignedIn(user, joined)


def _account_for_new_identity(login: ProviderLogin) -> User:
    if not login.email or len(login.email) > MAX_EMAIL_LENGTH:
        raise LoginRefused(
            f"Your {_label(login)} account did not share a usable e-mail address with us, so we cannot log you in."
        )
    user = db.session.scalar(select(User).where(User.email == login.email))
    if user is not None and not login.email_verified:
        raise LoginRefused(
            f"An account with {login.email} already exists. {_label(login)} did not confirm that this address is "
            "yours, so log in the way you did before."
        )
    if user is None:
        user = User(email=login.email, email_verified=login.email_verified, name=login.name or login.email)
        db.session.add(user)
        db.session.flush()
        create_personal_space(user)
        record("user.created", team_id=None, target=user, actor_id=user.id, provider=login.provider)
    db.session.add(Identity(user=user, provider=login.provider, subject=login.subject, issuer=login.issuer))
    db.session.flush()
    return user


def _label(login: ProviderLogin) -> str:
    return PROVIDERS[login.provider].label


def switch_space(user: User, team: Team) -> None:
    user.current_team_id = team.id
    db.session.commit()


def set_staff(email: str, is_staff: bool) -> User | None:
    """Grant or remove the support-staff flag (an operator command); None when nobody has that e-mail."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return None
    user.is_staff = is_staff
    record("user.staff_changed", team_id=None, target=user, is_staff=user.is_staff, via="cli")
    db.session.commit()
    return user


def end_sessions(user: User) -> None:
    """Every session of this person stops working (logout): the version their cookies carry is left behind."""
    user.end_sessions()
    db.session.commit()


def set_language(user: User, language: str | None) -> None:
    """The language this person reads the portal and their e-mails in; None follows the browser."""
    user.locale = language or None
    db.session.commit()
