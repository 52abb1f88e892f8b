"""People, teams ("spaces"), memberships with roles, and invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Plan, Role
from .base import Base, Timestamped


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class User(UserMixin, Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # stored lower-cased
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200), default="")
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    current_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Copied into the session at login and compared on every request: bumping it ends every existing session
    # (logout, removal from a team, a role change), even one whose cookie was copied.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    identities: Mapped[list[Identity]] = relationship(back_populates="user", cascade="all, delete-orphan")
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("email"),)

    def end_sessions(self) -> None:
        """Every session this person has open stops working at its next request."""
        self.session_version = (self.session_version or 0) + 1


class Identity(Timestamped, Base):
    """A login account at Google or Microsoft (provider + subject) belonging to a user."""

    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    issuer: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(back_populates="identities")

    __table_args__ = (UniqueConstraint("provider", "subject"),)


class Team(Timestamped, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    plan: Mapped[Plan] = mapped_column(_enum(Plan, "team_plan"), default=Plan.FREE)
    is_personal: Mapped[bool] = mapped_column(Boolean, default=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="team", cascade="all, delete-orphan")

    @property
    def is_premium(self) -> bool:
        return self.plan == Plan.PREMIUM


class Membership(Timestamped, Base):
    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")

    __table_args__ = (UniqueConstraint("team_id", "user_id"),)


class Invitation(Timestamped, Base):
    """A pending membership for an e-mail address; it binds only to an account with that verified e-mail."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    team: Mapped[Team] = relationship()

    __table_args__ = (
        Index("uq_invitations_pending", "team_id", "email", unique=True, postgresql_where=text("accepted_at IS NULL")),
        Index("ix_invitations_email", "email"),
    )
