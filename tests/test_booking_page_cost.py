"""The public booking page's cost: a fixed, small number of SQL statements whatever the hosts' history, and slot
links and the time-zone list built without per-slot or per-request work that repeats the same result."""

from __future__ import annotations

import re

from flask import url_for

from portal.calendars.booking import open_slots
from portal.calendars.forms import format_slot, time_zone_choices
from portal.extensions import db
from portal.models import Role, utcnow
from tests.booking_support import slot_links
from tests.statements import counting_statements


def test_the_booking_page_costs_at_most_three_statements(client, factory):
    team, users = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=users[Role.OWNER], hosts=[users[Role.OWNER], users[Role.ADMIN]])
    url = f"/book/{calendar.slug}?tz=Europe/Paris"
    client.get(url)  # warm up: what is done once per process is not what we count
    db.session.expire_all()  # as a new request finds it: nothing of the calendar loaded yet

    with counting_statements() as statements:
        response = client.get(url)

    assert response.status_code == 200 and slot_links(response.get_data(as_text=True))
    assert len(statements) <= 3, "\n\n".join(statements)


def test_slot_links_and_the_zone_list_are_what_url_for_and_the_zone_names_give(app, client, factory):
    team, users = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=users[Role.OWNER])

    page = client.get(f"/book/{calendar.slug}?tz=America/Argentina/Buenos_Aires").get_data(as_text=True)

    links = slot_links(page)
    starts = [slot.start for slot in open_slots(calendar, utcnow())]
    with app.test_request_context():
        expected = {
            url_for("booking.confirm", slug=calendar.slug, slot=format_slot(start), tz="America/Argentina/Buenos_Aires")
            for start in starts
        }
    assert links and set(links) <= expected
    options = re.findall(r'<option value="([^"]+)"( selected)?>', page)
    assert [value for value, _ in options] == [value for value, _ in time_zone_choices()]
    assert [value for value, selected in options if selected] == ["America/Argentina/Buenos_Aires"]
