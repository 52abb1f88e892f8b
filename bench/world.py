"""The set-up every sync benchmark shares: a private Redis, the Salesforce emulator, a fresh database, the app and
a premium team connected to the emulator; plus reading the emulator's request log and holding bookings back
from the queue so a run can release them all at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SyncJob, SyncStatus

from .common import Bench, PrivateRedis
from .seed import Booker, SeededTeam, add_integrated_calendar, connect_salesforce, reconnect_salesforce, seed_team

# Far above what a run uses: the org's daily limit is not what these benchmarks measure (the engine would slow
# down near it, by design).
DAILY_API_LIMIT = 10_000_000
TOKEN_PATH = "/services/oauth2/token"


@dataclass
class SyncWorld:
    bench: Bench
    redis: PrivateRedis
    emulator: object
    control: object
    database_url: str
    app: Flask
    team: SeededTeam
    calendar_id: int  # a Lead integration with the Event, the common case


def sync_world(bench: Bench, *, latency_ms: int = 0, **app_settings) -> SyncWorld:
    redis = bench.private_redis()
    emulator, control = bench.salesforce(latency_ms=latency_ms, daily_api_limit=DAILY_API_LIMIT)
    database_url = bench.database()
    app = bench.app(
        database_url,
        redis.url,
        salesforce=emulator,
        PUBLIC_BASE_URL="https://portal.example",  # Events link the booking page; a deployment always sets it
        **app_settings,
    )
    team = seed_team(app, bench.label)
    connect_salesforce(app, team, emulator, control)
    calendar_id = add_integrated_calendar(app, team, "lead_with_event")
    control.clear_log()
    return SyncWorld(bench, redis, emulator, control, database_url, app, team, calendar_id)


def fresh_org(world: SyncWorld, latency_ms: int) -> None:
    """Empty the emulator's org (records, tokens, log), so every run of a benchmark finds it as the first did: the
    emulator scans its records to answer a query, so a fuller org costs it more CPU on this shared machine."""
    world.control.reset()
    world.control.update_settings(latency_ms=latency_ms, daily_api_limit=DAILY_API_LIMIT)
    reconnect_salesforce(world.app, world.team, world.control)
    world.control.clear_log()


def instance_calls(entries: list[dict]) -> list[dict]:
    """Requests to the org's instance that count as API calls (a Composite request is one)."""
    return [entry for entry in entries if entry["listener"] == "instance" and entry["api_call"]]


def token_calls(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["path"] == TOKEN_PATH]


def held_booker(world: SyncWorld) -> Booker:
    """Books with an app whose Redis is unreachable: the sync jobs commit with their bookings, as in a Redis outage,
    and wait in the database until `release` enqueues them (the same app config otherwise)."""
    offline = world.bench.app(
        world.database_url,
        f"unix://{world.bench.logs}/no-redis-here.sock",
        salesforce=world.emulator,
        LOG_LEVEL="CRITICAL",  # the outbox logs every enqueue it could not make; expected here
        RQ_QUEUE_PREFIX=world.app.config["RQ_QUEUE_PREFIX"],
    )
    return Booker(offline)


def release(app: Flask, booking_ids: list[int]) -> None:
    """Enqueue the first attempt of these bookings' pending sync jobs (what the outbox does after a commit)."""
    from portal.sync.schedule import enqueue_attempt

    with app.app_context():
        job_ids = db.session.scalars(
            select(SyncJob.id)
            .where(SyncJob.booking_id.in_(booking_ids), SyncJob.status == SyncStatus.PENDING)
            .order_by(SyncJob.id)
        ).all()
        db.session.remove()
        for job_id in job_ids:
            enqueue_attempt(job_id, attempt=1)


def last_finished(app: Flask, booking_ids: list[int]) -> datetime | None:
    with app.app_context():
        moment = db.session.scalar(select(func.max(SyncJob.finished_at)).where(SyncJob.booking_id.in_(booking_ids)))
        db.session.remove()
    return moment
