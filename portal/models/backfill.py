"""Backfills: sending a calendar's earlier bookings to Salesforce in batches, with a life people can watch.

The row is the backfill's whole state (design §5, "Sending earlier bookings"): where it stands, which bookings it has taken (every booking id
up to `cursor_booking_id`), and its lease. Each booking it sends is a SyncJob marked with `backfill_id`, so its
outcome, the errors page and a retry are those of any sync, and the counts are read from those jobs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import BackfillState
from .accounts import _enum
from .base import Base, Timestamped
from .calendars import Calendar

# A backfill in one of these is still going: a calendar has at most one.
ACTIVE_BACKFILL_STATES = (BackfillState.QUEUED, BackfillState.RUNNING, BackfillState.PAUSED)


class Backfill(Timestamped, Base):
    __tablename__ = "backfills"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="RESTRICT"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    booked_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # bookings made in [from, until)
    booked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[BackfillState] = mapped_column(_enum(BackfillState, "backfill_state"), default=BackfillState.QUEUED)
    reason: Mapped[str] = mapped_column(Text, default="")  # why paused or stopped, in plain words
    total: Mapped[int] = mapped_column(Integer, default=0)  # bookings in the range when it started
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # already synced, cancelled, or left to their live sync
    cursor_booking_id: Mapped[int] = mapped_column(Integer, default=0)  # every booking up to this one is taken
    runs: Mapped[int] = mapped_column(Integer, default=0)  # claims so far; the RQ job id is backfill-<id>-<runs+1>
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    calendar: Mapped[Calendar] = relationship()

    __table_args__ = (
        Index(
            "uq_backfills_active_calendar",
            "calendar_id",
            unique=True,
            postgresql_where=text("state IN ('queued', 'running', 'paused')"),
        ),
    )
