"""bench/api_calls: Salesforce API calls per booking, by scenario, counted in the emulator's request log while real
workers (`python -m jobs.worker`) sync bookings made through the booking service. Target: at most 2.0 instance
calls per booking in every scenario but the fallback of a returning guest whose record was deleted (3.0, printed as
its cost), and no token calls (the stored access token is valid).

Scenarios cover new and existing guests, overwrite on and off, with and without the Event, the Contact
integration, contact-first (a Lead integration whose guest is already a Contact), a guest whose Lead was
converted, the write rules (rows only-if-empty; every row create-only, so the update is not sent), reschedules
and cancels of synced bookings (at most 1.0: the Event id is known), and returning guests: a second booking by
each guest, whose record the first one linked, written by that id (at most 1.0), or, once that record was deleted
in Salesforce, falling back to the lookup (the refused write, then the read and the write). Rows start with the
rules a new row gets. Scenarios run one after another, so each one's calls are exactly the log entries of its run.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from portal.models import SalesforceObject, SyncStatus, WriteRule

from .common import Bench, figure, note
from .seed import Booker, add_integrated_calendar, wait_for_syncs
from .world import SyncWorld, instance_calls, sync_world, token_calls

LEAD, CONTACT = SalesforceObject.LEAD, SalesforceObject.CONTACT


@dataclass(frozen=True)
class Scenario:
    name: str
    object_name: SalesforceObject = LEAD
    register_event: bool = True
    overwrite: bool = False
    existing: str = ""  # what Salesforce holds for the guest first: "", "lead", "contact" or "converted_lead"
    rules: tuple[tuple[str, WriteRule], ...] = ()  # write rules by field, where not the new-row default
    then: str = ""  # "reschedule", "cancel" or "book_again": count only that, once every booking synced
    delete_first: bool = False  # delete each guest's record in Salesforce before `then`


SCENARIOS = (
    Scenario("new_lead_with_event"),
    Scenario("new_lead_without_event", register_event=False),
    Scenario("existing_lead_overwrite_with_event", overwrite=True, existing="lead"),
    Scenario("existing_lead_overwrite_without_event", overwrite=True, register_event=False, existing="lead"),
    Scenario("existing_lead_no_overwrite_with_event", existing="lead"),
    Scenario("existing_lead_no_overwrite_without_event", register_event=False, existing="lead"),
    Scenario("new_contact_with_event", object_name=CONTACT),
    Scenario("existing_contact_overwrite_with_event", object_name=CONTACT, overwrite=True, existing="contact"),
    Scenario("contact_first", existing="contact"),
    Scenario("converted_lead", existing="converted_lead"),
    Scenario(
        "existing_lead_only_if_empty",
        overwrite=True,
        existing="lead",
        rules=(("Phone", WriteRule.IF_EMPTY), ("Company", WriteRule.IF_EMPTY), ("Email", WriteRule.IF_EMPTY)),
    ),
    Scenario(
        "existing_lead_create_only_fields",
        overwrite=True,
        existing="lead",
        rules=(("Phone", WriteRule.ON_CREATE), ("Email", WriteRule.ON_CREATE)),
    ),
    Scenario("reschedule", then="reschedule"),
    Scenario("cancel", then="cancel"),
    Scenario("returning_guest", overwrite=True, then="book_again"),
    Scenario("returning_guest_record_deleted", overwrite=True, then="book_again", delete_first=True),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=20, help="bookings per scenario (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (default 2)")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 1 booking per scenario")
    args = parser.parse_args(argv)
    if args.quick:
        args.bookings = 1
    return args


@dataclass
class Counted:
    scenario: str
    bookings: int
    instance_calls: int
    token_calls: int


def main(argv=None) -> None:
    args = parse_args(argv)
    with Bench("api_calls") as bench:
        world = sync_world(bench)
        bench.workers(world.app, args.workers).wait_registered()
        booker = Booker(world.app)
        results = [run_scenario(world, booker, scenario, args.bookings) for scenario in SCENARIOS]
    total = Counted(
        "overall", *(sum(getattr(r, f) for r in results) for f in ("bookings", "instance_calls", "token_calls"))
    )
    for result in [*results, total]:
        figure("api_calls_per_booking", scenario=result.scenario, value=result.instance_calls / result.bookings)
    for result in [*results, total]:
        figure("token_calls_per_booking", scenario=result.scenario, value=result.token_calls / result.bookings)


def run_scenario(world: SyncWorld, booker: Booker, scenario: Scenario, bookings: int) -> Counted:
    calendar_id = add_integrated_calendar(
        world.app,
        world.team,
        scenario.name,
        object_name=scenario.object_name,
        register_event=scenario.register_event,
        overwrite=scenario.overwrite,
        rules=dict(scenario.rules),
    )
    emails = [f"{scenario.name.replace('_', '-')}-{n}@guests.example" for n in range(bookings)]
    for email in emails:
        seed_existing(world.control, scenario.existing, email)
    world.control.clear_log()
    note(f"{scenario.name}: {bookings} booking(s)")
    booking_ids = [booker.book(calendar_id, email, name=f"Guest {n}") for n, email in enumerate(emails)]
    jobs = bookings
    if scenario.then:
        _wait_synced(world, scenario, booking_ids, jobs)
        if scenario.delete_first:
            delete_records(world.control, emails)
        world.control.clear_log()
        if scenario.then == "book_again":
            booking_ids += [booker.book(calendar_id, email, name=f"Guest {n}") for n, email in enumerate(emails)]
        else:
            for booking_id in booking_ids:
                getattr(booker, scenario.then)(booking_id)
        jobs += bookings
    _wait_synced(world, scenario, booking_ids, jobs)
    log = world.control.request_log()
    return Counted(scenario.name, bookings, len(instance_calls(log)), len(token_calls(log)))


def _wait_synced(world: SyncWorld, scenario: Scenario, booking_ids: list[int], jobs: int) -> None:
    states = wait_for_syncs(world.app, booking_ids, timeout=120)
    if states.get(SyncStatus.SYNCED, 0) != jobs:
        raise SystemExit(f"{scenario.name}: not every sync finished: {dict(states)}; see {world.bench.logs}")


def seed_existing(control, existing: str, email: str) -> None:
    """Put the guest in Salesforce the way the scenario needs (the control API writes without counting calls)."""
    if existing == "lead":
        control.seed_record("Lead", LastName="Known Lead", Company="Knownco", Email=email, Phone="111")
    elif existing == "contact":
        control.seed_record("Contact", LastName="Known Contact", Email=email)
    elif existing == "converted_lead":
        control.convert_lead(control.seed_record("Lead", LastName="Converted", Company="Convco", Email=email))


def delete_records(control, emails: list[str]) -> None:
    """Delete the guests' Leads as a Salesforce user would (the control API; no calls counted)."""
    wanted = {email.lower() for email in emails}
    for lead in control.records("Lead"):
        if not lead["IsDeleted"] and (lead.get("Email") or "").lower() in wanted:
            control.delete_record(lead["Id"])


if __name__ == "__main__":
    main()
