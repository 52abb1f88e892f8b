"""The sync planner (design §5, §8): pure functions from a SyncRequest to the Composite requests that apply it, and
from Salesforce's answers to the next request or the outcome. No Flask, SQLAlchemy, HTTP or clock in here.

The service drives it:  step = first_step(sync); while step.outcome is None: body = <POST step.request>;
step = advance(step, body).  That is one Composite read and one Composite write (a second write only after a
blocking duplicate rule), or none at all when the sync must fail before any call. A returning guest whose record id
the portal holds is written by that id in one Composite request; any failure of it falls back to the read and write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..enums import OnCancel, SalesforceObject, SyncEvent, WriteRule
from . import soql
from .catalogue import SyncError, sync_error
from .inputs import MappingRow, SyncRequest
from .rules import decides_on_current_values, effective_rule, fields_to_read, update_decisions
from .sources import maps_host, question_value
from .values import JsonValue, SyncRefused, as_text, check_required, record_values, utc_text
from .words import N_

MAX_SUBREQUESTS, MAX_QUERIES = 25, 5
DUPLICATE_RULE_HEADER = ("Sforce-Duplicate-Rule-Header", "allowSave=true")
RECORD_REF, EVENT_REF = "record", "event"  # write subrequests
LEADS_REF, CONTACTS_REF, USERS_REF, EVENTS_REF = "leads", "contacts", "users", "events"  # read subrequests
CANCELLED_PREFIX = "Cancelled: "
# The first line of every Event's Description: which booking the Event belongs to (design §5 "Exactly once").
BOOKING_MARKER = "Booking reference: {booking_id}"
SUBJECT_LENGTH, LOCATION_LENGTH, DESCRIPTION_LENGTH = 255, 255, 32000  # standard Event field lengths
# How a found record came to be linked; only EXISTING and DUPLICATE_RULE records of the integration's object
# receive the mapping (when overwrite is on).
# These words also end up in the outcome's notes, so they are marked for translation where shown.
EXISTING = "existing"
DUPLICATE_RULE = N_("duplicate rule")
CONVERTED_LEAD = N_("converted Lead")
CONTACT_FIRST = N_("contact-first")
UPDATE_BLOCKED = N_("update blocked by a duplicate rule")
NOT_UPDATED, NOTHING_TO_UPDATE = N_("not updated"), N_("nothing to update")
NOTES = (DUPLICATE_RULE, CONVERTED_LEAD, CONTACT_FIRST, UPDATE_BLOCKED, NOT_UPDATED, NOTHING_TO_UPDATE)
# What a sync did, in English words (stored as the job's action_taken, shown translated): %(object)s is the record's
# object (Lead, Contact), %(notes)s the notes above.
CREATED, UPDATED, LINKED = N_("created %(object)s"), N_("updated %(object)s"), N_("linked existing %(object)s")
UPDATED_NOTED, LINKED_NOTED = N_("updated %(object)s (%(notes)s)"), N_("linked existing %(object)s (%(notes)s)")
FOUND_EVENT, CREATED_EVENT = N_("found Event already created"), N_("created Event")
NO_EVENT_TO_MOVE, MOVED_EVENT = N_("no Event to move"), N_("moved Event")
NO_EVENT_TO_CANCEL, MARKED_CANCELLED = N_("no Event to cancel"), N_("marked Event cancelled")
DELETED_EVENT, EVENT_GONE = N_("deleted Event"), N_("Event already deleted in Salesforce")
# Read back from text, the most specific first: "created Event" is not "created %(object)s", and "updated Lead (…)"
# is the noted form.
ACTIONS = (
    FOUND_EVENT, CREATED_EVENT, NO_EVENT_TO_MOVE, MOVED_EVENT, NO_EVENT_TO_CANCEL, MARKED_CANCELLED, DELETED_EVENT,
    EVENT_GONE, UPDATED_NOTED, LINKED_NOTED, CREATED, UPDATED, LINKED,
)  # fmt: skip
OBJECT_WORDS = {SalesforceObject.LEAD.value: N_("Lead"), SalesforceObject.CONTACT.value: N_("Contact")}
# Placeholder for the host's User before the reads say whether one exists (pre-flight conversion only).
_ASSUMED_HOST_USER = "005000000000000AAA"
# The host's User as a write by a known id finds it: its own query's first row (no row: the write fails).
HOST_USER_REF = f"@{{{USERS_REF}.records[0].Id}}"


# -- requests ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subrequest:
    method: str
    url: str
    reference_id: str
    body: tuple[tuple[str, JsonValue], ...] | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        sub: dict[str, Any] = {"method": self.method, "url": self.url, "referenceId": self.reference_id}
        if self.body is not None:
            sub["body"] = dict(self.body)
        if self.headers:
            sub["httpHeaders"] = dict(self.headers)
        return sub


@dataclass(frozen=True)
class CompositeRequest:
    api_version: str
    subrequests: tuple[Subrequest, ...]
    all_or_none: bool

    @property
    def url(self) -> str:
        return f"/services/data/v{self.api_version}/composite"

    def body(self) -> dict[str, Any]:
        """The JSON body to POST to `url`."""
        return {"allOrNone": self.all_or_none, "compositeRequest": [sub.as_json() for sub in self.subrequests]}


def _composite(sync: SyncRequest, subrequests: Sequence[Subrequest], *, all_or_none: bool) -> CompositeRequest:
    queries = sum(1 for sub in subrequests if sub.method == "GET" and "/query" in sub.url)
    assert len(subrequests) <= MAX_SUBREQUESTS and queries <= MAX_QUERIES, "Composite limits exceeded"
    return CompositeRequest(sync.api_version, tuple(subrequests), all_or_none)


def _sobject_url(sync: SyncRequest, sobject: str, record_id: str = "") -> str:
    base = f"/services/data/v{sync.api_version}/sobjects/{sobject}"
    return f"{base}/{record_id}" if record_id else base


# -- results -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a sync did: the booking's record and Event in Salesforce afterwards, in words, or why it failed."""

    sf_object: str = ""
    record_id: str = ""
    event_id: str = ""  # the booking's Event afterwards ("" when there is none, e.g. after deleting it)
    actions: tuple[str, ...] = ()
    error: SyncError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def action_taken(self) -> str:
        return ", ".join(self.actions)


@dataclass(frozen=True)
class FoundRecord:
    sf_object: str
    record_id: str
    how: str = EXISTING  # EXISTING | DUPLICATE_RULE | CONVERTED_LEAD | CONTACT_FIRST | UPDATE_BLOCKED
    current: tuple[tuple[str, Any], ...] | None = None  # the fields the read fetched; None when it was not read


@dataclass(frozen=True)
class SeenEvent:
    event_id: str
    who_id: str


@dataclass(frozen=True)
class Lookup:
    """What the reads found: the guest's record, the host's User, and the Events already created for this booking
    (its marker in the Description) by an earlier attempt whose outcome was unknown."""

    record: FoundRecord | None = None
    host_user_id: str = ""
    events: tuple[SeenEvent, ...] = ()

    def event_for(self, record_id: str) -> str:
        """This booking's Event, the one linked to the guest's record first."""
        linked = [e.event_id for e in self.events if same_id(e.who_id, record_id)]
        return (linked or [e.event_id for e in self.events] or [""])[0]


def same_id(left: str, right: str) -> bool:
    """Salesforce ids compare by their 15-character case-sensitive form (18-character ids add a checksum)."""
    return bool(left) and bool(right) and left[:15] == right[:15]


@dataclass(frozen=True)
class WritePlan:
    """The one Composite write for a sync (None when nothing needs writing) and what it means."""

    request: CompositeRequest | None
    lookup: Lookup
    sf_object: str = ""
    record_id: str = ""  # the linked record; "" while this request creates it
    record_write: str = ""  # "" | "create" | "update"
    event_id: str = ""  # the Event already there; "" while this request creates it, or when there is none
    event_write: str = ""  # "" | "create" | "move" | "delete" | "mark"
    actions: tuple[str, ...] = ()
    follow_up: bool = False  # the retry with a duplicate rule's matched record; never followed up again
    by_known_id: bool = False  # written by the id an earlier booking's link holds, without a read

    def done(self, results: Mapping[str, Mapping[str, Any]] | None = None) -> Outcome:
        created = results or {}
        record_id = self.record_id or _created_id(created.get(RECORD_REF))
        event_id = "" if self.event_write == "delete" else self.event_id or _created_id(created.get(EVENT_REF))
        return Outcome(self.sf_object, record_id, event_id, self.actions)


def _created_id(result: Mapping[str, Any] | None) -> str:
    body = (result or {}).get("body")
    return body.get("id", "") if isinstance(body, Mapping) else ""


@dataclass(frozen=True)
class Step:
    """Where a sync stands: send `request` and pass Salesforce's answer to `advance`, until `outcome` is set."""

    sync: SyncRequest
    request: CompositeRequest | None = None
    outcome: Outcome | None = None
    writes: WritePlan | None = None  # the write in flight; None while reading


# -- driving -------------------------------------------------------------------------------------------------------


def first_step(sync: SyncRequest) -> Step:
    """The first request of a sync, or its outcome when it must fail (or has nothing to do) without any call."""
    problem = preflight(sync)
    if problem is not None:
        return Step(sync, outcome=Outcome(error=problem))
    known = plan_by_known_id(sync)
    if known is not None:
        return Step(sync, request=known.request, writes=known)
    reads = plan_reads(sync)
    if reads is not None:
        return Step(sync, request=reads)
    return _step_for(sync, lambda: plan_known_writes(sync))


def advance(step: Step, response: object) -> Step:
    """The next step after Salesforce answered `step.request` with `response` (the Composite response body)."""
    sync = step.sync
    if step.writes is None:
        return _step_for(sync, lambda: plan_writes(sync, read_lookup(sync, response)))
    if step.writes.by_known_id and _any_failed(response):
        # Nothing was written (allOrNone): the ordinary lookup decides exactly as if the id were not known.
        return Step(sync, request=plan_reads(sync))
    return _step_for(sync, lambda: interpret_writes(sync, step.writes, response))


def _step_for(sync: SyncRequest, decide: Callable[[], WritePlan | Outcome]) -> Step:
    try:
        decided = decide()
    except SyncRefused as refused:
        return Step(sync, outcome=Outcome(error=refused.error))
    if isinstance(decided, Outcome):
        return Step(sync, outcome=decided)
    if decided.request is None:
        return Step(sync, outcome=decided.done())
    return Step(sync, request=decided.request, writes=decided)


# -- pre-flight ----------------------------------------------------------------------------------------------------


def applies_mapping(sync: SyncRequest) -> bool:
    """Whether this job may create or update the guest's record (a reschedule nobody linked yet counts as a create)."""
    return sync.event == SyncEvent.CREATED or (sync.event == SyncEvent.RESCHEDULED and sync.link is None)


def preflight(sync: SyncRequest) -> SyncError | None:
    """Fail before any API call when the booking's values cannot create the record: blank required fields, a value
    that cannot fit its field, a field or source that no longer exists."""
    if not applies_mapping(sync):
        return None
    if not sync.booking.guest_email.strip():
        return sync_error("INVALID_EMAIL_ADDRESS", "The booking has no e-mail address to find the guest's record by.")
    assumed_host = _ASSUMED_HOST_USER if sync.booking.host_email else ""
    try:
        values = record_values(sync.fields, sync.settings.mappings, sync.booking, assumed_host, creating=True)
    except SyncRefused as refused:
        return refused.error
    return check_required(sync.fields, values, creating=True)


# -- reads ---------------------------------------------------------------------------------------------------------


def needs_host_user(sync: SyncRequest) -> bool:
    return bool(sync.booking.host_email) and (sync.settings.register_event or maps_host(sync.settings.mappings))


def plan_reads(sync: SyncRequest) -> CompositeRequest | None:
    """The one Composite read, or None when the link already says where everything is."""
    if not applies_mapping(sync) and (sync.event != SyncEvent.CANCELLED or sync.link is not None):
        return None
    email = sync.booking.guest_email.strip()
    object_name = sync.settings.object_name
    current = read_fields(sync)
    queries = [(LEADS_REF, soql.lead_by_email(email, current))] if object_name == SalesforceObject.LEAD else []
    if object_name == SalesforceObject.CONTACT:
        queries.append((CONTACTS_REF, soql.contact_by_email(email, current)))
    elif sync.settings.contact_first:
        queries.append((CONTACTS_REF, soql.contact_by_email(email)))
    if sync.event != SyncEvent.CANCELLED and needs_host_user(sync):
        queries.append((USERS_REF, soql.user_by_email(sync.booking.host_email.strip())))
    if sync.event == SyncEvent.CANCELLED or sync.settings.register_event:
        queries.append((EVENTS_REF, soql.events_at_start(sync.booking.start_at)))
    subrequests = [Subrequest("GET", soql.query_url(sync.api_version, q), ref) for ref, q in queries]
    return _composite(sync, subrequests, all_or_none=False)


def read_fields(sync: SyncRequest) -> tuple[str, ...]:
    """The mapped fields whose current values decide an update (none when existing records are never updated)."""
    if not sync.settings.overwrite or not applies_mapping(sync):
        return ()
    return fields_to_read(sync.settings.mappings, sync.booking, sync.fields)


def read_lookup(sync: SyncRequest, response: object) -> Lookup:
    """Interpret the Composite read; raises SyncRefused when a query failed."""
    results = _results_by_reference(response)
    for result in results.values():
        if _status(result) >= 400:
            raise SyncRefused(_error_of(result))
    email = sync.booking.guest_email.strip().lower()
    leads = _with_email(_records(results.get(LEADS_REF)), email)
    contacts = _with_email(_records(results.get(CONTACTS_REF)), email)
    users = _with_email(_records(results.get(USERS_REF)), sync.booking.host_email.strip().lower())
    return Lookup(
        record=choose_record(sync, leads, contacts),
        host_user_id=users[0]["Id"] if users else "",
        events=_same_booking_events(sync, _records(results.get(EVENTS_REF))),
    )


def _records(result: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    body = (result or {}).get("body")
    records = body.get("records") if isinstance(body, Mapping) else None
    return [r for r in records or () if isinstance(r, Mapping) and r.get("Id")]


def _with_email(records: list[Mapping[str, Any]], email: str) -> list[Mapping[str, Any]]:
    """Rows whose e-mail matches case-insensitively, most recently modified first (none for a blank address)."""
    if not email:
        return []
    matching = [r for r in records if str(r.get("Email") or "").strip().lower() == email]
    return sorted(matching, key=lambda r: str(r.get("LastModifiedDate") or ""), reverse=True)


def choose_record(
    sync: SyncRequest, leads: Sequence[Mapping[str, Any]], contacts: Sequence[Mapping[str, Any]]
) -> FoundRecord | None:
    """The guest's record: contact-first Contact, an open Lead, a converted Lead's Contact (design §5)."""
    if sync.settings.object_name == SalesforceObject.CONTACT:
        found = contacts[0] if contacts else None
        return FoundRecord(SalesforceObject.CONTACT, found["Id"], current=_current(sync, found)) if found else None
    if sync.settings.contact_first and contacts:
        return FoundRecord(SalesforceObject.CONTACT, contacts[0]["Id"], CONTACT_FIRST)
    open_leads = [lead for lead in leads if not lead.get("IsConverted")]
    if open_leads:
        return FoundRecord(SalesforceObject.LEAD, open_leads[0]["Id"], current=_current(sync, open_leads[0]))
    converted = [lead for lead in leads if lead.get("ConvertedContactId")]
    return (
        FoundRecord(SalesforceObject.CONTACT, converted[0]["ConvertedContactId"], CONVERTED_LEAD) if converted else None
    )


def _current(sync: SyncRequest, record: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The values of the fields read for the write rules, as Salesforce returned them."""
    by_name = {str(name).lower(): value for name, value in record.items()}
    return tuple((name, by_name.get(name.lower())) for name in read_fields(sync))


def _same_booking_events(sync: SyncRequest, records: list[Mapping[str, Any]]) -> tuple[SeenEvent, ...]:
    """The Events whose Description carries this booking's marker line (never matched by subject and time)."""
    marker = booking_marker(sync)
    return tuple(
        SeenEvent(r["Id"], str(r.get("WhoId") or ""))
        for r in records
        if marker in (line.strip() for line in str(r.get("Description") or "").splitlines())
    )


# -- the Event -----------------------------------------------------------------------------------------------------


def _fit(text: str, limit: int) -> str:
    """Shorten text the portal composes itself (never a mapped value) to a field's length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_subject(sync: SyncRequest) -> str:
    booking = sync.booking
    guest = booking.guest_display_name or booking.guest_email
    return _fit(f"{booking.calendar_name}: {guest}", SUBJECT_LENGTH)


def booking_marker(sync: SyncRequest) -> str:
    return BOOKING_MARKER.format(booking_id=sync.booking.booking_id)


def event_description(sync: SyncRequest) -> str:
    """The booking's marker, the meeting URL, the booking page URL and every answered question as "Label: answer"
    lines (the marker first, so shortening never drops it)."""
    booking = sync.booking
    lines = [booking_marker(sync)]
    lines += [f"Web meeting: {booking.meeting_url}"] if booking.meeting_url else []
    lines += [f"Booking page: {booking.booking_page_url}"] if booking.booking_page_url else []
    answers = [(q.label, as_text(question_value(booking, q)).strip()) for q in booking.questions]
    answer_lines = [f"{label}: {answer}" for label, answer in answers if answer]
    return _fit("\n".join(lines + ([""] if lines and answer_lines else []) + answer_lines), DESCRIPTION_LENGTH)


def event_body(sync: SyncRequest, who_id: str, owner_id: str) -> tuple[tuple[str, JsonValue], ...]:
    booking = sync.booking
    body: list[tuple[str, JsonValue]] = [
        ("Subject", event_subject(sync)),
        ("StartDateTime", utc_text(booking.start_at)),
        ("EndDateTime", utc_text(booking.end_at)),
    ]
    if booking.meeting_url and len(booking.meeting_url) <= LOCATION_LENGTH:  # a longer URL stays in the Description
        body.append(("Location", booking.meeting_url))
    body += [("Description", event_description(sync)), ("WhoId", who_id)]
    if owner_id:
        body.append(("OwnerId", owner_id))
    return tuple(body)


# -- writes --------------------------------------------------------------------------------------------------------


def plan_writes(sync: SyncRequest, lookup: Lookup, *, follow_up: bool = False) -> WritePlan:
    """The Composite write for what the reads found: create, update or just link the record, and the Event."""
    if sync.event == SyncEvent.CANCELLED:
        record = lookup.record
        event_id = lookup.event_for(record.record_id) if record else ""
        return _cancel_plan(
            sync, lookup, record.sf_object if record else "", record.record_id if record else "", event_id
        )
    record_sub, record_write, record_action = _record_write(sync, lookup)
    found = lookup.record
    sf_object = found.sf_object if found else sync.settings.object_name
    record_id = found.record_id if found else ""
    event_sub, event_id, event_action = _event_create(sync, lookup, record_id)
    subrequests = [sub for sub in (record_sub, event_sub) if sub is not None]
    return WritePlan(
        request=_composite(sync, subrequests, all_or_none=True) if subrequests else None,
        lookup=lookup,
        sf_object=sf_object,
        record_id=record_id,
        record_write=record_write,
        event_id=event_id,
        event_write="create" if event_sub else "",
        actions=tuple(a for a in (record_action, event_action) if a),
        follow_up=follow_up,
    )


def _record_write(sync: SyncRequest, lookup: Lookup) -> tuple[Subrequest | None, str, str]:
    """The record's subrequest (if any), "create"/"update"/"", and the action in words."""
    found = lookup.record
    object_name = sync.settings.object_name
    if found is None:
        values = record_values(sync.fields, sync.settings.mappings, sync.booking, lookup.host_user_id, creating=True)
        missing = check_required(sync.fields, values, creating=True)
        if missing is not None:
            raise SyncRefused(missing)
        post = Subrequest("POST", _sobject_url(sync, object_name), RECORD_REF, values, (DUPLICATE_RULE_HEADER,))
        return post, "create", CREATED % {"object": object_name}
    notes = [found.how] if found.how != EXISTING else []
    if found.sf_object != object_name or found.how not in (EXISTING, DUPLICATE_RULE):
        return None, "", _linked(found.sf_object, notes)
    if not sync.settings.overwrite:
        return None, "", _linked(object_name, [*notes, NOT_UPDATED])
    values = update_values(sync, lookup)
    if not values:
        return None, "", _linked(object_name, [*notes, NOTHING_TO_UPDATE])
    patch = Subrequest(
        "PATCH", _sobject_url(sync, object_name, found.record_id), RECORD_REF, values, (DUPLICATE_RULE_HEADER,)
    )
    if notes:
        return patch, "update", UPDATED_NOTED % {"object": object_name, "notes": ", ".join(notes)}
    return patch, "update", UPDATED % {"object": object_name}


def update_values(sync: SyncRequest, lookup: Lookup) -> tuple[tuple[str, JsonValue], ...]:
    """What an update of the found record sends: the rows the write rules let through, values that change."""
    found = lookup.record
    current = dict(found.current) if found is not None and found.current is not None else None
    decisions = update_decisions(sync.fields, sync.settings.mappings, sync.booking, lookup.host_user_id, current)
    return tuple((d.field, d.value) for d in decisions if d.written)


def _linked(sf_object: str, notes: list[str]) -> str:
    if notes:
        return LINKED_NOTED % {"object": sf_object, "notes": ", ".join(notes)}
    return LINKED % {"object": sf_object}


def _event_create(sync: SyncRequest, lookup: Lookup, record_id: str) -> tuple[Subrequest | None, str, str]:
    if not sync.settings.register_event:
        return None, "", ""
    existing = lookup.event_for(record_id)
    if existing:
        return None, existing, FOUND_EVENT
    who = record_id or f"@{{{RECORD_REF}.id}}"
    body = event_body(sync, who, lookup.host_user_id)
    return Subrequest("POST", _sobject_url(sync, "Event"), EVENT_REF, body), "", CREATED_EVENT


def plan_known_writes(sync: SyncRequest) -> WritePlan:
    """Reschedule or cancel a booking whose record and Event ids are known (no reads needed)."""
    link = sync.link
    assert link is not None, "only linked bookings skip the reads"
    if sync.event == SyncEvent.CANCELLED:
        return _cancel_plan(sync, Lookup(), link.sf_object, link.record_id, link.event_id)
    if not link.event_id:
        return WritePlan(None, Lookup(), link.sf_object, link.record_id, actions=(NO_EVENT_TO_MOVE,))
    body = (("StartDateTime", utc_text(sync.booking.start_at)), ("EndDateTime", utc_text(sync.booking.end_at)))
    move = Subrequest("PATCH", _sobject_url(sync, "Event", link.event_id), EVENT_REF, body)
    return WritePlan(
        request=_composite(sync, [move], all_or_none=True),
        lookup=Lookup(),
        sf_object=link.sf_object,
        record_id=link.record_id,
        event_id=link.event_id,
        event_write="move",
        actions=(MOVED_EVENT,),
    )


def _cancel_plan(sync: SyncRequest, lookup: Lookup, sf_object: str, record_id: str, event_id: str) -> WritePlan:
    """Delete the Event or mark its Subject cancelled (settings.on_cancel); the Lead/Contact is never deleted."""
    if not event_id:
        return WritePlan(None, lookup, sf_object, record_id, actions=(NO_EVENT_TO_CANCEL,))
    url = _sobject_url(sync, "Event", event_id)
    if sync.settings.on_cancel == OnCancel.MARK_CANCELLED:
        body = (("Subject", _fit(CANCELLED_PREFIX + event_subject(sync), SUBJECT_LENGTH)),)
        write, sub, action = "mark", Subrequest("PATCH", url, EVENT_REF, body), MARKED_CANCELLED
    else:
        write, sub, action = "delete", Subrequest("DELETE", url, EVENT_REF), DELETED_EVENT
    return WritePlan(
        request=_composite(sync, [sub], all_or_none=True),
        lookup=lookup,
        sf_object=sf_object,
        record_id=record_id,
        event_id=event_id,
        event_write=write,
        actions=(action,),
    )


# -- returning guests ----------------------------------------------------------------------------------------------


def plan_by_known_id(sync: SyncRequest) -> WritePlan | None:
    """A returning guest's create written by the record id an earlier booking's link holds, in one Composite request:
    the update (when overwrite is on) and the Event, whose owner comes from a query in the same request (design §5
    "Returning guests"). None when the ordinary lookup must run: no id held, a rule that needs the read, or nothing
    to write (only a write can tell that the record is still the guest's open record).

    The link, not the e-mail, says who the guest is, as reschedules and cancels trust it: a record whose e-mail was
    changed in Salesforce since is still the person this guest was linked to, and gets this booking as any found
    record would. A record deleted, merged away or converted since refuses the write, and the lookup runs."""
    if sync.event != SyncEvent.CREATED or not sync.known_record_id or _write_needs_read(sync):
        return None
    found = FoundRecord(sync.settings.object_name, sync.known_record_id)
    try:
        record_sub, record_write, record_action = _record_write(sync, Lookup(record=found))
    except SyncRefused:
        return None  # the lookup may find no record and create one instead: let it decide
    owner = HOST_USER_REF if sync.booking.host_email.strip() else ""
    event_sub, _, event_action = _event_create(sync, Lookup(host_user_id=owner), found.record_id)
    if record_sub is None and event_sub is None:
        return None
    host_query = soql.query_url(sync.api_version, soql.user_by_email(sync.booking.host_email.strip()))
    users = [Subrequest("GET", host_query, USERS_REF)] if event_sub is not None and owner else []
    return WritePlan(
        request=_composite(sync, [*users, *(sub for sub in (record_sub, event_sub) if sub)], all_or_none=True),
        lookup=Lookup(record=found),
        sf_object=found.sf_object,
        record_id=found.record_id,
        record_write=record_write,
        event_write="create" if event_sub else "",
        actions=tuple(a for a in (record_action, event_action) if a),
        by_known_id=True,
    )


def _write_needs_read(sync: SyncRequest) -> bool:
    """Whether an update's values depend on the read: a field's current value, or the host's User id for a row
    that writes it to an existing record."""
    if not sync.settings.overwrite:
        return False
    rows, booking = sync.settings.mappings, sync.booking
    return decides_on_current_values(rows, booking) or any(
        maps_host((row,)) and effective_rule(row, booking) != WriteRule.ON_CREATE and _is_reference(sync, row)
        for row in rows
    )


def _is_reference(sync: SyncRequest, row: MappingRow) -> bool:
    field = sync.fields.get(row.sf_field)
    return field is not None and field.type == "reference"


def _any_failed(response: object) -> bool:
    """Whether a subrequest failed (False for an answer without results, which interpret_writes reports)."""
    try:
        return any(_status(result) >= 400 for result in _results_by_reference(response).values())
    except SyncRefused:
        return False


# -- write results -------------------------------------------------------------------------------------------------


def interpret_writes(sync: SyncRequest, plan: WritePlan, response: object) -> Outcome | WritePlan:
    """The outcome of a Composite write, or the follow-up write after a blocking duplicate rule."""
    results = _results_by_reference(response)
    failed = _first_failure(results)
    if failed is None:
        return plan.done(results)
    if plan.event_write in ("delete", "mark") and _error_code(failed) in ("ENTITY_IS_DELETED", "NOT_FOUND"):
        gone = replace(plan, event_id="", event_write="", actions=(EVENT_GONE,))
        return gone.done()
    follow_up = _duplicate_follow_up(sync, plan, failed)
    return follow_up if follow_up is not None else Outcome(error=_error_of(failed))


def _duplicate_follow_up(sync: SyncRequest, plan: WritePlan, failed: Mapping[str, Any]) -> WritePlan | None:
    """After DUPLICATES_DETECTED on the record: use the matched record (a blocked create), or skip the update (a
    blocked update), and still create the Event. Only once."""
    if plan.follow_up or failed.get("referenceId") != RECORD_REF or _error_code(failed) != "DUPLICATES_DETECTED":
        return None
    lookup, found = plan.lookup, plan.lookup.record
    if plan.record_write == "update" and found is not None:
        return plan_writes(sync, replace(lookup, record=replace(found, how=UPDATE_BLOCKED)), follow_up=True)
    matched = _matched_record(failed)
    if plan.record_write != "create" or matched is None:
        return None
    return plan_writes(sync, replace(lookup, record=matched), follow_up=True)


def _matched_record(failed: Mapping[str, Any]) -> FoundRecord | None:
    """The first Lead or Contact a duplicate rule matched (duplicateResult.matchResults[].matchRecords[])."""
    for error in _errors(failed):
        duplicate = error.get("duplicateResult") or {}
        for match in duplicate.get("matchResults") or ():
            for candidate in match.get("matchRecords") or ():
                record = candidate.get("record") or {}
                sobject = (record.get("attributes") or {}).get("type") or match.get("entityType")
                if sobject in (SalesforceObject.LEAD, SalesforceObject.CONTACT) and record.get("Id"):
                    return FoundRecord(sobject, record["Id"], DUPLICATE_RULE)
    return None


# -- Composite responses -------------------------------------------------------------------------------------------


def _results_by_reference(response: object) -> dict[str, Mapping[str, Any]]:
    results = response.get("compositeResponse") if isinstance(response, Mapping) else None
    if not isinstance(results, list) or not all(isinstance(r, Mapping) for r in results):
        raise SyncRefused(sync_error("UNEXPECTED_RESPONSE", "Salesforce's Composite answer had no compositeResponse."))
    return {str(r.get("referenceId")): r for r in results}


def _status(result: Mapping[str, Any]) -> int:
    status = result.get("httpStatusCode")
    return status if isinstance(status, int) else 500


def _errors(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    body = result.get("body")
    return [e for e in body if isinstance(e, Mapping)] if isinstance(body, list) else []


def _error_code(result: Mapping[str, Any]) -> str:
    errors = _errors(result)
    return str(errors[0].get("errorCode") or errors[0].get("statusCode") or "") if errors else ""


def _first_failure(results: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The subrequest that failed; with allOrNone the others report PROCESSING_HALTED, which is not the cause."""
    failures = [r for r in results.values() if _status(r) >= 400]
    causes = [r for r in failures if _error_code(r) != "PROCESSING_HALTED"]
    return (causes or failures or [None])[0]


def _error_of(result: Mapping[str, Any]) -> SyncError:
    errors = _errors(result)
    first = errors[0] if errors else {}
    code = _error_code(result) or f"HTTP_{_status(result)}"
    message = str(first.get("message") or f"Salesforce answered {_status(result)}.")
    fields = tuple(str(f) for f in first.get("fields") or ())
    return sync_error(code, message, fields, _status(result))
