"""SOQL literals and the sync's lookup queries: escaped string literals, UTC date-time literals, query URLs.

E-mail matching relies on SOQL's `=` comparing text case-insensitively; the planner still compares again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

# The escape sequences SOQL defines for quoted strings (SOQL and SOSL Reference, "Quoted String Escape Sequences").
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
)
LOOKUP_LIMIT = 20  # more rows than one e-mail address plausibly has; the planner picks among them
EVENT_LOOKUP_LIMIT = 200  # more meetings than an org plausibly starts at the very same second


def escape_literal(text: str) -> str:
    """The text with SOQL's reserved and control characters escaped, ready to sit between single quotes."""
    return text.translate(_ESCAPES)


def string_literal(text: str) -> str:
    return f"'{escape_literal(text)}'"


def datetime_literal(moment: datetime) -> str:
    """A date-time literal in UTC (SOQL date-times are unquoted: 2025-03-04T09:00:00Z)."""
    if moment.tzinfo is None:
        raise ValueError("a SOQL date-time needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_url(api_version: str, soql: str) -> str:
    """The REST query resource for one SOQL statement; `q` is percent-encoded (a `+` in an e-mail is %2B)."""
    return f"/services/data/v{api_version}/query?q={quote(soql, safe='')}"


def select_list(base: tuple[str, ...], extra: tuple[str, ...]) -> str:
    """The select list: the base fields, then the extra ones not already in it (field names ignore case)."""
    names = list(base)
    names += [name for name in extra if name.lower() not in {n.lower() for n in names}]
    return ", ".join(names)


def lead_by_email(email: str, fields: tuple[str, ...] = ()) -> str:
    """Leads with this e-mail, non-converted first, then the most recently modified; `fields`: mapped fields whose
    current values the write rules decide on."""
    select = select_list(("Id", "Email", "IsConverted", "ConvertedContactId", "LastModifiedDate"), fields)
    return (
        f"SELECT {select} FROM Lead "
        f"WHERE Email = {string_literal(email)} ORDER BY IsConverted ASC, LastModifiedDate DESC LIMIT {LOOKUP_LIMIT}"
    )


def contact_by_email(email: str, fields: tuple[str, ...] = ()) -> str:
    return (
        f"SELECT {select_list(('Id', 'Email', 'LastModifiedDate'), fields)} FROM Contact "
        f"WHERE Email = {string_literal(email)} ORDER BY LastModifiedDate DESC LIMIT {LOOKUP_LIMIT}"
    )


def user_by_email(email: str) -> str:
    """Active Salesforce Users with this e-mail (the booking's host, to own the Event and the record)."""
    return (
        "SELECT Id, Email FROM User "
        f"WHERE Email = {string_literal(email)} AND IsActive = true ORDER BY LastModifiedDate DESC LIMIT {LOOKUP_LIMIT}"
    )


def users_by_emails(emails: Sequence[str]) -> str:
    """Active Salesforce Users with any of these e-mails (which participating members can own records)."""
    listed = ", ".join(string_literal(email) for email in emails)
    return f"SELECT Id, Email FROM User WHERE Email IN ({listed}) AND IsActive = true"


def events_at_start(start: datetime) -> str:
    """Events at this start, with the Description that carries each one's booking marker (a long text area can be
    selected but not filtered on, so the planner looks for the marker itself)."""
    return (
        "SELECT Id, WhoId, Description FROM Event "
        f"WHERE StartDateTime = {datetime_literal(start)} ORDER BY CreatedDate ASC LIMIT {EVENT_LOOKUP_LIMIT}"
    )
