"""The integration editor's preview: exactly what the sync would send for a booking, for a new guest and for a guest
whose record exists, computed by the same planner functions the sync uses (no call to Salesforce)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..enums import QuestionKind, SalesforceObject, SyncEvent
from .catalogue import SyncError
from .inputs import QuestionSnapshot, SyncRequest
from .plan import FoundRecord, Lookup, WritePlan, plan_writes, preflight, read_fields
from .rules import FieldDecision, update_decisions
from .sources import answer_limit
from .values import SyncRefused

# Stands in for the guest's existing record in the existing-record case (the preview never looks one up).
EXISTING_RECORD_PLACEHOLDERS = {
    SalesforceObject.LEAD: "00Q000000000000AAA",
    SalesforceObject.CONTACT: "003000000000000AAA",
}
SAMPLE_ANSWERS = {
    QuestionKind.FULL_NAME: "Alex Sample",
    QuestionKind.FAMILY_NAME: "Sample",
    QuestionKind.GIVEN_NAME: "Alex",
    QuestionKind.EMAIL: "alex.sample@example.com",
    QuestionKind.COMPANY: "Example Ltd",
    QuestionKind.PHONE: "+1 555 0100",
    QuestionKind.SHORT_TEXT: "Sample answer",
    QuestionKind.LONG_TEXT: "A longer sample answer,\nover two lines.",
    QuestionKind.CHECKBOX: "yes",
}


@dataclass(frozen=True)
class Preview:
    """The two cases' Composite writes (each WritePlan's request is None when nothing would be written), or the
    error the sync would fail with before any call."""

    new_record: WritePlan | None
    existing_record: WritePlan | None
    error: SyncError | None = None
    # Per mapped field on the existing record: Salesforce's value, the booking's, whether it is written and why
    # (empty when "Update behavior" is "Not update": then nothing is written to an existing record).
    decisions: tuple[FieldDecision, ...] = ()


def preview(
    sync: SyncRequest,
    *,
    host_user_id: str = "",
    existing_record_id: str = "",
    current: Mapping[str, Any] | None = None,
) -> Preview:
    """What a completed booking would write. host_user_id: the host's Salesforce User, when known (it sets OwnerId);
    existing_record_id: the record to show the existing-record case with (a placeholder id by default); current:
    that record's field values as the sync's read fetches them (None: not looked up)."""
    as_new_booking = replace(sync, event=SyncEvent.CREATED, link=None)
    problem = preflight(as_new_booking)
    if problem is not None:
        return Preview(None, None, problem)
    object_name = sync.settings.object_name
    record_id = existing_record_id or EXISTING_RECORD_PLACEHOLDERS.get(object_name, "")
    lookup = Lookup(host_user_id=host_user_id)
    values = None if current is None else tuple((name, current.get(name)) for name in read_fields(as_new_booking))
    found = FoundRecord(object_name, record_id, current=values)
    try:
        new = plan_writes(as_new_booking, lookup)
        existing = plan_writes(as_new_booking, replace(lookup, record=found))
        decisions = (
            update_decisions(sync.fields, sync.settings.mappings, sync.booking, host_user_id, current)
            if sync.settings.overwrite
            else ()
        )
    except SyncRefused as refused:
        return Preview(None, None, refused.error)
    return Preview(new, existing, decisions=decisions)


def sample_answer(question: QuestionSnapshot) -> str:
    """A plausible answer within the question's length (a choice question's first option)."""
    if question.kind == QuestionKind.SINGLE_SELECT:
        return question.options[0] if question.options else ""
    answer = SAMPLE_ANSWERS.get(question.kind, "Sample answer")
    limit = answer_limit(question)
    return answer[:limit] if limit else answer


def sample_answers(questions: Sequence[QuestionSnapshot]) -> tuple[tuple[int, str], ...]:
    return tuple((question.id, sample_answer(question)) for question in questions)
