"""How a failed or waiting sync reads to people: its cause and remedy from the error catalogue naming the
offending fields, when it is retried next, times in a zone, and trails shown with any secret masked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from ..models import SyncReason, SyncStatus
from ..planner.catalogue import explain
from ..salesforce.redaction import redacted

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


def next_retry(status: str, reason: str, next_attempt_at: datetime | None) -> str:
    """When the sync runs again without anyone pressing Retry."""
    if status == SyncStatus.PENDING and next_attempt_at is not None:
        return when_utc(next_attempt_at)
    if status == SyncStatus.WAITING:
        return (
            "when Salesforce is connected again"
            if reason != SyncReason.PLAN
            else "when the team is on the Premium plan"
        )
    return "none: retry by hand once the cause is fixed"


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
    app.add_template_global(pretty_trail, "pretty_trail")
    app.add_template_filter(when_utc, "when_utc")
    app.add_template_filter(when_in_zone, "when_in_zone")
