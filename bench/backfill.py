"""bench/backfill: Salesforce API calls per booking when a calendar's earlier bookings are sent with "Send earlier
bookings" (batches: SOQL IN lookups and sObject Collections writes), against the live path's one-by-one syncs.
Target (issue 14): at most 0.05 calls per booking for a backfill of 1,000 bookings, new guests or half existing
Leads whose mapped fields are written only while empty (the "if empty" write rule). Calls are counted in the emulator's request log; the emulator answers after `--latency-ms`.

Lines: `backfill scenario=<name> bookings=… api_calls=… calls_per_booking=… seconds=… bookings_per_s=…`, one per
backfill scenario; `released scenario=reconnect bookings=… api_calls=… calls_per_booking=… seconds=…` for waiting
syncs of new guests released at once by a reconnect (target 0.1); then `live scenario=new_guests bookings=…
api_calls=… calls_per_booking=…` for the same kind of bookings synced one by one as they are made.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from portal.extensions import db
from portal.models import (
    Backfill,
    BackfillState,
    Booking,
    Calendar,
    SalesforceIntegration,
    SyncStatus,
    User,
    WriteRule,
    utcnow,
)

from .common import Bench, figure, note
from .seed import Booker, add_integrated_calendar, wait_for_syncs
from .world import instance_calls, sync_world

_slots = itertools.count()  # one host takes every calendar's bookings: each one gets its own half hour


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=1000, help="earlier bookings per backfill (default 1000)")
    parser.add_argument("--live-bookings", type=int, default=20, help="bookings synced one by one (default 20)")
    parser.add_argument("--released", type=int, default=200, help="waiting syncs released by a reconnect (200)")
    parser.add_argument("--latency-ms", type=int, default=100, help="emulator latency per request (default 100)")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 20 earlier bookings, 2 live ones")
    args = parser.parse_args(argv)
    if args.quick:
        args.bookings, args.live_bookings, args.released = 20, 2, 5
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    lines = []
    with Bench("backfill") as bench:
        world = sync_world(bench, latency_ms=args.latency_ms)
        bench.workers(world.app, 1).wait_registered()
        for name, overwrite, existing_share in (("new_guests", False, 0), ("half_existing_leads_if_empty", True, 2)):
            calendar_id = add_integrated_calendar(world.app, world.team, f"backfill_{name}", overwrite=overwrite)
            if overwrite:
                only_if_empty(world.app, calendar_id)
            emails = [f"{name.replace('_', '-')}-{n}@guests.example" for n in range(args.bookings)]
            if existing_share:
                note(f"{name}: seeding {len(emails) // existing_share} existing Leads")
                for email in emails[::existing_share]:
                    world.control.seed_record("Lead", LastName="Known Lead", Company="Knownco", Email=email)
            earlier_bookings(world.app, calendar_id, emails)
            world.control.clear_log()
            note(f"{name}: sending {args.bookings} earlier bookings")
            seconds = run_backfill(world.app, calendar_id, timeout=600)
            calls = len(instance_calls(world.control.request_log()))
            lines.append(
                dict(
                    scenario=name,
                    bookings=args.bookings,
                    api_calls=calls,
                    calls_per_booking=calls / args.bookings,
                    seconds=seconds,
                    bookings_per_s=args.bookings / seconds,
                )
            )
        booker = Booker(world.app)  # one for both: its slots never repeat
        live = live_calls(world, booker, args.live_bookings)
        released, released_seconds = released_calls(world, booker, args.released)
    for line in lines:
        figure("backfill", **line)
    figure(
        "released",
        scenario="reconnect",
        bookings=args.released,
        api_calls=released,
        calls_per_booking=released / args.released,
        seconds=released_seconds,
    )
    figure(
        "live",
        scenario="new_guests",
        bookings=args.live_bookings,
        api_calls=live,
        calls_per_booking=live / args.live_bookings,
    )


def only_if_empty(app, calendar_id: int) -> None:
    """Every mapping row of the calendar writes an existing record's field only while it is empty."""
    with app.app_context():
        integration = db.session.scalar(
            select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar_id)
        )
        for row in integration.mappings:
            row.write_rule = WriteRule.IF_EMPTY
        db.session.commit()
        db.session.remove()


def earlier_bookings(app, calendar_id: int, emails: list[str]) -> None:
    """Bookings made before the integration existed: inserted in bulk with answers, with no sync job."""
    with app.app_context():
        calendar = db.session.get(Calendar, calendar_id)
        q = {question.kind.value: str(question.id) for question in calendar.questions}
        host_id = calendar.hosts[0].user_id
        first = datetime(2028, 1, 1, tzinfo=UTC)
        rows = []
        for n, email in enumerate(emails):
            start = first + timedelta(minutes=30 * next(_slots))
            answers = {q["full_name"]: f"Earlier Guest {n}", q["email"]: email, q["company"]: "Guestco", q["phone"]: ""}
            rows.append(
                dict(
                    calendar_id=calendar_id,
                    host_id=host_id,
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                    busy_from=start,
                    busy_until=start + timedelta(minutes=30),
                    guest_name=f"Earlier Guest {n}",
                    guest_email=email,
                    guest_company="Guestco",
                    answers=answers,
                    manage_token_hash=hashlib.sha256(f"bench-backfill-{calendar_id}-{n}".encode()).hexdigest(),
                    created_at=utcnow() - timedelta(days=1),
                )
            )
        db.session.execute(insert(Booking), rows)
        db.session.commit()
        db.session.remove()


def run_backfill(app, calendar_id: int, timeout: float) -> float:
    """Start a backfill of the calendar's bookings as its owner would, and wait until it is done; seconds taken."""
    began = time.monotonic()
    backfill_id = start_backfill(app, calendar_id)
    deadline = began + timeout
    while True:
        state, progress = backfill_progress(app, backfill_id)
        if state == BackfillState.DONE and progress.done == progress.total:
            return time.monotonic() - began
        if state not in (BackfillState.QUEUED, BackfillState.RUNNING) or time.monotonic() > deadline:
            raise SystemExit(f"backfill did not finish: {state} {progress}")
        time.sleep(0.2)


def start_backfill(app, calendar_id: int) -> int:
    """Start sending the calendar's bookings of the last two days, as its owner does on the page."""
    from portal.sync import backfill

    with app.test_request_context():
        calendar = db.session.get(Calendar, calendar_id)
        owner = db.session.scalar(select(User).where(User.id == calendar.created_by_id))
        backfill_id = backfill.start(calendar, owner, utcnow() - timedelta(days=2), utcnow()).id
        db.session.remove()
    return backfill_id


def backfill_progress(app, backfill_id: int):
    from portal.sync import backfill

    with app.app_context():
        row = db.session.get(Backfill, backfill_id)
        state, progress = row.state, backfill.progress(db.session, row)
        db.session.remove()
    return state, progress


def released_calls(world, booker: Booker, bookings: int) -> tuple[int, float]:
    """API calls when a reconnect releases this many waiting syncs (new guests), and the seconds they took."""
    from portal.models import ConnectionStatus, SalesforceConnection
    from portal.sync.outbox import release_parked_syncs

    calendar_id = add_integrated_calendar(world.app, world.team, "released_new_guests")
    set_connection(world.app, world.team.team_id, ConnectionStatus.NEEDS_RECONNECT, SalesforceConnection)
    booking_ids = [
        booker.book(calendar_id, f"released-{n}@guests.example", name=f"Released {n}") for n in range(bookings)
    ]
    states = wait_for_syncs(world.app, booking_ids, timeout=120)
    if states.get(SyncStatus.WAITING, 0) != bookings:
        raise SystemExit(f"released: not every booking waits: {dict(states)}")
    world.control.clear_log()
    set_connection(world.app, world.team.team_id, ConnectionStatus.CONNECTED, SalesforceConnection)
    began = time.monotonic()
    with world.app.app_context():
        release_parked_syncs(world.app, team_id=world.team.team_id)
        db.session.remove()
    states = wait_for_syncs(world.app, booking_ids, timeout=300)
    if states.get(SyncStatus.SYNCED, 0) != bookings:
        raise SystemExit(f"released: not every booking synced: {dict(states)}")
    return len(instance_calls(world.control.request_log())), time.monotonic() - began


def set_connection(app, team_id: int, status, model) -> None:
    with app.app_context():
        connection = db.session.scalar(select(model).where(model.team_id == team_id))
        connection.status = status
        db.session.commit()
        db.session.remove()


def live_calls(world, booker: Booker, bookings: int) -> int:
    """API calls of the same kind of bookings synced one by one as they are made."""
    calendar_id = add_integrated_calendar(world.app, world.team, "live_new_guests")
    world.control.clear_log()
    booking_ids = [booker.book(calendar_id, f"live-{n}@guests.example", name=f"Live {n}") for n in range(bookings)]
    states = wait_for_syncs(world.app, booking_ids, timeout=120)
    if states.get(SyncStatus.SYNCED, 0) != bookings:
        raise SystemExit(f"live: not every booking synced: {dict(states)}")
    return len(instance_calls(world.control.request_log()))
