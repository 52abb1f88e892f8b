"""Helpers for the calendar and booking tests: reading CSRF tokens and slots from pages, posting a booking."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from portal.calendars.booking import open_slots
from portal.calendars.forms import format_slot
from portal.models import Calendar, Question, QuestionKind, utcnow

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
SLOT_LINK = re.compile(r'class="slot" href="([^"]+)"')


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def slot_links(page: str) -> list[str]:
    return [html.unescape(link) for link in SLOT_LINK.findall(page)]


def free_slot(calendar: Calendar, index: int = 0, *, after: timedelta = timedelta(hours=2)) -> datetime:
    """A free slot start of the calendar at least `after` from now (so it does not pass during the test)."""
    now = utcnow()
    return [slot.start for slot in open_slots(calendar, now) if slot.start >= now + after][index]


def free_slot_with_another(calendar: Calendar, gap: timedelta) -> datetime:
    """A free slot start with another free slot `gap` later (not the day's last), whatever the time of day."""
    now = utcnow()
    starts = [slot.start for slot in open_slots(calendar, now) if slot.start >= now + timedelta(hours=2)]
    return next(start for start in starts if start + gap in starts)


def guest_answers(calendar: Calendar, **overrides: str) -> dict[str, str]:
    """Valid form data for every question of the calendar, keyed by field name."""
    values = {
        QuestionKind.FULL_NAME: "Ada Lovelace",
        QuestionKind.FAMILY_NAME: "Lovelace",
        QuestionKind.GIVEN_NAME: "Ada",
        QuestionKind.EMAIL: "ada@example.com",
        QuestionKind.COMPANY: "Analytical Engines Ltd",
        QuestionKind.PHONE: "+44 20 7946 0000",
        QuestionKind.SHORT_TEXT: "short answer",
        QuestionKind.LONG_TEXT: "a longer answer\nover two lines",
        QuestionKind.CHECKBOX: "y",
    }
    data = {}
    for question in calendar.questions:
        value = question.options[0] if question.kind == QuestionKind.SINGLE_SELECT else values[question.kind]
        data[field_name(question)] = value
    data.update(overrides)
    return data


def field_name(question: Question) -> str:
    return f"q{question.id}"


def confirm_url(calendar: Calendar, start: datetime, tz: str = "UTC") -> str:
    return f"/book/{calendar.slug}/confirm?slot={format_slot(start)}&tz={tz}"


def post_booking(client, calendar: Calendar, start: datetime, *, tz: str = "UTC", **answers: str):
    """Open the confirm page for the slot (for its CSRF token) and post the form; returns the POST response."""
    page = client.get(confirm_url(calendar, start, tz)).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "slot": format_slot(start), "time_zone": tz, **guest_answers(calendar)}
    data.update(answers)
    return client.post(f"/book/{calendar.slug}/confirm", data=data)


def manage_path(response) -> str:
    location = response.headers["Location"]
    assert "/manage/" in location, location
    return location[location.index("/manage/") :]
