"""Legacy carry-over in the product (issue 12): owners and admins on their team's Salesforce page, and staff in the
support console, check a legacy export, see what it will create, and confirm. Built on portal.integrations.legacy,
which checks the whole file (within one team's calendars, from a team's page) and imports it in one transaction
(nothing is half-imported); this says what each entry will create, in the words of the settings page."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Calendar, SourceKind
from ..planner.inputs import MappingRow
from ..planner.sources import SYSTEM_ITEMS
from .legacy import LegacyEntry, import_legacy_settings, read_legacy_settings

# What every legacy entry becomes (design §1), as the integration editor labels it.
CARRIED_SETTINGS = "Objects to be linked: Lead · Register new behavior: Not register · Update behavior: Not update"


@dataclass(frozen=True)
class PlannedRow:
    sf_field: str
    source: str


@dataclass(frozen=True)
class PlannedIntegration:
    """One integration the import will create: its calendar and its mapping rows, as people read them."""

    calendar: Calendar
    rows: tuple[PlannedRow, ...]


def plan_import(data: bytes, team_id: int | None) -> list[PlannedIntegration]:
    """What the file would create, checked in full; raises LegacyImportError (the problem, where) otherwise.
    team_id: the team whose calendars may be named (None: any team's, for staff)."""
    return [_planned(entry) for entry in read_legacy_settings(data, team_id)]


def carry_over(data: bytes, team_id: int | None) -> list[LegacyEntry]:
    """Check again and import every entry in one transaction (audited per integration), or nothing."""
    return import_legacy_settings(data, team_id)


def _planned(entry: LegacyEntry) -> PlannedIntegration:
    labels = {str(q.id): q.label for q in entry.calendar.questions}
    return PlannedIntegration(entry.calendar, tuple(_planned_row(row, labels) for row in entry.settings.mappings))


def _planned_row(row: MappingRow, question_labels: dict[str, str]) -> PlannedRow:
    if row.source_kind == SourceKind.FIXED:
        return PlannedRow(row.sf_field, f"Fixed value: {row.fixed_value}" if row.fixed_value else "Fixed value: blank")
    if row.source_kind == SourceKind.ITEM:
        item = SYSTEM_ITEMS.get(row.source_key)
        return PlannedRow(row.sf_field, f"System item: {item.label if item else row.source_key}")
    return PlannedRow(row.sf_field, f"Booking question: {question_labels.get(row.source_key, row.source_key)}")
