"""The audit log, and the record of notification e-mails sent (so a digest goes out at most once a day)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Team, User
from .base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(80))  # e.g. "salesforce.connect"
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(40), default="")
    details: Mapped[dict] = mapped_column(JSONB, default=dict)

    actor: Mapped[User | None] = relationship()
    team: Mapped[Team | None] = relationship()

    __table_args__ = (
        # Keyset pages of the support console's audit log, newest first by a backward scan.
        Index("ix_audit_events_team_created", "team_id", "created_at", "id"),
        Index("ix_audit_events_created", "created_at", "id"),
    )


class NotificationLog(Base):
    __tablename__ = "notification_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # connection_broken | daily_digest
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recipients: Mapped[list[str]] = mapped_column(JSONB, default=list)
    item_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("team_id", "kind", "day"),)
