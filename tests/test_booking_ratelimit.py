"""Abuse limits: a burst of bookings (or manage-link requests) from one client is refused with a clear page,
while another client still books."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Booking

from .booking_support import free_slot, manage_path, post_booking


@pytest.fixture
def calendar(factory):
    team = factory.team()
    calendar = factory.calendar(team, created_by=factory.member(team))
    factory.session.commit()
    return calendar


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def random_address() -> str:
    """A fresh documentation-range address per test, so windows left in Redis by other runs never count."""
    return f"203.0.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def test_a_burst_of_bookings_from_one_client_is_refused_while_another_client_books(
    app, db_session, calendar, monkeypatch
):
    monkeypatch.setitem(app.config, "RATE_LIMIT_BOOKING", "3/600")
    script, neighbour = client_from(app, random_address()), client_from(app, random_address())
    statuses = [post_booking(script, calendar, free_slot(calendar, index)).status_code for index in range(6)]
    assert statuses == [302, 302, 302, 429, 429, 429]
    refused = post_booking(script, calendar, free_slot(calendar, 10))
    assert "Too many attempts from your connection" in refused.get_data(as_text=True)
    assert post_booking(neighbour, calendar, free_slot(calendar, 10)).status_code == 302
    assert db.session.scalar(select(func.count()).where(Booking.calendar_id == calendar.id)) == 4


def test_manage_links_are_rate_limited_per_client(app, db_session, calendar, monkeypatch):
    guest = client_from(app, random_address())
    manage = manage_path(post_booking(guest, calendar, free_slot(calendar)))
    monkeypatch.setitem(app.config, "RATE_LIMIT_MANAGE", "2/600")
    prober = client_from(app, random_address())
    statuses = [prober.get(f"/manage/guess-{index}").status_code for index in range(4)]
    assert statuses == [404, 404, 429, 429]
    assert guest.get(manage).status_code == 200
