"""Finding 3 of the hardening review, at the booking form: required answers need visible content, a required
checkbox must be ticked, invisible direction and zero-width characters are stripped from names and companies,
and only time zones a person would choose are accepted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.calendars.slots import is_time_zone
from portal.extensions import db
from portal.models import Booking, Question, QuestionKind

from .booking_support import field_name, free_slot, post_booking


@pytest.fixture
def calendar(factory):
    team = factory.team()
    host = factory.member(team)
    calendar = factory.calendar(team, created_by=host)
    calendar.questions += [
        Question(kind=QuestionKind.SHORT_TEXT, label="Goal", required=True, max_length=200, position=20),
        Question(kind=QuestionKind.CHECKBOX, label="I agree", required=True, position=21),
    ]
    factory.session.commit()
    return calendar


def question(calendar, kind: QuestionKind) -> Question:
    return next(q for q in calendar.questions if q.kind == kind)


def bookings_of(calendar) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(Booking.calendar_id == calendar.id)))


@pytest.mark.parametrize("blank", ["   ", "\t", "\u3000", "\u3000 \u3000", "\u200b", "\n"])
def test_a_required_text_answer_of_whitespace_alone_is_refused(client, calendar, blank):
    goal = field_name(question(calendar, QuestionKind.SHORT_TEXT))
    response = post_booking(client, calendar, free_slot(calendar), **{goal: blank})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{goal}-error">This is required.' in page.replace("\n", "")
    assert bookings_of(calendar) == []


@pytest.mark.parametrize("unticked", ["false", "", "0", "no", "off"])
def test_a_required_checkbox_posted_unticked_is_refused(client, calendar, unticked):
    consent = field_name(question(calendar, QuestionKind.CHECKBOX))
    response = post_booking(client, calendar, free_slot(calendar), **{consent: unticked})
    assert response.status_code == 422 and "Tick this box" in response.get_data(as_text=True)
    assert bookings_of(calendar) == []


def test_a_ticked_checkbox_and_real_answers_still_book(client, calendar):
    response = post_booking(client, calendar, free_slot(calendar))
    assert response.status_code == 302
    (booking,) = bookings_of(calendar)
    assert booking.answers[str(question(calendar, QuestionKind.CHECKBOX).id)] == "yes"


def test_direction_overrides_and_zero_width_characters_are_stripped_from_names_and_companies(client, calendar):
    name = field_name(question(calendar, QuestionKind.FULL_NAME))
    company = field_name(question(calendar, QuestionKind.COMPANY))
    answers = {name: "\ufeffAda\u200b Love\u202elace\u202c", company: "\u2066Acme\u200b Ltd\u2069"}
    assert post_booking(client, calendar, free_slot(calendar), **answers).status_code == 302
    (booking,) = bookings_of(calendar)
    assert booking.guest_name == "Ada Lovelace"
    assert booking.guest_company == "Acme Ltd"


def test_a_name_of_invisible_characters_alone_is_refused(client, calendar):
    name = field_name(question(calendar, QuestionKind.FULL_NAME))
    response = post_booking(client, calendar, free_slot(calendar), **{name: "\u202e\u200b"})
    assert response.status_code == 422
    assert bookings_of(calendar) == []


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "EST5EDT", "Etc/GMT+3", "US/Pacific"])
def test_system_time_zones_are_not_offered_or_accepted(client, calendar, zone):
    assert not is_time_zone(zone)
    assert f'value="{zone}"' not in client.get(f"/book/{calendar.slug}").get_data(as_text=True)
    assert post_booking(client, calendar, free_slot(calendar), tz=zone).status_code == 302
    (booking,) = bookings_of(calendar)
    assert booking.guest_time_zone == calendar.time_zone  # an unknown zone falls back to the calendar's


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"])
def test_real_places_remain_time_zones(zone):
    assert is_time_zone(zone)
