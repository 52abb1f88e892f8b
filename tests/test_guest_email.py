"""Finding 3 of the hardening review, for e-mail addresses: the booking form refuses, with a reason a guest can
act on, every address Salesforce would refuse (INVALID_EMAIL_ADDRESS) so it never fails a sync later; the
emulator refuses the same addresses as the real org does, and the sync's own check agrees with both."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Booking, QuestionKind
from portal.planner.values import email_problem

from .booking_support import field_name, free_slot, post_booking

LOCAL_64 = "a" * 64
REFUSED = {
    "accented letters": ("josé@example.com", "letters with accents"),
    "non-Latin letters": ("山田@example.jp", "letters with accents"),
    "an accented domain": ("ana@exämple.com", "letters with accents"),
    "a 65-character local part": (LOCAL_64 + "b@example.com", "at most 64 characters before the @"),
    "81 characters": ("a" * 60 + "@" + "b" * 16 + ".com", "at most 80 characters"),
    "no domain dot": ("ana@localhost", "like name@example.com"),
    "a local part starting with a dot": (".ana@example.com", "like name@example.com"),
    "a domain label ending with a hyphen": ("ana@example-.com", "like name@example.com"),
}
ACCEPTED = [LOCAL_64 + "@example.com", "first.last+tag@example.co.jp", "o'brien@example.com", "ANA@Example.COM"]


@pytest.fixture
def calendar(factory):
    team = factory.team()
    calendar = factory.calendar(team, created_by=factory.member(team))
    factory.session.commit()
    return calendar


def _email_field(calendar) -> str:
    return field_name(next(q for q in calendar.questions if q.kind == QuestionKind.EMAIL))


def _bookings(calendar) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(Booking.calendar_id == calendar.id)))


@pytest.mark.parametrize(("address", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_the_booking_form_refuses_an_address_salesforce_refuses_and_says_why(client, calendar, address, reason):
    email = _email_field(calendar)

    response = post_booking(client, calendar, free_slot(calendar), **{email: address})

    page = response.get_data(as_text=True).replace("\n", "")
    assert response.status_code == 422
    assert f'id="{email}-error">' in page and reason in page
    assert _bookings(calendar) == []


@pytest.mark.parametrize("address", ACCEPTED)
def test_the_booking_form_accepts_addresses_salesforce_accepts(client, calendar, address):
    response = post_booking(client, calendar, free_slot(calendar), **{_email_field(calendar): address})

    assert response.status_code == 302
    assert [b.guest_email for b in _bookings(calendar)] == [address]


@pytest.mark.parametrize("address", [a for a, _ in REFUSED.values()] + ACCEPTED)
def test_the_emulator_and_the_syncs_own_check_agree_on_every_address(salesforce_rest, address):
    response = salesforce_rest.post("/sobjects/Lead", json={"LastName": "Mail", "Company": "Co", "Email": address})

    refused = response.status_code == 400
    assert refused == (email_problem(address) is not None), response.text
    if refused:
        [error] = response.json()
        expected = "STRING_TOO_LONG" if len(address) > 80 else "INVALID_EMAIL_ADDRESS"
        assert (error["errorCode"], error["fields"]) == (expected, ["Email"])
    else:
        assert response.status_code == 201
