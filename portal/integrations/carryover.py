"""Legacy carry-over in the product (issue 12): owners and admins on their team's Salesforce page, and staff in the
support console, check a legacy export, see what it will create, and confirm. Built on portal.integrations.legacy,
which checks the whole file and imports it in one transaction (nothing is half-imported); this adds who may import
into which team and what each entry will create, in the words of the settings page."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Calendar
from ..planner.inputs import FIXED, ITEM, MappingRow
from ..planner.sources import SYSTEM_ITEMS
from .legacy import LegacyEntry, LegacyImportError, import_legacy_settings, read_legacy_settings

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
    return [_planned(entry) for entry in _team_entries(data, team_id)]


def carry_over(data: bytes, team_id: int | None) -> list[LegacyEntry]:
    """Check again and import every entry in one transaction (audited per integration), or nothing."""
    _team_entries(data, team_id)
    return import_legacy_settings(data)


def _team_entries(data: bytes, team_id: int | None) -> list[LegacyEntry]:
    entries = read_legacy_settings(data)
    foreign = [
        f"Entry {number} (calendar {entry.calendar.slug!r}): no calendar of this team has this slug."
        for number, entry in enumerate(entries, start=1)
        if team_id is not None and entry.calendar.team_id != team_id
    ]
    if foreign:
        raise LegacyImportError(" ".join(foreign))
    return entries


def _planned(entry: LegacyEntry) -> PlannedIntegration:
    labels = {str(q.id): q.label for q in entry.calendar.questions}
    return PlannedIntegration(entry.calendar, tuple(_planned_row(row, labels) for row in entry.settings.mappings))


def _planned_row(row: MappingRow, question_labels: dict[str, str]) -> PlannedRow:
    if row.source_kind == FIXED:
        return PlannedRow(row.sf_field, f"Fixed value: {row.fixed_value}" if row.fixed_value else "Fixed value: blank")
    if row.source_kind == ITEM:
        item = SYSTEM_ITEMS.get(row.source_key)
        return PlannedRow(row.sf_field, f"System item: {item.label if item else row.source_key}")
    return PlannedRow(row.sf_field, f"Booking question: {question_labels.get(row.source_key, row.source_key)}")
