"""Booking, rescheduling and cancelling through the guest pages and the services: hosts busy on other calendars,
refusals with clear messages, the database's double-booking guard, and the outbox hooks' transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.calendars import booking as service
from portal.calendars.forms import format_slot
from portal.calendars.slots import Refusal, SlotRefused
from portal.extensions import db
from portal.models import Booking, BookingStatus, NameFormat, Question, QuestionKind, utcnow

from .booking_support import csrf_token, free_slot, free_slot_with_another, manage_path, post_booking, slot_links


@pytest.fixture
def team(factory):
    return factory.team()


@pytest.fixture
def host(factory, team):
    return factory.member(team, name="Hannah Host")


@pytest.fixture
def calendar(factory, team, host):
    calendar = factory.calendar(team, created_by=host, buffer_minutes=15)
    factory.session.commit()  # a service's rollback on refusal must not undo the test's setup
    return calendar


def bookings_of(calendar) -> list[Booking]:
    return db.session.scalars(select(Booking).where(Booking.calendar_id == calendar.id).order_by(Booking.id)).all()


def guest(**fields) -> service.GuestDetails:
    return service.GuestDetails(**{"email": "guest@example.com", "name": "Guest", **fields})


def test_booking_page_lists_free_slots_in_the_chosen_time_zone(client, calendar):
    page = client.get(f"/book/{calendar.slug}?tz=Asia/Tokyo").get_data(as_text=True)
    links = slot_links(page)
    assert links and all("tz=Asia/Tokyo" in link for link in links)
    assert '<option value="Asia/Tokyo" selected>' in page
    assert "js/timezone.js" in page and "<script>" not in page


def test_unknown_time_zone_or_week_falls_back_to_the_calendar_zone(client, calendar):
    response = client.get(f"/book/{calendar.slug}?tz=Mars/Olympus&week=not-a-date")
    assert response.status_code == 200
    assert '<option value="UTC" selected>' in response.get_data(as_text=True)


def test_unknown_booking_page_is_a_friendly_404(client):
    response = client.get("/book/no-such-calendar")
    assert response.status_code == 404
    assert "no booking page" in response.get_data(as_text=True)


def test_guest_books_a_slot_and_gets_a_confirmation_page_with_the_manage_link(client, calendar, host):
    start = free_slot(calendar)
    response = post_booking(client, calendar, start, tz="Europe/Paris")
    assert response.status_code == 302
    (booking,) = bookings_of(calendar)
    assert (booking.start_at, booking.end_at) == (start, start + timedelta(minutes=30))
    assert (booking.busy_from, booking.busy_until) == (start, start + timedelta(minutes=45))  # + buffer
    assert booking.host_id == host.id and booking.status == BookingStatus.CONFIRMED
    assert (booking.guest_name, booking.guest_email, booking.guest_time_zone) == (
        "Ada Lovelace",
        "ada@example.com",
        "Europe/Paris",
    )
    assert booking.answers[str(calendar.questions[0].id)] == "Ada Lovelace"
    token = manage_path(response).rsplit("/", 1)[1]
    assert booking.manage_token_hash == service.hash_token(token) and token not in booking.manage_token_hash
    page = client.get(manage_path(response)).get_data(as_text=True)
    assert "Your booking" in page and "Hannah Host" in page
    assert "could not send the confirmation e-mail" in page  # the suite's SMTP port has no server: still booked


def test_family_and_given_name_form_stores_both_and_a_display_name(client, factory, team, host):
    calendar = factory.calendar(team, created_by=host, name_format=NameFormat.FAMILY_GIVEN)
    db.session.commit()
    family, given = calendar.questions[0], calendar.questions[1]
    post_booking(client, calendar, free_slot(calendar), **{f"q{family.id}": "Lovelace", f"q{given.id}": "Ada"})
    (booking,) = bookings_of(calendar)
    assert (booking.guest_family_name, booking.guest_given_name, booking.guest_name) == (
        "Lovelace",
        "Ada",
        "Ada Lovelace",
    )


def test_custom_questions_are_validated_and_stored_by_question_id(client, factory, team, host):
    calendar = factory.calendar(team, created_by=host)
    select_question = Question(
        kind=QuestionKind.SINGLE_SELECT, label="Plan", required=True, options=["Basic", "Pro"], position=5
    )
    consent = Question(kind=QuestionKind.CHECKBOX, label="I agree", required=True, position=6)
    calendar.questions += [select_question, consent]
    db.session.commit()
    start = free_slot(calendar)
    refused = post_booking(client, calendar, start, **{f"q{select_question.id}": "Enterprise", f"q{consent.id}": ""})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Not a valid choice" in page and "Tick this box" in page
    post_booking(client, calendar, start, **{f"q{select_question.id}": "Pro"})
    (booking,) = bookings_of(calendar)
    assert booking.answers[str(select_question.id)] == "Pro" and booking.answers[str(consent.id)] == "yes"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-address"}, "Enter a valid e-mail address"),
        ({"email": ""}, "Enter your e-mail address"),
        ({"name": "Ada\x00Lovelace"}, "Remove the control characters"),
        ({"name": "Ada\x1b[31m"}, "Remove the control characters"),
        ({"name": "x" * 81}, "Use at most 80 characters"),
        ({"name": ""}, "This is required"),
        ({"phone": "call me maybe"}, "Use digits, spaces"),
    ],
)
def test_invalid_answers_are_refused_next_to_their_field(client, calendar, overrides, message):
    kinds = {"name": QuestionKind.FULL_NAME, "email": QuestionKind.EMAIL, "phone": QuestionKind.PHONE}
    fields = {
        f"q{q.id}": overrides[key]
        for key, kind in kinds.items()
        if key in overrides
        for q in calendar.questions
        if q.kind == kind
    }
    response = post_booking(client, calendar, free_slot(calendar), **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    (field_id,) = fields
    assert f'id="{field_id}-error">{message}' in page.replace("\n", "")
    assert bookings_of(calendar) == []


@pytest.mark.parametrize(
    ("slot", "message"),
    [
        ("garbage", "not a time we offer"),
        ("2026-01-01T09:00:00", "not a time we offer"),  # no time zone: not a value we render
        ("", "not a time we offer"),
    ],
)
def test_forged_slot_values_are_refused(client, calendar, slot, message):
    response = post_booking(client, calendar, free_slot(calendar), slot=slot)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert bookings_of(calendar) == []


def test_past_off_grid_too_far_and_unavailable_slots_are_refused_with_reasons(client, calendar):
    start = free_slot(calendar)
    cases = {
        format_slot(utcnow() - timedelta(days=1)): "already passed",
        format_slot(start + timedelta(minutes=7)): "not offered by this calendar",
        format_slot(start + timedelta(days=400)): "too far ahead",
    }
    for slot, message in cases.items():
        response = post_booking(client, calendar, start, slot=slot)
        assert response.status_code == 422 and message in response.get_data(as_text=True), slot
    assert bookings_of(calendar) == []


def test_a_host_booked_on_another_calendar_is_busy_on_this_one(client, factory, team, host, calendar):
    other = factory.calendar(team, created_by=host)
    db.session.commit()
    start = free_slot(calendar)
    assert post_booking(client, other, start).status_code == 302
    assert start not in [slot.start for slot in service.open_slots(calendar, utcnow())]
    response = post_booking(client, calendar, start)
    assert response.status_code == 409 and "just taken" in response.get_data(as_text=True)


def test_the_first_free_host_in_order_gets_the_booking(client, factory, team, host):
    second = factory.member(team, name="Second Host")
    calendar = factory.calendar(team, created_by=host, hosts=[host, second])
    db.session.commit()
    start = free_slot(calendar)
    post_booking(client, calendar, start)
    post_booking(client, calendar, start, email="bob@example.com")
    assert [b.host_id for b in bookings_of(calendar)] == [host.id, second.id]
    assert start not in [slot.start for slot in service.open_slots(calendar, utcnow())]


def test_a_slot_taken_meanwhile_shows_just_taken_with_fresh_slots_and_keeps_the_answers(client, calendar):
    start = free_slot_with_another(calendar, timedelta(minutes=60))  # the next one is offered instead
    page = client.get(f"/book/{calendar.slug}/confirm?slot={format_slot(start)}&tz=UTC").get_data(as_text=True)
    service.book(calendar, start, guest(), service.new_manage_token(), now=utcnow())  # another guest was faster
    name_field = f"q{calendar.questions[0].id}"
    response = client.post(
        f"/book/{calendar.slug}/confirm",
        data={
            "csrf_token": csrf_token(page),
            "slot": format_slot(start),
            "time_zone": "UTC",
            name_field: "Ada L",
            f"q{calendar.questions[1].id}": "ada@example.com",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "That time was just taken" in body
    assert f'value="{format_slot(start)}"' not in body  # the taken time is no longer offered
    assert f'value="{format_slot(start + timedelta(minutes=60))}"' in body  # after the buffer
    assert 'value="Ada L"' in body


def test_the_database_refuses_an_overlapping_booking_the_code_did_not_see(calendar, host):
    start = free_slot(calendar)
    service.book(calendar, start, guest(), service.new_manage_token(), now=utcnow())
    with pytest.raises(SlotRefused) as refused:
        # The busy times the service would read are hidden, as in a race; the exclusion constraint still refuses.
        service._place(
            Booking(calendar_id=calendar.id, guest_email="x@example.com", manage_token_hash="f" * 64, answers={}),
            service.Slot(start + timedelta(minutes=10), start + timedelta(minutes=40), (host.id,)),
            calendar,
            hosts=(host.id,),
        )
    assert refused.value.refusal == Refusal.TAKEN
    db.session.rollback()
    assert len(bookings_of(calendar)) == 1


def test_guest_reschedules_through_the_manage_link(client, calendar, host):
    start = free_slot_with_another(calendar, timedelta(minutes=30))
    manage = manage_path(post_booking(client, calendar, start))
    listing = client.get(f"{manage}/reschedule?tz=UTC").get_data(as_text=True)
    new_start = start + timedelta(minutes=30)  # overlaps the booking's own buffer: it may move there
    link = next(link for link in slot_links(listing) if format_slot(new_start) in link)
    page = client.get(link).get_data(as_text=True)
    response = client.post(
        f"{manage}/reschedule/confirm",
        data={"csrf_token": csrf_token(page), "slot": format_slot(new_start), "tz": "UTC"},
    )
    assert response.status_code == 302
    (booking,) = bookings_of(calendar)
    assert (booking.start_at, booking.busy_until, booking.sequence) == (new_start, new_start + timedelta(minutes=45), 1)
    assert "Your booking has been moved" in client.get(manage).get_data(as_text=True)


def test_rescheduling_to_a_taken_or_forged_slot_is_refused(client, calendar):
    first, second = free_slot(calendar), free_slot(calendar, 4)
    manage = manage_path(post_booking(client, calendar, first))
    service.book(calendar, second, guest(), service.new_manage_token(), now=utcnow())
    page = client.get(f"{manage}/reschedule/confirm?slot={format_slot(second)}").get_data(as_text=True)
    for slot, status, message in [(format_slot(second), 409, "just taken"), ("<script>", 422, "not a time we offer")]:
        response = client.post(f"{manage}/reschedule/confirm", data={"csrf_token": csrf_token(page), "slot": slot})
        assert response.status_code == status and message in response.get_data(as_text=True)
    assert bookings_of(calendar)[0].start_at == first


def test_guest_cancels_and_the_time_becomes_free_again(client, calendar):
    start = free_slot(calendar)
    manage = manage_path(post_booking(client, calendar, start))
    page = client.get(f"{manage}/cancel").get_data(as_text=True)
    response = client.post(f"{manage}/cancel", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    (booking,) = bookings_of(calendar)
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_at is not None and booking.sequence == 1
    assert start in [slot.start for slot in service.open_slots(calendar, utcnow())]
    assert "Booking cancelled" in client.get(manage).get_data(as_text=True)
    assert client.get(f"{manage}/reschedule").status_code == 302  # a cancelled booking cannot be moved


def test_cancelling_twice_is_refused_by_the_service(calendar):
    booking = service.book(calendar, free_slot(calendar), guest(), service.new_manage_token(), now=utcnow())
    service.cancel(booking, now=utcnow())
    with pytest.raises(service.BookingClosed):
        service.cancel(booking, now=utcnow())


def test_a_booking_that_has_started_can_no_longer_be_changed(calendar):
    start = free_slot(calendar)
    booking = service.book(calendar, start, guest(), service.new_manage_token(), now=utcnow())
    with pytest.raises(service.BookingClosed):
        service.reschedule(booking, free_slot(calendar, 3), now=start + timedelta(minutes=1))
    with pytest.raises(service.BookingClosed):
        service.cancel(booking, now=start + timedelta(minutes=1))


@pytest.mark.parametrize("token", ["not-a-token", "x" * 300, "%00"])
def test_an_unknown_manage_token_is_a_404(client, token):
    response = client.get(f"/manage/{token}")
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)


def test_the_booking_page_shows_the_week_as_the_guests_language_starts_it(client, calendar):
    """Issue 15: a week starts where the viewer's language starts it (Sunday for Japanese, from Babel's locale
    data); the page shows that week's days and steps a week at a time, in Babel's Japanese formats."""
    later = utcnow().date() + timedelta(days=14)
    wednesday = later + timedelta(days=(2 - later.weekday()) % 7)
    sunday, saturday = wednesday - timedelta(days=3), wednesday + timedelta(days=3)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ja"

    page = client.get(f"/book/{calendar.slug}?week={wednesday.isoformat()}").get_data(as_text=True)

    assert f"{sunday.month}月{sunday.day}日 – {saturday.year}年{saturday.month}月{saturday.day}日(土)" in page
    assert f"week={(sunday - timedelta(days=7)).isoformat()}" in page  # ← Earlier: the Sunday before
    assert f"week={(sunday + timedelta(days=7)).isoformat()}" in page  # Later →: the next Sunday
