"""Returning guests in one call (design §5 "Returning guests") end to end: bookings committed in PostgreSQL, real RQ
workers on real Redis, the Salesforce emulator over HTTP. A guest whose record an earlier booking of the team links
is written by that id in one call; a record deleted, merged or converted since costs the ordinary read and write
after the refused one, with the outcome a first-time lookup gives."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import FieldMapping, SalesforceConnection, SalesforceIntegration, SalesforceObject, SyncStatus
from portal.salesforce.describe import refresh_describe
from tests.sync_world import World, open_sync_app, running_workers


@pytest.fixture(scope="module")
def returning_app(base_config, database_factory):
    with open_sync_app(base_config, database_factory("returning"), "returning") as app:
        yield app


@pytest.fixture(scope="module")
def returning_workers(returning_app):
    with running_workers(returning_app, 1) as workers:
        yield workers


@pytest.fixture
def world_of(returning_app, returning_workers, salesforce_emulator, salesforce_control):
    def make(**settings) -> World:
        return World.create(returning_app, salesforce_emulator, salesforce_control, **settings)

    yield make
    salesforce_control.clear_faults()


def _synced(world: World, booking_id: int):
    [job] = world.wait(booking_id)
    assert job.status == SyncStatus.SYNCED, (job.error_code, job.error_message)
    return job


def _first_visit(world: World, email: str) -> str:
    """The guest's first booking, synced the ordinary way; returns the Lead it created."""
    job = _synced(world, world.book(email, name="Rita Return", company="Firstco"))
    world.control.clear_log()
    return job.sf_record_id


def _subrequests(call: dict) -> list[tuple[str, str]]:
    """(method, path after /services/data/vXX.X/) of each subrequest of a logged Composite call."""
    subs = json.loads(call["body"])["compositeRequest"]
    return [(sub["method"], urlsplit(sub["url"]).path.split("/", 4)[-1]) for sub in subs]


def test_a_returning_guest_is_updated_and_gets_an_event_in_one_call(world_of):
    world = world_of(overwrite=True)
    lead_id = _first_visit(world, "rita@example.com")

    job = _synced(world, world.book("Rita@Example.com", name="Rita Return", company="Secondco", phone="+1 555 0100"))

    [call] = world.instance_calls()
    assert _subrequests(call) == [("GET", "query"), ("PATCH", f"sobjects/Lead/{lead_id}"), ("POST", "sobjects/Event")]
    assert (job.sf_record_id, job.action_taken) == (lead_id, "updated Lead, created Event")
    lead = world.control.get_record(lead_id)
    assert (lead["Phone"], lead["Company"]) == ("+1 555 0100", "Secondco")
    events = world.events_for(lead_id)
    assert len(events) == 2 and {e["OwnerId"] for e in events} == {_host_user_id(world)}
    assert job.sf_event_id in {e["Id"] for e in events}
    assert world.token_calls() == []


def test_with_update_off_only_the_event_is_written(world_of):
    world = world_of(overwrite=False)
    lead_id = _first_visit(world, "ulla@example.com")

    job = _synced(world, world.book("ulla@example.com", name="Ulla Changed", company="Changedco"))

    assert len(world.instance_calls()) == 1
    assert job.action_taken == "linked existing Lead (not updated), created Event"
    assert world.control.get_record(lead_id)["Company"] == "Firstco"
    assert len(world.events_for(lead_id)) == 2


def test_a_record_deleted_in_salesforce_is_looked_up_again_and_a_new_lead_created(world_of):
    world = world_of(overwrite=True)
    lead_id = _first_visit(world, "dora@example.com")
    world.control.delete_record(lead_id)

    job = _synced(world, world.book("dora@example.com", name="Dora Deleted"))

    assert len(world.instance_calls()) == 3, "the refused write, then the read and the write"
    [lead] = world.records("Lead", "dora@example.com")
    assert lead["Id"] != lead_id and job.sf_record_id == lead["Id"]
    assert job.action_taken == "created Lead, created Event"
    assert len(world.events_for(lead["Id"])) == 1


def test_a_merged_record_falls_back_to_the_master_the_lookup_finds(world_of):
    world = world_of(overwrite=True)
    lead_id = _first_visit(world, "mia@example.com")
    master = world.control.seed_record("Lead", LastName="Mia Master", Company="Masterco", Email="mia@example.com")
    world.control.merge_records(master, lead_id)

    job = _synced(world, world.book("mia@example.com", name="Mia Merged"))

    assert len(world.instance_calls()) == 3
    assert (job.sf_record_id, job.action_taken) == (master, "updated Lead, created Event")
    assert len(world.events_for(master)) == 2, "the first booking's Event moved with the merge"


def test_a_converted_lead_falls_back_to_its_contact(world_of):
    world = world_of(overwrite=True)
    lead_id = _first_visit(world, "conny@example.com")
    contact_id = world.control.convert_lead(lead_id)

    job = _synced(world, world.book("conny@example.com", name="Conny Converted"))

    assert len(world.instance_calls()) == 3
    assert (job.sf_object, job.sf_record_id) == ("Contact", contact_id)
    assert len(world.events_for(contact_id)) == 1


def test_a_held_lead_is_not_used_once_the_integration_writes_contacts(world_of):
    world = world_of(overwrite=True)
    lead_id = _first_visit(world, "otto@example.com")
    _switch_to_contacts(world)

    job = _synced(world, world.book("otto@example.com", name="Otto Object"))

    [read, write] = world.instance_calls()
    assert {method for method, _ in _subrequests(read)} == {"GET"}
    assert job.sf_object == "Contact" and job.sf_record_id != lead_id


def test_another_teams_link_is_not_used(world_of):
    first_team = world_of(overwrite=True)
    lead_id = _first_visit(first_team, "tess@example.com")
    other_team = world_of(overwrite=True)

    job = _synced(other_team, other_team.book("tess@example.com", name="Tess Team"))

    assert len(other_team.instance_calls()) == 2, "found by the ordinary lookup (the same org in this emulator)"
    assert job.sf_record_id == lead_id


def test_a_write_whose_answer_was_lost_is_retried_with_the_read_and_no_event_is_doubled(world_of):
    world = world_of(overwrite=True)
    lead_id = _first_visit(world, "lost@example.com")
    world.control.add_fault("drop_after_commit", path="sobjects/Event$", method="POST", count=1)

    job = _synced(world, world.book("lost@example.com", name="Lost Answer"))

    assert job.attempts == 2 and "found Event already created" in job.action_taken
    assert len(world.events_for(lead_id)) == 2, "one Event per booking"


def _switch_to_contacts(world: World) -> None:
    """The calendar's integration now writes Contacts (name, e-mail, phone), its describe cached as the editor does."""
    with world.app.app_context():
        integration = db.session.scalar(
            select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == world.calendar_id)
        )
        integration.object_name = SalesforceObject.CONTACT
        db.session.execute(
            delete(FieldMapping).where(
                FieldMapping.integration_id == integration.id, FieldMapping.sf_field.in_(("Company", "LeadSource"))
            )
        )
        db.session.commit()
        connection = db.session.scalar(
            select(SalesforceConnection).where(SalesforceConnection.team_id == world.team_id)
        )
        refresh_describe(connection, SalesforceObject.CONTACT.value)
        db.session.commit()
        db.session.remove()
    world.control.clear_log()


def _host_user_id(world: World) -> str:
    return next(u["Id"] for u in world.control.records("User") if (u.get("Email") or "") == world.host_email)
