"""Retention of sync trails: the redacted requests and responses of each attempt hold personal data, so they are
deleted after SYNC_TRAIL_RETENTION_DAYS; the attempt's outcome, codes and counts stay."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import current_app
from sqlalchemy import func, null, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import SyncAttempt, utcnow


def prune_trails(session: Session, *, days: int, now: datetime | None = None) -> int:
    """Blank the trails of attempts started more than `days` ago; how many were pruned."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    holds_trail = func.jsonb_typeof(SyncAttempt.trail) != "null"  # neither SQL NULL nor JSON null
    result = session.execute(
        update(SyncAttempt).where(SyncAttempt.started_at < cutoff, holds_trail).values(trail=null())
    )
    session.commit()
    return result.rowcount or 0


def prune_configured(session: Session) -> int:
    return prune_trails(session, days=current_app.config["SYNC_TRAIL_RETENTION_DAYS"])


@click.command("prune-sync-trails")
@click.option("--days", type=click.IntRange(min=0), default=None, help="default: SYNC_TRAIL_RETENTION_DAYS")
def prune_sync_trails_command(days: int | None) -> None:
    """Delete sync attempt trails older than the retention period (statuses and codes are kept)."""
    days = current_app.config["SYNC_TRAIL_RETENTION_DAYS"] if days is None else days
    pruned = prune_trails(db.session, days=days)
    click.echo(f"Pruned the trails of {pruned} sync attempt{'s' if pruned != 1 else ''} older than {days} days.")
