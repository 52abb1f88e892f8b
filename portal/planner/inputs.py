"""The planner's immutable inputs: a booking snapshot with its questions and answers, the integration settings with
their mapping rows, where the booking already lives in Salesforce, and one sync request bundling them.

String constants equal the values of the model enums (SyncEvent, SalesforceObject, OnCancel, SourceKind, ...), so
either may be passed; portal.sync.snapshots builds these from the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..enums import NameFormat, OnCancel, QuestionKind, SalesforceObject, SourceKind, SyncEvent, WriteRule
from .fields import ObjectFields
from .names import display_name


@dataclass(frozen=True)
class QuestionSnapshot:
    id: int
    kind: QuestionKind
    label: str
    required: bool = False
    options: tuple[str, ...] = ()
    max_length: int | None = None  # as the editor set it; None: the booking form's cap for the kind


@dataclass(frozen=True)
class BookingSnapshot:
    booking_id: int
    calendar_name: str
    start_at: datetime  # aware
    end_at: datetime  # aware
    guest_email: str
    calendar_private_name: str = ""
    time_zone: str = "UTC"  # the calendar's
    meeting_url: str = ""
    booking_page_url: str = ""
    guest_name: str = ""
    guest_family_name: str = ""
    guest_given_name: str = ""
    guest_company: str = ""
    guest_phone: str = ""
    host_email: str = ""
    host_name: str = ""
    name_format: NameFormat = NameFormat.FULL
    questions: tuple[QuestionSnapshot, ...] = ()  # in form order
    answers: tuple[tuple[int, str], ...] = ()  # (question id, answer)

    def question(self, question_id: int) -> QuestionSnapshot | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def answer_to(self, question_id: int) -> str:
        return next((text for qid, text in self.answers if qid == question_id), "")

    @property
    def guest_display_name(self) -> str:
        """The name as the guest gave it: the full name, or both names in their culture's order."""
        return display_name(self.guest_name, self.guest_family_name, self.guest_given_name)


@dataclass(frozen=True)
class MappingRow:
    sf_field: str
    source_kind: SourceKind
    source_key: str = ""  # the question id (as text) or the system item key
    fixed_value: str = ""
    fallback_value: str = ""
    write_rule: WriteRule = WriteRule.ALWAYS


@dataclass(frozen=True)
class IntegrationSettings:
    object_name: SalesforceObject
    register_event: bool = True
    overwrite: bool = False
    contact_first: bool = True
    on_cancel: OnCancel = OnCancel.DELETE_EVENT
    mappings: tuple[MappingRow, ...] = ()


@dataclass(frozen=True)
class LinkSnapshot:
    """Where the booking lives in Salesforce (SalesforceLink): its Lead/Contact and Event ids."""

    sf_object: str
    record_id: str
    event_id: str = ""


@dataclass(frozen=True)
class SyncRequest:
    """One SyncJob event to apply: everything the planner needs, nothing it must fetch."""

    event: SyncEvent
    booking: BookingSnapshot
    settings: IntegrationSettings
    fields: ObjectFields  # the describe of settings.object_name
    api_version: str  # e.g. "62.0" (52.0 or later: the duplicate rule header)
    link: LinkSnapshot | None = None
    # The guest's settings.object_name record as the link of the team's latest earlier booking by the same e-mail
    # holds it; given on a job's first attempt only (a retry reads: an earlier try may have written). Design §5.
    known_record_id: str = ""
