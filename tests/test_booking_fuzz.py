"""Property: arbitrary strings (unicode, very long, control characters, NUL, markup, SQL-looking) posted into
every booking form field never cause a 500, and stored markup is never rendered unescaped."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.calendars.booking import open_slots
from portal.calendars.forms import format_slot
from portal.models import Question, QuestionKind, Role, utcnow

from .booking_support import csrf_token, guest_answers
from .factories import login

MARKUP = ['<script>alert("fuzz")</script>', "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']
SQL = ["'; DROP TABLE bookings; --", "1' OR '1'='1", "Robert'); DELETE FROM calendars;--", "\\'; SELECT pg_sleep(1);"]
ODD = ["\x00", "a\x00b", "\x1b[2J", "\u202egnp.exe", "\ufeff", "💥" * 60, "\r\n\r\n", "\t", "Ω≈ç√", "ｆｕｌｌ"]

fuzz = st.one_of(
    st.text(max_size=40),
    st.text(min_size=300, max_size=3000),
    st.sampled_from(MARKUP + SQL + ODD),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=8), st.sampled_from(MARKUP + SQL + ODD), st.text(max_size=8)),
)


@pytest.fixture
def setup(factory, client):
    team = factory.team()
    host = factory.member(team, role=Role.MEMBER)
    calendar = factory.calendar(team, created_by=host, window_days=60)
    calendar.questions += [
        Question(
            kind=kind, label=kind.value, required=False, options=["A", "<b>B</b>"], max_length=300, position=10 + i
        )
        for i, kind in enumerate(
            (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT, QuestionKind.SINGLE_SELECT, QuestionKind.CHECKBOX)
        )
    ]
    factory.session.commit()
    login(client, host)
    page = client.get(f"/book/{calendar.slug}/confirm").get_data(as_text=True)
    return client, calendar, csrf_token(page)


def markup_in(values) -> list[str]:
    return [payload for value in values for payload in MARKUP if payload in value]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_strings_in_every_booking_field_never_break_the_page_or_its_escaping(setup, data):
    client, calendar, token = setup
    valid = guest_answers(calendar)
    free = [
        format_slot(slot.start)
        for slot in open_slots(calendar, utcnow())
        if (slot.start - utcnow()).total_seconds() > 3600
    ]
    form = {"csrf_token": token, "slot": data.draw(st.sampled_from(free[:300]), label="free slot"), **valid}
    form["time_zone"] = "Europe/Paris"
    # A few fields at a time get arbitrary strings, so both refusals and stored odd-but-valid values occur.
    for name in data.draw(
        st.lists(st.sampled_from(sorted(form.keys() - {"csrf_token"})), min_size=1, max_size=3, unique=True)
    ):
        form[name] = data.draw(fuzz, label=name)
    response = client.post(f"/book/{calendar.slug}/confirm", data=form)
    assert response.status_code in (302, 409, 422), response.get_data(as_text=True)[:500]
    pages = [response.get_data(as_text=True)]
    if response.status_code == 302:
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))
        pages.append(client.get(f"/calendars/{calendar.id}/bookings").get_data(as_text=True))
    for page in pages:
        for payload in markup_in(form.values()):
            assert payload not in page
