"""The shared enums are written once (portal/enums.py) and the planner handles every value of them: a value added to
an enum without teaching the planner, the pages' words or the preview fails here. Pure: no app, database or network."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pytest
from sqlalchemy import Enum

from emulators.salesforce.metadata import STANDARD_FIELDS, describe_object
from portal import enums, models
from portal.enums import QuestionKind, SalesforceObject, SourceKind, SyncEvent, SyncReason
from portal.planner.fields import fields_from_describe
from portal.planner.inputs import BookingSnapshot, LinkSnapshot, MappingRow, QuestionSnapshot
from portal.planner.plan import first_step
from portal.planner.preview import EXISTING_RECORD_PLACEHOLDERS, SAMPLE_ANSWERS
from portal.planner.sources import QUESTION_KINDS, source_value
from portal.planner.validation import check_mapping
from portal.sync.states import REASONS
from portal.sync_errors.presenters import WAITING_REASONS

from .test_sync_plan import sync

LEAD = fields_from_describe(describe_object("Lead", STANDARD_FIELDS["Lead"], "62.0"))
QUESTION = QuestionSnapshot(1, QuestionKind.SHORT_TEXT, "Job title")
START = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
BOOKING = BookingSnapshot(
    booking_id=7,
    calendar_name="Intro call",
    start_at=START,
    end_at=START + timedelta(minutes=30),
    guest_email="mary@example.com",
    questions=(QUESTION,),
    answers=((1, "Buyer"),),
)
A_ROW_OF = {
    SourceKind.QUESTION: MappingRow("Title", SourceKind.QUESTION, source_key="1"),
    SourceKind.ITEM: MappingRow("Title", SourceKind.ITEM, source_key="calendar_name"),
    SourceKind.FIXED: MappingRow("Title", SourceKind.FIXED, fixed_value="Buyer"),
}
CHOOSE_A_SOURCE = "Choose a source for this row"


def shared_enums() -> list[type[StrEnum]]:
    return [value for value in vars(enums).values() if isinstance(value, type) and issubclass(value, StrEnum)]


def test_the_models_use_the_shared_enums():
    for enum_class in shared_enums():
        assert getattr(models, enum_class.__name__) is enum_class
    for table in models.Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Enum):
                assert column.type.enum_class in shared_enums(), f"{table.name}.{column.name}"


def test_a_row_of_every_source_kind_has_a_value_and_passes_the_checks():
    assert set(A_ROW_OF) == set(SourceKind)
    for kind, row in A_ROW_OF.items():
        assert source_value(row, BOOKING) is not None, kind
        messages = [problem.message for problem in check_mapping(LEAD, (QUESTION,), [row], overwrite=False)]
        assert not any(CHOOSE_A_SOURCE in message for message in messages), kind


def test_an_unknown_source_kind_is_refused():
    """The check above can fail: a kind the planner does not know yields no value and a problem on its row."""
    row = MappingRow("Title", "other", source_key="calendar_name")  # type: ignore[arg-type]
    assert source_value(row, BOOKING) is None
    messages = [problem.message for problem in check_mapping(LEAD, (QUESTION,), [row], overwrite=False)]
    assert any(CHOOSE_A_SOURCE in message for message in messages)


def test_the_planner_knows_every_question_kind():
    assert set(QUESTION_KINDS) == set(QuestionKind)
    assert set(SAMPLE_ANSWERS) | {QuestionKind.SINGLE_SELECT} == set(QuestionKind)  # a choice answers its option


def test_the_preview_has_a_record_for_every_salesforce_object():
    assert set(EXISTING_RECORD_PLACEHOLDERS) == set(SalesforceObject)


@pytest.mark.parametrize("event", list(SyncEvent))
def test_the_planner_plans_every_sync_event(event):
    """A booking already in Salesforce: every event reads (and then writes) something."""
    linked = replace(sync(), event=event, link=LinkSnapshot(SalesforceObject.LEAD, "00Q000000000001AAA", "00U0000001"))
    assert first_step(linked).request is not None


def test_every_sync_reason_is_put_in_words():
    assert set(REASONS) == set(SyncReason)
    assert set(WAITING_REASONS) <= set(SyncReason)
