"""One guest, one record, whatever the concurrency (issue 13): a new guest booking twice at once on two calendars,
synced by 4 real RQ workers against the emulator (which has no duplicate rule), ends with one Lead and one Event per
booking, because syncs of one guest in one team never look up and create at the same time."""

from __future__ import annotations

import pytest

from portal.models import SyncStatus
from portal.sync import guest_lock
from tests.fixtures.services import WorkerProcesses
from tests.sync_world import World, open_sync_app

WORKERS, ROUNDS = 4, 10


@pytest.fixture(scope="module")
def guest_app(base_config, database_factory):
    with open_sync_app(base_config, database_factory("oneguest"), "oneguest") as app:
        yield app


@pytest.fixture
def workers(guest_app):
    processes = WorkerProcesses()
    processes.start(guest_app, WORKERS)
    yield processes
    processes.stop()


def test_a_new_guest_booking_twice_at_once_on_two_calendars_gets_one_lead(
    guest_app, workers, salesforce_emulator, salesforce_control
):
    world = World.create(guest_app, salesforce_emulator, salesforce_control)
    other_calendar = world.add_calendar()
    world.control.update_settings(latency_ms=50)  # each read takes long enough for the other sync to overlap it
    bookings = {}
    for round_number in range(ROUNDS):
        email = f"Twice.{round_number}@Example.com"
        bookings[email] = [  # back to back: both syncs are queued within milliseconds of each other
            world.book(email, name=f"Guest {round_number}"),
            world.book(email.lower(), name=f"Guest {round_number}", calendar_id=other_calendar),
        ]

    for email, booking_ids in bookings.items():
        jobs = [job for booking_id in booking_ids for job in world.wait(booking_id, timeout=120)]
        assert [job.status for job in jobs] == [SyncStatus.SYNCED] * 2, [(j.status, j.error_code) for j in jobs]
        [lead] = world.records("Lead", email)
        events = world.events_for(lead["Id"])
        assert sorted(event["Description"].splitlines()[0] for event in events) == sorted(
            f"Booking reference: {booking_id}" for booking_id in booking_ids
        )
    world.control.update_settings(latency_ms=0)


def test_the_guest_lock_makes_a_second_holder_wait_and_gives_up_with_guest_busy(guest_app):
    with guest_app.app_context():
        with guest_lock.held(1, " Someone@Example.com", wait_seconds=5):
            with pytest.raises(guest_lock.GuestBusy), guest_lock.held(1, "someone@example.com ", wait_seconds=0.2):
                pass
            with guest_lock.held(2, "someone@example.com", wait_seconds=0.2):
                pass  # another team's guest is another record
        with guest_lock.held(1, "someone@example.com", wait_seconds=0.2):
            pass  # released when the first holder's block ended
