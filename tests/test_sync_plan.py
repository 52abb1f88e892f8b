"""The sync planner, scenario by scenario: the Composite requests it sends, how it reads Salesforce's answers, and the
outcome. Salesforce's answers are built in the shapes of the samples folder; no app, database or network."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from emulators.salesforce.composite import run_composite
from emulators.salesforce.dataapi import Context as EmulatorContext
from emulators.salesforce.metadata import STANDARD_FIELDS, describe_object
from emulators.salesforce.org import Org
from portal.models import (
    Booking,
    Calendar,
    CalendarHost,
    FieldMapping,
    NameFormat,
    OnCancel,
    Question,
    QuestionKind,
    SalesforceIntegration,
    SalesforceLink,
    SalesforceObject,
    SourceKind,
    SyncEvent,
    User,
)
from portal.planner.fields import fields_from_describe
from portal.planner.inputs import (
    BookingSnapshot,
    IntegrationSettings,
    LinkSnapshot,
    MappingRow,
    QuestionSnapshot,
    SyncRequest,
)
from portal.planner.plan import (
    MAX_QUERIES,
    MAX_SUBREQUESTS,
    CompositeRequest,
    Outcome,
    advance,
    event_subject,
    first_step,
)
from portal.planner.preview import preview, sample_answers
from portal.sync import snapshots

VERSION = "62.0"
LEAD_FIELDS = fields_from_describe(describe_object("Lead", STANDARD_FIELDS["Lead"], VERSION))
CONTACT_FIELDS = fields_from_describe(describe_object("Contact", STANDARD_FIELDS["Contact"], VERSION))
LEAD_ID, OTHER_LEAD_ID, NEW_LEAD_ID = "00Q5f000008AsnDEAS", "00Q5f000008AsnEEAS", "00Q000000000009AAA"
CONTACT_ID, NEW_CONTACT_ID = "003aj000002oTldAAE", "003000000000009AAA"
USER_ID, EVENT_ID, NEW_EVENT_ID = "005000000000001AAA", "00U000000000001AAA", "00U000000000009AAA"
BASE = f"/services/data/v{VERSION}"

NAME, EMAIL, COMPANY, PHONE, TOPIC, FAMILY, GIVEN = 1, 2, 3, 4, 5, 6, 7
QUESTIONS = (
    QuestionSnapshot(NAME, "full_name", "Name", required=True, max_length=80),
    QuestionSnapshot(EMAIL, "email", "E-mail", required=True, max_length=80),
    QuestionSnapshot(COMPANY, "company", "Company", required=False, max_length=80),
    QuestionSnapshot(PHONE, "phone", "Phone", required=False, max_length=40),
    QuestionSnapshot(TOPIC, "long_text", "What would you like to discuss?"),
)
GUEST_EMAIL = "mary@example.com"


def q(field_name: str, question_id: int, fallback: str = "") -> MappingRow:
    return MappingRow(field_name, SourceKind.QUESTION, str(question_id), fallback_value=fallback)


LEAD_MAPPING = (q("LastName", NAME), q("Email", EMAIL), q("Company", COMPANY, "Private person"), q("Phone", PHONE))
CONTACT_MAPPING = (q("LastName", NAME), q("Email", EMAIL), q("Phone", PHONE))


def booking(**changes) -> BookingSnapshot:
    base = dict(
        booking_id=41,
        calendar_name="Acme intro",
        start_at=datetime(2025, 3, 4, 9, 0, tzinfo=UTC),
        end_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        guest_email=GUEST_EMAIL,
        guest_name="Mary Ann O'Brien",
        time_zone="Europe/Berlin",
        meeting_url="https://meet.example.com/acme-intro",
        booking_page_url="https://portal.example.com/c/acme-intro",
        host_email="host@acme.test",
        host_name="Hana Host",
        questions=QUESTIONS,
        answers=(
            (NAME, "Mary Ann O'Brien"),
            (EMAIL, GUEST_EMAIL),
            (COMPANY, "Acme"),
            (PHONE, ""),
            (TOPIC, "Pricing\nfor 12 seats"),
        ),
    )
    return BookingSnapshot(**{**base, **changes})


def sync(
    event: str = SyncEvent.CREATED,
    link: LinkSnapshot | None = None,
    snapshot: BookingSnapshot | None = None,
    **settings,
):
    chosen = dict(
        object_name=SalesforceObject.LEAD,
        register_event=True,
        overwrite=False,
        contact_first=False,
        mappings=LEAD_MAPPING,
    )
    chosen.update(settings)
    fields = CONTACT_FIELDS if chosen["object_name"] == SalesforceObject.CONTACT else LEAD_FIELDS
    return SyncRequest(event, snapshot or booking(), IntegrationSettings(**chosen), fields, VERSION, link)


# -- Salesforce's answers, in the samples' shapes ------------------------------------------------------------------


def result(reference: str, status: int, body: object) -> dict:
    return {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": reference}


def query_body(sobject: str, rows: list[dict]) -> dict:
    records = [{"attributes": {"type": sobject, "url": f"{BASE}/sobjects/{sobject}/{r['Id']}"}, **r} for r in rows]
    return {"totalSize": len(records), "done": True, "records": records}


def lead(lead_id: str = LEAD_ID, email: str = GUEST_EMAIL, converted_to: str = "", modified: str = "") -> dict:
    return {
        "Id": lead_id,
        "Email": email,
        "IsConverted": bool(converted_to),
        "ConvertedContactId": converted_to or None,
        "LastModifiedDate": modified or "2025-01-01T10:00:00.000+0000",
    }


def contact(contact_id: str = CONTACT_ID, email: str = GUEST_EMAIL) -> dict:
    return {"Id": contact_id, "Email": email, "LastModifiedDate": "2025-01-02T10:00:00.000+0000"}


def user(email: str = "host@acme.test") -> dict:
    return {"Id": USER_ID, "Email": email}


def event(who_id: str, booking_id: int = 41, subject: str = "Acme intro: Mary Ann O'Brien") -> dict:
    """An Event at the booking's start; its Description carries booking_id's marker."""
    description = f"Booking reference: {booking_id}\nWeb meeting: https://meet.example.com/acme-intro"
    return {"Id": EVENT_ID, "WhoId": who_id, "Subject": subject, "Description": description}


Answer = Callable[[CompositeRequest], object]


HOST_USERS = (user(),)


def reads(leads=(), contacts=(), users=HOST_USERS, events=()) -> Answer:
    rows = {"leads": ("Lead", leads), "contacts": ("Contact", contacts), "users": ("User", users)}
    rows["events"] = ("Event", events)

    def answer(request: CompositeRequest) -> dict:
        found = [rows[sub.reference_id] for sub in request.subrequests]
        return {
            "compositeResponse": [
                result(sub.reference_id, 200, query_body(sobject, list(records)))
                for sub, (sobject, records) in zip(request.subrequests, found, strict=True)
            ]
        }

    return answer


def writes_ok(record_id: str = NEW_LEAD_ID, event_id: str = NEW_EVENT_ID) -> Answer:
    def answer(request: CompositeRequest) -> dict:
        results = []
        for sub in request.subrequests:
            if sub.method == "POST":
                new_id = record_id if sub.reference_id == "record" else event_id
                results.append(result(sub.reference_id, 201, {"id": new_id, "success": True, "errors": []}))
            else:
                results.append(result(sub.reference_id, 204, None))
        return {"compositeResponse": results}

    return answer


def halted(reference: str) -> dict:
    message = "The transaction was rolled back since another operation in the same transaction failed."
    return result(reference, 400, [{"errorCode": "PROCESSING_HALTED", "message": message}])


def write_fails(reference: str, status: int, code: str, message: str, fields=None, extra=None) -> Answer:
    def answer(request: CompositeRequest) -> dict:
        error = {"message": message, "errorCode": code, **(extra or {})}
        if fields is not None:
            error["fields"] = fields
        return {
            "compositeResponse": [
                result(sub.reference_id, status, [error]) if sub.reference_id == reference else halted(sub.reference_id)
                for sub in request.subrequests
            ]
        }

    return answer


def duplicate_blocked(sobject: str = "Lead", match_id: str = LEAD_ID) -> Answer:
    """A blocking duplicate rule, shaped like error_duplicates_detected_contact.json."""
    duplicate = {
        "duplicateResult": {
            "allowSave": False,
            "duplicateRule": f"Standard_{sobject}_Duplicate_Rule",
            "duplicateRuleEntityType": sobject,
            "errorMessage": "You're creating a duplicate record. We recommend you use an existing record instead.",
            "matchResults": [
                {
                    "entityType": sobject,
                    "errors": [],
                    "matchEngine": "FuzzyMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {"attributes": {"type": sobject, "url": "..."}, "Id": match_id},
                        }
                    ],
                    "rule": f"Standard_{sobject}_Match_Rule_v1_0",
                    "size": 1,
                    "success": True,
                }
            ],
        }
    }
    message = "You're creating a duplicate record. We recommend you use an existing record instead."
    return write_fails("record", 400, "DUPLICATES_DETECTED", message, extra=duplicate)


def run(request: SyncRequest, answers: list[Answer]) -> tuple[Outcome, list[CompositeRequest]]:
    """Drive the planner as the service does; each API call gets the next canned answer."""
    step, sent = first_step(request), []
    while step.outcome is None:
        assert len(sent) < len(answers), f"more calls than the scenario allows: {sent}"
        sent.append(step.request)
        step = advance(step, answers[len(sent) - 1](step.request))
    return step.outcome, sent


# -- scenarios -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    calls: int
    actions: tuple[str, ...] = ()
    sf_object: str = ""
    record_id: str = ""
    event_id: str = ""
    error: str = ""
    error_fields: tuple[str, ...] = ()
    retryable: bool = False
    # the last request's subrequests as (method, url after /services/data/vXX.X, body or None)
    last_writes: tuple[tuple[str, str, dict | None], ...] | None = None
    read_refs: tuple[str, ...] | None = None


EVENT_DESCRIPTION = (
    "Booking reference: 41\n"
    "Web meeting: https://meet.example.com/acme-intro\n"
    "Booking page: https://portal.example.com/c/acme-intro\n"
    "\n"
    "Name: Mary Ann O'Brien\n"
    "E-mail: mary@example.com\n"
    "Company: Acme\n"
    "What would you like to discuss?: Pricing\nfor 12 seats"
)


def event_create(who: str, owner: str | None = USER_ID, **changes) -> tuple[str, str, dict]:
    body = {
        "Subject": "Acme intro: Mary Ann O'Brien",
        "StartDateTime": "2025-03-04T09:00:00Z",
        "EndDateTime": "2025-03-04T09:30:00Z",
        "Location": "https://meet.example.com/acme-intro",
        "Description": EVENT_DESCRIPTION,
        "WhoId": who,
        **changes,
    }
    if owner:
        body["OwnerId"] = owner
    return ("POST", "/sobjects/Event", body)


NEW_LEAD_BODY = {"LastName": "Mary Ann O'Brien", "Email": GUEST_EMAIL, "Company": "Acme"}
# An update sends only what changes: the full name never overwrites a record's names, the e-mail is the one read,
# the blank phone is not sent.
UPDATE_BODY = {"Company": "Acme"}
# After a duplicate rule's match nothing was read, so rows written "always" are sent (the full name still is not).
UNREAD_UPDATE_BODY = {"Email": GUEST_EMAIL, "Company": "Acme"}


@dataclass(frozen=True)
class Scenario:
    name: str
    request: SyncRequest
    answers: list[Answer]
    expect: Expect


SCENARIOS = [
    Scenario(
        "new guest: Lead and Event in one write",
        sync(),
        [reads(), writes_ok()],
        Expect(
            2,
            ("created Lead", "created Event"),
            SalesforceObject.LEAD,
            NEW_LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(("POST", "/sobjects/Lead", NEW_LEAD_BODY), event_create("@{record.id}")),
            read_refs=("leads", "users", "events"),
        ),
    ),
    Scenario(
        "existing Lead, Update on: only mapped non-empty values are overwritten",
        sync(overwrite=True),
        [reads(leads=[lead()]), writes_ok()],
        Expect(
            2,
            ("updated Lead", "created Event"),
            SalesforceObject.LEAD,
            LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(("PATCH", f"/sobjects/Lead/{LEAD_ID}", UPDATE_BODY), event_create(LEAD_ID)),
        ),
    ),
    Scenario(
        "existing Lead, Update off: untouched, the Event still linked",
        sync(overwrite=False),
        [reads(leads=[lead()]), writes_ok()],
        Expect(
            2,
            ("linked existing Lead (not updated)", "created Event"),
            SalesforceObject.LEAD,
            LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(LEAD_ID),),
        ),
    ),
    Scenario(
        "existing Lead, Update off, Register off: one read, nothing written",
        sync(register_event=False),
        [reads(leads=[lead()])],
        Expect(1, ("linked existing Lead (not updated)",), SalesforceObject.LEAD, LEAD_ID, read_refs=("leads",)),
    ),
    Scenario(
        "the most recently modified open Lead wins",
        sync(overwrite=True, register_event=False),
        [
            reads(leads=[lead(OTHER_LEAD_ID, modified="2024-01-01T00:00:00.000+0000"), lead()]),
            writes_ok(),
        ],
        Expect(
            2,
            ("updated Lead",),
            SalesforceObject.LEAD,
            LEAD_ID,
            last_writes=(("PATCH", f"/sobjects/Lead/{LEAD_ID}", UPDATE_BODY),),
        ),
    ),
    Scenario(
        "Contact integration, new guest",
        sync(object_name=SalesforceObject.CONTACT, mappings=CONTACT_MAPPING),
        [reads(), writes_ok(record_id=NEW_CONTACT_ID)],
        Expect(
            2,
            ("created Contact", "created Event"),
            SalesforceObject.CONTACT,
            NEW_CONTACT_ID,
            NEW_EVENT_ID,
            last_writes=(
                ("POST", "/sobjects/Contact", {"LastName": "Mary Ann O'Brien", "Email": GUEST_EMAIL}),
                event_create("@{record.id}"),
            ),
            read_refs=("contacts", "users", "events"),
        ),
    ),
    Scenario(
        "Contact integration, existing Contact with Update on: nothing changes, so only the Event is written",
        sync(object_name=SalesforceObject.CONTACT, mappings=CONTACT_MAPPING, overwrite=True),
        [reads(contacts=[contact(email=GUEST_EMAIL.upper())]), writes_ok()],
        Expect(
            2,
            ("linked existing Contact (nothing to update)", "created Event"),
            SalesforceObject.CONTACT,
            CONTACT_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(CONTACT_ID),),
        ),
    ),
    Scenario(
        "contact-first: the guest is already a Contact, so no Lead is created and the Lead mapping is not applied",
        sync(contact_first=True, overwrite=True),
        [reads(leads=[lead()], contacts=[contact()]), writes_ok()],
        Expect(
            2,
            ("linked existing Contact (contact-first)", "created Event"),
            SalesforceObject.CONTACT,
            CONTACT_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(CONTACT_ID),),
            read_refs=("leads", "contacts", "users", "events"),
        ),
    ),
    Scenario(
        "contact-first finds no Contact: a Lead is created",
        sync(contact_first=True),
        [reads(), writes_ok()],
        Expect(2, ("created Lead", "created Event"), SalesforceObject.LEAD, NEW_LEAD_ID, NEW_EVENT_ID),
    ),
    Scenario(
        "converted Lead: linked through ConvertedContactId, Lead mapping not applied even with Update on",
        sync(overwrite=True),
        [reads(leads=[lead(converted_to=CONTACT_ID)]), writes_ok()],
        Expect(
            2,
            ("linked existing Contact (converted Lead)", "created Event"),
            SalesforceObject.CONTACT,
            CONTACT_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(CONTACT_ID),),
        ),
    ),
    Scenario(
        "an open Lead goes before a converted one",
        sync(overwrite=True, register_event=False),
        [
            reads(
                leads=[lead(OTHER_LEAD_ID, converted_to=CONTACT_ID, modified="2025-02-01T00:00:00.000+0000"), lead()]
            ),
            writes_ok(),
        ],
        Expect(2, ("updated Lead",), SalesforceObject.LEAD, LEAD_ID),
    ),
    Scenario(
        "blocking duplicate rule on create: the matched Lead is updated (Update on) and the Event created, 3 calls",
        sync(overwrite=True),
        [reads(), duplicate_blocked(), writes_ok()],
        Expect(
            3,
            ("updated Lead (duplicate rule)", "created Event"),
            SalesforceObject.LEAD,
            LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(("PATCH", f"/sobjects/Lead/{LEAD_ID}", UNREAD_UPDATE_BODY), event_create(LEAD_ID)),
        ),
    ),
    Scenario(
        "blocking duplicate rule on create with Update off: the matched Lead is only linked",
        sync(),
        [reads(), duplicate_blocked(), writes_ok()],
        Expect(
            3,
            ("linked existing Lead (duplicate rule, not updated)", "created Event"),
            SalesforceObject.LEAD,
            LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(LEAD_ID),),
        ),
    ),
    Scenario(
        "a Lead duplicate rule matching a Contact links that Contact",
        sync(overwrite=True),
        [reads(), duplicate_blocked("Contact", CONTACT_ID), writes_ok()],
        Expect(
            3,
            ("linked existing Contact (duplicate rule)", "created Event"),
            SalesforceObject.CONTACT,
            CONTACT_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(CONTACT_ID),),
        ),
    ),
    Scenario(
        "blocking duplicate rule on update: the update is skipped, the Event still created",
        sync(overwrite=True),
        [reads(leads=[lead()]), duplicate_blocked("Lead", OTHER_LEAD_ID), writes_ok()],
        Expect(
            3,
            ("linked existing Lead (update blocked by a duplicate rule)", "created Event"),
            SalesforceObject.LEAD,
            LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(event_create(LEAD_ID),),
        ),
    ),
    Scenario(
        "a duplicate rule blocking the follow-up too fails for good, no fourth call",
        sync(overwrite=True),
        [reads(), duplicate_blocked(), duplicate_blocked("Lead", OTHER_LEAD_ID)],
        Expect(3, error="DUPLICATES_DETECTED"),
    ),
    Scenario(
        "exactly once: the Event an earlier attempt created is found, not doubled",
        sync(),
        [reads(leads=[lead()], events=[event(LEAD_ID)])],
        Expect(
            1,
            ("linked existing Lead (not updated)", "found Event already created"),
            SalesforceObject.LEAD,
            LEAD_ID,
            EVENT_ID,
        ),
    ),
    Scenario(
        "exactly once: the booking's Event is found by its marker even after its subject was edited",
        sync(),
        [reads(leads=[lead()], events=[event(LEAD_ID, subject="Renamed by sales")])],
        Expect(
            1,
            ("linked existing Lead (not updated)", "found Event already created"),
            SalesforceObject.LEAD,
            LEAD_ID,
            EVENT_ID,
        ),
    ),
    Scenario(
        "exactly once: an Event at the same time for someone else does not count",
        sync(),
        [reads(leads=[lead()], events=[event(OTHER_LEAD_ID, booking_id=40)]), writes_ok()],
        Expect(
            2, ("linked existing Lead (not updated)", "created Event"), SalesforceObject.LEAD, LEAD_ID, NEW_EVENT_ID
        ),
    ),
    Scenario(
        "two bookings of one guest at the same start and subject: the other booking's Event never counts",
        sync(),
        [reads(leads=[lead()], events=[event(LEAD_ID, booking_id=42)]), writes_ok()],
        Expect(
            2, ("linked existing Lead (not updated)", "created Event"), SalesforceObject.LEAD, LEAD_ID, NEW_EVENT_ID
        ),
    ),
    Scenario(
        "a marker that only starts like this booking's (reference 410) does not count",
        sync(),
        [reads(leads=[lead()], events=[event(LEAD_ID, booking_id=410)]), writes_ok()],
        Expect(
            2, ("linked existing Lead (not updated)", "created Event"), SalesforceObject.LEAD, LEAD_ID, NEW_EVENT_ID
        ),
    ),
    Scenario(
        "reschedule with known ids: no reads, the Event's start and end move and nothing else",
        sync(SyncEvent.RESCHEDULED, LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID), overwrite=True),
        [writes_ok()],
        Expect(
            1,
            ("moved Event",),
            SalesforceObject.LEAD,
            LEAD_ID,
            EVENT_ID,
            last_writes=(
                (
                    "PATCH",
                    f"/sobjects/Event/{EVENT_ID}",
                    {"StartDateTime": "2025-03-04T09:00:00Z", "EndDateTime": "2025-03-04T09:30:00Z"},
                ),
            ),
        ),
    ),
    Scenario(
        "reschedule of a booking never synced: synced now at its new time",
        sync(SyncEvent.RESCHEDULED),
        [reads(), writes_ok()],
        Expect(2, ("created Lead", "created Event"), SalesforceObject.LEAD, NEW_LEAD_ID, NEW_EVENT_ID),
    ),
    Scenario(
        "cancel, on_cancel delete: the Event is deleted, the Lead never",
        sync(SyncEvent.CANCELLED, LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID)),
        [writes_ok()],
        Expect(
            1,
            ("deleted Event",),
            SalesforceObject.LEAD,
            LEAD_ID,
            "",
            last_writes=(("DELETE", f"/sobjects/Event/{EVENT_ID}", None),),
        ),
    ),
    Scenario(
        "cancel, on_cancel mark: the Event's Subject is prefixed",
        sync(
            SyncEvent.CANCELLED,
            LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID),
            on_cancel=OnCancel.MARK_CANCELLED,
        ),
        [writes_ok()],
        Expect(
            1,
            ("marked Event cancelled",),
            SalesforceObject.LEAD,
            LEAD_ID,
            EVENT_ID,
            last_writes=(
                ("PATCH", f"/sobjects/Event/{EVENT_ID}", {"Subject": "Cancelled: Acme intro: Mary Ann O'Brien"}),
            ),
        ),
    ),
    Scenario(
        "cancel of an Event someone already deleted in Salesforce is done",
        sync(SyncEvent.CANCELLED, LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID)),
        [write_fails("event", 404, "ENTITY_IS_DELETED", "entity is deleted", [])],
        Expect(1, ("Event already deleted in Salesforce",), SalesforceObject.LEAD, LEAD_ID, ""),
    ),
    Scenario(
        "cancel without known ids looks for the Event first",
        sync(SyncEvent.CANCELLED),
        [reads(leads=[lead()], events=[event(LEAD_ID)]), writes_ok()],
        Expect(
            2,
            ("deleted Event",),
            SalesforceObject.LEAD,
            LEAD_ID,
            "",
            last_writes=(("DELETE", f"/sobjects/Event/{EVENT_ID}", None),),
            read_refs=("leads", "events"),
        ),
    ),
    Scenario(
        "cancel with nothing in Salesforce writes nothing",
        sync(SyncEvent.CANCELLED, LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, "")),
        [],
        Expect(0, ("no Event to cancel",), SalesforceObject.LEAD, LEAD_ID),
    ),
    Scenario(
        "blank required field: fails before any API call, naming the field",
        sync(
            snapshot=booking(answers=((NAME, "Mary"), (EMAIL, GUEST_EMAIL), (COMPANY, ""))),
            mappings=(q("LastName", NAME), q("Email", EMAIL), q("Company", COMPANY)),
        ),
        [],
        Expect(0, error="REQUIRED_FIELD_MISSING", error_fields=("Company",)),
    ),
    Scenario(
        "too long for the field: fails before any API call, never truncated",
        sync(snapshot=booking(answers=((NAME, "N" * 81), (EMAIL, GUEST_EMAIL), (COMPANY, "Acme")))),
        [],
        Expect(0, error="STRING_TOO_LONG", error_fields=("LastName",)),
    ),
    Scenario(
        "a fixed value outside a restricted picklist: fails before any API call",
        sync(mappings=(*LEAD_MAPPING, MappingRow("Status", SourceKind.FIXED, fixed_value="Maybe"))),
        [],
        Expect(0, error="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", error_fields=("Status",)),
    ),
    Scenario(
        "e-mail with an apostrophe and a plus is matched whatever its case",
        sync(snapshot=booking(guest_email="o'brien+test@example.com", answers=((NAME, "Mary"), (COMPANY, "Acme")))),
        [reads(leads=[lead(email="O'Brien+Test@Example.com")]), writes_ok()],
        Expect(
            2, ("linked existing Lead (not updated)", "created Event"), SalesforceObject.LEAD, LEAD_ID, NEW_EVENT_ID
        ),
    ),
    Scenario(
        "a booking without an e-mail address fails before any call",
        sync(snapshot=booking(guest_email="  "), mappings=(q("LastName", NAME), q("Company", COMPANY))),
        [],
        Expect(0, error="INVALID_EMAIL_ADDRESS"),
    ),
    Scenario(
        "a Lead converted between the read and the write is retried, and the retry links its Contact",
        sync(overwrite=True),
        [
            reads(leads=[lead()]),
            write_fails("record", 400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", []),
        ],
        Expect(2, error="CANNOT_UPDATE_CONVERTED_LEAD", retryable=True),
    ),
    Scenario(
        "a Lead whose e-mail merely resembles the guest's is not theirs",
        sync(),
        [reads(leads=[lead(email="mary@example.co")]), writes_ok()],
        Expect(2, ("created Lead", "created Event"), SalesforceObject.LEAD, NEW_LEAD_ID, NEW_EVENT_ID),
    ),
    Scenario(
        "family and given names asked separately go to LastName and FirstName",
        sync(
            snapshot=booking(
                name_format="family_given",
                guest_name="",
                guest_family_name="O'Brien",
                guest_given_name="Mary",
                questions=(
                    QuestionSnapshot(FAMILY, "family_name", "Family name", required=True),
                    QuestionSnapshot(GIVEN, "given_name", "Given name", required=True),
                    QuestionSnapshot(EMAIL, "email", "E-mail", required=True),
                ),
                answers=((FAMILY, "O'Brien"), (GIVEN, "Mary"), (EMAIL, GUEST_EMAIL)),
            ),
            mappings=(
                q("LastName", FAMILY),
                q("FirstName", GIVEN),
                q("Email", EMAIL),
                MappingRow("Company", SourceKind.FIXED, fixed_value="n/a"),
            ),
            register_event=False,
        ),
        [reads(), writes_ok()],
        Expect(
            2,
            ("created Lead",),
            SalesforceObject.LEAD,
            NEW_LEAD_ID,
            last_writes=(
                (
                    "POST",
                    "/sobjects/Lead",
                    {"LastName": "O'Brien", "FirstName": "Mary", "Email": GUEST_EMAIL, "Company": "n/a"},
                ),
            ),
        ),
    ),
    Scenario(
        "a mapped question that was deleted fails before any API call",
        sync(mappings=(*LEAD_MAPPING, q("Title", 99))),
        [],
        Expect(0, error="MAPPING_SOURCE_MISSING", error_fields=("Title",)),
    ),
    Scenario(
        "fallback values fill blank optional answers",
        sync(
            snapshot=booking(answers=((NAME, "Mary Ann O'Brien"), (EMAIL, GUEST_EMAIL), (COMPANY, "  "))),
            register_event=False,
        ),
        [reads(), writes_ok()],
        Expect(
            2,
            ("created Lead",),
            SalesforceObject.LEAD,
            NEW_LEAD_ID,
            last_writes=(("POST", "/sobjects/Lead", {**NEW_LEAD_BODY, "Company": "Private person"}),),
        ),
    ),
    Scenario(
        "OwnerId from the participating member: the host's Salesforce User owns the record and the Event",
        sync(mappings=(*LEAD_MAPPING, MappingRow("OwnerId", SourceKind.ITEM, "participating_member"))),
        [reads(), writes_ok()],
        Expect(
            2,
            ("created Lead", "created Event"),
            SalesforceObject.LEAD,
            NEW_LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(
                ("POST", "/sobjects/Lead", {**NEW_LEAD_BODY, "OwnerId": USER_ID}),
                event_create("@{record.id}"),
            ),
        ),
    ),
    Scenario(
        "a host who is no Salesforce User owns nothing: OwnerId is left to Salesforce",
        sync(mappings=(*LEAD_MAPPING, MappingRow("OwnerId", SourceKind.ITEM, "participating_member"))),
        [reads(users=()), writes_ok()],
        Expect(
            2,
            ("created Lead", "created Event"),
            SalesforceObject.LEAD,
            NEW_LEAD_ID,
            NEW_EVENT_ID,
            last_writes=(("POST", "/sobjects/Lead", NEW_LEAD_BODY), event_create("@{record.id}", owner=None)),
        ),
    ),
    Scenario(
        "a locked row is a transient failure",
        sync(),
        [reads(), write_fails("record", 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", [])],
        Expect(2, error="UNABLE_TO_LOCK_ROW", retryable=True),
    ),
    Scenario(
        "an org validation rule is a permanent failure with its fields",
        sync(),
        [reads(), write_fails("record", 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone is required", ["Phone"])],
        Expect(2, error="FIELD_CUSTOM_VALIDATION_EXCEPTION", error_fields=("Phone",)),
    ),
    Scenario(
        "a failing query fails the sync before any write",
        sync(),
        [write_fails("leads", 400, "INVALID_FIELD", "No such column 'Email' on entity 'Lead'.")],
        Expect(1, error="INVALID_FIELD"),
    ),
    Scenario(
        "an answer without compositeResponse is unexpected and retried",
        sync(),
        [lambda request: [{"errorCode": "UNKNOWN_EXCEPTION"}]],
        Expect(1, error="UNEXPECTED_RESPONSE", retryable=True),
    ),
]


def _writes_of(request: CompositeRequest) -> tuple[tuple[str, str, dict | None], ...]:
    return tuple(
        (sub["method"], sub["url"].removeprefix(BASE), sub.get("body")) for sub in request.body()["compositeRequest"]
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario):
    outcome, sent = run(scenario.request, scenario.answers)
    expect = scenario.expect
    assert len(sent) == expect.calls
    if expect.error:
        assert outcome.error is not None and outcome.error.code == expect.error
        assert outcome.error.retryable is expect.retryable
        assert outcome.error.cause and outcome.error.remedy
        if expect.error_fields:
            assert outcome.error.fields == expect.error_fields
        return
    assert outcome.error is None
    assert (outcome.actions, outcome.sf_object, outcome.record_id, outcome.event_id) == (
        expect.actions,
        expect.sf_object,
        expect.record_id,
        expect.event_id,
    )
    if expect.last_writes is not None:
        assert _writes_of(sent[-1]) == expect.last_writes
    if expect.read_refs is not None:
        assert tuple(sub.reference_id for sub in sent[0].subrequests) == expect.read_refs


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_request_keeps_to_the_composite_limits_and_write_rules(scenario: Scenario):
    _, sent = run(scenario.request, scenario.answers)
    for request in sent:
        body = request.body()
        assert request.url == f"{BASE}/composite"
        subrequests = body["compositeRequest"]
        queries = [s for s in subrequests if s["method"] == "GET"]
        assert len(subrequests) <= MAX_SUBREQUESTS and len(queries) <= MAX_QUERIES
        if queries:
            assert len(queries) == len(subrequests) and body["allOrNone"] is False
            continue
        assert body["allOrNone"] is True  # a half-done write never happens
        for sub in subrequests:
            writes_record = "/sobjects/Lead" in sub["url"] or "/sobjects/Contact" in sub["url"]
            assert sub["method"] != "DELETE" or "/sobjects/Event/" in sub["url"]  # never delete a Lead/Contact
            if writes_record:
                assert sub["httpHeaders"] == {"Sforce-Duplicate-Rule-Header": "allowSave=true"}


def _query_of(request: CompositeRequest, reference: str) -> str:
    sub = next(s for s in request.subrequests if s.reference_id == reference)
    assert "+" not in urlsplit(sub.url).query
    return dict(parse_qsl(urlsplit(sub.url).query))["q"]


@pytest.mark.parametrize(
    ("email", "literal"),
    [
        ("o'brien+test@example.com", "'o\\'brien+test@example.com'"),
        ("back\\slash@example.com", "'back\\\\slash@example.com'"),
        ('quote"d@example.com', "'quote\\\"d@example.com'"),
    ],
)
def test_lookup_escapes_the_guest_email(email, literal):
    request = sync(snapshot=booking(guest_email=email), mappings=(q("LastName", NAME), q("Company", COMPANY)))
    step = first_step(request)
    assert step.outcome is None
    assert f"WHERE Email = {literal} ORDER BY" in _query_of(step.request, "leads")


def test_event_lookup_uses_the_booking_start_and_never_the_subject():
    step = first_step(sync())
    statement = _query_of(step.request, "events")
    assert "StartDateTime = 2025-03-04T09:00:00Z" in statement
    assert "Subject" not in statement and "Description" in statement


def test_host_user_lookup_only_when_the_event_or_a_row_needs_an_owner():
    step = first_step(sync(register_event=False))
    assert [s.reference_id for s in step.request.subrequests] == ["leads"]
    owned = first_step(
        sync(
            register_event=False,
            mappings=(*LEAD_MAPPING, MappingRow("OwnerId", SourceKind.ITEM, "participating_member")),
        )
    )
    assert [s.reference_id for s in owned.request.subrequests] == ["leads", "users"]


def test_event_subject_is_shortened_to_the_field_but_mapped_values_never_are():
    long_calendar = sync(snapshot=booking(calendar_name="C" * 300))
    assert len(event_subject(long_calendar)) == 255


def test_a_meeting_url_too_long_for_location_stays_in_the_description():
    url = "https://meet.example.com/" + "x" * 300
    outcome, sent = run(sync(snapshot=booking(meeting_url=url)), [reads(), writes_ok()])
    event_body = sent[-1].body()["compositeRequest"][1]["body"]
    assert "Location" not in event_body and url in event_body["Description"]
    assert outcome.ok


def test_the_same_request_gives_the_same_bodies():
    first = run(sync(overwrite=True), [reads(leads=[lead()]), writes_ok()])[1]
    second = run(sync(overwrite=True), [reads(leads=[lead()]), writes_ok()])[1]
    assert [r.body() for r in first] == [r.body() for r in second]


def test_inputs_and_plans_are_immutable():
    request = sync()
    with pytest.raises(AttributeError):
        request.settings.overwrite = True  # type: ignore[misc]
    step = first_step(request)
    with pytest.raises(AttributeError):
        step.request.all_or_none = True  # type: ignore[misc]
    assert replace(request.settings, overwrite=True).overwrite is True


PLANNER_FILES = sorted((pathlib.Path(__file__).parent.parent / "portal" / "planner").glob("*.py"))


@pytest.mark.parametrize("path", PLANNER_FILES, ids=lambda path: path.name)
def test_planner_modules_read_no_clock(path):
    """Imports are fenced by the import contracts (tests/test_layers.py); the clock is fenced here: the planner
    is given the time it plans for."""
    assert "now(" not in path.read_text() and "today(" not in path.read_text()


# -- the editor's preview: the same planner, no call --------------------------------------------------------------


def test_preview_new_record_case_is_exactly_the_write_the_sync_sends():
    request = sync(mappings=(*LEAD_MAPPING, MappingRow("OwnerId", SourceKind.ITEM, "participating_member")))
    _, sent = run(request, [reads(), writes_ok()])
    shown = preview(request, host_user_id=USER_ID)
    assert shown.error is None
    assert shown.new_record.request.body() == sent[-1].body()
    assert shown.new_record.actions == ("created Lead", "created Event")


def test_preview_existing_record_case_with_overwrite_on():
    shown = preview(sync(overwrite=True), existing_record_id=LEAD_ID)
    assert _writes_of(shown.existing_record.request) == (
        ("PATCH", f"/sobjects/Lead/{LEAD_ID}", UNREAD_UPDATE_BODY),
        event_create(LEAD_ID, owner=None),
    )


def test_preview_existing_record_case_with_overwrite_off_and_no_event_writes_nothing():
    shown = preview(sync(register_event=False))
    assert shown.existing_record.request is None
    assert shown.existing_record.actions == ("linked existing Lead (not updated)",)
    assert shown.new_record.request is not None


def test_preview_of_a_cancelled_booking_still_shows_what_its_creation_sends():
    shown = preview(sync(SyncEvent.CANCELLED, LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID)))
    assert shown.new_record.actions == ("created Lead", "created Event")


def test_preview_shows_the_failure_the_sync_would_have():
    blank_company = booking(answers=((NAME, "Mary"), (EMAIL, GUEST_EMAIL)))
    shown = preview(sync(snapshot=blank_company, mappings=(q("LastName", NAME), q("Company", COMPANY))))
    assert (shown.new_record, shown.existing_record) == (None, None)
    assert shown.error.code == "REQUIRED_FIELD_MISSING" and shown.error.fields == ("Company",)


def test_sample_answers_respect_question_limits_and_options():
    questions = (
        QuestionSnapshot(1, "short_text", "Code", max_length=4),
        QuestionSnapshot(2, "single_select", "Size", options=("S", "M")),
        QuestionSnapshot(3, "checkbox", "News"),
    )
    assert sample_answers(questions) == ((1, "Samp"), (2, "S"), (3, "yes"))


# -- snapshots from models (transient objects: no database) --------------------------------------------------------


def _models():
    host = User(id=3, email="host@acme.test", name="Hana Host")
    calendar = Calendar(
        id=5,
        name="Acme intro",
        private_name="Intro (sales)",
        slug="acme-intro",
        time_zone="Europe/Berlin",
        meeting_url="https://meet.example.com/acme-intro",
        name_format=NameFormat.FULL,
        duration_minutes=30,
    )
    calendar.questions = [
        Question(id=NAME, kind=QuestionKind.FULL_NAME, label="Name", required=True, max_length=80, position=0),
        Question(id=EMAIL, kind=QuestionKind.EMAIL, label="E-mail", required=True, max_length=80, position=1),
        Question(id=COMPANY, kind=QuestionKind.COMPANY, label="Company", required=False, max_length=80, position=2),
        Question(id=PHONE, kind=QuestionKind.PHONE, label="Phone", required=False, max_length=40, position=3),
        Question(id=TOPIC, kind=QuestionKind.LONG_TEXT, label="What would you like to discuss?", position=4),
    ]
    calendar.hosts = [CalendarHost(user=host, position=0)]
    model_booking = Booking(
        id=41,
        calendar=calendar,
        host=host,
        start_at=datetime(2025, 3, 4, 9, 0, tzinfo=UTC),
        end_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        guest_email=GUEST_EMAIL,
        guest_name="Mary Ann O'Brien",
        guest_company="Acme",
        answers={
            str(NAME): "Mary Ann O'Brien",
            str(EMAIL): GUEST_EMAIL,
            str(COMPANY): "Acme",
            str(TOPIC): "Pricing\nfor 12 seats",
        },
    )
    integration = SalesforceIntegration(
        object_name=SalesforceObject.LEAD,
        register_event=True,
        overwrite=False,
        contact_first=False,
        on_cancel=OnCancel.DELETE_EVENT,
    )
    integration.mappings = [
        FieldMapping(position=1, sf_field="Email", source_kind=SourceKind.QUESTION, source_key=str(EMAIL)),
        FieldMapping(position=0, sf_field="LastName", source_kind=SourceKind.QUESTION, source_key=str(NAME)),
        FieldMapping(
            position=2,
            sf_field="Company",
            source_kind=SourceKind.QUESTION,
            source_key=str(COMPANY),
            fallback_value="Private person",
        ),
        FieldMapping(position=3, sf_field="Phone", source_kind=SourceKind.QUESTION, source_key=str(PHONE)),
    ]
    return model_booking, integration


def test_snapshots_from_models_plan_like_the_hand_built_inputs():
    model_booking, integration = _models()
    built = snapshots.sync_request(
        SyncEvent.CREATED,
        model_booking,
        integration,
        LEAD_FIELDS,
        api_version=VERSION,
        booking_page_url="https://portal.example.com/c/acme-intro",
    )
    assert built.settings.mappings[:2] == (q("LastName", NAME), q("Email", EMAIL))  # in position order
    assert (built.event, built.settings.object_name, built.settings.on_cancel) == (
        SyncEvent.CREATED,
        SalesforceObject.LEAD,
        "delete_event",
    )
    assert built.booking.calendar_private_name == "Intro (sales)" and built.booking.host_email == "host@acme.test"
    hand_built = run(sync(), [reads(), writes_ok()])[1]
    from_models = run(built, [reads(), writes_ok()])[1]
    assert [r.body() for r in from_models] == [r.body() for r in hand_built]


def test_link_snapshot_only_for_a_known_record():
    assert snapshots.link_snapshot(None) is None
    assert snapshots.link_snapshot(SalesforceLink(booking_id=41, sf_object="Lead", record_id="", event_id="")) is None
    link = SalesforceLink(booking_id=41, sf_object="Lead", record_id=LEAD_ID, event_id=EVENT_ID)
    assert snapshots.link_snapshot(link) == LinkSnapshot(SalesforceObject.LEAD, LEAD_ID, EVENT_ID)


def test_sample_booking_answers_every_question_and_is_hosted_by_the_first_member():
    model_booking, integration = _models()
    start = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    sample = snapshots.sample_booking(model_booking.calendar, start_at=start, booking_page_url="https://p/c/x")
    assert sample.end_at - sample.start_at == timedelta(minutes=30)
    assert sample.guest_name == "Alex Sample" and sample.guest_email == "alex.sample@example.com"
    assert sample.host_email == "host@acme.test"
    assert {qid for qid, _ in sample.answers} == {NAME, EMAIL, COMPANY, PHONE, TOPIC}
    request = SyncRequest(SyncEvent.CREATED, sample, snapshots.settings_snapshot(integration), LEAD_FIELDS, VERSION)
    assert preview(request).error is None


# -- against the emulator's org logic, in process (no HTTP, no app) ------------------------------------------------


def _org_with_host() -> tuple[Org, str]:
    org = Org()
    return org, org.add_user("host@acme.test", email="host@acme.test", first_name="Hana", last_name="Host")


def _apply(org: Org, request: SyncRequest, between: Callable[[], None] = lambda: None) -> tuple[Outcome, int]:
    """Run a sync against the org as the service would, calling `between` after the reads."""
    step, calls = first_step(request), 0
    while step.outcome is None:
        if calls == 1:
            between()
        calls += 1
        with org.lock:
            answer = run_composite(EmulatorContext(org, {}, step.request.url), step.request.body())
        step = advance(step, answer.body)
    return step.outcome, calls


def _live(org: Org, sobject: str) -> list[dict]:
    return [r for r in org.records[sobject].values() if not r["IsDeleted"]]


def test_emulated_org_new_guest_gets_a_lead_and_an_event_owned_by_the_host():
    org, host_id = _org_with_host()
    outcome, calls = _apply(org, sync())
    (created,) = _live(org, "Lead")
    (event_record,) = _live(org, "Event")
    assert (outcome.ok, calls, outcome.record_id, outcome.event_id) == (True, 2, created["Id"], event_record["Id"])
    assert (created["LastName"], created["Company"], created["Email"]) == ("Mary Ann O'Brien", "Acme", GUEST_EMAIL)
    assert (event_record["WhoId"], event_record["OwnerId"]) == (created["Id"], host_id)
    assert event_record["StartDateTime"] == "2025-03-04T09:00:00.000+0000"


def test_emulated_org_exactly_once_after_an_unknown_outcome():
    org, _ = _org_with_host()
    first, _ = _apply(org, sync())
    again, calls = _apply(org, sync())  # as if the first answer had been lost
    assert (len(_live(org, "Lead")), len(_live(org, "Event")), calls) == (1, 1, 1)
    assert (again.record_id, again.event_id) == (first.record_id, first.event_id)
    assert again.actions == ("linked existing Lead (not updated)", "found Event already created")


def test_emulated_org_update_on_changes_only_values_the_rules_let_through():
    org, _ = _org_with_host()
    lead_id = org.insert_record(
        "Lead", {"LastName": "Old", "Company": "Old Co", "Email": "MARY@example.com", "Phone": "+1 555"}
    )
    outcome, calls = _apply(org, sync(overwrite=True))
    record = org.records["Lead"][lead_id]
    assert (outcome.record_id, calls) == (lead_id, 2)
    # the full name never overwrites the name, the e-mail differs only in case, the blank phone is not sent
    assert (record["LastName"], record["Email"], record["Company"], record["Phone"]) == (
        "Old",
        "MARY@example.com",
        "Acme",
        "+1 555",
    )


def test_emulated_org_converted_lead_links_its_contact():
    org, _ = _org_with_host()
    lead_id = org.insert_record("Lead", {"LastName": "O'Brien", "Company": "Acme", "Email": GUEST_EMAIL})
    contact_id = org.convert_lead(lead_id)["contactId"]
    outcome, calls = _apply(org, sync(overwrite=True))
    (event_record,) = _live(org, "Event")
    assert (outcome.sf_object, outcome.record_id, event_record["WhoId"], calls) == (
        SalesforceObject.CONTACT,
        contact_id,
        contact_id,
        2,
    )


def test_emulated_org_apostrophe_and_plus_in_the_email_are_matched():
    org, _ = _org_with_host()
    email = "o'brien+test@example.com"
    lead_id = org.insert_record("Lead", {"LastName": "O'Brien", "Company": "Acme", "Email": "O'Brien+Test@example.com"})
    snapshot = booking(guest_email=email, answers=((NAME, "Mary"), (EMAIL, email), (COMPANY, "Acme")))
    outcome, _ = _apply(org, sync(snapshot=snapshot))
    assert outcome.record_id == lead_id and len(_live(org, "Lead")) == 1


@pytest.mark.parametrize(("rule", "calls", "leads"), [("alert", 2, 2), ("block", 3, 1)])
def test_emulated_org_duplicate_rules(rule, calls, leads):
    org, _ = _org_with_host()
    org.settings["duplicate_rules"]["Lead"] = rule

    def someone_else_creates_the_lead():
        org.insert_record("Lead", {"LastName": "O'Brien", "Company": "Acme", "Email": GUEST_EMAIL})

    outcome, made = _apply(org, sync(), between=someone_else_creates_the_lead)
    (event_record,) = _live(org, "Event")
    assert (outcome.ok, made, len(_live(org, "Lead"))) == (True, calls, leads)
    assert event_record["WhoId"] == outcome.record_id


def test_emulated_org_reschedule_and_cancel_act_on_the_event_only():
    org, _ = _org_with_host()
    created, _ = _apply(org, sync())
    link = LinkSnapshot(SalesforceObject.LEAD, created.record_id, created.event_id)
    later = booking(start_at=datetime(2025, 3, 5, 14, 0, tzinfo=UTC), end_at=datetime(2025, 3, 5, 15, 0, tzinfo=UTC))
    moved, calls = _apply(org, sync(SyncEvent.RESCHEDULED, link, snapshot=later))
    event_record = org.records["Event"][created.event_id]
    assert (moved.ok, calls, event_record["StartDateTime"], event_record["DurationInMinutes"]) == (
        True,
        1,
        "2025-03-05T14:00:00.000+0000",
        60,
    )
    marked, _ = _apply(org, sync(SyncEvent.CANCELLED, link, snapshot=later, on_cancel=OnCancel.MARK_CANCELLED))
    assert event_record["Subject"] == "Cancelled: Acme intro: Mary Ann O'Brien"
    assert marked.event_id == created.event_id
    deleted, _ = _apply(org, sync(SyncEvent.CANCELLED, link, snapshot=later))
    assert (deleted.event_id, event_record["IsDeleted"]) == ("", True)
    assert _live(org, "Lead") and not _live(org, "Event")
