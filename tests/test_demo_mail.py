"""The demo inbox page: what the mail catcher caught, listed with attachments; only in a demo configuration."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest

from portal.config import ConfigError, load_config
from scripts.dev.mailcatcher import MailboxHandler


class Envelope:
    def __init__(self, content: bytes) -> None:
        self.original_content = self.content = content


def caught(folder, subject: str, to: str) -> None:
    """A message as the mail catcher writes it (its own handler, without the SMTP round trip)."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, "Portal <no-reply@portal.example>", to
    message.set_content("Your booking is confirmed.")
    message.add_attachment(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", maintype="text", subtype="calendar",
                           filename="booking.ics")  # fmt: skip
    handled = MailboxHandler(folder).handle_DATA(None, None, Envelope(message.as_bytes()))
    with ThreadPoolExecutor(1) as thread:  # a loop of its own: a browser test may have left one running here
        thread.submit(asyncio.run, handled).result()


def test_the_inbox_lists_caught_mail_with_its_ics(make_app, tmp_path):
    caught(tmp_path, "Booking confirmed: Intro call", "gita@example.com")
    client = make_app(DEMO_MAILBOX_DIR=str(tmp_path)).test_client()

    page = client.get("/demo/mail").get_data(as_text=True)

    assert "Booking confirmed: Intro call" in page and "gita@example.com" in page
    [name] = [p.name for p in tmp_path.glob("*.eml")]
    ics = client.get(f"/demo/mail/{name}/attachments/0")
    assert ics.mimetype == "text/calendar" and ics.data.startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "nope.eml", ".1-2.eml.part"])
def test_the_inbox_serves_nothing_but_caught_messages(make_app, tmp_path, name):
    caught(tmp_path, "Hello", "gita@example.com")
    client = make_app(DEMO_MAILBOX_DIR=str(tmp_path)).test_client()

    assert client.get(f"/demo/mail/{name}/attachments/0").status_code == 404


def test_without_a_mailbox_there_is_no_inbox_page(client):
    assert client.get("/demo/mail").status_code == 404


def test_production_refuses_a_demo_mailbox():
    production = {
        "PORTAL_ENV": "production",
        "SECRET_KEY": "k" * 32,
        "DATABASE_URL": "postgresql://db.internal/portal",
        "PUBLIC_BASE_URL": "https://portal.example",
    }
    assert load_config({}, production)["DEMO_MAILBOX_DIR"] == ""
    with pytest.raises(ConfigError, match="DEMO_MAILBOX_DIR"):
        load_config({}, {**production, "DEMO_MAILBOX_DIR": "/tmp/mail"})
