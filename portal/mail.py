"""The one way the portal sends e-mail: over SMTP (SMTP_HOST, SMTP_PORT) from MAIL_FROM.

Sending never raises: a failing mail server is logged and reported as False, so the booking or sync that caused
the message stands."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from flask import current_app

log = logging.getLogger("portal.mail")

SMTP_TIMEOUT_SECONDS = 10


def new_message(subject: str, recipient: str | Address) -> EmailMessage:
    """A message from MAIL_FROM to one recipient, with its own Message-ID; the caller adds the content."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = recipient
    message["Message-ID"] = make_msgid(domain=sender_domain())
    return message


def sender_domain() -> str:
    """The domain of MAIL_FROM (for Message-IDs and calendar UIDs)."""
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "localhost"


def send(compose: Callable[[], Iterable[EmailMessage]], what: str) -> bool:
    """Send the composed messages over one SMTP connection; False (logged with `what`) when anything fails.

    Composing happens inside the guard too, so a message that cannot be built is handled like a mail failure."""
    config = current_app.config
    try:
        messages = list(compose())
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            for message in messages:
                smtp.send_message(message)
    except Exception:
        log.warning("could not send %s", what, exc_info=True)
        return False
    return True
