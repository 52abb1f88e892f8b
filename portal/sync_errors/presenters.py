"""How a failed or waiting sync reads to people: its cause and remedy from the error catalogue naming the
offending fields, what fixes this booking and what fixes future bookings (each linked to the page that does it),
when it is retried next, times in a zone, and trails shown with any secret masked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from ..i18n import N_, format_moment, moment_formatter, status_label
from ..models import FieldMapping, SyncJob, SyncReason, SyncStatus
from ..planner.catalogue import explain
from ..salesforce.redaction import redacted
from ..sync import states

# Why a sync waits (SyncJob.reason) when Salesforce gave no error code.
WAITING_REASONS = {
    SyncReason.NOT_CONNECTED: (
        N_("The team has no Salesforce connection."),
        N_("An owner or admin connects Salesforce on the team's Salesforce page; waiting syncs then run on their own."),
    ),
    SyncReason.NEEDS_RECONNECT: (explain("invalid_grant").cause, explain("invalid_grant").remedy),
    SyncReason.PLAN: (
        N_("Salesforce syncing needs the Premium plan, and the team is not on it."),
        N_("An owner moves the team to the Premium plan; waiting syncs then run on their own."),
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
        return Explanation(reason, _(cause), _(remedy), tuple(fields), message)
    info = explain(error_code)
    return Explanation(error_code or reason, _(info.cause), _(info.remedy), tuple(fields), message)


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
            _("This booking"),
            _(
                "Correct the values Salesforce refused for this booking only (the guest's answers stay as they "
                "were), check what Salesforce would get, and retry."
            ),
            _("Fix and retry"),
            url_for("sync_errors.fix", team_id=team_id, sync_id=sync_id),
        )
    elif explain(job.error_code).retryable:
        this_booking = Remedy(_("This booking"), _("Nothing: it is retried automatically."))
    elif code in WAITING_REASONS:
        this_booking = Remedy(_("This booking"), _("Nothing: it runs on its own once the cause is fixed."))
    else:
        this_booking = Remedy(
            _("This booking"),
            _("Once the cause is fixed, retry it."),
            _("Retry"),
            url_for("sync_errors.retry", team_id=team_id, sync_id=sync_id),
        )
    if code in CONNECTION_CODES or code in WAITING_REASONS:
        link = (_("Open the team's Salesforce page"), url_for("salesforce.page", team_id=team_id))
    elif code == "REQUIRED_FIELD_MISSING":
        link = (_("Open the calendar's booking questions"), url_for("calendars.edit", calendar_id=calendar_id))
    elif explain(job.error_code).retryable:
        link = ("", "")
    else:
        link = (_("Open the calendar's Salesforce integration"), url_for("integrations.edit", calendar_id=calendar_id))
    return [this_booking, Remedy(_("Future bookings"), info.remedy, *link)]


@dataclass(frozen=True)
class FallbackOffer:
    """ "Apply a fallback to the row and retry all N": the row, how many syncs failed on it, and the form."""

    row: FieldMapping
    count: int
    form: Any


def next_retry(status: str, reason: str, next_attempt_at: datetime | None, zone: str = "UTC") -> str:
    """When the sync runs again without anyone pressing Retry, worded for its state."""
    if status == SyncStatus.PENDING:
        return when_in_zone(next_attempt_at, zone) if next_attempt_at is not None else _("Within a minute")
    if status == SyncStatus.RUNNING:
        return _("Being sent now")
    if status == SyncStatus.WAITING:
        return (
            _("When Salesforce is connected again")
            if reason != SyncReason.PLAN
            else _("When the team is on the Premium plan")
        )
    if status == SyncStatus.FAILED:
        return _("None: fix the cause, then retry by hand")
    if status == SyncStatus.SYNCED:
        return _("Not needed: the booking is in Salesforce")
    if status == SyncStatus.DISMISSED:
        return _("None: it was dismissed")
    return _("None: nothing is sent for this booking")


def when_utc(moment: datetime | None) -> str:
    return format_moment(moment, "UTC")


def when_in_zone(moment: datetime | None, zone: str) -> str:
    """A time as the calendar's people read it: in the calendar's time zone, named."""
    return format_moment(moment, zone)


def pretty_trail(exchange: Any) -> str:
    """One recorded request/response as indented JSON; values under secret-looking keys are masked again here
    because a trail that slipped one through must still not show it."""
    return json.dumps(redacted(exchange), indent=2, ensure_ascii=False, default=str, sort_keys=False)


@dataclass(frozen=True)
class RowView:
    """One line of the errors table as it reads: texts in the viewer's language, links built."""

    row: Any  # queries.ErrorRow
    when: str
    event: str
    detail_url: str
    booking: str
    booking_time: str
    state_name: str
    explanation: str
    fields: tuple[str, ...]
    fields_label: str
    remedy: str
    fix_url: str  # "" where Fix and retry is not offered
    next_retry: str


def error_row_views(
    rows: list, detail_endpoint: str, fix_endpoint: str | None = None, fix_calendar_ids: set[int] | None = None
) -> list[RowView]:
    """The errors table's lines. Rows share a handful of kinds (state, reason, code, fields), so each kind's words
    are looked up once per page, and links are built from one url_for per team: a page of 200 rows would
    otherwise make thousands of translation look-ups and hundreds of url_for calls. fix_endpoint offers Fix and
    retry where the booking's own values were refused, on the calendars in fix_calendar_ids (None: all listed)."""
    kinds: dict[tuple, tuple[str, str, tuple[str, ...], str, str]] = {}
    words: dict[tuple, str] = {}  # event labels and next-retry texts, each looked up once
    links = _LinkMaker()
    when = moment_formatter()
    booking_words = Markup(_("booking %(booking_id)s"))
    views = []
    for row in rows:
        kind = (row.status, row.reason, row.error_code, tuple(row.error_fields))
        if kind not in kinds:
            kinds[kind] = _kind_words(*kind)
        state_name, explanation, fields, fields_label, remedy = kinds[kind]
        fixable = (
            fix_endpoint is not None
            and row.error_code in VALUE_CODES
            and row.status in (SyncStatus.FAILED, SyncStatus.WAITING)
            and (fix_calendar_ids is None or row.calendar_id in fix_calendar_ids)
        )
        zone = row.calendar_time_zone
        if row.event not in words:
            words[row.event] = status_label(row.event)
        # Only a queued retry's text depends on its time and zone.
        retry_key = (row.status, row.reason, row.next_attempt_at, zone if row.next_attempt_at else "")
        if retry_key not in words:
            words[retry_key] = next_retry(*retry_key)
        views.append(
            RowView(
                row=row,
                when=when(row.created_at, zone),
                event=words[row.event],
                detail_url=links.sync_url(detail_endpoint, row.team_id, row.id),
                booking=booking_words % {"booking_id": row.booking_id},
                booking_time=when(row.booking_start, zone),
                state_name=state_name,
                explanation=explanation,
                fields=fields,
                fields_label=fields_label,
                remedy=remedy,
                fix_url=links.sync_url(fix_endpoint, row.team_id, row.id) if fixable else "",
                next_retry=words[retry_key],
            )
        )
    return views


def _kind_words(status: str, reason: str, code: str, fields: tuple[str, ...]) -> tuple:
    why = explain_sync(code, reason, fields, "")
    fields_label = Markup(ngettext("Field:", "Fields:", len(why.fields))) if why.fields else ""
    state = states.state_name(status, code)
    return state, states.sync_explanation(status, reason, code, fields), why.fields, fields_label, why.remedy


# A sync id no real row has: its digits in a built link mark where each row's id goes.
_SYNC_ID_MARK = 2_147_483_647


class _LinkMaker:
    """Links to syncs from one url_for per endpoint and team: the sync id is the path's last value, a plain number."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, int], tuple[str, str]] = {}

    def sync_url(self, endpoint: str, team_id: int, sync_id: int) -> str:
        key = (endpoint, team_id)
        if key not in self._parts:
            prefix, _mark, suffix = url_for(endpoint, team_id=team_id, sync_id=_SYNC_ID_MARK).rpartition(
                str(_SYNC_ID_MARK)
            )
            self._parts[key] = (prefix, suffix)
        prefix, suffix = self._parts[key]
        return f"{prefix}{sync_id}{suffix}"


def init_app(app: Flask) -> None:
    """Make the presenters available to the errors page and support console templates."""
    app.add_template_global(explain_sync, "explain_sync")
    app.add_template_global(next_retry, "sync_next_retry")
    app.add_template_global(states.sync_explanation, "sync_explanation")
    app.add_template_global(states.state_name, "sync_state_name")
    app.add_template_global(states.problem_words, "sync_problem_words")
    app.add_template_global(states.action_words, "sync_action_words")
    app.add_template_global(states.CONNECTION_LABELS, "connection_labels")
    app.add_template_global(states.connection_sentence, "connection_sentence")
    app.add_template_global(states.plan_sentence, "plan_sentence")
    app.add_template_global(VALUE_CODES, "fixable_codes")
    app.add_template_global(pretty_trail, "pretty_trail")
    app.add_template_global(error_row_views, "error_row_views")
    app.add_template_filter(when_utc, "when_utc")
    app.add_template_filter(when_in_zone, "when_in_zone")
