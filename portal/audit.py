"""Writing audit events: who did what to which target, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from .extensions import db
from .models import AuditEvent


def record(
    action: str, *, team_id: int | None, target: Any = None, actor_id: int | None = None, **details: Any
) -> AuditEvent:
    """Add an audit event to the current session; it commits with the change it describes."""
    if actor_id is None and current_user and getattr(current_user, "is_authenticated", False):
        actor_id = current_user.id
    event = AuditEvent(
        actor_id=actor_id,
        team_id=team_id,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "id", "") or "") if target is not None else "",
        details=details,
    )
    db.session.add(event)
    return event


def record_view(action: str, *, team_id: int | None, target: Any = None, **details: Any) -> None:
    """Audit that someone looked at data (a staff view of a team's syncs): its own unit of work."""
    record(action, team_id=team_id, target=target, **details)
    db.session.commit()
