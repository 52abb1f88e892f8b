"""Race safety over real HTTP: the app served by gunicorn with several worker processes on a committed database.
Twenty guests confirming one slot, and twenty confirming overlapping slots of one host (on several calendars),
give exactly one booking each time and clear refusals; the database itself refuses an overlapping insert."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import func, select

from portal.calendars.booking import open_slots
from portal.calendars.forms import format_slot
from portal.extensions import db
from portal.models import AvailabilityRange, Booking, Calendar, CalendarHost, Membership, Role, Team, User, utcnow
from tests.factories import default_questions

from .booking_support import csrf_token

ROOT = Path(__file__).resolve().parent.parent
GUESTS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(config: dict) -> dict[str, str]:
    """The served app's settings as environment variables (lists comma-joined), as a deployment would set them."""
    names = [
        "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "RQ_QUEUE_PREFIX", "TOKEN_ENCRYPTION_KEYS", "SMTP_HOST", "SMTP_PORT",
        "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_DISCOVERY_URL", "MICROSOFT_CLIENT_ID",
        "MICROSOFT_CLIENT_SECRET", "MICROSOFT_DISCOVERY_URL", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET",
        "SALESFORCE_PRODUCTION_URL", "SALESFORCE_SANDBOX_URL", "SALESFORCE_EXTRA_LOGIN_HOSTS",
        "RATE_LIMIT_BOOKING", "RATE_LIMIT_MANAGE", "RATE_LIMIT_LOGIN",
    ]  # fmt: skip
    env = {**os.environ, "PORTAL_ENV": "test"}
    for name in names:
        value = config[name]
        env[name] = ",".join(value) if isinstance(value, list) else str(value)
    return env


@pytest.fixture
def served(make_app):
    """(app, base URL): the app on its own committed database, served by gunicorn with 4 worker processes."""
    app = make_app()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT,
        env=_environment(app.config),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        with app.app_context():
            yield app, url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_serving(url: str, process: subprocess.Popen) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
        try:
            requests.get(f"{url}/book/readiness-probe", timeout=10)
            return
        except requests.RequestException:
            clock.sleep(0.1)
    raise RuntimeError("gunicorn did not start serving")


def _calendars_for_one_host(count: int) -> tuple[User, list[Calendar]]:
    """One host on `count` 60-minute calendars whose grids are shifted by 15 minutes each, so they overlap."""
    team = Team(name="Race team")
    host = User(email="host@race.test", name="Race Host", email_verified=True)
    db.session.add_all([team, host])
    db.session.flush()
    db.session.add(Membership(team_id=team.id, user_id=host.id, role=Role.MEMBER))
    calendars = []
    for index in range(count):
        calendar = Calendar(
            team_id=team.id, created_by_id=host.id, name=f"Race {index}", slug=f"race-{index}", duration_minutes=60,
            time_zone="UTC", buffer_minutes=0, min_notice_minutes=0, window_days=30,
        )  # fmt: skip
        calendar.hosts = [CalendarHost(user_id=host.id, position=0)]
        calendar.availability = [
            AvailabilityRange(weekday=day, start_time=time(8, 15 * index), end_time=time(20)) for day in range(7)
        ]
        calendar.questions = default_questions()
        db.session.add(calendar)
        calendars.append(calendar)
    db.session.commit()
    return host, calendars


def _prepared_guest(url: str, calendar: Calendar, start: datetime, number: int):
    """A guest's session with the confirm page open (cookie + CSRF token) and the form it will post."""
    session = requests.Session()
    page = session.get(f"{url}/book/{calendar.slug}/confirm", params={"slot": format_slot(start), "tz": "UTC"})
    name_id, email_id = calendar.questions[0].id, calendar.questions[1].id
    form = {
        "csrf_token": csrf_token(page.text),
        "slot": format_slot(start),
        "time_zone": "UTC",
        f"q{name_id}": f"Guest {number}",
        f"q{email_id}": f"guest{number}@example.com",
    }
    return session, f"{url}/book/{calendar.slug}/confirm", form


def _confirm_all_at_once(guests) -> list[requests.Response]:
    barrier = threading.Barrier(len(guests))
    responses: list[requests.Response | None] = [None] * len(guests)

    def confirm(index: int) -> None:
        session, action, form = guests[index]
        barrier.wait()
        responses[index] = session.post(action, data=form, allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=confirm, args=(index,)) for index in range(len(guests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def _assert_one_booking_and_clear_refusals(responses) -> None:
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [302] + [409] * (len(responses) - 1)
    for response in responses:
        if response.status_code == 409:
            assert "That time was just taken. Please pick another time." in response.text


def _booking_count(host: User) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Booking).where(Booking.host_id == host.id))


def _tomorrow_at_ten() -> datetime:
    return datetime.combine((utcnow() + timedelta(days=1)).date(), time(10), tzinfo=UTC)


def test_twenty_simultaneous_confirmations_of_one_slot_make_exactly_one_booking(served):
    app, url = served
    host, (calendar,) = _calendars_for_one_host(1)
    start = _tomorrow_at_ten()
    guests = [_prepared_guest(url, calendar, start, number) for number in range(GUESTS)]
    _assert_one_booking_and_clear_refusals(_confirm_all_at_once(guests))
    assert _booking_count(host) == 1


def test_twenty_simultaneous_confirmations_of_overlapping_slots_of_one_host_make_exactly_one_booking(served):
    app, url = served
    host, calendars = _calendars_for_one_host(4)
    base = _tomorrow_at_ten()
    # 10:00, 10:15, 10:30 and 10:45 on four calendars, 60 minutes each: every pair overlaps.
    starts = [(calendar, base + timedelta(minutes=15 * index)) for index, calendar in enumerate(calendars)]
    for calendar, start in starts:
        assert start in [slot.start for slot in open_slots(calendar, utcnow())]
    guests = [_prepared_guest(url, *starts[number % 4], number) for number in range(GUESTS)]
    _assert_one_booking_and_clear_refusals(_confirm_all_at_once(guests))
    assert _booking_count(host) == 1


def test_a_direct_sql_insert_of_an_overlapping_booking_is_refused_by_the_database(served):
    app, url = served
    host, (calendar,) = _calendars_for_one_host(1)
    start = _tomorrow_at_ten()
    session, action, form = _prepared_guest(url, calendar, start, 1)
    assert session.post(action, data=form, allow_redirects=False).status_code == 302
    insert = """
        INSERT INTO bookings (calendar_id, host_id, start_at, end_at, busy_from, busy_until, status, guest_name,
            guest_family_name, guest_given_name, guest_email, guest_company, guest_phone, guest_time_zone, answers,
            manage_token_hash, sequence)
        VALUES (%(calendar)s, %(host)s, %(start)s, %(end)s, %(start)s, %(end)s, 'confirmed', 'Sneaky', '', '',
            'sneaky@example.com', '', '', 'UTC', '{}', %(token)s, 0)
    """
    with psycopg.connect(app.config["DATABASE_URL"], autocommit=True) as connection:
        overlapping = {"calendar": calendar.id, "host": host.id, "start": start + timedelta(minutes=30),
                       "end": start + timedelta(minutes=90), "token": "a" * 64}  # fmt: skip
        with pytest.raises(psycopg.errors.ExclusionViolation, match="no_double_booking"):
            connection.execute(insert, overlapping)
        later = {**overlapping, "start": start + timedelta(hours=3), "end": start + timedelta(hours=4)}
        connection.execute(insert, later)  # the same insert at a free time is accepted
    assert _booking_count(host) == 2
