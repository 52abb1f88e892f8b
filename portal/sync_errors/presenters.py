"""How a failed or waiting sync reads to people: its cause and remedy from the error catalogue naming the
offending fields, what fixes this booking and what fixes future bookings (each linked to the page that does it),
when it is retried next, times in a zone, and trails shown with any secret masked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, url_for

from ..models import FieldMapping, SyncJob, SyncReason, SyncStatus
from ..planner.catalogue import explain
from ..salesforce.redaction import redacted
from ..sync import states

# Why a sync waits (SyncJob.reason) when Salesforce gave no error code.
WAITING_REASONS = {
    SyncReason.NOT_CONNECTED: (
        "The team has no Salesforce connection.",
        "An owner or admin connects Salesforce on the team's Salesforce page; waiting syncs then run on their own.",
    ),
    SyncReason.NEEDS_RECONNECT: (explain("invalid_grant").cause, explain("invalid_grant").remedy),
    SyncReason.PLAN: (
        "Salesforce syncing needs the Premium plan, and the team is not on it.",
        "An owner moves the team to the Premium plan; waiting syncs then run on their own.",
    ),
}


@dataclass(frozen=True)
class Explanation:
    code: str
    cause: str
    remedy: str
    fields: tuple[str, ...]
    message: str


def explain_sync(error_code: str, reason: str, fields: list[str] | tuple[str, ...], message: str) -> Explanation:
    """The catalogue's cause and remedy for the sync's code, or for why it waits."""
    if not error_code and reason in WAITING_REASONS:
        cause, remedy = WAITING_REASONS[reason]
        return Explanation(reason, cause, remedy, tuple(fields), message)
    info = explain(error_code)
    return Explanation(error_code or reason, info.cause, info.remedy, tuple(fields), message)


# Codes where Salesforce refused the booking's own values: correcting them fixes this booking (Fix and retry).
VALUE_CODES = frozenset(
    {
        "REQUIRED_FIELD_MISSING",
        "STRING_TOO_LONG",
        "INVALID_EMAIL_ADDRESS",
        "VALUE_DOES_NOT_FIT",
        "JSON_PARSER_ERROR",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    }
)
# Codes fixed in the team's Salesforce connection rather than in the calendar.
CONNECTION_CODES = frozenset(
    {"invalid_grant", SyncReason.NEEDS_RECONNECT, SyncReason.NOT_CONNECTED, "API_DISABLED_FOR_ORG"}
)


@dataclass(frozen=True)
class Remedy:
    """One thing to do: for this booking or for future bookings, and where to do it."""

    applies_to: str
    text: str
    link_text: str = ""
    url: str = ""


def remedies(job: SyncJob, *, may_fix: bool) -> list[Remedy]:
    """What fixes this booking and what fixes future bookings, each with a link to the page that does it.
    may_fix: the viewer may edit the calendar's integration (Fix and retry)."""
    code = job.error_code or job.reason
    info = explain_sync(job.error_code, job.reason, job.error_fields or [], "")
    team_id, sync_id, calendar_id = job.team_id, job.id, job.calendar_id
    if code in VALUE_CODES and may_fix:
        this_booking = Remedy(
            "This booking",
            "Correct the values Salesforce refused for this booking only (the guest's answers stay as they were), "
            "check what Salesforce would get, and retry.",
            "Fix and retry",
            url_for("sync_errors.fix", team_id=team_id, sync_id=sync_id),
        )
    elif explain(job.error_code).retryable:
        this_booking = Remedy("This booking", "Nothing: it is retried automatically.")
    elif code in WAITING_REASONS:
        this_booking = Remedy("This booking", "Nothing: it runs on its own once the cause is fixed.")
    else:
        this_booking = Remedy(
            "This booking",
            "Once the cause is fixed, retry it.",
            "Retry",
            url_for("sync_errors.retry", team_id=team_id, sync_id=sync_id),
        )
    if code in CONNECTION_CODES or code in WAITING_REASONS:
        link = ("Open the team's Salesforce page", url_for("salesforce.page", team_id=team_id))
    elif code == "REQUIRED_FIELD_MISSING":
        link = ("Open the calendar's booking questions", url_for("calendars.edit", calendar_id=calendar_id))
    elif explain(job.error_code).retryable:
        link = ("", "")
    else:
        link = ("Open the calendar's Salesforce integration", url_for("integrations.edit", calendar_id=calendar_id))
    return [this_booking, Remedy("Future bookings", info.remedy, *link)]


@dataclass(frozen=True)
class FallbackOffer:
    """ "Apply a fallback to the row and retry all N": the row, how many syncs failed on it, and the form."""

    row: FieldMapping
    count: int
    form: Any


def next_retry(status: str, reason: str, next_attempt_at: datetime | None, zone: str = "UTC") -> str:
    """When the sync runs again without anyone pressing Retry, worded for its state."""
    if status == SyncStatus.PENDING:
        return when_in_zone(next_attempt_at, zone) if next_attempt_at is not None else "Within a minute"
    if status == SyncStatus.RUNNING:
        return "Being sent now"
    if status == SyncStatus.WAITING:
        return (
            "When Salesforce is connected again"
            if reason != SyncReason.PLAN
            else "When the team is on the Premium plan"
        )
    if status == SyncStatus.FAILED:
        return "None: fix the cause, then retry by hand"
    return {"synced": "Not needed: the booking is in Salesforce", "dismissed": "None: it was dismissed"}.get(
        status, "None: nothing is sent for this booking"
    )


def when_utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def when_in_zone(moment: datetime | None, zone: str) -> str:
    """A time as the calendar's people read it: in the calendar's time zone, named."""
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = UTC, "UTC"
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {zone}"


def pretty_trail(exchange: Any) -> str:
    """One recorded request/response as indented JSON; values under secret-looking keys are masked again here
    because a trail that slipped one through must still not show it."""
    return json.dumps(redacted(exchange), indent=2, ensure_ascii=False, default=str, sort_keys=False)


def init_app(app: Flask) -> None:
    """Make the presenters available to the errors page and support console templates."""
    app.add_template_global(explain_sync, "explain_sync")
    app.add_template_global(next_retry, "sync_next_retry")
    app.add_template_global(states.sync_explanation, "sync_explanation")
    app.add_template_global(states.state_name, "sync_state_name")
    app.add_template_global(states.problem_words, "sync_problem_words")
    app.add_template_global(states.CONNECTION_LABELS, "connection_labels")
    app.add_template_global(states.connection_sentence, "connection_sentence")
    app.add_template_global(states.plan_sentence, "plan_sentence")
    app.add_template_global(VALUE_CODES, "fixable_codes")
    app.add_template_global(pretty_trail, "pretty_trail")
    app.add_template_filter(when_utc, "when_utc")
    app.add_template_filter(when_in_zone, "when_in_zone")
