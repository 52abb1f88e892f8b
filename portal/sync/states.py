"""Where each booking stands with Salesforce, for lists: its latest sync job and its record, in two queries."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from ..models import SalesforceLink, SyncJob, SyncReason, SyncStatus

REASONS = {
    SyncReason.PAUSED: "the integration is paused",
    SyncReason.NO_INTEGRATION: "the integration was removed",
    SyncReason.PLAN: "the team is not on the Premium plan",
    SyncReason.NOT_CONNECTED: "Salesforce is not connected",
    SyncReason.NEEDS_RECONNECT: "Salesforce needs reconnecting",
    SyncReason.NEAR_API_LIMIT: "the org is near its daily API limit",
}


@dataclass(frozen=True)
class BookingSyncState:
    sync_id: int
    status: SyncStatus
    reason: str
    error_code: str
    record_url: str

    @property
    def explanation(self) -> str:
        return REASONS.get(self.reason, self.reason.replace("_", " "))


def team_sync_counts(session: Session, team_id: int, calendar_ids: Select | None = None) -> dict[SyncStatus, int]:
    """How many of a team's syncs wait, are queued, or failed (for the team's Salesforce page and the dashboard),
    counting only the calendars the viewer may see (`calendar_ids`, None for all)."""
    query = select(SyncJob.status, func.count()).where(
        SyncJob.team_id == team_id, SyncJob.status.in_((SyncStatus.WAITING, SyncStatus.PENDING, SyncStatus.FAILED))
    )
    if calendar_ids is not None:
        query = query.where(SyncJob.calendar_id.in_(calendar_ids))
    rows = session.execute(query.group_by(SyncJob.status)).all()
    return {status: count for status, count in rows}


def booking_sync_states(session: Session, booking_ids: Collection[int]) -> dict[int, BookingSyncState]:
    if not booking_ids:
        return {}
    latest = session.scalars(
        select(SyncJob)
        .where(SyncJob.booking_id.in_(booking_ids))
        .order_by(SyncJob.booking_id, SyncJob.id.desc())
        .ext(distinct_on(SyncJob.booking_id))
    ).all()
    links = {
        link.booking_id: link
        for link in session.scalars(select(SalesforceLink).where(SalesforceLink.booking_id.in_(booking_ids)))
    }
    return {job.booking_id: _state(job, links.get(job.booking_id)) for job in latest}


def _state(job: SyncJob, link: SalesforceLink | None) -> BookingSyncState:
    record_url = f"{link.instance_url.rstrip('/')}/{link.record_id}" if link and link.instance_url else ""
    return BookingSyncState(job.id, job.status, job.reason, job.error_code, record_url)
