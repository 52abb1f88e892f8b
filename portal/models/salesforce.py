"""A team's Salesforce connection, cached describes, and each calendar's integration settings and mapping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import ConnectionStatus, OnCancel, SalesforceObject, SourceKind, WriteRule
from .accounts import Team, User, _enum
from .base import Base, Timestamped
from .calendars import Calendar


class SalesforceConnection(Base):
    """One per team. Tokens are Fernet-encrypted (portal.crypto); nothing else here is secret."""

    __tablename__ = "salesforce_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    login_url: Mapped[str] = mapped_column(String(255))  # where tokens are refreshed and revoked
    instance_url: Mapped[str] = mapped_column(String(255))
    identity_url: Mapped[str] = mapped_column(String(255), default="")
    org_id: Mapped[str] = mapped_column(String(18), default="")
    sf_user_id: Mapped[str] = mapped_column(String(18), default="")
    username: Mapped[str] = mapped_column(String(255), default="")
    access_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_generation: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every refresh (race detection)
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus, "connection_status"), default=ConnectionStatus.CONNECTED
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    connected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    api_usage_used: Mapped[int | None] = mapped_column(Integer)
    api_usage_limit: Mapped[int | None] = mapped_column(Integer)
    api_usage_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    team: Mapped[Team] = relationship()
    connected_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("team_id"),)


class DescribeCache(Base):
    """An sObject describe, cached per connection so opening the mapping editor costs no API call."""

    __tablename__ = "salesforce_describe_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("salesforce_connections.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSONB)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("connection_id", "object_name"),)


class SalesforceIntegration(Timestamped, Base):
    """A calendar's Service Integration → Salesforce settings (labels and meaning: design §1)."""

    __tablename__ = "salesforce_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    object_name: Mapped[SalesforceObject] = mapped_column(_enum(SalesforceObject, "salesforce_object"))
    register_event: Mapped[bool] = mapped_column(Boolean, default=True)
    overwrite: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_first: Mapped[bool] = mapped_column(Boolean, default=True)
    on_cancel: Mapped[OnCancel] = mapped_column(_enum(OnCancel, "on_cancel"), default=OnCancel.DELETE_EVENT)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)  # False: paused
    attention: Mapped[str] = mapped_column(Text, default="")  # why the mapping needs fixing, if it does
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    calendar: Mapped[Calendar] = relationship()
    mappings: Mapped[list[FieldMapping]] = relationship(
        back_populates="integration", cascade="all, delete-orphan", order_by="FieldMapping.position"
    )

    __table_args__ = (UniqueConstraint("calendar_id"),)


class FieldMapping(Base):
    """One mapping row: Salesforce field <- question | system item | fixed value (+ fallback)."""

    __tablename__ = "salesforce_field_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("salesforce_integrations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    sf_field: Mapped[str] = mapped_column(String(80))
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "mapping_source"))
    source_key: Mapped[str] = mapped_column(String(80), default="")
    fixed_value: Mapped[str] = mapped_column(Text, default="")
    fallback_value: Mapped[str] = mapped_column(Text, default="")
    write_rule: Mapped[WriteRule] = mapped_column(
        _enum(WriteRule, "write_rule"), default=WriteRule.ALWAYS, server_default=WriteRule.ALWAYS.value
    )

    integration: Mapped[SalesforceIntegration] = relationship(back_populates="mappings")

    __table_args__ = (UniqueConstraint("integration_id", "sf_field"),)
