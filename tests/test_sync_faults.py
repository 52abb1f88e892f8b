"""Faults the sync engine must survive without losing or doubling anything: a write whose answer is lost after
Salesforce committed it, a worker killed mid-job, and Redis flushed with jobs queued. Each ends, after the sweep,
with every booking synced once and no duplicate record or Event."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
from redis import Redis

from portal.extensions import db
from portal.models import SyncStatus
from portal.sync.schedule import sweep
from tests.fixtures.services import WorkerProcesses
from tests.sync_world import World, next_slot, open_sync_app

LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def fault_app(base_config, database_factory):
    with open_sync_app(base_config, database_factory("faults"), "faults", SYNC_LEASE_SECONDS=LEASE_SECONDS) as app:
        yield app


@pytest.fixture
def world(fault_app, salesforce_emulator, salesforce_control) -> World:
    return World.create(fault_app, salesforce_emulator, salesforce_control)


@pytest.fixture
def workers():
    processes = WorkerProcesses()
    yield processes
    processes.stop()


def _sweep_until_synced(app, world: World, booking_ids: list[int], timeout: float = 60) -> None:
    """Run the sweep (as `python -m jobs.sweep` does) until every booking's job is synced."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            sweep(db.session)
            db.session.remove()
        statuses = [job.status for booking_id in booking_ids for job in world.jobs(booking_id)]
        if statuses and all(status == SyncStatus.SYNCED for status in statuses):
            return
        assert time.monotonic() < deadline, f"not all synced: {statuses}"
        time.sleep(0.5)


def _assert_synced_once(world: World, emails: list[str]) -> None:
    for email in emails:
        [lead] = world.records("Lead", email)
        assert len(world.events_for(lead["Id"])) == 1, f"duplicate Events for {email}"


def test_a_write_whose_answer_was_lost_after_commit_is_found_not_repeated(fault_app, world, workers):
    workers.start(fault_app, 1)
    world.control.add_fault("drop_after_commit", path="sobjects/Lead$", method="POST", count=1)

    booking_id = world.book("dropped@example.com", name="Dropped Answer")

    [job] = world.wait(booking_id)
    assert job.status == SyncStatus.SYNCED and job.attempts == 2
    assert "found Event already created" in job.action_taken
    _assert_synced_once(world, ["dropped@example.com"])


def test_a_worker_killed_mid_job_loses_nothing_once_the_lease_expires(fault_app, world, workers):
    [worker] = workers.start(fault_app, 1)
    world.control.update_settings(latency_ms=1500)
    booking_id = world.book("killed@example.com", name="Killed Worker")
    world.wait(booking_id, statuses=(SyncStatus.RUNNING,), timeout=30)

    for process in [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]:
        os.kill(process.pid, signal.SIGKILL)
    world.control.update_settings(latency_ms=0)
    workers.start(fault_app, 1)

    _sweep_until_synced(fault_app, world, [booking_id])
    _assert_synced_once(world, ["killed@example.com"])


def test_redis_flushed_with_jobs_queued_loses_nothing_after_the_sweep(fault_app, world, workers, redis_url, run_id):
    emails = [f"flushed{n}@example.com" for n in range(3)]
    booking_ids = [world.book(email, name=f"Flushed {n}") for n, email in enumerate(emails)]
    redis = Redis.from_url(redis_url)
    assert redis.dbsize() > 0
    redis.flushdb()  # this test suite's own Redis database index
    redis.set("portal-test-suite-lock", run_id, ex=6 * 3600)

    workers.start(fault_app, 2)

    _sweep_until_synced(fault_app, world, booking_ids)
    _assert_synced_once(world, emails)
    assert len(world.records("Lead")) == 3


def test_two_bookings_of_one_guest_at_one_start_get_an_event_each_even_when_an_answer_is_lost(
    fault_app, salesforce_emulator, salesforce_control, workers
):
    world = World.create(fault_app, salesforce_emulator, salesforce_control, hosts=2)
    workers.start(fault_app, 1)
    world.control.add_fault("drop_after_commit", path="sobjects/Event$", method="POST", count=1)
    start = next_slot()

    first = world.book("twice@example.com", name="Twice Booked", start=start)
    second = world.book("twice@example.com", name="Twice Booked", start=start)

    jobs = [*world.wait(first), *world.wait(second)]
    assert [job.status for job in jobs] == [SyncStatus.SYNCED] * 2
    assert sorted(job.attempts for job in jobs) == [1, 2], "one write's answer was lost and retried"
    [lead] = world.records("Lead", "twice@example.com")
    events = world.events_for(lead["Id"])
    assert len(events) == 2, "one Event per booking, none doubled, none merged"
    markers = sorted(event["Description"].splitlines()[0] for event in events)
    assert markers == sorted(f"Booking reference: {booking_id}" for booking_id in (first, second))
    assert {job.sf_event_id for job in jobs} == {event["Id"] for event in events}
