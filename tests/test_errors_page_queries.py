"""The errors page and the support console cost a fixed number of SQL statements: 10,000 failed syncs across 50
calendars take as many as three, and 200 rows a page as many as 25."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from portal.extensions import db
from portal.models import Calendar, Role, utcnow
from portal.sync_errors.queries import COUNT_LIMIT, Cursor, ErrorFilters, Scope, error_code_choices, error_page
from tests.factories import login
from tests.statements import counting_statements
from tests.sync_factories import make_booking, make_sync

BULK_FAILED_SYNCS = text(
    """
    INSERT INTO sync_jobs (team_id, calendar_id, booking_id, event, status, reason, attempts, action_taken, sf_object,
                           sf_record_id, sf_event_id, error_code, error_message, error_fields, retryable,
                           dismissed_note, created_at, updated_at)
    SELECT :team_id, b.calendar_id, b.id, 'created', 'failed', '', 1 + g % 4, '', '', '', '',
           CASE WHEN g % 3 = 0 THEN 'STRING_TOO_LONG' ELSE 'REQUIRED_FIELD_MISSING' END,
           'Required fields are missing: [Company]', '["Company"]'::jsonb, false, '',
           now() - g * interval '1 minute', now()
    FROM generate_series(1, :count) AS g
    JOIN bookings b ON b.id = (CAST(:booking_ids AS integer[]))[1 + g % 50]
    """
)


OLDER = Cursor(utcnow() - timedelta(days=2), 1).token


def statements_for(client, url: str) -> int:
    client.get(url)  # warm up: anything done once per process is not what we measure
    with counting_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def rows_shown(client, url: str) -> int:
    return len(re.findall(r'<tr id="sync-\d+"', client.get(url).get_data(as_text=True)))


@pytest.fixture
def big_team(factory, db_session):
    """A team with 10,000 failed syncs over 50 calendars (inserted by one statement) and a small team with three."""
    team, users = factory.team_with_roles()
    calendars = [factory.calendar(team, created_by=users[Role.OWNER]) for _ in range(50)]
    booking_ids = [make_booking(db_session, calendar).id for calendar in calendars]
    db_session.execute(BULK_FAILED_SYNCS, {"team_id": team.id, "count": 10_000, "booking_ids": booking_ids})
    small, small_users = factory.team_with_roles()
    small_calendar = factory.calendar(small, created_by=small_users[Role.OWNER])
    for _ in range(3):
        make_sync(db_session, make_booking(db_session, small_calendar))
    return (team, users), (small, small_users)


def test_the_errors_page_costs_the_same_statements_whatever_the_data_or_page_size(client, big_team):
    (team, users), (small, small_users) = big_team
    big_url = f"/teams/{team.id}/salesforce/errors"

    login(client, users[Role.ADMIN])
    assert rows_shown(client, f"{big_url}?per_page=200") == 200
    big_25 = statements_for(client, f"{big_url}?per_page=25")
    big_200 = statements_for(client, f"{big_url}?per_page=200")
    big_filtered = statements_for(client, f"{big_url}?per_page=200&code=STRING_TOO_LONG&older={OLDER}&q=guest")
    login(client, small_users[Role.ADMIN])
    small_25 = statements_for(client, f"/teams/{small.id}/salesforce/errors?per_page=25")

    assert big_25 == big_200 == big_filtered == small_25
    # The viewer's memberships, the listing with its count, the chart, the filters' choices (and the user, unless
    # the test client's session has it already).
    assert 4 <= big_25 <= 5, big_25


def test_a_members_errors_page_also_costs_a_fixed_number_of_statements(client, factory, big_team, db_session):
    (team, users), _ = big_team
    member = users[Role.MEMBER]
    own = factory.calendar(team, created_by=member)
    for _ in range(30):
        make_sync(db_session, make_booking(db_session, own))
    login(client, member)
    url = f"/teams/{team.id}/salesforce/errors"

    assert rows_shown(client, f"{url}?per_page=25") == 25
    assert statements_for(client, f"{url}?per_page=25") == statements_for(client, f"{url}?per_page=200")


def test_the_support_console_costs_the_same_statements_whatever_the_page_size(client, factory, big_team):
    staff = factory.user(staff=True)
    login(client, staff)

    few = statements_for(client, "/support/syncs?per_page=25")
    many = statements_for(client, "/support/syncs?per_page=200")

    assert few == many and 5 <= few <= 14, few


def test_the_count_says_1000_plus_beyond_a_thousand_without_reading_them_all(client, big_team, db_session):
    (team, users), _ = big_team
    url = f"/teams/{team.id}/salesforce/errors"
    login(client, users[Role.ADMIN])

    beyond = client.get(url).get_data(as_text=True)
    db_session.execute(
        text(
            "DELETE FROM sync_jobs WHERE team_id = :t AND id NOT IN (SELECT id FROM sync_jobs WHERE team_id = :t LIMIT 1000)"
        ),
        {"t": team.id},
    )
    exactly = client.get(url).get_data(as_text=True)
    just_past = client.get(f"{url}?older={OLDER}").get_data(as_text=True)  # a page past the end counts on its own
    make_sync(
        db_session, make_booking(db_session, db_session.scalar(select(Calendar).filter_by(team_id=team.id).limit(1)))
    )
    again_beyond = client.get(url).get_data(as_text=True)

    assert "1,000+ syncs found." in beyond
    assert "1,000 syncs found." in exactly
    assert "1,000 syncs found." in just_past and "No failed or waiting syncs match." in just_past
    assert "1,000+ syncs found." in again_beyond
    assert "3 syncs found." in client_for_small(client, big_team)


def client_for_small(client, big_team) -> str:
    _, (small, small_users) = big_team
    login(client, small_users[Role.ADMIN])
    return client.get(f"/teams/{small.id}/salesforce/errors").get_data(as_text=True)


def test_a_page_far_back_and_the_code_choices_read_a_page_not_every_failure(big_team, db_session):
    """The listing reads along an index from the cursor, so a page deep in 10,000 failures reads about a page of
    rows (and its count at most COUNT_LIMIT + 1 index entries); the code filter's choices come from one index probe
    per code."""
    (team, _), _ = big_team
    db_session.execute(text("ANALYZE sync_jobs"))
    scope = Scope(team.id)
    statements: list = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    deep = Cursor(utcnow() - timedelta(minutes=5_000), 2**31 - 1)
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        page = error_page(db_session, scope, ErrorFilters(per_page=25, cursor=deep))
        codes = error_code_choices(db_session, scope)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)

    assert len(page.rows) == 25 and page.rows[0].created_at < deep.created_at
    assert codes == ["REQUIRED_FIELD_MISSING", "STRING_TOO_LONG"]
    listing, code_choices = statements
    # The listing carries the count: its index scan and its LIMIT each pass COUNT_LIMIT + 1 rows, then the page's.
    assert explained_rows(db_session, *listing) < 2 * COUNT_LIMIT + 500
    assert explained_rows(db_session, *code_choices) < 100


def explained_rows(session, statement: str, parameters) -> int:
    """Rows every plan node of the statement produced (EXPLAIN ANALYZE), summed: the work it did."""
    plan = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar()

    def total(node) -> int:
        return node.get("Actual Rows", 0) * node.get("Actual Loops", 1) + sum(map(total, node.get("Plans", [])))

    return total(plan[0]["Plan"])
