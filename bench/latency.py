"""bench/latency: with idle workers, the time from a booking's commit to its Salesforce write. Target: p95 under
300 ms.

Bookings are made one at a time through the booking service (the outbox enqueues the job right after the commit)
with a pause between them, so a worker is always idle and waiting. For each booking, the time is the emulator's
log time of the Composite write (taken when the request arrives) minus the booking's created_at, minus the
emulator latency of each call the sync made before the write (the Composite read), which is the emulator
standing in for Salesforce's own response time, not the portal's.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import datetime

from portal.extensions import db
from portal.models import Booking, SyncStatus

from .common import WORKER_CLASSES, Bench, figure, note, percentile
from .seed import Booker, wait_for_syncs
from .world import SyncWorld, instance_calls, sync_world

WRITE_METHODS = {"POST", "PATCH", "DELETE"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=100, help="bookings measured (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="idle RQ workers (default 2)")
    parser.add_argument("--latency-ms", type=int, default=100, help="emulator latency per call (default 100)")
    parser.add_argument("--worker-class", choices=WORKER_CLASSES[:2], default="simple")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 3 bookings")
    args = parser.parse_args(argv)
    if args.quick:
        args.bookings = 3
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    with Bench("latency") as bench:
        world = sync_world(bench, latency_ms=args.latency_ms)
        bench.workers(world.app, args.workers, args.worker_class).wait_registered()
        booker = Booker(world.app)
        note(f"latency: {args.bookings} bookings, one at a time, {args.workers} idle {args.worker_class} workers")
        samples = [measure_one(world, booker, n, args.latency_ms) for n in range(args.bookings)]
    figure(
        "latency",
        measure="commit_to_salesforce_write",
        worker_class=args.worker_class,
        samples=len(samples),
        emulator_latency_ms=args.latency_ms,
        p50_ms=percentile(samples, 0.50),
        p95_ms=percentile(samples, 0.95),
        max_ms=max(samples),
    )


def measure_one(world: SyncWorld, booker: Booker, n: int, latency_ms: int) -> float:
    """Milliseconds from this booking's commit to its write reaching the emulator, less the emulator's latency
    for the calls before the write."""
    time.sleep(random.uniform(0.2, 0.5))  # the workers are idle, blocked on the queue, when the booking commits
    seen = _last_seq(world)
    booking_id = booker.book(world.calendar_id, f"latency-{n}@guests.example", name=f"Guest {n}")
    states = wait_for_syncs(world.app, [booking_id], timeout=60, poll=0.05)
    if states.get(SyncStatus.SYNCED) != 1:
        raise SystemExit(f"booking {booking_id} did not sync: {dict(states)}; see {world.bench.logs}")
    calls = instance_calls(world.control.request_log(since=seen))
    write_index = next(i for i, entry in enumerate(calls) if _is_write(entry))
    written = _log_time(calls[write_index]["time"])
    with world.app.app_context():
        committed = db.session.get(Booking, booking_id).created_at
        db.session.remove()
    return (written - committed).total_seconds() * 1000 - write_index * latency_ms


def _last_seq(world: SyncWorld) -> int:
    entries = world.control.request_log()
    return entries[-1]["seq"] if entries else 0


def _is_write(entry: dict) -> bool:
    try:
        requests = json.loads(entry["body"]).get("compositeRequest", [])
    except (ValueError, AttributeError):
        return entry["method"] in WRITE_METHODS
    return any(request.get("method", "GET").upper() in WRITE_METHODS for request in requests)


def _log_time(text: str) -> datetime:
    """The emulator logs times as Salesforce formats them: 2024-01-02T15:41:15.123+0000."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


if __name__ == "__main__":
    main()
