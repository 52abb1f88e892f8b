"""Pure: many bookings' syncs at once, for a backfill (design §5). The per-booking decisions are plan.py's own
(`choose_record`, `plan_writes`): this module only reads for many guests at a time and turns each booking's
WritePlan into sObject Collections records, then reads the per-record answers back.

Reads: one Composite request holds up to 5 SOQL queries with `Email IN (...)` lists for every guest of a batch
(Leads, Contacts, the hosts' Users), and a second one the Events already linked to the records found, so a
booking whose write committed but whose answer was lost is found, not written twice. Writes: records of one type
per sObject Collections request, up to 200, `allOrNone` false, each SaveResult mapped back to its booking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..enums import SalesforceObject
from . import soql
from .catalogue import SyncError, sync_error
from .inputs import SyncRequest
from .plan import (
    DUPLICATE_RULE_HEADER,
    EVENT_REF,
    MAX_QUERIES,
    RECORD_REF,
    CompositeRequest,
    Lookup,
    SeenEvent,
    Subrequest,
    WritePlan,
    booking_marker,
    choose_record,
    needs_host_user,
    read_fields,
)

COLLECTION_SIZE = 200  # records per sObject Collections request
# Characters of quoted e-mails (or ids) per IN list: SOQL allows 100,000 characters and 4,000 per WHERE value list
# entry, but a query travels in a URL, which Salesforce caps near 16 KB; this leaves room for encoding.
IN_LIST_CHARS = 4000
LEADS, CONTACTS, USERS, EVENTS = "leads", "contacts", "users", "events"


# -- reads ---------------------------------------------------------------------------------------------------------


def in_lists(values: Iterable[str], budget: int = IN_LIST_CHARS) -> list[str]:
    """The values as SOQL IN lists ("'a', 'b'"), each within `budget` characters, each value once (ignoring case)."""
    lists: list[list[str]] = [[]]
    seen: set[str] = set()
    size = 0
    for value in values:
        key = value.strip().lower()
        if not key or key in seen:
            continue
        seen.add(key)
        literal = soql.string_literal(value.strip())
        if lists[-1] and size + len(literal) + 2 > budget:
            lists.append([])
            size = 0
        lists[-1].append(literal)
        size += len(literal) + 2
    return [", ".join(chunk) for chunk in lists if chunk]


def lookup_queries(syncs: Sequence[SyncRequest]) -> list[tuple[str, str]]:
    """(kind, SOQL) for every guest and host of the batch; all rows come back (no LIMIT: the query pages). Records
    of the integration's object come with the mapped fields whose current values the write rules decide on."""
    settings = syncs[0].settings
    emails = [s.booking.guest_email for s in syncs]
    current = tuple(dict.fromkeys(name for s in syncs for name in read_fields(s)))
    queries: list[tuple[str, str]] = []
    if settings.object_name == SalesforceObject.LEAD:
        select = soql.select_list(("Id", "Email", "IsConverted", "ConvertedContactId", "LastModifiedDate"), current)
        queries += [(LEADS, f"SELECT {select} FROM Lead WHERE Email IN ({chunk})") for chunk in in_lists(emails)]
    if settings.object_name == SalesforceObject.CONTACT or settings.contact_first:
        extra = current if settings.object_name == SalesforceObject.CONTACT else ()
        select = soql.select_list(("Id", "Email", "LastModifiedDate"), extra)
        queries += [(CONTACTS, f"SELECT {select} FROM Contact WHERE Email IN ({chunk})") for chunk in in_lists(emails)]
    hosts = [s.booking.host_email for s in syncs if needs_host_user(s)]
    queries += [
        (USERS, f"SELECT Id, Email FROM User WHERE Email IN ({chunk}) AND IsActive = true") for chunk in in_lists(hosts)
    ]
    return queries


def event_queries(record_ids: Iterable[str], starts: Sequence[datetime]) -> list[tuple[str, str]]:
    """Events of the found records within the batch's meeting times, with the Description that carries each one's
    booking marker (this booking's Event, if an earlier try created it, is among them)."""
    if not starts:
        return []
    low, high = soql.datetime_literal(min(starts)), soql.datetime_literal(max(starts))
    return [
        (
            EVENTS,
            "SELECT Id, WhoId, Description FROM Event "
            f"WHERE WhoId IN ({chunk}) AND StartDateTime >= {low} AND StartDateTime <= {high}",
        )
        for chunk in in_lists(record_ids)
    ]


def read_requests(api_version: str, queries: Sequence[tuple[str, str]]) -> list[CompositeRequest]:
    """Composite reads of at most 5 queries each; referenceIds are `<kind>_<n>`."""
    subrequests = [
        Subrequest("GET", soql.query_url(api_version, text), f"{kind}_{n}") for n, (kind, text) in enumerate(queries)
    ]
    return [
        CompositeRequest(api_version, tuple(subrequests[i : i + MAX_QUERIES]), False)
        for i in range(0, len(subrequests), MAX_QUERIES)
    ]


@dataclass
class Reads:
    """Rows read for a batch, by kind; `more` holds nextRecordsUrl of pages still to fetch."""

    rows: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    more: list[tuple[str, str]] = field(default_factory=list)

    def add_composite(self, response: object) -> SyncError | None:
        """Take a Composite read's answer; returns the error when a query failed."""
        results = response.get("compositeResponse") if isinstance(response, Mapping) else None
        if not isinstance(results, list):
            return sync_error("UNEXPECTED_RESPONSE", "Salesforce's Composite answer had no compositeResponse.")
        for result in results:
            status = result.get("httpStatusCode") if isinstance(result, Mapping) else None
            body = result.get("body") if isinstance(result, Mapping) else None
            if not isinstance(status, int) or status >= 400 or not isinstance(body, Mapping):
                errors = body if isinstance(body, list) and body and isinstance(body[0], Mapping) else [{}]
                code = str(errors[0].get("errorCode") or f"HTTP_{status}")
                return sync_error(code, str(errors[0].get("message") or "A lookup query failed."), (), status)
            self.add_page(str(result.get("referenceId", "")).rsplit("_", 1)[0], body)
        return None

    def add_page(self, kind: str, body: Mapping[str, Any]) -> None:
        records = [r for r in body.get("records") or () if isinstance(r, Mapping) and r.get("Id")]
        self.rows.setdefault(kind, []).extend(records)
        if body.get("nextRecordsUrl"):
            self.more.append((kind, str(body["nextRecordsUrl"])))

    def by_email(self, kind: str, email: str) -> list[Mapping[str, Any]]:
        """Rows of that kind with this e-mail (ignoring case), most recently modified first."""
        wanted = email.strip().lower()
        matching = [r for r in self.rows.get(kind, ()) if str(r.get("Email") or "").strip().lower() == wanted]
        return sorted(matching, key=lambda r: str(r.get("LastModifiedDate") or ""), reverse=True) if wanted else []


def lookup_for(sync: SyncRequest, reads: Reads) -> Lookup:
    """What the reads say about one booking, as plan.read_lookup would for its own Composite read."""
    record = choose_record(
        sync, reads.by_email(LEADS, sync.booking.guest_email), reads.by_email(CONTACTS, sync.booking.guest_email)
    )
    users = reads.by_email(USERS, sync.booking.host_email) if needs_host_user(sync) else []
    marker = booking_marker(sync)
    events = tuple(
        SeenEvent(str(r["Id"]), str(r.get("WhoId") or ""))
        for r in reads.rows.get(EVENTS, ())
        if marker in (line.strip() for line in str(r.get("Description") or "").splitlines())
    )
    return Lookup(record=record, host_user_id=str(users[0]["Id"]) if users else "", events=events)


# -- writes --------------------------------------------------------------------------------------------------------


def _subrequest(plan: WritePlan, reference: str) -> Subrequest | None:
    subrequests = plan.request.subrequests if plan.request is not None else ()
    return next((sub for sub in subrequests if sub.reference_id == reference), None)


def record_entry(plan: WritePlan, object_name: str) -> dict[str, Any] | None:
    """The booking's Lead/Contact as a Collections record (create or update), or None when nothing is written."""
    sub = _subrequest(plan, RECORD_REF)
    if sub is None or sub.body is None:
        return None
    entry: dict[str, Any] = {"attributes": {"type": plan.sf_object or object_name}, **dict(sub.body)}
    if plan.record_write == "update":
        entry["id"] = plan.record_id
    return entry


def event_entry(plan: WritePlan, who_id: str) -> dict[str, Any] | None:
    """The booking's Event as a Collections record, linked to `who_id` (the record found or just created)."""
    sub = _subrequest(plan, EVENT_REF)
    if sub is None or sub.body is None:
        return None
    return {"attributes": {"type": "Event"}, **dict(sub.body), "WhoId": who_id}


def collection_body(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    assert 0 < len(records) <= COLLECTION_SIZE, "sObject Collections hold 1 to 200 records"
    return {"allOrNone": False, "records": list(records)}


COLLECTION_HEADERS = dict([DUPLICATE_RULE_HEADER])  # alert-only duplicate rules save, as in the live sync


def saved(result: object) -> tuple[str, SyncError | None]:
    """One SaveResult: the record's id, or the error that record got."""
    if isinstance(result, Mapping) and result.get("success") is True and result.get("id"):
        return str(result["id"]), None
    errors = result.get("errors") if isinstance(result, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    code = str(first.get("statusCode") or first.get("errorCode") or "UNEXPECTED_RESPONSE")
    fields = tuple(str(f) for f in first.get("fields") or ())
    return "", sync_error(code, str(first.get("message") or "Salesforce did not save this record."), fields, 400)
