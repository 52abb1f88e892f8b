"""The guest's e-mails, delivered to a real local SMTP server (aiosmtpd): details, the manage link and an .ics
that an independent iCalendar parser reads; reschedule and cancel send updates; a dead mail server loses nothing."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar as ICalendar
from sqlalchemy import select

from portal.extensions import db
from portal.models import Booking, BookingStatus, NameFormat, QuestionKind

from .booking_support import csrf_token, field_name, free_slot, manage_path, post_booking


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox(app, monkeypatch):
    """A real SMTP server on a free local port, with the app pointed at it for this test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    yield handler
    controller.stop()


@pytest.fixture
def calendar(factory):
    team = factory.team()
    host = factory.member(team, name="Hannah Host", email="hannah@acme.test")
    calendar = factory.calendar(
        team, created_by=host, name="Intro call, Q&A; the long version with a name that needs folding"
    )
    factory.session.commit()
    return calendar


def ics_of(message) -> ICalendar:
    (attachment,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert attachment.get_filename() == "booking.ics"
    return ICalendar.from_ical(attachment.get_content())


def event_of(ics: ICalendar):
    (event,) = ics.walk("VEVENT")
    return event


def test_confirmation_mail_has_the_details_the_manage_link_and_a_parseable_ics(client, calendar, inbox):
    start = free_slot(calendar)
    response = post_booking(
        client, calendar, start, tz="America/New_York", **{f"q{calendar.questions[0].id}": "Zoë O'Brien, Jr."}
    )
    manage = manage_path(response)
    (message,) = inbox.messages
    assert message["To"].addresses[0].addr_spec == "ada@example.com"
    assert message["To"].addresses[0].display_name == "Zoë O'Brien, Jr."
    assert message["Subject"] == f"Booking confirmed: {calendar.name}"
    body = message.get_body(("plain",)).get_content()
    assert f"http://localhost{manage}" in body
    local = start.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M}" in body and "America/New_York" in body and "Hannah Host" in body
    ics = ics_of(message)
    assert str(ics["METHOD"]) == "REQUEST"
    event = event_of(ics)
    booking = db.session.scalar(select(Booking).where(Booking.calendar_id == calendar.id))
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == start + timedelta(minutes=30)
    assert str(event["SUMMARY"]) == calendar.name  # commas and semicolons survive escaping and folding
    assert str(event["UID"]).startswith(f"booking-{booking.id}@") and int(event["SEQUENCE"]) == 0
    assert f"http://localhost{manage}" in str(event["DESCRIPTION"])
    assert str(event["ATTENDEE"]) == "mailto:ada@example.com" and str(event["ORGANIZER"]) == "mailto:hannah@acme.test"
    page = client.get(manage).get_data(as_text=True)
    assert "We sent the details to ada@example.com" in page


def test_reschedule_and_cancel_send_updates_of_the_same_event(client, calendar, inbox):
    start, new_start = free_slot(calendar), free_slot(calendar, 3)
    manage = manage_path(post_booking(client, calendar, start))
    page = client.get(f"{manage}/reschedule/confirm?slot={new_start:%Y-%m-%dT%H:%M:%SZ}").get_data(as_text=True)
    client.post(
        f"{manage}/reschedule/confirm", data={"csrf_token": csrf_token(page), "slot": f"{new_start:%Y-%m-%dT%H:%M:%SZ}"}
    )
    client.post(f"{manage}/cancel", data={"csrf_token": csrf_token(page)})
    created, moved, cancelled = inbox.messages
    assert moved["Subject"].startswith("Booking moved") and cancelled["Subject"].startswith("Booking cancelled")
    first, second, third = (event_of(ics_of(message)) for message in inbox.messages)
    assert str(first["UID"]) == str(second["UID"]) == str(third["UID"])
    assert [int(e["SEQUENCE"]) for e in (first, second, third)] == [0, 1, 2]
    assert second.decoded("DTSTART") == new_start
    assert str(ics_of(cancelled)["METHOD"]) == "CANCEL" and str(third["STATUS"]) == "CANCELLED"


def test_a_failing_mail_server_never_loses_the_booking(client, calendar, app, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setitem(app.config, "SMTP_PORT", probe.getsockname()[1])
    response = post_booking(client, calendar, free_slot(calendar))
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking).where(Booking.calendar_id == calendar.id))
    assert booking.status == BookingStatus.CONFIRMED
    page = client.get(manage_path(response)).get_data(as_text=True)
    assert "Your booking is confirmed, but we could not send the confirmation e-mail" in page


def test_long_japanese_text_is_folded_within_75_octets_and_reads_back_unchanged(factory, client, inbox):
    team = factory.team()
    host = factory.member(team, name="山田 花子（営業部 インサイドセールス担当）", email="hanako@acme.test")
    name = "製品デモと導入相談：価格、契約条件、データ移行、セキュリティ審査についてのご質問にお答えします"
    calendar = factory.calendar(team, created_by=host, name=name)
    factory.session.commit()
    guest_name = "佐藤 太郎；株式会社サンプル、情報システム部"
    post_booking(client, calendar, free_slot(calendar), **{f"q{calendar.questions[0].id}": guest_name})
    (message,) = inbox.messages
    (attachment,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    raw = attachment.get_payload(decode=True)
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # RFC 5545 §3.1, counted in octets
    assert max(len(line) for line in raw.split(b"\r\n")) > 60  # long lines really were folded, not avoided
    event = event_of(ICalendar.from_ical(raw.decode("utf-8")))
    assert str(event["SUMMARY"]) == name
    assert str(event["DESCRIPTION"]).startswith(f"{name}\nManage your booking: ")
    assert event["ORGANIZER"].params["CN"] == "山田 花子（営業部 インサイドセールス担当）"
    assert event["ATTENDEE"].params["CN"] == guest_name


JAPANESE_WEEKDAYS = "月火水木金土日"


def test_a_guest_booking_in_japanese_gets_the_mail_and_ics_in_japanese_with_japanese_dates(factory, client, inbox):
    """A guest whose browser reads Japanese: subject, greeting (family name first), labels and Babel's Japanese date
    (2026年12月3日(木) 10:00) in the mail; the .ics, read back by icalendar, has Japanese SUMMARY and DESCRIPTION
    marked LANGUAGE=ja, and its cancellation says so in Japanese."""
    team = factory.team()
    host = factory.member(team, name="佐藤 花子", email="sato@acme.test")
    calendar = factory.calendar(team, created_by=host, name="初回相談", name_format=NameFormat.FAMILY_GIVEN)
    factory.session.commit()
    by_kind = {question.kind: field_name(question) for question in calendar.questions}
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ja,en;q=0.5"
    start = free_slot(calendar)

    response = post_booking(
        client, calendar, start, tz="Asia/Tokyo",
        **{by_kind[QuestionKind.FAMILY_NAME]: "山田", by_kind[QuestionKind.GIVEN_NAME]: "太郎"},
    )  # fmt: skip

    (message,) = inbox.messages
    assert message["Subject"] == "予約確定：初回相談"
    assert message["To"].addresses[0].display_name == "山田 太郎"
    body = message.get_body(("plain",)).get_content()
    local, end = (
        start.astimezone(ZoneInfo("Asia/Tokyo")),
        (start + timedelta(minutes=30)).astimezone(ZoneInfo("Asia/Tokyo")),
    )
    day = f"{local.year}年{local.month}月{local.day}日({JAPANESE_WEEKDAYS[local.weekday()]})"
    assert body.startswith("山田 太郎 様")
    assert f"予定の日時：{day} {local.hour}:{local:%M}–{end.hour}:{end:%M} (Asia/Tokyo)" in body  # ja: H:mm
    assert "内容：初回相談" in body and "佐藤 花子" in body
    assert "Hello" not in body and "When" not in body
    event = event_of(ics_of(message))
    assert str(event["SUMMARY"]) == "初回相談" and event["SUMMARY"].params["LANGUAGE"] == "ja"
    description = str(event["DESCRIPTION"])
    assert f"予約の確認・変更：http://localhost{manage_path(response)}" in description
    assert event["DESCRIPTION"].params["LANGUAGE"] == "ja" and "Manage" not in description

    page = client.get(f"{manage_path(response)}/cancel").get_data(as_text=True)
    client.post(f"{manage_path(response)}/cancel", data={"csrf_token": csrf_token(page)})
    cancelled = inbox.messages[-1]
    assert cancelled["Subject"] == "予約キャンセル：初回相談"
    assert str(event_of(ics_of(cancelled))["SUMMARY"]) == "キャンセル：初回相談"
