"""The demo's inbox (/demo/mail): every e-mail the portal sent during the demo, as caught by
scripts/dev/mailcatcher.py in DEMO_MAILBOX_DIR: guests' confirmations with their .ics, owners' notifications.

Registered only when DEMO_MAILBOX_DIR is set, which production refuses (portal/config.py). It stands in for the
guests' own mailboxes, so like the booking pages it needs no login."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template

bp = Blueprint("demo_mail", __name__)

MESSAGE_NAME = re.compile(r"^[0-9]+-[0-9]+\.eml$")  # as the mail catcher names them
SHOWN = 200  # the newest messages; a demo never gets near it


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str


@dataclass(frozen=True)
class CaughtMessage:
    name: str
    subject: str
    sender: str
    recipient: str
    sent: str
    text: str
    attachments: tuple[Attachment, ...]


@bp.get("/demo/mail")
def inbox():
    names = sorted((p.name for p in _mailbox().glob("*.eml") if MESSAGE_NAME.match(p.name)), reverse=True)
    messages = [_caught(name, _read(name)) for name in names[:SHOWN]]
    return render_template("demo_mail/inbox.html", messages=messages, total=len(names))


@bp.get("/demo/mail/<name>/attachments/<int:index>")
def attachment(name: str, index: int):
    parts = list(_read(name).iter_attachments())
    if index >= len(parts):
        abort(404)
    part = parts[index]
    filename = part.get_filename() or f"attachment-{index}"
    headers = {"Content-Disposition": f'attachment; filename="{_safe_filename(filename)}"'}
    return Response(part.get_content(), mimetype=part.get_content_type(), headers=headers)


def _mailbox() -> Path:
    return Path(current_app.config["DEMO_MAILBOX_DIR"])


def _read(name: str) -> EmailMessage:
    """A caught message by its file name (404 for anything that is not one: no path ever comes from the URL)."""
    path = _mailbox() / name
    if not MESSAGE_NAME.match(name) or not path.is_file():
        abort(404)
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def _caught(name: str, message: EmailMessage) -> CaughtMessage:
    body = message.get_body(preferencelist=("plain",))
    attachments = tuple(
        Attachment(i, part.get_filename() or f"attachment-{i}", part.get_content_type())
        for i, part in enumerate(message.iter_attachments())
    )
    try:
        sent = f"{parsedate_to_datetime(message['Date']):%Y-%m-%d %H:%M %Z}" if message["Date"] else ""
    except (TypeError, ValueError):
        sent = ""
    return CaughtMessage(
        name=name,
        subject=str(message["Subject"] or "(no subject)"),
        sender=str(message["From"] or ""),
        recipient=str(message["To"] or ""),
        sent=sent,
        text=body.get_content() if body is not None else "",
        attachments=attachments,
    )


def _safe_filename(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "attachment"
