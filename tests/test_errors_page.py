"""The team errors page: what each row says, the filters, the search, the pagination and the health chart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.i18n import format_moment
from portal.models import Role, SyncStatus, utcnow
from portal.sync_errors.chart import health_chart
from portal.sync_errors.queries import Cursor, DayCounts, ErrorFilters, Scope, error_page, health_counts
from tests.factories import login
from tests.sync_factories import make_booking, make_integration, make_sync


def listed_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="sync-(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def admin_view(client, factory, db_session):
    """A premium team, its admin logged in, two calendars."""
    team, users = factory.team_with_roles()
    first = factory.calendar(team, created_by=users[Role.OWNER], name="Intro call")
    second = factory.calendar(team, created_by=users[Role.OWNER], name="Demo")
    login(client, users[Role.ADMIN])
    return team, first, second


def errors_url(team, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/teams/{team.id}/salesforce/errors" + (f"?{query}" if query else "")


def test_a_row_names_calendar_guest_code_cause_remedy_fields_and_attempts(client, admin_view, db_session):
    team, calendar, _ = admin_view
    booking = make_booking(db_session, calendar, guest_email="ada@example.test")
    job = make_sync(db_session, booking, attempts=2, error_fields=["Company"])

    response = client.get(errors_url(team))

    text = response.get_data(as_text=True)
    row = text[text.index(f'id="sync-{job.id}"') :].split("</tr>")[0]
    assert response.status_code == 200
    assert "Intro call" in row and "ada@example.test" in row
    assert format_moment(booking.start_at, "UTC") in row  # the booking time (the viewer's zone is UTC)
    assert "REQUIRED_FIELD_MISSING" not in row  # the code is for support, on the sync's detail
    assert ">Failed</span>" in row and "Salesforce requires Company and the guest left it blank." in row
    assert "Make that booking question required, or give the mapping row a fallback value." in row
    assert "<code>Company</code>" in row
    assert "<td>2</td>" in row
    assert "None: fix the cause, then retry by hand" in row


def test_a_sync_awaiting_an_automatic_retry_shows_when(client, admin_view, db_session):
    team, calendar, _ = admin_view
    at = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    make_sync(
        db_session,
        make_booking(db_session, calendar),
        status=SyncStatus.PENDING,
        error_code="SERVER_UNAVAILABLE",
        next_attempt_at=at,
    )

    response = client.get(errors_url(team, state="retrying"))

    assert "Mon, Feb 3, 2031 04:05 (UTC)" in response.get_data(as_text=True)


def test_a_waiting_sync_explains_the_broken_connection(client, admin_view, db_session):
    team, calendar, _ = admin_view
    make_sync(
        db_session,
        make_booking(db_session, calendar),
        status=SyncStatus.WAITING,
        error_code="",
        reason="needs_reconnect",
    )

    text = client.get(errors_url(team)).get_data(as_text=True)

    assert ">needs_reconnect" not in text and "(needs_reconnect)" not in text  # only as the filter's value
    assert "Salesforce stopped accepting the portal&#39;s access and needs reconnecting." in text
    assert "When Salesforce is connected again" in text


def test_the_list_is_newest_first_and_leaves_out_synced_and_dismissed(client, admin_view, db_session):
    team, calendar, _ = admin_view
    now = utcnow()
    older = make_sync(db_session, make_booking(db_session, calendar), created_at=now - timedelta(hours=2))
    newer = make_sync(db_session, make_booking(db_session, calendar), created_at=now - timedelta(hours=1))
    waiting = make_sync(
        db_session,
        make_booking(db_session, calendar),
        status=SyncStatus.WAITING,
        error_code="",
        reason="not_connected",
        created_at=now,
    )
    make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.SYNCED, error_code="")
    make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.DISMISSED)

    assert listed_ids(client.get(errors_url(team))) == [waiting.id, newer.id, older.id]


def test_the_calendar_filter_lists_that_calendars_syncs_only(client, admin_view, db_session):
    team, first, second = admin_view
    mine = make_sync(db_session, make_booking(db_session, first))
    make_sync(db_session, make_booking(db_session, second))

    assert listed_ids(client.get(errors_url(team, calendar=first.id))) == [mine.id]


def test_the_code_filter_lists_that_codes_syncs_only(client, admin_view, db_session):
    team, calendar, _ = admin_view
    picklist = make_sync(
        db_session, make_booking(db_session, calendar), error_code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    )
    make_sync(db_session, make_booking(db_session, calendar))

    response = client.get(errors_url(team, code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"))

    assert listed_ids(response) == [picklist.id]
    assert "Retry all with this problem…" in response.get_data(as_text=True)


@pytest.mark.parametrize("state", ["failed", "waiting", "retrying"])
def test_the_state_filter_lists_that_state_only(client, admin_view, db_session, state):
    team, calendar, _ = admin_view
    jobs = {
        "failed": make_sync(db_session, make_booking(db_session, calendar)),
        "waiting": make_sync(
            db_session,
            make_booking(db_session, calendar),
            status=SyncStatus.WAITING,
            error_code="",
            reason="not_connected",
        ),
        "retrying": make_sync(
            db_session,
            make_booking(db_session, calendar),
            status=SyncStatus.PENDING,
            error_code="UNABLE_TO_LOCK_ROW",
            next_attempt_at=utcnow(),
        ),
    }
    make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.PENDING, error_code="")  # first try

    assert listed_ids(client.get(errors_url(team, state=state))) == [jobs[state].id]


def test_the_date_range_includes_both_end_days(client, admin_view, db_session):
    team, calendar, _ = admin_view

    def on(day: date):
        return make_sync(
            db_session,
            make_booking(db_session, calendar),
            created_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23),
        )

    before, first, last, after = (on(date(2030, 5, d)) for d in (9, 10, 12, 13))

    response = client.get(errors_url(team, **{"from": "2030-05-10", "to": "2030-05-12"}))

    assert listed_ids(response) == [last.id, first.id]
    page = response.get_data(as_text=True)
    assert 'name="from" value="2030-05-10"' in page and 'name="to" value="2030-05-12"' in page, (
        "the filter keeps its dates"
    )


def test_search_finds_a_guest_by_part_of_the_email_in_any_case(client, admin_view, db_session):
    team, calendar, _ = admin_view
    ada = make_sync(db_session, make_booking(db_session, calendar, guest_email="ada.lovelace@example.test"))
    make_sync(db_session, make_booking(db_session, calendar, guest_email="grace@example.test"))

    assert listed_ids(client.get(errors_url(team, q="Ada.LOVELACE"))) == [ada.id]


def test_search_takes_wildcards_literally(client, admin_view, db_session):
    team, calendar, _ = admin_view
    make_sync(db_session, make_booking(db_session, calendar, guest_email="ada@example.test"))

    assert listed_ids(client.get(errors_url(team, q="%25"))) == []


def test_search_finds_a_booking_by_its_id(client, admin_view, db_session):
    team, calendar, _ = admin_view
    wanted = make_booking(db_session, calendar)
    job = make_sync(db_session, wanted)
    make_sync(db_session, make_booking(db_session, calendar))

    assert listed_ids(client.get(errors_url(team, q=wanted.id))) == [job.id]


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]*)"', response.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


def test_pages_hold_per_page_rows_newest_first_and_link_on_with_the_filters(client, admin_view, db_session):
    team, calendar, _ = admin_view
    now = utcnow()
    jobs = [
        make_sync(db_session, make_booking(db_session, calendar), created_at=now - timedelta(minutes=i))
        for i in range(30)
    ]

    first = client.get(errors_url(team, per_page=25, code="REQUIRED_FIELD_MISSING"))
    second = client.get(link(first, "next"))

    assert listed_ids(first) == [j.id for j in jobs[:25]]
    assert listed_ids(second) == [j.id for j in jobs[25:]]
    assert "30 syncs found" in first.get_data(as_text=True)
    assert "code=REQUIRED_FIELD_MISSING" in link(first, "next") and "per_page=25" in link(first, "next")
    assert link(first, "prev") is None and link(second, "next") is None
    assert listed_ids(client.get(link(second, "prev"))) == [j.id for j in jobs[:25]]


def test_walking_the_pages_both_ways_shows_every_sync_once_even_with_equal_times(admin_view, db_session):
    team, calendar, _ = admin_view
    now = utcnow()
    # 23 syncs made in 4 instants: pages of 5 must split instants by id without skipping or repeating a row.
    jobs = [
        make_sync(db_session, make_booking(db_session, calendar), created_at=now - timedelta(seconds=i % 4))
        for i in range(23)
    ]
    newest_first = [j.id for j in sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)]
    scope = Scope(team.id)

    pages, cursor = [], None
    while True:
        page = error_page(db_session, scope, ErrorFilters(per_page=5, cursor=cursor))
        pages.append([row.id for row in page.rows])
        if page.older is None:
            break
        cursor = Cursor.parse(page.older)
    back, cursor = [], Cursor.parse(page.newer, newer=True)
    while cursor is not None:
        page = error_page(db_session, scope, ErrorFilters(per_page=5, cursor=cursor))
        back.insert(0, [row.id for row in page.rows])
        cursor = Cursor.parse(page.newer, newer=True) if page.newer else None

    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert sum(pages, []) == newest_first
    assert back == pages[:-1]
    assert page.newer is None  # the newest page links to no newer one


def test_a_cursor_past_the_end_shows_an_empty_page_not_an_error(client, admin_view, db_session):
    team, calendar, _ = admin_view
    make_sync(db_session, make_booking(db_session, calendar))

    response = client.get(errors_url(team, older="1.1"))

    assert response.status_code == 200 and listed_ids(response) == []


@pytest.mark.parametrize(
    "args, field, message",
    [
        ({"from": "yesterday"}, "from", "Use a date like"),
        ({"to": "2030-13-01"}, "to", "Use a date like"),
        ({"from": "2020-05-12", "to": "2020-05-10"}, "to", "before the start date"),
        ({"calendar": "abc"}, "calendar", "Choose a calendar"),
        ({"state": "exploded"}, "state", "Choose failed, waiting or retrying"),
        ({"from": "9999-12-31"}, "from", "Use a date like"),
    ],
)
def test_a_filter_value_not_understood_is_reported_next_to_its_field(
    client, admin_view, db_session, args, field, message
):
    team, calendar, _ = admin_view
    job = make_sync(db_session, make_booking(db_session, calendar))

    response = client.get(errors_url(team, **args))

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(rf'<p class="field-error" id="{field}-error">[^<]*{message}', text)
    assert listed_ids(response) == [job.id]  # the value is ignored, the rest still works


@pytest.mark.parametrize(
    "args",
    [
        {"page": "-1"},
        {"older": "x"},
        {"older": "99999999999999999.1"},
        {"older": "1.99999999999"},
        {"newer": "1.0"},
        {"newer": "-5.-5"},
        {"older": "².²"},
        {"calendar": "²"},
        {"per_page": "100000"},
        {"q": "x" * 2000},
        {"older": "9" * 16 + ".2147483647"},
        {"calendar": "99999999999999999"},
    ],
)
def test_odd_paging_and_search_values_never_break_the_page(client, admin_view, db_session, args):
    team, calendar, _ = admin_view
    make_sync(db_session, make_booking(db_session, calendar))

    assert client.get(errors_url(team, **args)).status_code == 200


def test_pagination_links_carry_only_the_known_filters(client, admin_view, db_session):
    team, calendar, _ = admin_view
    for _ in range(26):
        make_sync(db_session, make_booking(db_session, calendar))

    response = client.get(errors_url(team, per_page=25, state="failed", _method="PATCH", _scheme="javascript"))

    next_link = link(response, "next")
    assert response.status_code == 200
    assert next_link.startswith(f"/teams/{team.id}/salesforce/errors?")
    assert "state=failed" in next_link and "older=" in next_link and "_method" not in next_link


# --- health at a glance ----------------------------------------------------------------------------------------


def test_health_counts_synced_failed_and_waiting_per_day_for_the_last_14_days(admin_view, db_session):
    team, calendar, _ = admin_view
    today = utcnow().date()
    noon = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    for status, days_ago, count in [
        (SyncStatus.SYNCED, 0, 3),
        (SyncStatus.FAILED, 0, 1),
        (SyncStatus.WAITING, 1, 2),
        (SyncStatus.SYNCED, 13, 1),
        (SyncStatus.FAILED, 14, 5),  # a day too old
        (SyncStatus.DISMISSED, 0, 4),  # not charted
    ]:
        for _ in range(count):
            make_sync(
                db_session,
                make_booking(db_session, calendar),
                status=status,
                created_at=noon - timedelta(days=days_ago),
            )

    days = health_counts(db_session, Scope(team.id), today=today)

    assert len(days) == 14 and days[0].day == today - timedelta(days=13) and days[-1].day == today
    assert (days[-1].synced, days[-1].failed, days[-1].waiting) == (3, 1, 0)
    assert (days[-2].synced, days[-2].failed, days[-2].waiting) == (0, 0, 2)
    assert (days[0].synced, days[0].failed, days[0].waiting) == (1, 0, 0)
    assert sum(d.total for d in days) == 7


def test_chart_scales_bars_to_the_busiest_day_and_stacks_synced_failed_waiting():
    days = [
        DayCounts(date(2030, 3, 1), synced=3, failed=1),
        DayCounts(date(2030, 3, 2)),
        DayCounts(date(2030, 3, 3), waiting=2),
    ]

    chart = health_chart(days, width=300, plot_height=100)

    busiest, empty, waiting = chart.bars
    assert chart.peak == 4
    assert [(s.kind, s.count, s.y, s.height) for s in busiest.segments] == [
        ("synced", 3, 25.0, 75.0),
        ("failed", 1, 0.0, 25.0),
    ]
    assert empty.segments == ()
    assert [(s.kind, s.y, s.height) for s in waiting.segments] == [("waiting", 50.0, 50.0)]
    assert [b.x for b in chart.bars] == [2.0, 102.0, 202.0] and busiest.width == 96.0
    assert chart.totals == {"synced": 3, "failed": 1, "waiting": 2}
    assert busiest.title == "Mar 1: 3 synced, 1 failed, 0 waiting"


def test_a_chart_without_any_sync_draws_no_bars():
    chart = health_chart([DayCounts(date(2030, 3, d)) for d in range(1, 15)])

    assert chart.peak == 0 and all(bar.segments == () for bar in chart.bars)


def test_the_page_draws_the_chart_as_inline_svg_with_the_counts(client, admin_view, db_session):
    team, calendar, _ = admin_view
    for status in (SyncStatus.SYNCED, SyncStatus.SYNCED, SyncStatus.FAILED):
        make_sync(db_session, make_booking(db_session, calendar), status=status)

    text = client.get(errors_url(team)).get_data(as_text=True)

    assert "<svg" in text and "<script>" not in text  # drawn by the server: no script of its own
    assert "2 synced" in text and "1 failed" in text and "0 waiting" in text
    today = utcnow().date()
    assert f"{today:%b} {today.day}: 2 synced, 1 failed, 0 waiting" in text
    assert text.count('class="seg-synced"') == 1 and 'height="66.67"' in text


# --- where the page is linked from -------------------------------------------------------------------------------


def test_the_teams_salesforce_page_links_to_the_errors_page(client, admin_view):
    team, _, _ = admin_view

    text = client.get(f"/teams/{team.id}/settings/integrations/salesforce").get_data(as_text=True)

    assert f'href="/teams/{team.id}/salesforce/errors"' in text


def test_a_calendars_service_integration_links_to_its_errors(client, admin_view, db_session):
    team, calendar, _ = admin_view
    make_integration(db_session, calendar)

    text = client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True)

    assert f'href="/teams/{team.id}/salesforce/errors?calendar={calendar.id}"' in text


def test_the_sync_detail_links_to_the_calendars_mapping(client, admin_view, db_session):
    team, calendar, _ = admin_view
    make_integration(db_session, calendar)
    job = make_sync(db_session, make_booking(db_session, calendar))

    text = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)

    assert f'href="/calendars/{calendar.id}/integrations/salesforce"' in text
    assert '<tr class="offending"><td><code>Company</code>' in text
