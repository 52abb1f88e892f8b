"""The sync outbox and log: one SyncJob per booking event, its attempts, and where the booking lives in Salesforce."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import SyncEvent, SyncStatus
from .accounts import _enum
from .base import Base, Timestamped
from .calendars import Booking, Calendar

# A job in one of these is not finished: later jobs of the same booking wait behind it.
OPEN_STATUSES = (SyncStatus.PENDING, SyncStatus.RUNNING, SyncStatus.WAITING)

# The syncs the errors page lists (failed, waiting, and failing ones retried automatically) and what it calls their
# error code, as SQL text: its queries repeat exactly this text, so PostgreSQL can prove the partial indexes below
# apply (a bound parameter in its place would hide that from a generic plan).
LISTED_SQL = "status IN ('failed', 'waiting') OR (status = 'pending' AND error_code <> '')"
ERROR_CODE_SQL = "coalesce(nullif(error_code, ''), reason)"


class SyncJob(Timestamped, Base):
    __tablename__ = "sync_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    # RESTRICT: the sync history stays with its booking and calendar, which are archived, never cascaded away.
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="RESTRICT"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"))
    event: Mapped[SyncEvent] = mapped_column(_enum(SyncEvent, "sync_event"))
    status: Mapped[SyncStatus] = mapped_column(_enum(SyncStatus, "sync_status"), default=SyncStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(40), default="")  # why skipped / waiting
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    action_taken: Mapped[str] = mapped_column(Text, default="")  # e.g. "created Lead, created Event"
    sf_object: Mapped[str] = mapped_column(String(40), default="")
    sf_record_id: Mapped[str] = mapped_column(String(18), default="")
    sf_event_id: Mapped[str] = mapped_column(String(18), default="")
    error_code: Mapped[str] = mapped_column(String(80), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    error_fields: Mapped[list[str]] = mapped_column(JSONB, default=list)
    retryable: Mapped[bool] = mapped_column(Boolean, default=False)
    dismissed_note: Mapped[str] = mapped_column(Text, default="")
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when a backfill sent this booking (portal.sync.backfill); otherwise an ordinary sync.
    backfill_id: Mapped[int | None] = mapped_column(ForeignKey("backfills.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    booking: Mapped[Booking] = relationship()
    calendar: Mapped[Calendar] = relationship()
    attempts_log: Mapped[list[SyncAttempt]] = relationship(
        back_populates="sync_job", cascade="all, delete-orphan", order_by="SyncAttempt.number"
    )

    __table_args__ = (
        Index("ix_sync_jobs_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_sync_jobs_team_status_created", "team_id", "status", "created_at"),
        Index("ix_sync_jobs_booking", "booking_id", "id"),
        # Keyset pages of the errors page (by team, by calendar) and the support console (all teams), newest first
        # by a backward scan, and the distinct error codes by a skip scan: neither reads every failure.
        Index("ix_sync_jobs_listed_team", "team_id", "created_at", "id", postgresql_where=text(LISTED_SQL)),
        Index("ix_sync_jobs_listed_calendar", "calendar_id", "created_at", "id", postgresql_where=text(LISTED_SQL)),
        Index("ix_sync_jobs_listed", "created_at", "id", postgresql_where=text(LISTED_SQL)),
        Index("ix_sync_jobs_listed_team_code", "team_id", text(ERROR_CODE_SQL), postgresql_where=text(LISTED_SQL)),
        Index("ix_sync_jobs_listed_code", text(ERROR_CODE_SQL), postgresql_where=text(LISTED_SQL)),
        Index("ix_sync_jobs_backfill", "backfill_id", postgresql_where=text("backfill_id IS NOT NULL")),
    )


class SyncAttempt(Base):
    """One try at a SyncJob, with its redacted request/response trail (pruned after the retention period)."""

    __tablename__ = "sync_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_job_id: Mapped[int] = mapped_column(ForeignKey("sync_jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    error_code: Mapped[str] = mapped_column(String(80), default="")
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    trail: Mapped[list[dict] | None] = mapped_column(JSONB)

    sync_job: Mapped[SyncJob] = relationship(back_populates="attempts_log")

    __table_args__ = (UniqueConstraint("sync_job_id", "number"),)


class SalesforceLink(Base):
    """Where a booking currently lives in Salesforce; reschedules and cancels act on these ids."""

    __tablename__ = "salesforce_links"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    sf_object: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(18))
    event_id: Mapped[str] = mapped_column(String(18), default="")  # links are built from the connection's instance
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
