"""bench/throughput: sync throughput with the emulator answering after a fixed latency per call (default 100 ms).

For each W in --workers (1, 2, 4, 8), N bookings are committed while held back from the queue, then released at
once to W real workers against an emptied org; bookings/s is N over the time from the release to the last job's
finish, and the ratio compares it with the bound W / (calls per booking x latency). Target: at least 0.9 for every W.

SQL statements and commits per sync are counted in the workers with SQLAlchemy engine events (bench.sql_counter):
every statement the worker processes send while the run's jobs are worked off, divided by the bookings.

CPU per booking is reported for the workers (with their work horses) and for this process, which is mostly the
emulator standing in for Salesforce; PostgreSQL, Redis and the rest share what is left of the machine.

First it measures RQ's per-job cost for each worker class with a probe job (one database round trip through the
portal's session): fork (rq.Worker), simple (rq.SimpleWorker, what jobs.worker runs) and spawn (rq.SpawnWorker).
"""

from __future__ import annotations

import argparse
import time

from flask import Flask
from rq import Queue
from rq.registry import FinishedJobRegistry

from portal.extensions import queue_name

from .common import WORKER_CLASSES, Bench, figure, note
from .seed import wait_for_syncs
from .world import SyncWorld, fresh_org, held_booker, instance_calls, last_finished, release, sync_world


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts to run (default 1,2,4,8)")
    parser.add_argument("--bookings", type=int, default=300, help="bookings per worker count (default 300)")
    parser.add_argument("--latency-ms", type=int, default=100, help="emulator latency per call (default 100)")
    parser.add_argument("--worker-class", choices=WORKER_CLASSES[:2], default="simple", help="for the sync runs")
    parser.add_argument("--probe-jobs", type=int, default=200, help="probe jobs per worker class (spawn: a tenth)")
    parser.add_argument("--quick", action="store_true", help="a tiny run: W=1,2, 6 bookings, 6 probe jobs")
    args = parser.parse_args(argv)
    if args.quick:
        args.workers, args.bookings, args.probe_jobs = "1,2", 6, 6
    args.workers = [int(w) for w in args.workers.split(",")]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    lines = []
    with Bench("throughput") as bench:
        world = sync_world(bench, latency_ms=args.latency_ms)
        for worker_class in WORKER_CLASSES:
            jobs = args.probe_jobs if worker_class != "spawn" else max(3, args.probe_jobs // 10)
            per_job = probe_cost(world, worker_class, jobs)
            lines.append(("rq_job_cost", dict(worker_class=worker_class, jobs=jobs, per_job_ms=per_job * 1000)))
        booker = held_booker(world)
        for workers in args.workers:
            lines.append(("throughput", sync_run(world, booker, workers, args)))
    for name, fields in lines:
        figure(name, **fields)


def probe_cost(world: SyncWorld, worker_class: str, jobs: int) -> float:
    """Seconds per probe job for one worker of this class, from enqueueing them all to the last one finished."""
    pool = world.bench.workers(world.app, 1, worker_class)
    pool.wait_registered()
    redis = world.redis.client()
    queue = Queue(queue_name(world.app.config, "sync"), connection=redis)
    finished = FinishedJobRegistry(queue=queue)
    before = finished.count
    note(f"probe: {jobs} jobs on one {worker_class} worker")
    began = time.monotonic()
    for _ in range(jobs):
        queue.enqueue("bench.probe.touch_database", result_ttl=600)
    while finished.count - before < jobs:
        if time.monotonic() - began > 300:
            raise SystemExit(f"probe jobs on the {worker_class} worker did not finish; see {world.bench.logs}")
        time.sleep(0.01)
    elapsed = time.monotonic() - began
    pool.stop()
    return elapsed / jobs


def sync_run(world: SyncWorld, booker, workers: int, args) -> dict:
    pool = world.bench.workers(world.app, workers, args.worker_class, count_sql=True)
    pool.wait_registered()
    note(f"throughput: committing {args.bookings} bookings for {workers} {args.worker_class} worker(s)")
    booking_ids = [
        booker.book(world.calendar_id, f"tp{workers}-{n}@guests.example", name=f"Guest {n}")
        for n in range(args.bookings)
    ]
    fresh_org(world, args.latency_ms)
    workers_cpu, own_cpu = pool.cpu_seconds(), time.process_time()
    began = time.time()
    release(world.app, booking_ids)
    states = wait_for_syncs(world.app, booking_ids, timeout=600, poll=0.5)
    elapsed = last_finished(world.app, booking_ids).timestamp() - began
    workers_cpu, own_cpu = pool.cpu_seconds() - workers_cpu, time.process_time() - own_cpu
    pool.stop()
    sql = pool.sql_counts()
    _require_all_synced(world.app, states, len(booking_ids))
    calls = len(instance_calls(world.control.request_log())) / len(booking_ids)
    rate = len(booking_ids) / elapsed
    bound = workers / (calls * args.latency_ms / 1000)
    return dict(
        workers=workers,
        worker_class=args.worker_class,
        bookings=len(booking_ids),
        latency_ms=args.latency_ms,
        calls_per_booking=calls,
        bookings_per_s=rate,
        bound_per_s=bound,
        ratio=rate / bound,
        worker_cpu_ms_per_booking=workers_cpu * 1000 / len(booking_ids),
        emulator_cpu_ms_per_booking=own_cpu * 1000 / len(booking_ids),
        sql_statements_per_sync=sql["statements"] / len(booking_ids),
        commits_per_sync=sql["commits"] / len(booking_ids),
    )


def _require_all_synced(app: Flask, states: dict, expected: int) -> None:
    synced = sum(count for status, count in states.items() if status.value == "synced")
    if synced != expected:
        raise SystemExit(f"only {synced} of {expected} bookings synced: {dict(states)}")


if __name__ == "__main__":
    main()
