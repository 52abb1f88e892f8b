"""Finding 1 of the hardening review: no input reaches a server error. Control characters are refused at the
edge with a page in plain words, and dates no guest could reach are refused instead of overflowing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.inputs import FIELD_CHECKED_ENDPOINTS
from portal.models import AuditEvent, Calendar, Role, Team

from .booking_support import csrf_token, free_slot, manage_path, post_booking
from .factories import login
from .test_calendars_editor import create

REFUSED = "invisible control characters"


@pytest.fixture
def team(factory):
    return factory.team()


@pytest.fixture
def owner(factory, team):
    return factory.member(team, role=Role.OWNER)


@pytest.fixture
def calendar(factory, team, owner):
    calendar = factory.calendar(team, created_by=owner)
    factory.session.commit()
    return calendar


def refused(response, message: str = REFUSED) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:500]
    assert message in page and "Not accepted" in page and "Bad Request" not in page
    return page


# -- control characters at the edge -----------------------------------------------------------------------------


def test_a_nul_in_a_booking_link_is_not_found(client):
    for path in ("/book/%00", "/book/abc%01def", "/manage/%00/reschedule"):
        response = client.get(path)
        assert response.status_code == 404 and "This link is not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        {"q": "a\x00b"},
        {"code": "X\x00"},
        {"team": "\x00"},
        {"q": "\x1b[2J"},
        {"state": "failed\x7f"},
        {"from": "2026-01-01\x00"},
    ],
)
def test_control_characters_in_the_errors_page_filters_are_refused(client, team, owner, query):
    login(client, owner)
    refused(client.get(f"/teams/{team.id}/salesforce/errors", query_string=query))


@pytest.mark.parametrize("query", [{"q": "\x00"}, {"code": "\x00"}, {"team": "1\x00"}])
def test_control_characters_in_the_support_console_filters_never_reach_the_audit_log(client, db_session, query):
    count = db_session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    refused(client.get("/support/syncs", query_string=query))
    refused(client.get("/support/audit", query_string={"action": "x\x00", "actor": "\x00"}))
    assert db_session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == count


def test_a_nul_in_a_team_name_is_refused_on_create_and_rename(client, db_session, team, owner):
    login(client, owner)
    token = csrf_token(client.get("/teams/new").get_data(as_text=True))
    refused(client.post("/teams/new", data={"csrf_token": token, "name": "Evil\x00Team"}))
    refused(client.post(f"/teams/{team.id}/settings", data={"csrf_token": token, "name": "Evil\x00Team"}))
    assert db_session.scalar(select(Team).where(Team.name.like("Evil%"))) is None
    # Line breaks and tabs are whitespace, not refused at the edge (the form decides about them).
    response = client.post("/teams/new", data={"csrf_token": token, "name": "Sales\tEMEA"})
    assert response.status_code in (200, 302)


def test_bulk_retry_and_dismiss_refuse_control_characters(client, team, owner):
    login(client, owner)
    token = csrf_token(client.get("/teams/new").get_data(as_text=True))
    refused(client.get(f"/teams/{team.id}/salesforce/errors/retry", query_string={"code": "X\x00"}))
    refused(client.post(f"/teams/{team.id}/salesforce/errors/retry", data={"csrf_token": token, "code": "X\x00"}))
    refused(client.post(f"/teams/{team.id}/salesforce/syncs/1/dismiss", data={"csrf_token": token, "note": "a\x00"}))


def test_a_nul_in_a_calendar_meeting_url_is_refused_next_to_the_field(client, db_session, team, owner):
    login(client, owner)
    response = create(client, team, [(owner, 1)], meeting_url="https://meet.example.com/\x00abc")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Remove the control characters" in page[page.index('id="meeting_url-error"') :][:300]
    assert db_session.scalar(select(Calendar).where(Calendar.slug == "discovery-call")) is None


def test_every_endpoint_that_checks_its_own_fields_exists(app):
    assert set(app.view_functions) >= FIELD_CHECKED_ENDPOINTS


# -- dates and numbers in range ----------------------------------------------------------------------------------

OUT_OF_RANGE = "outside the dates we can show"


def test_extreme_weeks_and_slots_on_the_booking_page_are_refused(client, calendar):
    refused(client.get(f"/book/{calendar.slug}?week=9999-12-31"), OUT_OF_RANGE)
    refused(client.get(f"/book/{calendar.slug}?week=0001-01-01"), OUT_OF_RANGE)
    refused(client.get(f"/book/{calendar.slug}/confirm?slot=0001-01-01T00:00:00Z"), OUT_OF_RANGE)
    refused(client.get(f"/book/{calendar.slug}/confirm?slot=9999-12-31T23:55:00Z"), OUT_OF_RANGE)
    token = csrf_token(client.get(f"/book/{calendar.slug}/confirm").get_data(as_text=True))
    data = {"csrf_token": token, "slot": "0001-01-01T00:00:00Z", "time_zone": "UTC"}
    refused(client.post(f"/book/{calendar.slug}/confirm", data=data), OUT_OF_RANGE)


def test_extreme_dates_when_rescheduling_are_refused(client, calendar):
    manage = manage_path(post_booking(client, calendar, free_slot(calendar)))
    refused(client.get(f"{manage}/reschedule?week=9999-12-25"), OUT_OF_RANGE)
    refused(client.get(f"{manage}/reschedule/confirm?slot=9999-12-31T23:55:00Z"), OUT_OF_RANGE)
    assert client.get(f"{manage}/reschedule?week=2026-13-01").status_code == 200  # malformed: this week instead


def test_an_out_of_range_booking_id_in_the_preview_is_not_a_server_error(app):
    from portal.integrations.editor import booking_for_preview

    with app.test_request_context():
        for asked in ("99999999999", "2147483648", "²", "-1", "0"):
            assert booking_for_preview(Calendar(id=1), asked) is None
