"""Importing legacy Lead-only settings (design §1): each becomes Lead / Not register / Not update with its
"information to be retrieved" rows as the mapping, unchanged. The whole file is checked first and imported in
one transaction, so a bad file imports nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click
from sqlalchemy import select

from ..extensions import db
from ..models import Calendar, OnCancel, SalesforceObject
from ..planner.inputs import FIXED, ITEM, ON_CREATE, QUESTION, IntegrationSettings, MappingRow
from ..planner.sources import SYSTEM_ITEMS
from . import service
from .forms import MAX_ROWS


class LegacyImportError(ValueError):
    """The file cannot be imported; the message says where and why. Nothing was imported."""


@dataclass(frozen=True)
class LegacyEntry:
    calendar: Calendar
    settings: IntegrationSettings


def import_legacy_settings(text: str) -> list[LegacyEntry]:
    """Check every entry, then store them all and commit; raises LegacyImportError (nothing stored) otherwise."""
    entries = read_legacy_settings(text)
    try:
        for entry in entries:
            service.store_integration(entry.calendar, entry.settings, via="legacy import")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return entries


def read_legacy_settings(text: str) -> list[LegacyEntry]:
    """Parse and check a legacy export: a JSON list of {"calendar", "object", "information_to_be_retrieved"}."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as failure:
        raise LegacyImportError(f"The file is not valid JSON: {failure}.") from None
    if not isinstance(document, list) or not document:
        raise LegacyImportError("The file must hold a non-empty JSON list of calendar settings.")
    entries = [_entry(number, item) for number, item in enumerate(document, start=1)]
    slugs = [entry.calendar.slug for entry in entries]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise LegacyImportError(f"Calendar {', '.join(repeated)} appears more than once in the file.")
    return entries


def _entry(number: int, item: Any) -> LegacyEntry:
    where = f"Entry {number}"
    if not isinstance(item, dict):
        raise LegacyImportError(f"{where} is not an object.")
    unknown = set(item) - {"calendar", "object", "information_to_be_retrieved"}
    if unknown:
        raise LegacyImportError(f"{where} has unknown keys: {', '.join(sorted(unknown))}.")
    slug = item.get("calendar")
    if not isinstance(slug, str) or not slug.strip():
        raise LegacyImportError(f"{where} has no calendar slug.")
    where = f"Entry {number} (calendar {slug!r})"
    if item.get("object") != SalesforceObject.LEAD.value:
        raise LegacyImportError(f'{where}: the object must be "Lead" (legacy settings only created Leads).')
    calendar = db.session.scalar(select(Calendar).where(Calendar.slug == slug.strip()))
    if calendar is None:
        raise LegacyImportError(f"{where}: no calendar has this slug.")
    if service.integration_of(calendar) is not None:
        raise LegacyImportError(f"{where}: the calendar already has a Salesforce integration; remove it first.")
    rows = item.get("information_to_be_retrieved")
    if not isinstance(rows, list) or not rows:
        raise LegacyImportError(f'{where}: "information_to_be_retrieved" must be a non-empty list.')
    if len(rows) > MAX_ROWS:
        raise LegacyImportError(f"{where}: more than {MAX_ROWS} rows; the mapping editor holds at most {MAX_ROWS}.")
    mappings = tuple(_row(where, calendar, index, row) for index, row in enumerate(rows, start=1))
    first_spelling: dict[str, str] = {}
    for row in mappings:
        if row.sf_field.lower() in first_spelling:  # API names are case-insensitive
            raise LegacyImportError(f"{where}: {first_spelling[row.sf_field.lower()]} is mapped more than once.")
        first_spelling[row.sf_field.lower()] = row.sf_field
    settings = IntegrationSettings(
        object_name=SalesforceObject.LEAD.value,
        register_event=False,
        overwrite=False,
        contact_first=True,
        on_cancel=OnCancel.DELETE_EVENT.value,
        mappings=mappings,
    )
    return LegacyEntry(calendar, settings)


def _row(where: str, calendar: Calendar, index: int, row: Any) -> MappingRow:
    where = f"{where}, row {index}"
    if not isinstance(row, dict) or set(row) != {"lead_label", "source"}:
        raise LegacyImportError(f'{where} must be an object with exactly "lead_label" and "source".')
    field, source = row["lead_label"], row["source"]
    if not isinstance(field, str) or not field.strip() or len(field) > 80:
        raise LegacyImportError(f'{where}: "lead_label" must be a Salesforce field\'s API name.')
    if not isinstance(source, str):
        raise LegacyImportError(f'{where}: "source" must be text such as "question:E-mail".')
    kind, separator, value = source.partition(":")
    if not separator or kind not in (QUESTION, ITEM, FIXED):
        raise LegacyImportError(f"{where}: the source {source!r} must start with question:, item: or fixed:.")
    field = field.strip()
    # Legacy calendars only ever created Leads: every row stays create-only (design §1 "Legacy settings").
    if kind == FIXED:
        return MappingRow(sf_field=field, source_kind=FIXED, fixed_value=value, write_rule=ON_CREATE)
    if kind == ITEM:
        return MappingRow(field, ITEM, _item_key(where, value), write_rule=ON_CREATE)
    return MappingRow(field, QUESTION, str(_question_id(where, calendar, value)), write_rule=ON_CREATE)


def _item_key(where: str, name: str) -> str:
    """A system item by its key (calendar_name) or its label (Calendar name), ignoring case."""
    wanted = name.strip().casefold()
    for item in SYSTEM_ITEMS.values():
        if wanted in (item.key.casefold(), item.label.casefold()):
            return item.key
    raise LegacyImportError(f"{where}: unknown system item {name!r}.")


def _question_id(where: str, calendar: Calendar, label: str) -> int:
    """The calendar's question with this label (ignoring case and surrounding spaces); it must be unique."""
    wanted = label.strip().casefold()
    matches = [question for question in calendar.questions if question.label.strip().casefold() == wanted]
    if not matches:
        raise LegacyImportError(f"{where}: the calendar has no question labelled {label!r}.")
    if len(matches) > 1:
        raise LegacyImportError(f"{where}: several questions are labelled {label!r}; rename one first.")
    return matches[0].id


@click.command("import-legacy-settings")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_legacy_settings_command(file) -> None:
    """Import legacy Lead-only Salesforce settings (a JSON export) as calendar integrations."""
    try:
        entries = import_legacy_settings(file.read())
    except (LegacyImportError, UnicodeDecodeError) as failure:
        raise click.ClickException(f"{failure} Nothing was imported.") from None
    for entry in entries:
        click.echo(f"{entry.calendar.slug}: Lead / Not register / Not update, {len(entry.settings.mappings)} rows.")
    click.echo(f"Imported {len(entries)} calendar settings.")
