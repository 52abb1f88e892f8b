"""Schedule adjustment calendars, their booking-form questions, hosts, availability and bookings."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import BookingStatus, NameFormat, QuestionKind
from .accounts import Team, User, _enum
from .base import Base, Timestamped


class Calendar(Timestamped, Base):
    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))
    private_name: Mapped[str] = mapped_column(String(120), default="")
    slug: Mapped[str] = mapped_column(String(80))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    meeting_url: Mapped[str] = mapped_column(String(500), default="")
    name_format: Mapped[NameFormat] = mapped_column(_enum(NameFormat, "name_format"), default=NameFormat.FULL)
    # Archived calendars take no bookings and leave the lists; their bookings and sync history stay (design §2).
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    team: Mapped[Team] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    questions: Mapped[list[Question]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="Question.position"
    )
    hosts: Mapped[list[CalendarHost]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarHost.position"
    )
    availability: Mapped[list[AvailabilityRange]] = relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="(AvailabilityRange.weekday, AvailabilityRange.start_time)",
    )

    __table_args__ = (
        UniqueConstraint("slug"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 1440", name="duration"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 1440", name="buffer"),
        CheckConstraint("min_notice_minutes >= 0", name="notice"),
        CheckConstraint("window_days BETWEEN 1 AND 730", name="window"),
    )


class CalendarHost(Base):
    """A participating member; bookings go to the first available host in position order."""

    __tablename__ = "calendar_hosts"

    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    calendar: Mapped[Calendar] = relationship(back_populates="hosts")
    user: Mapped[User] = relationship()


class AvailabilityRange(Base):
    """One weekly open range, in the calendar's time zone (weekday 0 = Monday)."""

    __tablename__ = "availability_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    calendar: Mapped[Calendar] = relationship(back_populates="availability")

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="range_order"),
    )


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"), index=True)
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind, "question_kind"))
    label: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[list[str]] = mapped_column(JSONB, default=list)  # single_select choices
    max_length: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    calendar: Mapped[Calendar] = relationship(back_populates="questions")


class Booking(Timestamped, Base):
    """A guest's booking. busy_from/busy_until (start .. end + buffer) make the host busy: the database
    refuses two confirmed bookings whose busy ranges overlap for the same host, on any calendar."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a booking is a record of a meeting people agreed to; it is never lost with a calendar.
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="RESTRICT"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    busy_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    busy_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus, "booking_status"), default=BookingStatus.CONFIRMED
    )
    guest_name: Mapped[str] = mapped_column(String(200), default="")
    guest_family_name: Mapped[str] = mapped_column(String(100), default="")
    guest_given_name: Mapped[str] = mapped_column(String(100), default="")
    guest_email: Mapped[str] = mapped_column(String(320))
    guest_company: Mapped[str] = mapped_column(String(200), default="")
    guest_phone: Mapped[str] = mapped_column(String(40), default="")
    guest_time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The language the guest booked in: their e-mails are written in it.
    guest_locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    answers: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)  # question id (str) -> answer
    # Values a person corrected for Salesforce (Fix and retry), question id (str) -> value; the sync takes them
    # over `answers`, which keep what the guest typed.
    corrections: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    manage_token_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the guest's manage-link token
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE, bumped on each change
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    calendar: Mapped[Calendar] = relationship()
    host: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("manage_token_hash"),
        CheckConstraint("start_at < end_at", name="time_order"),
        CheckConstraint("busy_from <= start_at AND busy_until >= end_at", name="busy_covers_booking"),
        ExcludeConstraint(
            ("host_id", "="),
            (text("tstzrange(busy_from, busy_until, '[)')"), "&&"),
            name="no_double_booking",
            using="gist",
            where="status = 'confirmed'",
        ),
        # A returning guest's earlier bookings (portal.sync.returning), matched as the guest lock matches e-mails.
        Index("ix_bookings_guest_key", text("lower(btrim(guest_email))")),
    )


class HostBookingVersion(Base):
    """A counter per host that a database trigger (migration c3d9a7f1e2b8) bumps in the same transaction as any
    insert, delete or change of time, host or status of the host's bookings, on any calendar: a cached listing of
    free times (portal.calendars.week_cache) is current while the versions it was computed at are."""

    __tablename__ = "host_booking_versions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
