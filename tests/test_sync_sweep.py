"""The sweep and dead RQ workers. A row still pending long after it came due whose RQ job is not waiting in the
queue (scheduled: the worker running RQ's scheduler was killed, its lock outlives it and other workers retake it
only every 10 minutes; taken or started: its worker was killed before claiming the row) is enqueued again by the
sweep. One waiting behind a backlog is not doubled, and one that has only just come due is left to RQ."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from portal.extensions import queue_name, queues
from portal.models import SyncJob, SyncStatus, utcnow
from portal.sync.schedule import RUN_SYNC_JOB, rq_job_id, sweep
from tests.sync_factories import make_booking


@pytest.fixture
def sync_queue(app) -> Queue:
    queue = Queue(queue_name(app.config, "sync"), connection=queues.redis)
    queue.empty()
    for key in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.remove(key)
    yield queue
    queue.empty()


def _retry_scheduled_by_rq(db_session, factory, sync_queue: Queue, due_seconds_ago: float) -> str:
    """A pending row on its second attempt whose RQ job sits in the scheduled registry, due that long ago."""
    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people["owner"])
    due = utcnow() - timedelta(seconds=due_seconds_ago)
    job = SyncJob(
        team_id=team.id,
        calendar_id=calendar.id,
        booking_id=make_booking(db_session, calendar).id,
        event="created",
        status=SyncStatus.PENDING,
        attempts=1,
        next_attempt_at=due,
    )
    db_session.add(job)
    db_session.flush()
    key = rq_job_id(job.id, 2)
    sync_queue.enqueue_at(due, RUN_SYNC_JOB, job.id, job_id=key)
    return key


def test_a_retry_the_rq_scheduler_left_overdue_is_enqueued_by_the_sweep(app, db_session, factory, sync_queue):
    key = _retry_scheduled_by_rq(db_session, factory, sync_queue, due_seconds_ago=10 * 60)

    result = sweep(db_session)

    assert result.enqueued == 1
    assert sync_queue.get_job_ids() == [key]
    assert key not in sync_queue.scheduled_job_registry.get_job_ids()


def test_a_retry_that_just_came_due_is_left_to_the_rq_scheduler(app, db_session, factory, sync_queue):
    key = _retry_scheduled_by_rq(db_session, factory, sync_queue, due_seconds_ago=1)

    result = sweep(db_session)

    assert result.enqueued == 0
    assert sync_queue.get_job_ids() == []
    assert key in sync_queue.scheduled_job_registry.get_job_ids()


def _attempt_taken_by_a_worker(db_session, factory, sync_queue: Queue, due_seconds_ago: float) -> str:
    """A pending row whose RQ job a worker took (status started) and then died before claiming the row."""
    key = _retry_scheduled_by_rq(db_session, factory, sync_queue, due_seconds_ago)
    sync_queue.scheduled_job_registry.remove(key)
    Job.fetch(key, connection=sync_queue.connection).set_status(JobStatus.STARTED)
    return key


def test_an_attempt_whose_worker_died_before_claiming_the_row_is_enqueued_again(app, db_session, factory, sync_queue):
    key = _attempt_taken_by_a_worker(db_session, factory, sync_queue, due_seconds_ago=10 * 60)

    result = sweep(db_session)

    assert result.enqueued == 1
    assert sync_queue.get_job_ids() == [key]


def test_an_attempt_a_worker_just_took_is_left_to_it(app, db_session, factory, sync_queue):
    _attempt_taken_by_a_worker(db_session, factory, sync_queue, due_seconds_ago=1)

    result = sweep(db_session)

    assert result.enqueued == 0
    assert sync_queue.get_job_ids() == []


def test_an_attempt_taken_off_the_queue_by_a_worker_that_died_is_enqueued_again(app, db_session, factory, sync_queue):
    key = _retry_scheduled_by_rq(db_session, factory, sync_queue, due_seconds_ago=10 * 60)
    sync_queue.scheduled_job_registry.remove(key)
    sync_queue.enqueue_job(Job.fetch(key, connection=sync_queue.connection))
    sync_queue.connection.lrem(sync_queue.key, 1, key)  # what a worker's dequeue does; it died right after

    result = sweep(db_session)

    assert result.enqueued == 1
    assert sync_queue.get_job_ids() == [key]


def test_an_overdue_attempt_waiting_in_the_queue_behind_a_backlog_is_not_doubled(app, db_session, factory, sync_queue):
    key = _retry_scheduled_by_rq(db_session, factory, sync_queue, due_seconds_ago=10 * 60)
    sync_queue.scheduled_job_registry.remove(key)
    sync_queue.enqueue_job(Job.fetch(key, connection=sync_queue.connection))

    result = sweep(db_session)

    assert result.enqueued == 0
    assert sync_queue.get_job_ids() == [key]
