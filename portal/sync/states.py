"""Where each booking stands with Salesforce, for lists: its latest sync job and its record, in two queries (the
record's link is built from its team's connection as it is now); and the words every page uses for a sync's state
and the team's connection. All such wording lives here, in plain sentences for sales people (codes stay in the
sync detail's technical section), so a translation can wrap it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from ..enums import ConnectionHistory
from ..links import salesforce_record_url
from ..models import (
    AuditEvent,
    Booking,
    Calendar,
    ConnectionStatus,
    SalesforceConnection,
    SalesforceLink,
    SyncJob,
    SyncReason,
    SyncStatus,
)
from ..planner.catalogue import CATALOGUE, explain

# A sync's state as people name it ("retrying" is a pending job that already failed once).
STATE_LABELS = {
    "pending": "Queued",
    "running": "Sending",
    "retrying": "Retrying",
    "synced": "Synced",
    "skipped": "Not sent",
    "waiting": "Waiting",
    "failed": "Failed",
    "dismissed": "Dismissed",
}

# Why a sync waits, was skipped or was delayed (SyncJob.reason), as the end of a sentence.
REASONS = {
    SyncReason.PAUSED: "the calendar's Salesforce integration is paused",
    SyncReason.NO_INTEGRATION: "the calendar no longer has a Salesforce integration",
    SyncReason.PLAN: "the team is not on the Premium plan",
    SyncReason.NOT_CONNECTED: "the team has not connected Salesforce",
    SyncReason.NEEDS_RECONNECT: "Salesforce stopped accepting the portal's access and needs reconnecting",
    SyncReason.NEAR_API_LIMIT: "the Salesforce org is close to its daily API limit, so it goes out a little later",
}

# What Salesforce refused, for the codes a sales person meets most; {fields} names the fields involved.
# Other codes use the catalogue's cause, which is plain words already.
HEADLINES = {
    "REQUIRED_FIELD_MISSING": "Salesforce requires {fields} and the guest left it blank",
    "STRING_TOO_LONG": "the guest's answer is too long for {fields} in Salesforce",
    "INVALID_EMAIL_ADDRESS": "Salesforce does not accept the e-mail address in {fields}",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "Salesforce does not allow the value given for {fields}",
    "VALUE_DOES_NOT_FIT": "the guest's answer does not fit {fields} in Salesforce",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "the connected Salesforce user may not write {fields}",
    "MAPPING_SOURCE_MISSING": "the mapping uses a booking question that no longer exists",
}


def state_name(status: str, error_code: str = "") -> str:
    """The state's label; a queued job that already failed once is "Retrying"."""
    if status == SyncStatus.PENDING and error_code:
        status = "retrying"
    return STATE_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


def reason_words(reason: str) -> str:
    return REASONS.get(reason, "the portal holds it back for now")


def problem_words(error_code: str, fields: Collection[str] = ()) -> str:
    """What went wrong, without the code: a headline naming the fields, the catalogue's cause, or why it waits."""
    if error_code in REASONS and error_code not in CATALOGUE:  # the errors page lists waiting reasons as codes
        words = reason_words(error_code)
        return words[:1].upper() + words[1:]
    if error_code in HEADLINES and fields:
        return HEADLINES[error_code].format(fields=" and ".join(fields))
    return explain(error_code).cause.rstrip(".")


def sync_explanation(status: str, reason: str = "", error_code: str = "", fields: Collection[str] = ()) -> str:
    """Why the sync stands where it does, as a sentence to show beside its state's badge."""
    if status == SyncStatus.SYNCED:
        return "The booking is in Salesforce."
    if status == SyncStatus.RUNNING:
        return "The booking is being sent to Salesforce now."
    if status in (SyncStatus.FAILED, SyncStatus.DISMISSED) or (status == SyncStatus.PENDING and error_code):
        why = problem_words(error_code, fields) if error_code else "The sync did not go through"
        tail = {SyncStatus.DISMISSED: " Someone marked it as handled.", SyncStatus.PENDING: " It is tried again."}
        return f"{why[:1].upper()}{why[1:]}.{tail.get(status, '')}"
    if reason:
        words = reason_words(reason)
        return f"{words[:1].upper()}{words[1:]}."
    return "The booking goes to Salesforce shortly."


def connection_history(session: Session, team_id: int, connection: SalesforceConnection | None) -> ConnectionHistory:
    """A missing connection was either never made or disconnected (the audit log remembers the disconnect)."""
    if connection is not None and connection.status != ConnectionStatus.CONNECTED:
        return ConnectionHistory.NEEDS_RECONNECT
    if connection is not None and connection.refresh_token_encrypted is not None:
        return ConnectionHistory.CONNECTED
    disconnected = session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.team_id == team_id, AuditEvent.action == "salesforce.disconnect")
        .limit(1)
    )
    return ConnectionHistory.DISCONNECTED if disconnected else ConnectionHistory.NEVER


CONNECTION_LABELS = {
    ConnectionHistory.NEVER: "Not connected yet",
    ConnectionHistory.DISCONNECTED: "Disconnected",
    ConnectionHistory.NEEDS_RECONNECT: "Needs reconnecting",
    ConnectionHistory.CONNECTED: "Connected",
}


def connection_sentence(history: ConnectionHistory, may_connect: bool) -> str:
    """Why bookings cannot reach Salesforce now and who can change it ("" when connected)."""
    who = "You can" if may_connect else "An owner or admin of the team can"
    return {
        ConnectionHistory.NEVER: f"This team has not connected Salesforce yet. {who} connect it on the team's "
        "Salesforce page.",
        ConnectionHistory.DISCONNECTED: f"Salesforce was disconnected from this team. {who} connect it again on the "
        "team's Salesforce page.",
        ConnectionHistory.NEEDS_RECONNECT: "The team's Salesforce connection needs reconnecting: Salesforce stopped "
        f"accepting the portal's access. {who} reconnect it on the team's Salesforce page.",
        ConnectionHistory.CONNECTED: "",
    }[history]


def plan_sentence(is_owner: bool) -> str:
    """The Premium plan notice: the owner can upgrade, everyone else asks the owner."""
    if is_owner:
        return "Salesforce integration is part of the Premium plan. Upgrade the team to Premium to use it."
    return "Salesforce integration is part of the Premium plan. Ask the team's owner to upgrade."


@dataclass(frozen=True)
class BookingSyncState:
    sync_id: int
    status: SyncStatus
    reason: str
    error_code: str
    record_url: str
    error_fields: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        return sync_explanation(self.status, self.reason, self.error_code, self.error_fields)

    @property
    def label(self) -> str:
        return state_name(self.status, self.error_code)


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
    record_urls = {
        booking_id: salesforce_record_url(instance_url or "", record_id)
        for booking_id, record_id, instance_url in session.execute(
            select(SalesforceLink.booking_id, SalesforceLink.record_id, SalesforceConnection.instance_url)
            .join(Booking, Booking.id == SalesforceLink.booking_id)
            .join(Calendar, Calendar.id == Booking.calendar_id)
            .outerjoin(SalesforceConnection, SalesforceConnection.team_id == Calendar.team_id)
            .where(SalesforceLink.booking_id.in_(booking_ids))
        )
    }
    return {
        job.booking_id: BookingSyncState(
            job.id,
            job.status,
            job.reason,
            job.error_code,
            record_urls.get(job.booking_id, ""),
            tuple(job.error_fields or ()),
        )
        for job in latest
    }
