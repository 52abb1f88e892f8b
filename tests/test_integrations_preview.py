"""The integration preview: what the sync would send for a sample or a real booking, in the new-record and
existing-record cases, computed by the planner with no write to Salesforce; and, run through the sync engine, the
preview's payload equals the request body the emulator logged for the same booking."""

from __future__ import annotations

import html
import json
import re

import pytest

from portal.models import Question, QuestionKind, SyncEvent
from portal.planner.preview import EXISTING_RECORD_PLACEHOLDERS
from portal.sync import service as sync_service
from portal.sync.outbox import add_sync_job
from tests.factories import login
from tests.integration_support import add_integration, connected_world, question_id
from tests.sync_factories import make_booking

BODY = re.compile(r'<pre data-role="composite-body">(.*?)</pre>', re.S)


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    return connected_world(factory, db_session, salesforce_emulator, salesforce_control)


@pytest.fixture
def host_user_id(world, salesforce_control) -> str:
    """The calendar's host is also a Salesforce user, found by e-mail (so OwnerId is set)."""
    user_id = salesforce_control.add_user(f"sf-{world.owner.email}", email=world.owner.email, last_name="Owner")
    salesforce_control.clear_log()
    return user_id


def mapping(calendar) -> list[tuple[str, str, str]]:
    return [
        ("LastName", "question", str(question_id(calendar, "Name"))),
        ("Email", "question", str(question_id(calendar, "E-mail"))),
        ("Company", "fixed", "Acme"),
        ("LeadSource", "fixed", "Web"),
        ("OwnerId", "item", "participating_member"),
        ("Description", "question", str(question_id(calendar, "Notes"))),
    ]


def add_notes_question(db_session, calendar) -> None:
    db_session.add(
        Question(calendar_id=calendar.id, kind=QuestionKind.LONG_TEXT, label="Notes", max_length=500, position=9)
    )
    db_session.flush()
    db_session.refresh(calendar)


def bodies(page: str) -> list[dict]:
    """The Composite request bodies shown, in order: the new-record case, then the existing-record case."""
    return [json.loads(html.unescape(text)) for text in BODY.findall(page)]


def writes(control) -> list[dict]:
    return [entry for entry in control.request_log() if entry["method"] in ("POST", "PATCH", "PUT", "DELETE")]


def test_the_sample_preview_shows_both_cases_without_writing_to_salesforce(
    client, db_session, world, host_user_id, salesforce_control
):
    add_notes_question(db_session, world.calendar)
    add_integration(db_session, world.calendar, mapping(world.calendar), overwrite=True)
    login(client, world.owner)

    response = client.get(f"{world.editor_url}/preview")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    new_record, existing_record = bodies(page)
    lead, event = new_record["compositeRequest"]
    assert new_record["allOrNone"] is True
    assert (lead["method"], lead["url"]) == ("POST", "/services/data/v62.0/sobjects/Lead")
    assert lead["body"] == {
        "LastName": "Alex Sample",
        "Email": "alex.sample@example.com",
        "Company": "Acme",
        "LeadSource": "Web",
        "OwnerId": host_user_id,
        "Description": "A longer sample answer,\nover two lines.",
    }
    assert event["body"]["WhoId"] == "@{record.id}" and event["body"]["OwnerId"] == host_user_id
    update, existing_event = existing_record["compositeRequest"]
    placeholder = EXISTING_RECORD_PLACEHOLDERS["Lead"]
    assert (update["method"], update["url"]) == ("PATCH", f"/services/data/v62.0/sobjects/Lead/{placeholder}")
    assert existing_event["body"]["WhoId"] == placeholder
    assert writes(salesforce_control) == []
    reads = [(entry["method"], entry["path"]) for entry in salesforce_control.request_log()]
    assert reads == [
        ("GET", "/services/data/v62.0/sobjects/Lead/describe"),  # once, then cached
        ("GET", "/services/data/v62.0/query"),  # the host's Salesforce user, as the sync looks it up
        ("GET", "/services/data/v62.0/query"),  # the guest's record with the values the write rules decide on
    ]


def test_the_preview_shows_per_field_salesforces_value_the_bookings_and_whether_it_is_written(
    client, db_session, world, host_user_id, salesforce_control
):
    add_notes_question(db_session, world.calendar)
    add_integration(db_session, world.calendar, mapping(world.calendar), overwrite=True)
    lead_id = salesforce_control.seed_record(
        "Lead", LastName="Sample", Company="Oldco", Email="ALEX.SAMPLE@example.com", Description="Old notes"
    )
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/preview").get_data(as_text=True)

    table = re.search(r'<table class="preview-fields" data-role="write-decisions">(.*?)</table>', page, re.S).group(1)
    cells = [html.unescape(re.sub(r"\s+", " ", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", table, re.S)]
    rows = [tuple(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    assert (
        "Email",
        "ALEX.SAMPLE@example.com",
        "alex.sample@example.com",
        "No: Salesforce already has this value",
    ) in rows
    assert ("Description", "Old notes", "A longer sample answer, over two lines.", "Yes: always written") in rows
    kept = "No: a full name is only written to new records; an existing record's names are kept"
    assert ("LastName", "—", "Alex Sample", kept) in rows  # create-only: not even read
    assert f"/sobjects/Lead/{lead_id}" in page
    assert writes(salesforce_control) == []


def test_with_update_off_the_existing_record_case_only_registers_the_event(client, db_session, world, host_user_id):
    add_notes_question(db_session, world.calendar)
    add_integration(db_session, world.calendar, mapping(world.calendar), overwrite=False)
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/preview").get_data(as_text=True)

    (event,) = bodies(page)[1]["compositeRequest"]
    assert event["url"].endswith("/sobjects/Event") and "not updated" in page


def test_nothing_to_write_for_an_existing_record_is_said_plainly(client, db_session, world):
    add_integration(
        db_session, world.calendar, [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")], register_event=False
    )
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/preview").get_data(as_text=True)

    assert len(bodies(page)) == 1
    assert "Nothing would be written to Salesforce in this case." in page


def test_a_host_who_is_no_salesforce_user_leaves_owner_unset(client, db_session, world, salesforce_control):
    add_notes_question(db_session, world.calendar)
    add_integration(db_session, world.calendar, mapping(world.calendar))
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/preview").get_data(as_text=True)

    lead, event = bodies(page)[0]["compositeRequest"]
    assert "OwnerId" not in lead["body"] and "OwnerId" not in event["body"]
    assert "no active Salesforce user with" in page


def test_a_mapping_that_would_fail_shows_why_before_anything_is_sent(client, db_session, world, salesforce_control):
    add_integration(
        db_session,
        world.calendar,
        [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme"), ("Gone__c", "fixed", "x")],
    )
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/preview").get_data(as_text=True)

    assert "This booking would fail before anything is sent" in page
    assert "INVALID_FIELD" in page and "Gone__c no longer exists on Lead." in page
    assert bodies(page) == []


def test_a_booking_of_another_calendar_falls_back_to_the_sample(client, db_session, factory, world):
    add_integration(db_session, world.calendar, [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")])
    elsewhere = make_booking(db_session, factory.calendar(world.team, created_by=world.owner))
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/preview", query_string={"booking": str(elsewhere.id)}).get_data(as_text=True)

    assert "Sample booking" in page and elsewhere.guest_email not in page


def test_the_preview_equals_what_the_sync_engine_sends_for_the_same_booking(
    app, client, db_session, world, host_user_id, salesforce_control, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://book.example.com")  # as in production
    add_notes_question(db_session, world.calendar)
    add_integration(db_session, world.calendar, mapping(world.calendar), overwrite=True)
    notes = question_id(world.calendar, "Notes")
    booking = make_booking(
        db_session,
        world.calendar,
        host=world.owner,
        guest_name="Grace Hopper",
        guest_email="grace@example.com",
        answers={
            str(question_id(world.calendar, "Name")): "Grace Hopper",
            str(question_id(world.calendar, "E-mail")): "grace@example.com",
            str(notes): 'Compilers & <markup>, "quotes"',
        },
    )
    job = add_sync_job(db_session, booking, SyncEvent.CREATED)
    db_session.commit()
    login(client, world.owner)
    preview_page = client.get(f"{world.editor_url}/preview", query_string={"booking": str(booking.id)})
    previewed = bodies(preview_page.get_data(as_text=True))[0]
    salesforce_control.clear_log()

    outcome = sync_service.run(job.id)

    composite_writes = [e for e in writes(salesforce_control) if e["path"].endswith("/composite")]
    assert outcome == "synced", outcome
    assert len(composite_writes) == 2  # the read, then the write
    assert json.loads(composite_writes[1]["body"]) == previewed
    assert previewed["compositeRequest"][0]["body"]["Description"] == 'Compilers & <markup>, "quotes"'


def test_a_booking_id_too_long_to_read_as_a_number_falls_back_to_the_sample(client, db_session, world):
    add_integration(db_session, world.calendar, [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")])
    login(client, world.owner)

    response = client.get(f"{world.editor_url}/preview", query_string={"booking": "9" * 4301})

    assert response.status_code == 200 and "Sample booking" in response.get_data(as_text=True)
