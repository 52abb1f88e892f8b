"""The errors page's filter arguments (read from the query string, problems reported per field) and the
confirmation forms of its actions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..inputs import whole_number
from .queries import STATES, Cursor, ErrorFilters

PER_PAGE_CHOICES = (25, 50, 100, 200)
ERROR_FILTER_ARGS = ("team", "calendar", "code", "state", "from", "to", "q", "per_page")


class ConfirmForm(FlaskForm):
    """A confirmation button: only the CSRF token travels."""


class RetryAllForm(FlaskForm):
    code = HiddenField(validators=[DataRequired(), Length(max=80)])


class FallbackForm(FlaskForm):
    value = StringField(
        "Fallback value",
        validators=[DataRequired("Type the value Salesforce gets when the answer is blank."), Length(max=255)],
    )


class DismissForm(FlaskForm):
    note = TextAreaField(
        _l("Why is this sync dismissed?"),
        validators=[DataRequired(_l("Say why, for whoever reads this later.")), Length(max=1000)],
        description=_l("Kept with the sync and in the audit log."),
    )


def parse_error_filters(args: Mapping[str, str], *, team_filter: bool = False) -> tuple[ErrorFilters, dict[str, str]]:
    """Filters from the query string; a value that cannot be understood is ignored and reported by field name."""
    problems: dict[str, str] = {}
    calendar_id = optional_id(args, "calendar", problems, _l("Choose a calendar from the list."))
    team_id = optional_id(args, "team", problems, _l("Choose a team from the list.")) if team_filter else None
    state = args.get("state", "").strip()
    if state and state not in STATES:
        problems["state"] = _l("Choose failed, waiting or retrying.")
        state = ""
    code = args.get("code", "").strip()
    if len(code) > 80:
        problems["code"] = _l("Choose an error code from the list.")
        code = ""
    date_from = _optional_date(args, "from", problems)
    date_to = _optional_date(args, "to", problems)
    if date_from and date_to and date_from > date_to:
        problems["to"] = _l("The end date is before the start date.")
        date_to = None
    filters = ErrorFilters(
        calendar_id=calendar_id,
        error_code=code,
        state=state,
        date_from=date_from,
        date_to=date_to,
        search=args.get("q", "").strip()[:320],
        team_id=team_id,
        cursor=page_cursor(args),
        per_page=rows_per_page(args),
    )
    return filters, problems


def carried_filters(args: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The filters in use, to carry into pagination links and audit entries (only known names: a query argument
    like `_method` must never reach url_for)."""
    return {name: args[name][:320] for name in names if args.get(name)}


def optional_id(args: Mapping[str, str], name: str, problems: dict[str, str], message: str) -> int | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) < 10:  # isdigit alone accepts "²", which int() refuses
        return int(value)
    problems[name] = message
    return None


def _optional_date(args: Mapping[str, str], name: str, problems: dict[str, str]) -> date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or not 1970 <= parsed.year <= 2200:
        problems[name] = _l("Use a date like 2025-03-31.")
        return None
    return parsed


def page_cursor(args: Mapping[str, str]) -> Cursor | None:
    """Where a pagination link points: `older` or `newer` than a row; anything unreadable means the first page."""
    if args.get("newer"):
        return Cursor.parse(args["newer"], newer=True)
    return Cursor.parse(args.get("older", ""))


def rows_per_page(args: Mapping[str, str]) -> int:
    value = args.get("per_page", "")
    chosen = whole_number(value, 3)
    return chosen if chosen in PER_PAGE_CHOICES else 50
