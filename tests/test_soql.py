"""SOQL literals and lookup queries: escaping, date-times, URL encoding, and a round trip through a SOQL parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from emulators.salesforce import soql as emulator_soql
from emulators.salesforce.metadata import STANDARD_FIELDS
from portal.planner import soql


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("guest@example.com", "guest@example.com"),
        ("o'brien+test@example.com", "o\\'brien+test@example.com"),
        ("back\\slash@example.com", "back\\\\slash@example.com"),
        ('say "hi"', 'say \\"hi\\"'),
        ("line\nbreak", "line\\nbreak"),
        ("carriage\rreturn", "carriage\\rreturn"),
        ("tab\there", "tab\\there"),
        ("back\bspace", "back\\bspace"),
        ("form\ffeed", "form\\ffeed"),
        ("\\'", "\\\\\\'"),
        ("100% _match_", "100% _match_"),  # wildcards mean nothing to `=`, so they stay as they are
    ],
)
def test_escape_literal_escapes_exactly_the_soql_sequences(text, escaped):
    assert soql.escape_literal(text) == escaped


@pytest.mark.parametrize(
    ("moment", "literal"),
    [
        (datetime(2025, 3, 4, 9, 0, tzinfo=UTC), "2025-03-04T09:00:00Z"),
        (datetime(2025, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=1))), "2025-03-04T09:30:00Z"),
        (datetime(2025, 3, 4, 0, 15, tzinfo=timezone(timedelta(hours=9))), "2025-03-03T15:15:00Z"),
    ],
)
def test_datetime_literal_is_utc(moment, literal):
    assert soql.datetime_literal(moment) == literal


def test_datetime_literal_refuses_a_naive_time():
    with pytest.raises(ValueError):
        soql.datetime_literal(datetime(2025, 3, 4, 9, 0))


def test_query_url_percent_encodes_plus_quote_and_spaces():
    url = soql.query_url("62.0", "SELECT Id FROM Lead WHERE Email = 'a+b@example.com'")
    assert url.startswith("/services/data/v62.0/query?q=SELECT%20Id%20FROM")
    assert "%2B" in url and "+" not in url
    assert dict(parse_qsl(urlsplit(url).query))["q"] == "SELECT Id FROM Lead WHERE Email = 'a+b@example.com'"


def _describe(name: str):
    canonical = next((known for known in STANDARD_FIELDS if known.lower() == name.lower()), None)
    if canonical is None:
        return None
    return canonical, {f.name.lower(): f for f in STANDARD_FIELDS[canonical]}


def _where_values(node) -> list:
    """The literal values of a parsed WHERE tree, in order."""
    if node[0] in {"and", "or"}:
        return [value for child in node[1] for value in _where_values(child)]
    return [node[3]]


AWKWARD_EMAILS = [
    "o'brien+test@example.com",
    "back\\slash@example.com",
    'quote"d@example.com',
    "new\nline@example.com",
    "tab\t\r\b\f@example.com",
    "plain@example.com",
]


@pytest.mark.parametrize(
    ("build", "sobject"),
    [
        (soql.lead_by_email, "Lead"),
        (soql.contact_by_email, "Contact"),
        (soql.user_by_email, "User"),
    ],
)
@pytest.mark.parametrize("email", AWKWARD_EMAILS)
def test_lookup_queries_parse_and_carry_the_email_unchanged(build, sobject, email):
    url = soql.query_url("62.0", build(email))
    statement = dict(parse_qsl(urlsplit(url).query))["q"]
    parsed = emulator_soql.parse(statement, _describe)
    assert parsed.sobject == sobject
    assert _where_values(parsed.where)[0] == email
    assert parsed.limit == soql.LOOKUP_LIMIT


def test_lead_lookup_puts_non_converted_leads_first_then_the_most_recent():
    parsed = emulator_soql.parse(soql.lead_by_email("a@example.com"), _describe)
    assert parsed.order == [("IsConverted", False, True), ("LastModifiedDate", True, False)]
    assert {"Id", "IsConverted", "ConvertedContactId", "LastModifiedDate"} <= set(parsed.fields)


def test_event_lookup_filters_on_the_start_only_and_selects_the_description_holding_the_marker():
    start = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    parsed = emulator_soql.parse(soql.events_at_start(start), _describe)
    assert parsed.sobject == "Event"
    assert _where_values(parsed.where) == ["2025-03-04T09:00:00.000+0000"]
    assert {"Id", "WhoId", "Description"} <= set(parsed.fields)


def test_users_by_emails_lists_each_address_as_an_escaped_literal():
    query = soql.users_by_emails(["a@example.com", "o'neil@example.com"])

    assert query == (
        "SELECT Id, Email FROM User WHERE Email IN ('a@example.com', 'o\\'neil@example.com') AND IsActive = true"
    )
