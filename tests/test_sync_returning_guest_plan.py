"""Returning guests in one call (design §5 "Returning guests"), in the planner: a create whose guest's record id an
earlier booking's link holds is written by that id in one Composite request when no rule needs the read, and any
failure of it falls back to the ordinary read and write with today's outcome. No app, database or network; the last
tests run against the emulator's org logic in process."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest

from portal.models import SalesforceObject, SourceKind, SyncEvent, WriteRule
from portal.planner.inputs import LinkSnapshot, MappingRow
from portal.planner.plan import HOST_USER_REF
from tests.test_sync_plan import (
    CONTACT_ID,
    CONTACT_MAPPING,
    EVENT_ID,
    GUEST_EMAIL,
    LEAD_ID,
    LEAD_MAPPING,
    NEW_EVENT_ID,
    _apply,
    _live,
    _org_with_host,
    _writes_of,
    booking,
    event_create,
    lead,
    reads,
    run,
    sync,
    write_fails,
    writes_ok,
)

# Nothing was read, so rows written "always" are sent as they are (the full name still only creates).
UNREAD_UPDATE_BODY = {"Email": GUEST_EMAIL, "Company": "Acme"}
USERS_QUERY = "SELECT Id, Email FROM User WHERE Email = 'host@acme.test' AND IsActive = true"
OTHER_ID = "00Q5f000008AsnXEAS"


def returning(known: str = LEAD_ID, **settings):
    return replace(sync(**settings), known_record_id=known)


def _methods(request) -> list[tuple[str, str]]:
    return [(method, url.split("?")[0]) for method, url, _ in _writes_of(request)]


# -- one call ------------------------------------------------------------------------------------------------------


def test_update_and_event_in_one_call_with_the_hosts_user_queried_in_the_same_request():
    outcome, sent = run(returning(overwrite=True), [writes_ok()])

    assert len(sent) == 1 and sent[0].all_or_none
    [users, patch, post] = _writes_of(sent[0])
    assert users[0] == "GET" and dict(parse_qsl(urlsplit(users[1]).query))["q"].startswith(USERS_QUERY)
    assert patch == ("PATCH", f"/sobjects/Lead/{LEAD_ID}", UNREAD_UPDATE_BODY)
    assert post == event_create(LEAD_ID, owner=HOST_USER_REF)
    assert (outcome.ok, outcome.sf_object, outcome.record_id, outcome.event_id) == (
        True,
        SalesforceObject.LEAD,
        LEAD_ID,
        NEW_EVENT_ID,
    )
    assert outcome.actions == ("updated Lead", "created Event")


def test_update_off_writes_only_the_event_and_says_what_today_says():
    outcome, sent = run(returning(overwrite=False), [writes_ok()])

    assert _methods(sent[0]) == [("GET", "/query"), ("POST", "/sobjects/Event")]
    assert outcome.actions == ("linked existing Lead (not updated)", "created Event")
    assert (outcome.record_id, outcome.event_id) == (LEAD_ID, NEW_EVENT_ID)


def test_update_without_the_event_is_one_patch():
    outcome, sent = run(returning(overwrite=True, register_event=False), [writes_ok()])

    assert _writes_of(sent[0]) == (("PATCH", f"/sobjects/Lead/{LEAD_ID}", UNREAD_UPDATE_BODY),)
    assert (outcome.actions, outcome.record_id, outcome.event_id) == (("updated Lead",), LEAD_ID, "")


def test_a_booking_without_a_host_gets_an_event_without_owner_and_no_user_query():
    request = replace(returning(), booking=booking(host_email="", host_name=""))

    _, sent = run(request, [writes_ok()])

    assert _writes_of(sent[0]) == (event_create(LEAD_ID, owner=None),)


def test_contact_integration_writes_its_contact_by_id():
    request = returning(
        object_name=SalesforceObject.CONTACT, mappings=CONTACT_MAPPING, overwrite=True, known=CONTACT_ID
    )

    outcome, sent = run(request, [writes_ok()])

    assert _methods(sent[0])[1] == ("PATCH", f"/sobjects/Contact/{CONTACT_ID}")
    assert (outcome.sf_object, outcome.record_id, outcome.actions[0]) == ("Contact", CONTACT_ID, "updated Contact")


# -- when the read is still needed ---------------------------------------------------------------------------------

IF_EMPTY_PHONE = tuple(
    replace(row, write_rule=WriteRule.IF_EMPTY) if row.sf_field == "Phone" else row for row in LEAD_MAPPING
)
HOST_AS_OWNER = (*LEAD_MAPPING, MappingRow("OwnerId", SourceKind.ITEM, "participating_member"))


@pytest.mark.parametrize(
    ("why", "request_"),
    [
        ("an only-if-empty row decides on the current value", returning(overwrite=True, mappings=IF_EMPTY_PHONE)),
        ("a row writes the host's User to the record", returning(overwrite=True, mappings=HOST_AS_OWNER)),
        ("nothing to write: only a read can tell the record is still there", returning(register_event=False)),
        ("no record id held", returning(known="")),
        ("a reschedule nobody linked is not a returning guest's create", returning(event=SyncEvent.RESCHEDULED)),
    ],
)
def test_the_ordinary_lookup_runs_when(why, request_):
    step_sent = run(request_, [reads(leads=[lead()]), writes_ok()])[1]

    assert all(sub.method == "GET" for sub in step_sent[0].subrequests), why
    assert not step_sent[0].all_or_none


def test_an_owner_row_written_only_when_creating_does_not_need_the_read():
    rows = (
        *LEAD_MAPPING,
        MappingRow("OwnerId", SourceKind.ITEM, "participating_member", write_rule=WriteRule.ON_CREATE),
    )

    _, sent = run(returning(overwrite=True, mappings=rows), [writes_ok()])

    assert len(sent) == 1 and "OwnerId" not in dict(_writes_of(sent[0])[1][2])


def test_reschedule_and_cancel_of_a_linked_booking_are_unchanged():
    link = LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID)
    for event in (SyncEvent.RESCHEDULED, SyncEvent.CANCELLED):
        with_known = replace(sync(event, link), known_record_id=OTHER_ID)
        assert run(with_known, [writes_ok()]) == run(sync(event, link), [writes_ok()])


# -- falling back: the same outcome as today -----------------------------------------------------------------------

CONVERTED = ("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
GONE = ("ENTITY_IS_DELETED", "entity is deleted")
NO_HOST = ("PROCESSING_HALTED", "Invalid reference specified. No value for users.records[0].Id found in users.")
DUPLICATE = ("DUPLICATES_DETECTED", "Use one of these records?")


@pytest.mark.parametrize(
    ("case", "overwrite", "failing", "status", "error", "today"),
    [
        ("deleted (or merged away) since", True, "record", 404, GONE, [reads(), writes_ok()]),
        (
            "merged: the lookup finds the master",
            True,
            "record",
            404,
            GONE,
            [reads(leads=[lead(OTHER_ID)]), writes_ok()],
        ),
        (
            "converted since: its Contact is linked",
            True,
            "record",
            400,
            CONVERTED,
            [reads(leads=[lead(converted_to=CONTACT_ID)]), writes_ok()],
        ),
        (
            "converted, update off: the Event refuses the Lead",
            False,
            "event",
            400,
            CONVERTED,
            [reads(leads=[lead(converted_to=CONTACT_ID)]), writes_ok()],
        ),
        ("the host is no Salesforce user", True, "event", 400, NO_HOST, [reads(leads=[lead()], users=()), writes_ok()]),
        ("a duplicate rule blocks the update", True, "record", 400, DUPLICATE, [reads(leads=[lead()]), writes_ok()]),
        ("deleted, update off: the Event refuses its WhoId", False, "event", 400, GONE, [reads(), writes_ok()]),
    ],
)
def test_a_failed_write_by_id_falls_back_to_read_and_write_with_todays_outcome(
    case, overwrite, failing, status, error, today
):
    code, message = error
    outcome, sent = run(returning(overwrite=overwrite), [write_fails(failing, status, code, message), *today])
    todays_outcome, todays_requests = run(sync(overwrite=overwrite), today)

    assert outcome == todays_outcome, case
    assert sent[1:] == todays_requests
    assert len(sent) == 3


def test_an_answer_without_results_is_unexpected_not_a_fallback():
    outcome, sent = run(returning(overwrite=True), [lambda request: [{"errorCode": "UNKNOWN_EXCEPTION"}]])

    assert (len(sent), outcome.error.code, outcome.error.retryable) == (1, "UNEXPECTED_RESPONSE", True)


# -- against the emulator's org logic ------------------------------------------------------------------------------


def _first_booking(org) -> str:
    created, _ = _apply(org, sync(overwrite=True))
    return created.record_id


def _second(record_id: str, overwrite: bool = True):
    later = booking(booking_id=42, answers=((1, "Mary"), (2, GUEST_EMAIL), (3, "Acme 2")))
    return replace(sync(overwrite=overwrite, snapshot=later), known_record_id=record_id)


def test_emulated_org_returning_guest_is_updated_with_an_event_owned_by_the_host_in_one_call():
    org, host_id = _org_with_host()
    lead_id = _first_booking(org)

    outcome, calls = _apply(org, _second(lead_id))

    assert (outcome.ok, calls, outcome.record_id) == (True, 1, lead_id)
    assert org.records["Lead"][lead_id]["Company"] == "Acme 2"
    new_event = org.records["Event"][outcome.event_id]
    assert (new_event["WhoId"], new_event["OwnerId"]) == (lead_id, host_id)


def test_emulated_org_host_without_user_falls_back_to_an_event_owned_by_the_connected_user():
    org = _org_with_host()[0]
    lead_id = _first_booking(org)
    snapshot = booking(booking_id=42, host_email="nobody@acme.test")

    outcome, calls = _apply(org, replace(sync(overwrite=True, snapshot=snapshot), known_record_id=lead_id))

    assert (outcome.ok, calls, outcome.record_id) == (True, 3, lead_id)
    assert org.records["Event"][outcome.event_id]["WhoId"] == lead_id


def test_emulated_org_deleted_record_falls_back_and_a_new_lead_is_created():
    org, _ = _org_with_host()
    lead_id = _first_booking(org)
    org.delete_record(lead_id)

    outcome, calls = _apply(org, _second(lead_id))

    assert (outcome.ok, calls, outcome.actions) == (True, 3, ("created Lead", "created Event"))
    assert [record["Id"] for record in _live(org, "Lead")] == [outcome.record_id] != [lead_id]


def test_emulated_org_merged_record_falls_back_to_the_master():
    org, _ = _org_with_host()
    lead_id = _first_booking(org)
    master = org.insert_record("Lead", {"LastName": "Master", "Company": "Acme", "Email": GUEST_EMAIL})
    org.merge_records(master, [lead_id])

    outcome, calls = _apply(org, _second(lead_id))

    assert (outcome.ok, calls, outcome.record_id) == (True, 3, master)
    assert {event["WhoId"] for event in _live(org, "Event")} == {master}, "the merge moved the first Event too"


def test_emulated_org_converted_lead_falls_back_to_its_contact():
    org, _ = _org_with_host()
    lead_id = _first_booking(org)
    contact_id = org.convert_lead(lead_id)["contactId"]

    outcome, calls = _apply(org, _second(lead_id))

    assert (outcome.ok, calls, outcome.sf_object, outcome.record_id) == (True, 3, "Contact", contact_id)
    assert org.records["Event"][outcome.event_id]["WhoId"] == contact_id
    assert outcome.actions == ("linked existing Contact (converted Lead)", "created Event")


def test_emulated_org_converted_lead_with_update_off_falls_back_on_the_events_refusal():
    org, _ = _org_with_host()
    lead_id = _first_booking(org)
    contact_id = org.convert_lead(lead_id)["contactId"]

    outcome, calls = _apply(org, _second(lead_id, overwrite=False))

    assert (outcome.ok, calls, outcome.record_id) == (True, 3, contact_id)


def test_emulated_org_record_whose_email_changed_is_still_the_one_written():
    """The link says who the guest is (design §5 "Returning guests"): no second Lead for the same person."""
    org, _ = _org_with_host()
    lead_id = _first_booking(org)
    org.update_record("Lead", lead_id, {"Email": "mary.new@example.com"})

    outcome, calls = _apply(org, _second(lead_id))

    assert (outcome.ok, calls, outcome.record_id, len(_live(org, "Lead"))) == (True, 1, lead_id, 1)
