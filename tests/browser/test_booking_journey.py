"""Browser journey (real Chromium, phone-sized): a guest opens a booking page, gets their own time zone, picks a
slot by keyboard, answers the form, confirms, then reschedules through the manage link."""

from __future__ import annotations

import re
from datetime import time

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AvailabilityRange,
    Booking,
    Calendar,
    CalendarHost,
    Membership,
    Question,
    QuestionKind,
    Role,
    Team,
    User,
)
from tests.factories import default_questions


def _calendar() -> Calendar:
    team = Team(name="Journey team")
    host = User(email="host@journey.test", name="Jo Host", email_verified=True)
    db.session.add_all([team, host])
    db.session.flush()
    db.session.add(Membership(team_id=team.id, user_id=host.id, role=Role.MEMBER))
    calendar = Calendar(
        team_id=team.id, created_by_id=host.id, name="Product demo", slug="product-demo", duration_minutes=30,
        time_zone="UTC", buffer_minutes=0, min_notice_minutes=60, window_days=30,
        meeting_url="https://meet.example.com/demo",
    )  # fmt: skip
    calendar.hosts = [CalendarHost(user_id=host.id, position=0)]
    calendar.availability = [AvailabilityRange(weekday=d, start_time=time(8), end_time=time(18)) for d in range(7)]
    calendar.questions = default_questions() + [
        Question(
            kind=QuestionKind.LONG_TEXT, label="What should we show you?", required=True, max_length=500, position=9
        )
    ]
    db.session.add(calendar)
    db.session.commit()
    return calendar


def test_guest_books_then_reschedules_through_the_manage_link(make_app, live_server, browser):
    app = make_app()
    with app.app_context():
        calendar = _calendar()
        server = live_server(app)
        context = browser.new_context(timezone_id="Europe/Berlin", viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            page.goto(f"{server.url}/book/{calendar.slug}")
            expect(page).to_have_url(re.compile(r"tz=Europe%2FBerlin|tz=Europe/Berlin"))  # detected by the browser
            expect(page.get_by_label("Times shown in")).to_have_value("Europe/Berlin")

            first_slot = page.locator("a.slot").first
            first_slot.focus()
            page.keyboard.press("Enter")
            expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()
            page.get_by_label("Name").fill("Ada Lovelace")
            page.get_by_label("E-mail").fill("ada@example.com")
            page.get_by_role("button", name="Confirm booking").click()
            expect(page.get_by_text("This is required.")).to_be_visible()  # the long question, next to its field
            page.get_by_label("What should we show you?").fill("The <b>reporting</b> part, please.")
            page.get_by_role("button", name="Confirm booking").click()

            expect(page.get_by_role("heading", name="Your booking")).to_be_visible()
            expect(page.get_by_text("Your booking is confirmed")).to_be_visible()
            manage_url = page.url
            booking = db.session.scalar(select(Booking).where(Booking.calendar_id == calendar.id))
            first_start = booking.start_at
            assert booking.guest_time_zone == "Europe/Berlin"

            page.get_by_role("link", name="Reschedule").click()
            expect(page.get_by_role("heading", name="Reschedule")).to_be_visible()
            page.locator("a.slot").nth(3).click()
            expect(page.get_by_role("heading", name="Move your booking?")).to_be_visible()
            page.get_by_role("button", name="Move booking").click()

            expect(page.get_by_text("Your booking has been moved.")).to_be_visible()
            assert page.url == manage_url
            db.session.expire_all()
            booking = db.session.get(Booking, booking.id)
            assert booking.start_at != first_start and booking.sequence == 1
        finally:
            context.close()
