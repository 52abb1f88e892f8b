"""Guarding a calendar's Salesforce mapping from the calendar side (issue 12): a calendar edit that would leave a
mapping row unable to fill its Salesforce field (a mapped question deleted, made optional without a fallback,
changed to another kind, the name format switched) is found with the same pure checks the mapping editor uses
(portal.planner.validation), so the two editors agree. Only problems the edit *adds* count: a mapping that was
already imperfect does not block every calendar save."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Calendar, SalesforceConnection, SalesforceIntegration
from ..planner.fields import FieldInfo, ObjectFields, fields_from_describe
from ..planner.inputs import MappingRow
from ..planner.validation import MappingProblem, check_mapping
from ..salesforce import describe
from ..salesforce.errors import SalesforceError
from ..sync import snapshots
from .service import integration_of


@dataclass(frozen=True)
class RowAtRisk:
    number: int | None  # the row as the mapping editor numbers it (from 1); None: the mapping as a whole
    field: str
    message: str

    @property
    def place(self) -> str:
        return f"Row {self.number} ({self.field})" if self.number else self.field


@dataclass(frozen=True)
class MappingAtRisk:
    """What a calendar edit would break in the calendar's Salesforce mapping."""

    integration: SalesforceIntegration
    rows: tuple[RowAtRisk, ...]

    def summary(self) -> str:
        return " ".join(f"{row.place}: {row.message}" for row in self.rows)


@dataclass(frozen=True)
class MappingGuard:
    """Taken before the edit is applied: the integration, its object's fields and the problems it already has."""

    integration: SalesforceIntegration | None
    fields: ObjectFields | None = None
    rows: tuple[MappingRow, ...] = ()
    problems_before: frozenset[tuple[int | None, str]] = frozenset()

    def after(self, calendar: Calendar) -> tuple[MappingProblem, ...]:
        """The mapping's problems with the calendar as it now stands in the session (edit applied, not flushed)."""
        if self.integration is None:
            return ()
        questions = tuple(snapshots.question_snapshot(q) for q in calendar.questions)
        return check_mapping(self.fields, questions, self.rows, overwrite=self.integration.overwrite)

    def risk(self, problems: tuple[MappingProblem, ...]) -> MappingAtRisk | None:
        added = [p for p in problems if (p.row, p.message) not in self.problems_before]
        if not added:
            return None
        rows = tuple(RowAtRisk(None if p.row is None else p.row + 1, p.field, p.message) for p in added)
        return MappingAtRisk(self.integration, rows)


def guard_for(calendar: Calendar) -> MappingGuard:
    """Call before changing the calendar: the object's describe may be fetched (and committed) here, never while
    the edit is pending."""
    integration = integration_of(calendar)
    if integration is None:
        return MappingGuard(None)
    rows = snapshots.mapping_rows(integration.mappings)
    fields = _fields(calendar, integration.object_name.value) or _known_without_salesforce(
        integration.object_name.value, rows
    )
    guard = MappingGuard(integration, fields, rows)
    before = frozenset((p.row, p.message) for p in guard.after(calendar))
    return MappingGuard(integration, fields, rows, before)


def _fields(calendar: Calendar, object_name: str) -> ObjectFields | None:
    connection = db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == calendar.team_id))
    if connection is None or connection.refresh_token_encrypted is None:
        return None
    try:
        return fields_from_describe(describe.describe_of(connection, object_name).payload)
    except SalesforceError:
        return None


def _known_without_salesforce(object_name: str, rows: tuple[MappingRow, ...]) -> ObjectFields:
    """Without a describe, each mapped field as plain optional text: a row that loses its question still shows."""
    return ObjectFields(object_name, tuple(FieldInfo(row.sf_field, row.sf_field, "string") for row in rows))


def record_outcome(guard: MappingGuard, risk: MappingAtRisk | None, problems: tuple[MappingProblem, ...]) -> None:
    """In the calendar edit's transaction: a confirmed risk flags the integration "Needs attention" (audited); an
    edit that leaves the mapping without problems clears the flag. Its bookings keep syncing where they can."""
    integration = guard.integration
    if integration is None:
        return
    calendar_id = integration.calendar_id
    team_id = integration.calendar.team_id
    if risk is not None:
        integration.attention = risk.summary()
        audit.record(
            "salesforce_integration.flagged",
            team_id=team_id,
            target=integration,
            calendar_id=calendar_id,
            reason=integration.attention,
            confirmed=True,
        )
    elif integration.attention and not problems:
        integration.attention = ""
        audit.record("salesforce_integration.attention_cleared", team_id=team_id, target=integration,
                     calendar_id=calendar_id)  # fmt: skip
