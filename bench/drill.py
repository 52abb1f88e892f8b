"""bench/drill: 1,000 bookings while everything that can go wrong does, then count in the emulator that each one
reached Salesforce exactly once. Prints `bookings=1000 synced=… lost=… duplicates=…` last.

While the bookings are made (through the booking service, as the booking page does): the emulator answers 10% of
data calls with 503, drops 5% of connections before processing and 2% after committing, expires the session every
100 calls with refresh-token rotation on; a busy worker is SIGKILLed (with its work horse) twice, and the private
Redis is restarted once (it keeps nothing: queued and scheduled jobs are gone). A supervisor loop replaces dead
workers as systemd would, and `python -m jobs.sweep` runs. Retries are compressed from minutes to seconds
(SYNC_RETRY_BACKOFF_SECONDS), leases to 15 s and the sweep interval to 2 s so the drill ends in minutes; the
logic is the product's. Then it waits for every sync to finish, runs the sweep once more, waits again, and counts.

`--backfill`: the same faults and chaos while the bookings, made earlier without syncs, are sent by one
"Send earlier bookings" backfill (batches of 200); the kills and the restart come as its progress passes 25%, 50%
and 75%.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time
from collections import Counter

from rq import Queue, Worker

from portal.extensions import queue_name
from portal.models import SyncStatus
from scripts.dev.services import ROOT

from .common import PYTHON, Bench, WorkerPool, figure, note
from .seed import FINAL, Booker, sync_states
from .world import SyncWorld, sync_world, token_calls

FAULT_SHARES = (("service_unavailable", 0.10), ("drop_connection", 0.05), ("drop_after_commit", 0.02))
DRILL_SETTINGS = dict(
    SYNC_RETRY_BACKOFF_SECONDS=[1, 1, 2, 2, 4, 4, 8, 8],
    SYNC_LEASE_SECONDS=15,
    SYNC_SWEEP_SECONDS=2,
    LOG_LEVEL="ERROR",  # a booking made while Redis is down logs a warning with its traceback; expected here
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="RQ workers (default 4)")
    parser.add_argument("--latency-ms", type=int, default=20, help="emulator latency per call (default 20)")
    parser.add_argument("--drain-timeout", type=float, default=420, help="seconds to wait for the syncs (420)")
    parser.add_argument("--backfill", action="store_true", help="send earlier bookings with a backfill instead")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 20 bookings, the same faults and chaos")
    args = parser.parse_args(argv)
    if args.quick:
        args.bookings = 20
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    with Bench("drill") as bench:
        world = sync_world(bench, latency_ms=args.latency_ms, **DRILL_SETTINGS)
        inject_faults(world.control)
        pool = bench.workers(world.app, args.workers)
        pool.wait_registered()
        bench.sweep(world.app)
        chaos = Chaos(world, pool, args.bookings)
        note(f"drill: {args.bookings} bookings with faults, 2 worker kills and a Redis restart")
        emails = [f"drill-{n}@guests.example" for n in range(args.bookings)]
        if args.backfill:
            backfill_with_chaos(world, chaos, emails, args.drain_timeout)
        else:
            booker = Booker(world.app)
            for n, email in enumerate(emails):
                booker.book(world.calendar_id, email, name=f"Guest {n}")
                chaos.after_booking(n)
        chaos.finish()
        states = drain(world, pool, emails, args.drain_timeout)
        note("drill: queue drained; one more sweep")
        subprocess.run([PYTHON, "-m", "jobs.sweep", "--once"], env=bench.environ(world.app), check=True, cwd=ROOT)
        states = drain(world, pool, emails, args.drain_timeout)
        counts = count_in_emulator(world.control, emails)
        log = world.control.request_log()
    faults = Counter(entry["fault"] for entry in log if entry["fault"])
    figure(
        "drill_faults",
        data_calls=sum(entry["path"].startswith("/services/data/") for entry in log),
        **{name: faults.get(name, 0) for name, _ in FAULT_SHARES},
        token_calls=len(token_calls(log)),
        worker_kills=chaos.kills,
        redis_restarts=chaos.redis_restarts,
        sync_states=",".join(f"{status.value}:{count}" for status, count in sorted(states.items())),
    )
    figure(f"bookings={len(emails)}", synced=counts["synced"], lost=counts["lost"], duplicates=counts["duplicates"])


def backfill_with_chaos(world: SyncWorld, chaos: Chaos, emails: list[str], timeout: float) -> None:
    """Send the bookings (made earlier, without syncs) with one backfill; chaos strikes as its progress passes."""
    from .backfill import backfill_progress, earlier_bookings, start_backfill

    earlier_bookings(world.app, world.calendar_id, emails)
    backfill_id = start_backfill(world.app, world.calendar_id)
    passed, deadline = 0, time.monotonic() + timeout
    while passed < len(emails) and time.monotonic() < deadline:
        done = backfill_progress(world.app, backfill_id)[1].done
        for n in range(passed, max(done, passed)):
            chaos.after_booking(n)
        chaos.supervise()
        passed = max(done, passed)
        time.sleep(0.2)


def inject_faults(control) -> None:
    """Rules are tried in order with independent draws, so each rate is conditional on the earlier ones missing:
    that makes the shares of all data calls exactly 10%, 5% and 2%."""
    control.update_settings(refresh_token_rotation=True, access_token_max_calls=100)
    remaining = 1.0
    for fault, share in FAULT_SHARES:
        control.add_fault(fault, rate=share / remaining)
        remaining -= share


class Chaos:
    """Two SIGKILLs of a busy worker (at 25% and 75% of the bookings) and a Redis restart at 50%, in a thread so
    bookings keep coming while Redis is down; dead workers are replaced after every booking."""

    def __init__(self, world: SyncWorld, pool: WorkerPool, bookings: int) -> None:
        self.world, self.pool = world, pool
        self.kill_at = {bookings // 4, (3 * bookings) // 4}
        self.restart_at = bookings // 2
        self.kills_due = self.kills = self.redis_restarts = 0
        self._restart: threading.Thread | None = None

    def after_booking(self, n: int) -> None:
        if n in self.kill_at:
            self.kills_due += 1
        if self.kills_due and self._kill_a_busy_worker():
            self.kills_due -= 1
        if n == self.restart_at:
            self._restart = threading.Thread(target=self._restart_redis)
            self._restart.start()
        self.supervise()

    def supervise(self) -> None:
        """Replace dead workers, as systemd would (not while Redis is down: they would die again at once)."""
        if self._restart is None or not self._restart.is_alive():
            self.pool.restart_dead()

    def finish(self) -> None:
        """Kills still due (no worker was busy yet) happen once one is."""
        if self._restart is not None:
            self._restart.join()
        deadline = time.monotonic() + 60
        while self.kills_due and time.monotonic() < deadline:
            self.pool.restart_dead()
            if self._kill_a_busy_worker():
                self.kills_due -= 1
            time.sleep(0.01)
        self.pool.restart_dead()

    def _kill_a_busy_worker(self) -> bool:
        busy = [name for name in self._busy_workers() if name in self.pool.alive()]
        if not busy:
            return False
        note(f"drill: SIGKILL worker {busy[0]} mid-job")
        self.pool.kill(busy[0])
        self.kills += 1
        return True

    def _busy_workers(self) -> list[str]:
        try:
            queue = Queue(queue_name(self.world.app.config, "sync"), connection=self.world.redis.client())
            return [worker.name for worker in Worker.all(queue=queue) if worker.get_state() == "busy"]
        except Exception:  # Redis is being restarted
            return []

    def _restart_redis(self) -> None:
        note("drill: restarting Redis (everything queued in it is lost)")
        self.world.redis.stop()
        time.sleep(2)
        self.world.redis.start()
        self.redis_restarts += 1


def drain(world: SyncWorld, pool: WorkerPool, emails: list[str], timeout: float) -> dict[SyncStatus, int]:
    """Until every sync job is final, replacing dead workers meanwhile; returns the states."""
    deadline = time.monotonic() + timeout
    booking_ids = _booking_ids(world, emails)
    while True:
        pool.restart_dead()
        states = sync_states(world.app, booking_ids)
        if all(status in FINAL for status in states) or time.monotonic() > deadline:
            return states
        time.sleep(1)


def _booking_ids(world: SyncWorld, emails: list[str]) -> list[int]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Booking

    with world.app.app_context():
        ids = db.session.scalars(select(Booking.id).where(Booking.guest_email.in_(emails))).all()
        db.session.remove()
    return list(ids)


def count_in_emulator(control, emails: list[str]) -> dict[str, int]:
    """Per booking (one guest e-mail each): its Leads and the Events on them. Synced = a Lead with an Event;
    duplicates = every Lead or Event beyond the first."""
    leads_by_email: dict[str, list[str]] = {}
    for lead in control.records("Lead"):
        if not lead.get("IsDeleted"):
            leads_by_email.setdefault((lead.get("Email") or "").lower(), []).append(lead["Id"])
    events_by_who = Counter(event.get("WhoId") for event in control.records("Event") if not event.get("IsDeleted"))
    synced = duplicates = 0
    for email in emails:
        leads = leads_by_email.get(email, [])
        events = sum(events_by_who[lead_id] for lead_id in leads)
        synced += bool(leads) and events > 0
        duplicates += max(0, len(leads) - 1) + max(0, events - 1)
    return {"synced": synced, "lost": len(emails) - synced, "duplicates": duplicates}


if __name__ == "__main__":
    main()
