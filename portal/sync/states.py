"""Where each booking stands with Salesforce, for lists: its latest sync job and its record, in two queries (the
record's link is built from its team's connection as it is now); and the words every page uses for a sync's state
and the team's connection. All such wording lives here, in plain sentences for sales people (codes stay in the
sync detail's technical section), so a translation can wrap it."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Exists, Select, exists, func, select
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
from ..planner import plan
from ..planner.catalogue import CATALOGUE, explain

# A sync's state as people name it ("retrying" is a pending job that already failed once).
STATE_LABELS = {
    "pending": _l("Queued"),
    "running": _l("Sending"),
    "retrying": _l("Retrying"),
    "synced": _l("Synced"),
    "skipped": _l("Not sent"),
    "waiting": _l("Waiting"),
    "failed": _l("Failed"),
    "dismissed": _l("Dismissed"),
}

# Why a sync waits, was skipped or was delayed (SyncJob.reason), as a sentence.
REASONS = {
    SyncReason.PAUSED: _l("The calendar's Salesforce integration is paused."),
    SyncReason.NO_INTEGRATION: _l("The calendar no longer has a Salesforce integration."),
    SyncReason.PLAN: _l("The team is not on the Premium plan."),
    SyncReason.NOT_CONNECTED: _l("The team has not connected Salesforce."),
    SyncReason.NEEDS_RECONNECT: _l("Salesforce stopped accepting the portal's access and needs reconnecting."),
    SyncReason.NEAR_API_LIMIT: _l("The Salesforce org is close to its daily API limit, so it goes out a little later."),
}
HELD_BACK = _l("The portal holds it back for now.")

# What Salesforce refused, for the codes a sales person meets most; %(fields)s names the fields involved.
# Other codes use the catalogue's cause, which is plain words already.
HEADLINES = {
    "REQUIRED_FIELD_MISSING": _l("Salesforce requires %(fields)s and the guest left it blank."),
    "STRING_TOO_LONG": _l("The guest's answer is too long for %(fields)s in Salesforce."),
    "INVALID_EMAIL_ADDRESS": _l("Salesforce does not accept the e-mail address in %(fields)s."),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": _l("Salesforce does not allow the value given for %(fields)s."),
    "VALUE_DOES_NOT_FIT": _l("The guest's answer does not fit %(fields)s in Salesforce."),
    "INVALID_FIELD_FOR_INSERT_UPDATE": _l("The connected Salesforce user may not write %(fields)s."),
    "MAPPING_SOURCE_MISSING": _l("The mapping uses a booking question that no longer exists."),
}


def state_name(status: str, error_code: str = "") -> str:
    """The state's label; a queued job that already failed once is "Retrying"."""
    if status == SyncStatus.PENDING and error_code:
        status = "retrying"
    label = STATE_LABELS.get(str(status))
    return str(label) if label else str(status).replace("_", " ").capitalize()


def reason_words(reason: str) -> str:
    return str(REASONS.get(reason, HELD_BACK))


def problem_words(error_code: str, fields: Collection[str] = ()) -> str:
    """What went wrong, without the code, as a sentence: a headline naming the fields, the catalogue's cause, or
    why it waits."""
    if error_code in REASONS and error_code not in CATALOGUE:  # the errors page lists waiting reasons as codes
        return reason_words(error_code)
    if error_code in HEADLINES and fields:
        return str(HEADLINES[error_code]) % {"fields": _list(fields)}
    return _(explain(error_code).cause)


def _list(fields: Collection[str]) -> str:
    """Field names joined the viewer's way (LastName and Company / LastName、Company)."""
    return format_list(list(fields), locale=get_locale() or "en")


def sync_explanation(status: str, reason: str = "", error_code: str = "", fields: Collection[str] = ()) -> str:
    """Why the sync stands where it does, as a sentence to show beside its state's badge."""
    if status == SyncStatus.SYNCED:
        return _("The booking is in Salesforce.")
    if status == SyncStatus.RUNNING:
        return _("The booking is being sent to Salesforce now.")
    if status in (SyncStatus.FAILED, SyncStatus.DISMISSED) or (status == SyncStatus.PENDING and error_code):
        why = problem_words(error_code, fields) if error_code else _("The sync did not go through.")
        if status == SyncStatus.DISMISSED:
            return _("%(why)s Someone marked it as handled.", why=why)
        if status == SyncStatus.PENDING:
            return _("%(why)s It is tried again.", why=why)
        return why
    if reason:
        return reason_words(reason)
    return _("The booking goes to Salesforce shortly.")


# A sync's actions ("created Lead, linked existing Contact (not updated)") are stored in English words made from
# the planner's messages; each is read back into its message and values to be shown in the viewer's language.
_ACTION_PATTERNS = [
    (message, re.compile("^" + re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(message)) + "$"))
    for message in plan.ACTIONS
]


def action_words(actions: str | Sequence[str]) -> str:
    """What a sync did (or would do) in the viewer's language; text not made by the planner is shown as it is."""
    parts = _top_level(actions) if isinstance(actions, str) else list(actions)
    return format_list([_action(part) for part in parts], style="standard-narrow", locale=get_locale() or "en")


def _action(text: str) -> str:
    for message, pattern in _ACTION_PATTERNS:
        if matched := pattern.match(text):
            values = matched.groupdict()
            if "object" in values:
                values["object"] = _(plan.OBJECT_WORDS.get(values["object"], values["object"]))
            if "notes" in values:
                notes = [_(note) if note in plan.NOTES else note for note in values["notes"].split(", ")]
                values["notes"] = format_list(notes, style="standard-narrow", locale=get_locale() or "en")
            return _(message, **values)
    return text


def _top_level(text: str) -> list[str]:
    """ "a, b (c, d)" -> ["a", "b (c, d)"]: the actions, keeping each one's notes whole."""
    parts, depth, current = [], 0, ""
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0 and text[index + 1 : index + 2] == " ":
            parts.append(current)
            current = ""
            continue
        current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def connection_history(
    session: Session, team_id: int, connection: SalesforceConnection | None, disconnected: bool | None = None
) -> ConnectionHistory:
    """A missing connection was either never made or disconnected (the audit log remembers the disconnect);
    `disconnected`: was_disconnected(team_id), when a caller has selected it already."""
    if connection is not None and connection.status != ConnectionStatus.CONNECTED:
        return ConnectionHistory.NEEDS_RECONNECT
    if connection is not None and connection.refresh_token_encrypted is not None:
        return ConnectionHistory.CONNECTED
    if disconnected is None:
        disconnected = bool(session.scalar(select(was_disconnected(team_id))))
    return ConnectionHistory.DISCONNECTED if disconnected else ConnectionHistory.NEVER


def was_disconnected(team_id: ColumnElement[int] | int) -> Exists:
    """Whether the team's Salesforce was ever disconnected, as an SQL expression."""
    return exists().where(AuditEvent.team_id == team_id, AuditEvent.action == "salesforce.disconnect")


CONNECTION_LABELS = {
    ConnectionHistory.NEVER: _l("Not connected yet"),
    ConnectionHistory.DISCONNECTED: _l("Disconnected"),
    ConnectionHistory.NEEDS_RECONNECT: _l("Needs reconnecting"),
    ConnectionHistory.CONNECTED: _l("Connected"),
}

# Why bookings cannot reach Salesforce, and who can change it: (the viewer may connect, someone else must).
CONNECTION_SENTENCES = {
    ConnectionHistory.NEVER: (
        _l("This team has not connected Salesforce yet. You can connect it on the team's Salesforce page."),
        _l(
            "This team has not connected Salesforce yet. An owner or admin of the team can connect it on the team's "
            "Salesforce page."
        ),
    ),
    ConnectionHistory.DISCONNECTED: (
        _l("Salesforce was disconnected from this team. You can connect it again on the team's Salesforce page."),
        _l(
            "Salesforce was disconnected from this team. An owner or admin of the team can connect it again on the "
            "team's Salesforce page."
        ),
    ),
    ConnectionHistory.NEEDS_RECONNECT: (
        _l(
            "The team's Salesforce connection needs reconnecting: Salesforce stopped accepting the portal's access. "
            "You can reconnect it on the team's Salesforce page."
        ),
        _l(
            "The team's Salesforce connection needs reconnecting: Salesforce stopped accepting the portal's access. "
            "An owner or admin of the team can reconnect it on the team's Salesforce page."
        ),
    ),
}


def connection_sentence(history: ConnectionHistory, may_connect: bool) -> str:
    """Why bookings cannot reach Salesforce now and who can change it ("" when connected)."""
    if history not in CONNECTION_SENTENCES:
        return ""
    yours, theirs = CONNECTION_SENTENCES[history]
    return str(yours if may_connect else theirs)


def plan_sentence(is_owner: bool) -> str:
    """The Premium plan notice: the owner can upgrade, everyone else asks the owner."""
    if is_owner:
        return _("Salesforce integration is part of the Premium plan. Upgrade the team to Premium to use it.")
    return _("Salesforce integration is part of the Premium plan. Ask the team's owner to upgrade.")


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
