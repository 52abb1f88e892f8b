"""What each sync attempt records: a deferral near the org's daily API limit takes no attempt, the cause of a
failure says what actually happened, and every request is counted as Salesforce counts it.

Attempts run in this process (`portal.sync.service.run`, as the worker's job does), one after another, against
the emulator over HTTP; no worker runs, so nothing races the test for a job."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import SyncAttempt, SyncStatus
from portal.sync import service
from portal.sync_errors.presenters import explain_sync
from tests.sync_world import World, open_sync_app

NEAR_LIMIT_DELAY = 2


@pytest.fixture(scope="module")
def accounting_app(base_config, database_factory):
    with open_sync_app(
        base_config, database_factory("accounting"), "accounting", SYNC_NEAR_LIMIT_DELAY_SECONDS=NEAR_LIMIT_DELAY
    ) as app:
        yield app


@pytest.fixture
def world(accounting_app, salesforce_emulator, salesforce_control) -> World:
    return World.create(accounting_app, salesforce_emulator, salesforce_control)


@pytest.fixture
def portal_log(caplog):
    """The portal's own log records (its logger does not propagate to the root one caplog watches)."""
    logger = logging.getLogger("portal")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="portal")
    yield caplog
    logger.removeHandler(caplog.handler)


def _run(world: World, job_id: int) -> str:
    with world.app.app_context():
        try:
            return service.run(job_id)
        finally:
            db.session.remove()


def _run_until(world: World, job_id: int, outcomes: tuple[str, ...], timeout: float = 30) -> list[str]:
    """Run the job's attempts as they come due until one ends in `outcomes`; returns every result seen."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while not seen or not seen[-1].startswith(outcomes):
        assert time.monotonic() < deadline, f"no attempt ended in {outcomes}: {seen}"
        result = _run(world, job_id)
        if result != "not claimed":
            seen.append(result)
        else:
            time.sleep(0.2)
    return seen


def _attempts(world: World, job_id: int) -> list[SyncAttempt]:
    with world.app.app_context():
        attempts = db.session.scalars(
            select(SyncAttempt).where(SyncAttempt.sync_job_id == job_id).order_by(SyncAttempt.number)
        ).all()
        db.session.remove()
    return list(attempts)


def _errors_logged(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- near the daily API limit ----------------------------------------------------------------------------------


def test_a_sync_deferred_near_the_api_limit_syncs_once_the_budget_allows_without_an_error(world, portal_log):
    world.control.update_settings(daily_api_limit=1000)
    world.control.set_api_calls(950)  # the org has used 95% of today's calls elsewhere
    [first] = world.jobs(world.book("first.near@example.com", name="First"))
    assert _run(world, first.id) == "synced"  # usage was not known yet: this sync learns it

    [second] = world.jobs(world.book("second.near@example.com", name="Second"))
    assert _run(world, second.id) == "deferred"
    [deferred] = world.jobs(second.booking_id)
    assert (deferred.status, deferred.reason, deferred.attempts) == (SyncStatus.PENDING, "near_api_limit", 0)
    world.control.set_api_calls(100)  # the rolling 24 hours moved on: the org has room again

    results = _run_until(world, second.id, ("synced", "failed", "retry"))

    assert results[-1] == "synced", results
    [job] = world.jobs(second.booking_id)
    assert (job.status, job.attempts) == (SyncStatus.SYNCED, 1)
    assert [(a.number, a.outcome) for a in _attempts(world, job.id)] == [(1, "synced")]
    assert len(world.records("Lead", "second.near@example.com")) == 1
    assert world.connection().api_usage_used < 900  # the fresh reading the sync brought back
    assert _errors_logged(portal_log) == []


# -- what a failure says and what an attempt counts -------------------------------------------------------------


def test_a_sync_whose_every_read_was_dropped_fails_saying_the_read_failed_not_that_a_write_was_sent(world):
    world.control.add_fault("drop_connection", path=r"/query\?q=")  # every Composite read, no write
    [job] = world.jobs(world.book("dropped.read@example.com", name="Dropped Read"))

    results = _run_until(world, job.id, ("synced", "failed"))

    [job] = world.jobs(job.booking_id)
    assert (job.status, job.error_code, results[-1]) == (SyncStatus.FAILED, "READ_FAILED", "failed: READ_FAILED")
    cause = explain_sync(job.error_code, job.reason, job.error_fields, job.error_message).cause
    assert "reading" in cause and "nothing was written" in cause and "write was sent" not in cause
    attempts = _attempts(world, job.id)
    assert len(attempts) == 1 + len(world.app.config["SYNC_RETRY_BACKOFF_SECONDS"])
    assert {(a.error_code, a.api_calls) for a in attempts} == {("READ_FAILED", 1)}  # each sent its read
    assert [e for e in world.control.request_log() if e["listener"] == "instance" and e["status"]] == []
    assert world.records("Lead", "dropped.read@example.com") == []


def test_a_failed_attempt_counts_the_requests_it_sent(world):
    world.control.add_fault("service_unavailable", path="sobjects/Lead$", count=1)  # the write, once
    [job] = world.jobs(world.book("failed.write@example.com", name="Failed Write"))

    results = _run_until(world, job.id, ("synced", "failed"))

    assert results == ["retry: SERVER_UNAVAILABLE", "synced"]
    failed, synced = _attempts(world, job.id)
    assert (failed.error_code, failed.api_calls, len(failed.trail)) == ("SERVER_UNAVAILABLE", 2, 2)
    assert synced.api_calls == 2


def test_a_request_answered_401_is_not_counted_as_an_api_call(world):
    world.control.expire_access_tokens()  # the first request is refused; the client refreshes and sends it again
    before = world.control.api_calls()
    [job] = world.jobs(world.book("expired.token@example.com", name="Expired Token"))

    assert _run(world, job.id) == "synced"

    [attempt] = _attempts(world, job.id)
    statuses = [e["status"] for e in attempt.trail if e["target"] == "instance"]
    assert statuses == [401, 200, 200]
    assert attempt.api_calls == 2 == world.control.api_calls() - before  # as many as the org counted
