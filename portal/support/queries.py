"""The support console's audit-log queries: events newest first with their actor and team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from ..models import AuditEvent, Team, User
from ..sync_errors.queries import Cursor, Page, capped_count, cut, keyset, like_contains, like_literal


@dataclass(frozen=True)
class AuditFilters:
    team_id: int | None = None
    action: str = ""  # a prefix, e.g. "sync." or "support.retry"
    actor_email: str = ""
    cursor: Cursor | None = None
    per_page: int = 50


@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: datetime
    action: str
    team_id: int | None
    team_name: str | None
    actor_email: str | None
    target_type: str
    target_id: str
    details: dict


def audit_page(session: Session, filters: AuditFilters) -> Page:
    """One keyset page of audit events newest first with their actor and team, and how many match (counted up to
    COUNT_LIMIT)."""
    where: list[ColumnElement[bool]] = [true()]
    if filters.team_id is not None:
        where.append(AuditEvent.team_id == filters.team_id)
    if filters.action:
        where.append(AuditEvent.action.like(f"{like_literal(filters.action)}%", escape="\\"))
    if filters.actor_email:
        actors = select(User.id).where(User.email.ilike(like_contains(filters.actor_email.strip()), escape="\\"))
        where.append(AuditEvent.actor_id.in_(actors))
    keys = select(AuditEvent.id).where(*where)
    ids = keyset(keys, AuditEvent.created_at, AuditEvent.id, filters.cursor, filters.per_page).subquery()
    found = session.execute(
        select(
            AuditEvent.id,
            AuditEvent.created_at,
            AuditEvent.action,
            AuditEvent.team_id,
            Team.name.label("team_name"),
            User.email.label("actor_email"),
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.details,
        )
        .join(ids, ids.c.id == AuditEvent.id)
        .outerjoin(Team, Team.id == AuditEvent.team_id)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    ).all()
    rows, older, newer = cut(found, filters.cursor, filters.per_page)
    total = capped_count(session, keys)
    return Page([AuditRow(**row._asdict()) for row in rows], total, filters.per_page, older, newer)
