"""The sync engine end to end: bookings committed in PostgreSQL, real RQ workers on real Redis, the Salesforce
emulator over HTTP. Each test asserts the records in the emulator afterwards and the API calls it logged."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from portal.models import OnCancel, SalesforceObject, SyncEvent, SyncStatus
from portal.planner.sources import default_write_rule
from tests.sync_world import World, open_sync_app, running_workers

WORKERS = 2


@pytest.fixture(scope="module")
def engine_app(base_config, database_factory):
    with open_sync_app(base_config, database_factory("sync"), "engine") as app:
        yield app


@pytest.fixture(scope="module")
def engine_workers(engine_app):
    with running_workers(engine_app, WORKERS) as workers:
        yield workers


@pytest.fixture
def world_of(engine_app, engine_workers, salesforce_emulator, salesforce_control):
    def make(**settings) -> World:
        return World.create(engine_app, salesforce_emulator, salesforce_control, **settings)

    return make


def _synced(world: World, booking_id: int, count: int = 1):
    jobs = world.wait(booking_id, count=count)
    assert [job.status for job in jobs] == [SyncStatus.SYNCED] * count, [
        (j.status, j.error_code, j.error_message) for j in jobs
    ]
    return jobs


def _assert_budget(world: World, instance_calls: int) -> None:
    """Design §5's API budget, from the emulator's own log: instance calls, and no token call on the happy path."""
    assert len(world.instance_calls()) == instance_calls
    assert world.token_calls() == []


# -- new and existing guests ---------------------------------------------------------------------------------------


def test_new_guest_becomes_a_lead_with_an_event_in_two_calls(world_of):
    world = world_of()

    booking_id = world.book("new.guest@example.com", name="Nora New", company="Newco", phone="+81 3 1234 5678")

    job = _synced(world, booking_id)[0]
    [lead] = world.records("Lead", "new.guest@example.com")
    assert (lead["LastName"], lead["Company"], lead["LeadSource"], lead["Phone"]) == (
        "Nora New",
        "Newco",
        "Web",
        "+81 3 1234 5678",
    )
    [event] = world.events_for(lead["Id"])
    assert event["Subject"].startswith("Discovery call") and "Nora New" in event["Subject"]
    assert (job.sf_record_id, job.sf_event_id) == (lead["Id"], event["Id"])
    _assert_budget(world, 2)


def test_existing_guest_with_update_on_gets_only_the_mapped_non_empty_fields(world_of):
    world = world_of(overwrite=True)
    lead_id = world.control.seed_record(
        "Lead", LastName="Old Name", Company="Oldco", Email="known@example.com", Phone="111", Title="CTO"
    )

    booking_id = world.book("Known@Example.com", name="New Name", company="Newco", phone="")

    _synced(world, booking_id)
    lead = world.control.get_record(lead_id)
    # a full-name answer never overwrites a record's name (design §5 "Write rules")
    assert (lead["LastName"], lead["Company"], lead["LeadSource"]) == ("Old Name", "Newco", "Web")
    assert lead["Phone"] == "111", "a blank answer never blanks out a stored value"
    assert lead["Title"] == "CTO", "unmapped fields are untouched"
    assert len(world.records("Lead")) == 1
    assert len(world.events_for(lead_id)) == 1
    _assert_budget(world, 2)


# -- write rules (issue 13) ----------------------------------------------------------------------------------------

DEFAULT_RULES = {
    field: default_write_rule(field) for field in ("LastName", "Email", "Company", "LeadSource", "OwnerId")
}


def test_erin_existing_keeps_her_names_email_and_owner_when_booking_as_eric(world_of):
    rows = [
        ("LastName", "question", "full_name", ""),
        ("Email", "question", "email", ""),
        ("Company", "question", "company", ""),
        ("OwnerId", "item", "participating_member", ""),
    ]
    world = world_of(overwrite=True, rows=rows, rules=DEFAULT_RULES)
    sales_rep = world.control.add_user(username="rep@acme.test", email="rep@acme.test", last_name="Rep")
    lead_id = world.control.seed_record(
        "Lead", FirstName="Erin", LastName="Existing", Company="Erinco", Email="erin@example.com", OwnerId=sales_rep
    )

    booking_id = world.book("ERIN@example.com", name="Eric Existing", company="Other Co")

    _synced(world, booking_id)
    lead = world.control.get_record(lead_id)
    assert (lead["FirstName"], lead["LastName"], lead["Email"]) == ("Erin", "Existing", "erin@example.com")
    assert (lead["OwnerId"], lead["Company"]) == (sales_rep, "Erinco")
    assert len(world.events_for(lead_id)) == 1
    _assert_budget(world, 2)


def test_an_only_if_empty_field_is_filled_once_and_never_overwritten(world_of):
    world = world_of(overwrite=True, rules={**DEFAULT_RULES, "Phone": "if_empty"})
    lead_id = world.control.seed_record("Lead", LastName="Pia", Company="Pico", Email="pia@example.com")

    _synced(world, world.book("pia@example.com", name="Pia", phone="+1 555 0001"))
    assert world.control.get_record(lead_id)["Phone"] == "+1 555 0001"
    _synced(world, world.book("pia@example.com", name="Pia", phone="+1 555 0002"))
    assert world.control.get_record(lead_id)["Phone"] == "+1 555 0001"
    assert len(world.records("Lead")) == 1


def test_an_update_with_nothing_to_change_sends_no_write(world_of):
    world = world_of(overwrite=True, register_event=False)
    lead_id = world.control.seed_record(
        "Lead", LastName="Same", Company="Sameco", Email="same@example.com", LeadSource="Web", Phone="+1 555"
    )
    before = world.control.get_record(lead_id)["LastModifiedDate"]

    job = _synced(world, world.book("SAME@example.com ", name="Same", company="Sameco", phone="+1 555"))[0]

    assert job.action_taken == "linked existing Lead (nothing to update)"
    [read] = world.instance_calls()  # the emulator's log: one Composite read, no write
    assert [sub["method"] for sub in json.loads(read["body"])["compositeRequest"]] == ["GET", "GET"]
    assert world.control.get_record(lead_id)["LastModifiedDate"] == before


def test_existing_guest_with_update_off_is_untouched_and_the_event_still_linked(world_of):
    world = world_of(overwrite=False)
    lead_id = world.control.seed_record("Lead", LastName="Kept", Company="Keptco", Email="kept@example.com")

    booking_id = world.book("kept@example.com", name="Changed", company="Changedco")

    _synced(world, booking_id)
    lead = world.control.get_record(lead_id)
    assert (lead["LastName"], lead["Company"]) == ("Kept", "Keptco")
    assert len(world.events_for(lead_id)) == 1
    _assert_budget(world, 2)


def test_contact_integration_creates_a_contact_with_an_event(world_of):
    world = world_of(object_name=SalesforceObject.CONTACT)

    booking_id = world.book("contact.guest@example.com", name="Cora Contact")

    _synced(world, booking_id)
    [contact] = world.records("Contact", "contact.guest@example.com")
    assert contact["LastName"] == "Cora Contact"
    assert world.records("Lead") == []
    assert len(world.events_for(contact["Id"])) == 1
    _assert_budget(world, 2)


def test_contact_first_links_a_lead_integration_to_the_existing_contact(world_of):
    world = world_of(contact_first=True)
    contact_id = world.control.seed_record("Contact", LastName="Already Contact", Email="cf@example.com")

    booking_id = world.book("cf@example.com", name="Someone Else")

    job = _synced(world, booking_id)[0]
    assert world.records("Lead") == []
    assert job.sf_record_id == contact_id
    assert len(world.events_for(contact_id)) == 1
    assert world.control.get_record(contact_id)["LastName"] == "Already Contact"
    _assert_budget(world, 2)


def test_a_guest_whose_only_lead_is_converted_is_linked_through_the_converted_contact(world_of):
    world = world_of(overwrite=True)
    lead_id = world.control.seed_record("Lead", LastName="Conv", Company="Convco", Email="conv@example.com")
    contact_id = world.control.convert_lead(lead_id)
    world.control.clear_log()

    booking_id = world.book("conv@example.com", name="Conv Again", company="Other")

    job = _synced(world, booking_id)[0]
    assert job.sf_record_id == contact_id
    assert len(world.events_for(contact_id)) == 1
    assert len(world.records("Lead")) == 1, "no new Lead for a converted guest"
    _assert_budget(world, 2)


def test_email_with_apostrophe_and_plus_is_matched_exactly(world_of):
    world = world_of(overwrite=True)
    lead_id = world.control.seed_record("Lead", LastName="O'Brien", Company="Irish", Email="o'brien+test@example.com")
    world.control.seed_record("Lead", LastName="Other", Company="X", Email="obrien+test@example.com")

    booking_id = world.book("o'brien+test@example.com", name="Pat O'Brien", company="Irishco")

    job = _synced(world, booking_id)[0]
    assert job.sf_record_id == lead_id
    assert world.control.get_record(lead_id)["Company"] == "Irishco"  # the matched Lead is the one updated
    assert len(world.records("Lead")) == 2


# -- duplicate rules ------------------------------------------------------------------------------------------------


def test_alert_duplicate_rule_still_creates_in_two_calls(world_of):
    world = world_of()
    world.control.update_settings(duplicate_rules={"Lead": "alert"})
    world.control.seed_record("Lead", LastName="Dup Guest", Company="Dupco", Email="first@example.com")

    booking_id = world.book("second@example.com", name="Dup Guest", company="Dupco")

    _synced(world, booking_id)
    assert len(world.records("Lead", "second@example.com")) == 1
    _assert_budget(world, 2)


def test_blocking_duplicate_rule_uses_the_matched_record_in_three_calls(world_of):
    world = world_of()
    world.control.update_settings(duplicate_rules={"Lead": "block"})
    matched_id = world.control.seed_record("Lead", LastName="Block Guest", Company="Blockco", Email="old@example.com")

    booking_id = world.book("new@example.com", name="Block Guest", company="Blockco")

    job = _synced(world, booking_id)[0]
    assert job.sf_record_id == matched_id
    assert len(world.records("Lead")) == 1
    assert len(world.events_for(matched_id)) == 1
    _assert_budget(world, 3)


# -- failures -------------------------------------------------------------------------------------------------------


def test_blank_required_field_fails_with_zero_api_calls(world_of):
    world = world_of()  # Company is optional on the form but required for a Lead

    booking_id = world.book("nocompany@example.com", name="No Company", company="")

    [job] = world.wait(booking_id)
    assert (job.status, job.error_code, job.retryable) == (SyncStatus.FAILED, "REQUIRED_FIELD_MISSING", False)
    assert "Company" in job.error_fields
    assert world.instance_calls() == []
    assert world.records("Lead") == []


@pytest.mark.parametrize("fault", ["service_unavailable", "unable_to_lock_row"])
def test_transient_faults_are_retried_then_synced(world_of, fault):
    world = world_of()
    world.control.add_fault(fault, path="composite", method="POST", count=2)

    booking_id = world.book(f"{fault}@example.com", name="Retry Guest")

    job = _synced(world, booking_id)[0]
    assert job.attempts >= 2
    assert len(world.records("Lead", f"{fault}@example.com")) == 1


def test_expired_session_is_refreshed_once_and_synced(world_of):
    world = world_of()
    world.control.expire_access_tokens()

    booking_id = world.book("expired@example.com", name="Expired Session")

    _synced(world, booking_id)
    assert len(world.token_calls()) == 1
    assert len(world.records("Lead", "expired@example.com")) == 1


def test_invalid_grant_waits_then_syncs_after_reconnecting(world_of, engine_app):
    world = world_of()
    world.control.revoke_all_tokens()

    booking_id = world.book("revoked@example.com", name="Revoked Grant")

    [job] = world.wait(booking_id)
    assert (job.status, job.reason) == (SyncStatus.WAITING, "needs_reconnect")
    assert world.connection().status.value == "needs_reconnect"
    assert world.records("Lead") == []
    _reconnect_as_owner(engine_app, world)
    _synced(world, booking_id)
    assert len(world.records("Lead", "revoked@example.com")) == 1


def _reconnect_as_owner(app, world: World) -> None:
    """The owner clicks Connect again on the team's Salesforce page and Allow on Salesforce's."""
    from portal.extensions import db
    from portal.models import User
    from tests.factories import login
    from tests.salesforce_flow import connect_via_emulator

    with app.app_context():
        owner = db.session.get(User, world.owner_id)
        client = login(app.test_client(), owner)
        response = connect_via_emulator(client, world.team_id)
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.remove()


# -- reschedule, cancel and order -----------------------------------------------------------------------------------


def test_reschedule_moves_the_event(world_of):
    world = world_of()
    booking_id = world.book("move@example.com", name="Mover")
    [created] = _synced(world, booking_id)

    world.reschedule(booking_id)

    jobs = _synced(world, booking_id, count=2)
    assert jobs[1].event == SyncEvent.RESCHEDULED
    event = world.control.get_record(created.sf_event_id)
    with world.app.app_context():
        from portal.extensions import db
        from portal.models import Booking

        booking = db.session.get(Booking, booking_id)
        start = booking.start_at
        db.session.remove()
    assert event["StartDateTime"].startswith(start.strftime("%Y-%m-%dT%H:%M:%S"))
    assert len(world.records("Event")) == 1


def test_cancel_deletes_the_event_and_keeps_the_lead(world_of):
    world = world_of(on_cancel=OnCancel.DELETE_EVENT)
    booking_id = world.book("cancel@example.com", name="Canceller")
    [created] = _synced(world, booking_id)

    world.cancel(booking_id)

    _synced(world, booking_id, count=2)
    assert world.control.get_record(created.sf_event_id)["IsDeleted"] is True
    assert len(world.records("Lead", "cancel@example.com")) == 1


def test_cancel_marks_the_event_when_set_to_keep_it(world_of):
    world = world_of(on_cancel=OnCancel.MARK_CANCELLED)
    booking_id = world.book("mark@example.com", name="Marker")
    [created] = _synced(world, booking_id)

    world.cancel(booking_id)

    _synced(world, booking_id, count=2)
    event = world.control.get_record(created.sf_event_id)
    assert event["Subject"].startswith("Cancelled: ") and not event.get("IsDeleted")


def test_a_cancel_enqueued_before_its_create_is_applied_after_it(world_of, engine_workers, engine_app):
    engine_workers.stop()  # hold the queue while both jobs are enqueued
    world = world_of()
    booking_id = world.book("order@example.com", name="Orderly")
    world.cancel(booking_id)
    _enqueue_in_reverse(engine_app, world.jobs(booking_id))

    engine_workers.start(engine_app, WORKERS)

    created, cancelled = _synced(world, booking_id, count=2)
    assert (created.event, cancelled.event) == (SyncEvent.CREATED, SyncEvent.CANCELLED)
    assert created.finished_at <= cancelled.finished_at
    assert world.control.get_record(created.sf_event_id)["IsDeleted"] is True


def _enqueue_in_reverse(app, jobs):
    from rq import Queue

    from portal.extensions import queue_name, queues

    with app.app_context():
        queue = Queue(queue_name(app.config, "sync"), connection=queues.redis)
        queue.empty()
        for job in reversed(jobs):
            queue.enqueue("jobs.sync.run_sync_job", job.id, job_id=f"sync-{job.id}-1")


def test_near_the_orgs_daily_api_limit_a_teams_syncs_wait_instead_of_burning_the_rest(world_of):
    world = world_of()
    world.control.update_settings(daily_api_limit=1000)
    world.control.set_api_calls(950)  # the org has used 95% of today's calls elsewhere
    first = world.book("before.limit@example.com", name="First")
    _synced(world, first)  # usage was not known yet: this sync learns it from Sforce-Limit-Info
    assert world.connection().api_usage_used >= 950

    second = world.book("near.limit@example.com", name="Second")

    job = _wait_for_reason(world, second, "near_api_limit")
    assert (job.status, job.attempts) == (SyncStatus.PENDING, 0)
    assert job.next_attempt_at - job.created_at > timedelta(minutes=10)
    assert world.records("Lead", "near.limit@example.com") == []


def _wait_for_reason(world: World, booking_id: int, reason: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = world.jobs(booking_id)
        if jobs and jobs[0].reason == reason:
            return jobs[0]
        time.sleep(0.2)
    raise AssertionError(f"no job with reason {reason}: {[(j.status, j.reason) for j in world.jobs(booking_id)]}")


def test_a_failed_create_retried_after_the_guest_cancelled_ends_with_the_event_cancelled(world_of, engine_app):
    from sqlalchemy import select, update

    from portal.extensions import db
    from portal.models import FieldMapping, SalesforceIntegration, SyncJob
    from portal.sync.schedule import requeue

    world = world_of()
    booking_id = world.book("late@example.com", name="Late Guest", company="")  # fails: Company is required
    [created] = world.wait(booking_id)
    assert created.error_code == "REQUIRED_FIELD_MISSING"
    world.cancel(booking_id)
    world.wait(booking_id, count=2)

    with engine_app.app_context():  # the editor adds a fallback, then "Retry" on the errors page
        integration = select(SalesforceIntegration.id).where(SalesforceIntegration.calendar_id == world.calendar_id)
        db.session.execute(
            update(FieldMapping)
            .where(FieldMapping.integration_id == integration.scalar_subquery(), FieldMapping.sf_field == "Company")
            .values(fallback_value="Unknown")
        )
        requeue(db.session, [db.session.get(SyncJob, created.id)])
        db.session.remove()

    jobs = _synced(world, booking_id, count=2)
    [lead] = world.records("Lead", "late@example.com")
    assert lead["Company"] == "Unknown"
    assert [e["IsDeleted"] for e in world.control.records("Event")] == [True]
    assert jobs[1].sf_event_id == ""
