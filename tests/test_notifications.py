"""E-mail to owners and admins, delivered to a real local SMTP server (aiosmtpd): the message when the Salesforce
connection breaks, the daily digest (never twice a day), nobody else, and a dead mail server breaks nothing."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.models import ConnectionStatus, NotificationLog, Role, SyncJob, SyncStatus
from portal.notifications import CONNECTION_BROKEN, DAILY_DIGEST, notify_connection_broken, send_due_digests
from portal.salesforce import signals
from portal.sync.service import run
from tests.sync_factories import make_booking, make_sync
from tests.sync_world import World

NOW = datetime(2031, 5, 6, 9, 30, tzinfo=UTC)


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    @property
    def recipients(self) -> list[str]:
        return sorted(message["To"].addresses[0].addr_spec for message in self.messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(app, monkeypatch):
    """A real SMTP server on a free local port, with the app pointed at it for this test."""
    port = free_port()
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example.test")
    yield handler
    controller.stop()


@pytest.fixture
def mail_server_down(app, monkeypatch):
    """Nothing listens on the configured SMTP port."""
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())


@pytest.fixture
def team(factory, db_session):
    """A team whose owner and admin get e-mail; its admin assistant, members and an unverified admin do not."""
    team = factory.team(name="Acme")
    people = {
        "owner": factory.member(team, Role.OWNER, email="owner@acme.test"),
        "admin": factory.member(team, Role.ADMIN, email="admin@acme.test"),
        "assistant": factory.member(team, Role.ADMIN_ASSISTANT, email="assistant@acme.test"),
        "member": factory.member(team, Role.MEMBER, email="member@acme.test"),
        "unverified": factory.member(team, Role.ADMIN, email="unverified@acme.test", verified=False),
    }
    team.calendar = factory.calendar(team, created_by=people["member"], name="Intro call")
    return team


def failed_sync(db_session, team, code="REQUIRED_FIELD_MISSING", finished_at=NOW - timedelta(hours=2), **fields):
    return make_sync(
        db_session, make_booking(db_session, team.calendar), error_code=code, finished_at=finished_at, **fields
    )


def log_rows(db_session, team, kind) -> list[NotificationLog]:
    return list(
        db_session.scalars(
            select(NotificationLog).where(NotificationLog.team_id == team.id, NotificationLog.kind == kind)
        )
    )


# --- the connection breaks -----------------------------------------------------------------------------------------


def test_a_broken_connection_is_mailed_at_once_to_owners_and_admins(app, inbox, team, db_session):
    signals.connection_broken.send(
        app, team_id=team.id, connection_id=1, reason="invalid_grant: expired access/refresh token"
    )

    assert inbox.recipients == ["admin@acme.test", "owner@acme.test"]
    message = inbox.messages[0]
    body = message.get_content()
    assert message["Subject"] == "Salesforce needs reconnecting for Acme"
    assert "invalid_grant: expired access/refresh token" in body
    assert 'refresh token policy to "valid until revoked"' in body
    assert f"https://portal.example.test/teams/{team.id}/settings/integrations/salesforce" in body
    [row] = log_rows(db_session, team, CONNECTION_BROKEN)
    assert sorted(row.recipients) == ["admin@acme.test", "owner@acme.test"]


def test_a_connection_breaking_again_the_same_day_is_not_mailed_twice(app, inbox, team, db_session):
    assert notify_connection_broken(team.id, "invalid_grant", now=NOW) is True
    assert notify_connection_broken(team.id, "invalid_grant", now=NOW + timedelta(hours=1)) is False

    assert len(inbox.messages) == 2  # one each to the owner and the admin


def test_a_broken_connection_with_the_mail_server_down_raises_nothing_and_can_be_sent_later(
    app, mail_server_down, team, db_session
):
    signals.connection_broken.send(app, team_id=team.id, connection_id=1, reason="invalid_grant")

    assert log_rows(db_session, team, CONNECTION_BROKEN) == []  # the claim was released for a later try


# --- the daily digest ----------------------------------------------------------------------------------------------


def test_the_digest_lists_new_failures_by_code_with_causes_remedies_and_links(app, inbox, team, db_session):
    for _ in range(2):
        failed_sync(db_session, team)
    failed_sync(db_session, team, code="STRING_TOO_LONG", error_fields=["Title"])
    failed_sync(db_session, team, finished_at=NOW - timedelta(days=2))  # before the last day: not new
    failed_sync(db_session, team, status=SyncStatus.DISMISSED)
    failed_sync(db_session, team, status=SyncStatus.SYNCED, code="")

    assert send_due_digests(now=NOW) == 1

    assert inbox.recipients == ["admin@acme.test", "owner@acme.test"]
    message = inbox.messages[0]
    body = message.get_content()
    assert message["Subject"] == "3 bookings of Acme could not be sent to Salesforce"
    required, too_long = "A field Salesforce requires was blank", "The guest's answer is longer than"
    assert f"{required} (for example Company): 2 bookings" in body
    assert f"{too_long} the Salesforce field allows (it is never shortened): 1 booking" in body
    assert body.index(required) < body.index(too_long)  # the most frequent first
    assert not re.search(r"^[A-Z_]{6,}", body, re.M)  # codes only in the links' filters, not as words
    assert "Make that booking question required, or give the mapping row a fallback value." in body
    errors = f"https://portal.example.test/teams/{team.id}/salesforce/errors"
    assert f"{errors}?code=STRING_TOO_LONG&state=failed" in body
    [row] = log_rows(db_session, team, DAILY_DIGEST)
    assert (row.day, row.item_count) == (NOW.date(), 3)


def test_no_second_digest_goes_out_the_same_day(app, inbox, team, db_session):
    failed_sync(db_session, team)
    assert send_due_digests(now=NOW) == 1
    failed_sync(db_session, team, finished_at=NOW + timedelta(hours=1))

    assert send_due_digests(now=NOW + timedelta(hours=2)) == 0
    assert send_due_digests(now=NOW.replace(hour=23, minute=59)) == 0

    assert len(inbox.messages) == 2 and len(log_rows(db_session, team, DAILY_DIGEST)) == 1


def test_the_next_days_digest_lists_only_failures_since_the_last_one(app, inbox, team, db_session):
    failed_sync(db_session, team, code="STRING_TOO_LONG")
    send_due_digests(now=NOW)
    failed_sync(db_session, team, finished_at=NOW + timedelta(hours=3))
    inbox.messages.clear()

    assert send_due_digests(now=NOW + timedelta(days=1)) == 1

    body = inbox.messages[0].get_content()
    assert "A field Salesforce requires was blank (for example Company): 1 booking" in body
    assert "The guest's answer is longer than" not in body


def test_a_team_without_new_failures_gets_no_digest(app, inbox, team, db_session):
    failed_sync(db_session, team, status=SyncStatus.SYNCED, code="")

    assert send_due_digests(now=NOW) == 0
    assert inbox.messages == []


def test_nothing_is_mailed_to_admin_assistants_members_or_unverified_addresses(app, inbox, team, db_session):
    failed_sync(db_session, team)

    send_due_digests(now=NOW)
    notify_connection_broken(team.id, "invalid_grant", now=NOW)

    assert set(inbox.recipients) == {"admin@acme.test", "owner@acme.test"}


def test_a_team_with_no_owner_or_admin_to_tell_gets_nothing(app, inbox, factory, db_session):
    lonely = factory.team(name="Lonely")
    member = factory.member(lonely, Role.MEMBER)
    lonely.calendar = factory.calendar(lonely, created_by=member)
    failed_sync(db_session, lonely)

    assert send_due_digests(now=NOW) == 0
    assert inbox.messages == [] and log_rows(db_session, lonely, DAILY_DIGEST) == []


def test_a_digest_the_mail_server_refused_is_sent_by_a_later_run(app, team, db_session, monkeypatch):
    failed_sync(db_session, team)
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())

    assert send_due_digests(now=NOW) == 0
    assert log_rows(db_session, team, DAILY_DIGEST) == []

    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        assert send_due_digests(now=NOW + timedelta(minutes=10)) == 1
    finally:
        controller.stop()
    assert len(handler.messages) == 2


def test_the_digest_command_sends_due_digests(app, inbox, team, db_session):
    failed_sync(db_session, team, finished_at=datetime.now(UTC) - timedelta(minutes=5))

    result = app.test_cli_runner().invoke(args=["send-sync-digests"])

    assert result.exit_code == 0 and "Sent 1 digest." in result.output
    assert len(inbox.messages) == 2


# --- end to end: a sync finds the grant revoked ------------------------------------------------------------------


@pytest.fixture
def revoked_world(make_app, salesforce_emulator, salesforce_control, run_id):
    """A connected team whose grant Salesforce has just revoked, and a booking whose sync is due."""

    def make(**config):
        app = make_app(RQ_QUEUE_PREFIX=f"notify{run_id}", PUBLIC_BASE_URL="https://portal.example.test", **config)
        world = World.create(app, salesforce_emulator, salesforce_control)
        salesforce_control.revoke_all_tokens()
        booking_id = world.book("gita@example.com")
        return app, world, booking_id

    return make


def run_sync_in_process(app, world: World, booking_id: int) -> SyncJob:
    [job] = world.jobs(booking_id)
    with app.app_context():
        run(job.id)
        db.session.remove()
    [job] = world.jobs(booking_id)
    return job


def test_a_sync_that_finds_the_grant_revoked_mails_owners_and_admins_at_once(revoked_world):
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app, world, booking_id = revoked_world(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        job = run_sync_in_process(app, world, booking_id)
    finally:
        controller.stop()

    assert (job.status, job.reason) == (SyncStatus.WAITING, "needs_reconnect")
    assert len(handler.messages) == 2  # the owner and the admin of World's team
    assert handler.messages[0]["Subject"].startswith("Salesforce needs reconnecting for ")
    assert "invalid_grant" in handler.messages[0].get_content()


def test_a_sync_is_still_recorded_when_the_mail_server_is_down(revoked_world):
    app, world, booking_id = revoked_world(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())

    job = run_sync_in_process(app, world, booking_id)

    assert (job.status, job.reason) == (SyncStatus.WAITING, "needs_reconnect")
    assert world.connection().status == ConnectionStatus.NEEDS_RECONNECT
    with app.app_context():
        assert db.session.scalars(select(NotificationLog)).all() == []  # nothing claims a message that never went
        db.session.remove()
