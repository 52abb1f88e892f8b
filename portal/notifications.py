"""E-mail to a team's owners and admins about Salesforce syncing: at once when the connection breaks, otherwise
at most one digest a day listing new failures by code with links to the errors page.

Each message is claimed in NotificationLog (unique per team, kind and day) before it is sent, so two workers
never both send it. A failing mail server is logged, the claim released, and nothing is raised: it never breaks
the sync that triggered the message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import click
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from . import mail
from .extensions import db
from .links import public_url
from .models import Membership, NotificationLog, Role, SyncJob, SyncStatus, Team, User, utcnow
from .planner.catalogue import explain
from .sync.states import problem_words

log = logging.getLogger("portal.notifications")

CONNECTION_BROKEN = "connection_broken"
DAILY_DIGEST = "daily_digest"
RECIPIENT_ROLES = (Role.OWNER, Role.ADMIN)


def on_connection_broken(sender: Flask, *, team_id: int, reason: str = "", **_: object) -> None:
    try:
        notify_connection_broken(team_id, reason)
    except Exception:  # the sync that noticed the broken connection must carry on whatever happens here
        log.exception("could not notify team %s of its broken Salesforce connection", team_id)


# --- the immediate message ---------------------------------------------------------------------------------------


def notify_connection_broken(team_id: int, reason: str, now: datetime | None = None) -> bool:
    """Tell the team's owners and admins that Salesforce must be reconnected; False when nothing was sent
    (nobody to tell, already told today, or the mail server failed)."""
    now = now or utcnow()
    with db.session_factory() as session:
        team = session.get(Team, team_id)
        recipients = recipients_of(session, team_id)
        if team is None or not recipients:
            return False
        message = _connection_broken_text(team, reason)
        return _claim_and_send(session, team_id, CONNECTION_BROKEN, now, recipients, message, item_count=1)


def _connection_broken_text(team: Team, reason: str) -> tuple[str, str]:
    info = explain("invalid_grant")
    subject = f"Salesforce needs reconnecting for {team.name}"
    body = "\n".join(
        [
            "Hello,",
            "",
            f"The Salesforce connection of {team.name} stopped working, so bookings are no longer sent to Salesforce.",
            f"Salesforce said: {reason or 'nothing more'}",
            "",
            f"Cause: {info.cause}",
            f"What to do: {info.remedy}",
            "",
            f"Reconnect here: {public_url('salesforce.page', team_id=team.id)}",
            "",
            "Bookings made meanwhile wait and are sent to Salesforce once the connection works again.",
            f"Waiting syncs: {public_url('sync_errors.errors', team_id=team.id, state=SyncStatus.WAITING.value)}",
            "",
            _footer(team),
        ]
    )
    return subject, body


# --- the daily digest --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCount:
    code: str
    count: int


def send_due_digests(now: datetime | None = None) -> int:
    """Send today's digest to every team with failures since its last digest and none sent today; how many
    digests went out. Run it regularly (the sweep does, see docs/operations.md): the first run of a UTC day
    that finds new failures sends them, later ones that day send nothing."""
    now = now or utcnow()
    sent = 0
    with db.session_factory() as session:
        for team_id, counts in new_failures_by_team(session, now).items():
            sent += send_digest(session, team_id, counts, now)
    return sent


def new_failures_by_team(session: Session, now: datetime) -> dict[int, list[CodeCount]]:
    """Failed syncs per team and code, finished since the team's last digest (or the last day), for teams that
    have had no digest today."""
    last_digest = (
        select(func.max(NotificationLog.sent_at))
        .where(NotificationLog.team_id == SyncJob.team_id, NotificationLog.kind == DAILY_DIGEST)
        .scalar_subquery()
    )
    sent_today = (
        select(NotificationLog.id)
        .where(
            NotificationLog.team_id == SyncJob.team_id,
            NotificationLog.kind == DAILY_DIGEST,
            NotificationLog.day == now.date(),
        )
        .exists()
    )
    since = func.coalesce(last_digest, now - timedelta(days=1))
    rows = session.execute(
        select(SyncJob.team_id, SyncJob.error_code, func.count())
        .where(SyncJob.status == SyncStatus.FAILED, SyncJob.finished_at > since, SyncJob.finished_at <= now)
        .where(~sent_today)
        .group_by(SyncJob.team_id, SyncJob.error_code)
        .order_by(SyncJob.team_id, func.count().desc(), SyncJob.error_code)
    ).all()
    by_team: dict[int, list[CodeCount]] = defaultdict(list)
    for team_id, code, count in rows:
        by_team[team_id].append(CodeCount(code, count))
    return dict(by_team)


def send_digest(session: Session, team_id: int, counts: list[CodeCount], now: datetime) -> bool:
    team = session.get(Team, team_id)
    recipients = recipients_of(session, team_id)
    if team is None or not recipients or not counts:
        return False
    message = _digest_text(team, counts)
    total = sum(c.count for c in counts)
    return _claim_and_send(session, team_id, DAILY_DIGEST, now, recipients, message, item_count=total)


def _digest_text(team: Team, counts: list[CodeCount]) -> tuple[str, str]:
    total = sum(c.count for c in counts)
    plural = "s" if total != 1 else ""
    subject = f"{total} booking{plural} of {team.name} could not be sent to Salesforce"
    lines = [
        "Hello,",
        "",
        f"Since the last summary, {total} booking{plural} of {team.name} failed to reach Salesforce:",
    ]
    for item in counts:
        info = explain(item.code)
        lines += [
            "",
            f"{problem_words(item.code)}: {item.count} booking{'s' if item.count != 1 else ''}",
            f"  Cause: {info.cause}",
            f"  What to do: {info.remedy}",
            f"  See them: {public_url('sync_errors.errors', team_id=team.id, code=item.code, state=SyncStatus.FAILED.value)}",
        ]
    lines += [
        "",
        f"All failed syncs: {public_url('sync_errors.errors', team_id=team.id)}",
        "",
        "At most one such summary is sent a day.",
        _footer(team),
    ]
    return subject, "\n".join(lines)


@click.command("send-sync-digests")
def send_sync_digests_command() -> None:
    """Send today's digest of new sync failures to each team that has some and has had none today."""
    sent = send_due_digests()
    click.echo(f"Sent {sent} digest{'s' if sent != 1 else ''}.")


# --- recipients, claiming and sending ----------------------------------------------------------------------------


def recipients_of(session: Session, team_id: int) -> list[str]:
    """The verified e-mail addresses of the team's owners and admins (admin assistants and members get none)."""
    return list(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team_id, Membership.role.in_(RECIPIENT_ROLES), User.email_verified)
            .order_by(User.email)
        )
    )


def _claim_and_send(
    session: Session,
    team_id: int,
    kind: str,
    now: datetime,
    recipients: list[str],
    text: tuple[str, str],
    item_count: int,
) -> bool:
    """Record the message as sent today (unless it already was), then send it; on failure forget the record."""
    claim = session.scalar(
        insert(NotificationLog)
        .values(team_id=team_id, kind=kind, day=now.date(), sent_at=now, recipients=recipients, item_count=item_count)
        .on_conflict_do_nothing(index_elements=["team_id", "kind", "day"])
        .returning(NotificationLog.id)
    )
    session.commit()
    if claim is None:
        return False  # already sent today
    if send_mail(recipients, *text):
        return True
    session.execute(delete(NotificationLog).where(NotificationLog.id == claim))  # let a later run try again
    session.commit()
    return False


def send_mail(recipients: list[str], subject: str, body: str) -> bool:
    """One message per recipient; False (logged, never raised) when the mail server fails."""
    return mail.send(
        lambda: [_message(recipient, subject, body) for recipient in recipients],
        f"{subject!r} to {len(recipients)} recipients",
    )


def _message(recipient: str, subject: str, body: str) -> EmailMessage:
    message = mail.new_message(subject, recipient)
    message.set_content(body)
    return message


def _footer(team: Team) -> str:
    return f"You receive this as an owner or admin of {team.name} on the Scheduling Portal."
