"""Importing legacy Lead-only settings (design §1): each becomes Lead / Not register / Not update with its
"information to be retrieved" rows as the mapping, unchanged. The whole file is checked first, with the mapping
editor's own checks against the org's Lead fields, and imported in one transaction, so a bad file imports nothing.

The file is untrusted: its size is limited before it is read, its nesting before it is parsed, and control
characters are refused before any value reaches the database."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import click
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..inputs import has_control_character
from ..models import Calendar, OnCancel, SalesforceObject, SourceKind, WriteRule
from ..planner.fields import ObjectFields, fields_from_describe
from ..planner.inputs import IntegrationSettings, MappingRow
from ..planner.sources import SYSTEM_ITEMS
from ..planner.validation import check_mapping
from ..planner.words import N_, Said
from ..salesforce import describe
from ..salesforce.errors import SalesforceError
from . import service
from .editor import question_snapshots
from .forms import MAX_ROWS

ENTRY_KEYS = frozenset({"calendar", "object", "information_to_be_retrieved"})
MAX_NESTING = 8  # the format itself nests four deep: the list, an entry, its rows, a row
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class LegacyImportError(ValueError):
    """The file cannot be imported; the message says where and why (problems: one per faulty entry, when the file
    itself could be read). Nothing was imported."""

    def __init__(self, *problems: str) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class LegacyEntry:
    calendar: Calendar
    settings: IntegrationSettings


def import_legacy_settings(data: bytes, team_id: int | None = None) -> list[LegacyEntry]:
    """Check every entry, then store them all and commit; raises LegacyImportError (nothing stored) otherwise."""
    entries = read_legacy_settings(data, team_id)
    try:
        for entry in entries:
            service.store_integration(entry.calendar, entry.settings, via="legacy import")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return entries


def read_legacy_settings(data: bytes, team_id: int | None = None) -> list[LegacyEntry]:
    """Parse and check a legacy export: a JSON list of {"calendar", "object", "information_to_be_retrieved"}.
    team_id: only that team's calendars may be named (a team's own page); None: any team's (operators, staff)."""
    document = _parse(data)
    if not isinstance(document, list) or not document:
        raise LegacyImportError(Said(N_("The file must hold a non-empty JSON list of calendar settings.")))
    slugs = [_slug(number, item) for number, item in enumerate(document, start=1)]  # no database work yet
    seen: set[str] = set()
    for slug in slugs:
        if slug in seen:
            raise LegacyImportError(Said(N_("Calendar %(slug)s appears more than once in the file."), slug=slug))
        seen.add(slug)
    fields_of_team: dict[int, ObjectFields] = {}
    entries, problems = [], []
    for number, (item, slug) in enumerate(zip(document, slugs, strict=True), start=1):
        try:
            entries.append(_entry(number, item, slug, fields_of_team, team_id))
        except LegacyImportError as problem:  # go on: people fix the whole file at once
            problems += problem.problems
    if problems:
        raise LegacyImportError(*problems)
    return entries


def _parse(data: bytes) -> Any:
    limit = current_app.config["LEGACY_IMPORT_MAX_BYTES"]
    if len(data) > limit:
        message = N_(
            "The file is larger than %(limit)s bytes, the most accepted (setting LEGACY_IMPORT_MAX_BYTES); split "
            "it into smaller files."
        )
        raise LegacyImportError(Said(message, limit=f"{limit:,}"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise LegacyImportError(Said(N_("The file is not UTF-8 text; export it again as UTF-8 JSON."))) from None
    if _nesting(text) > MAX_NESTING:
        message = N_("The file nests lists or objects more than %(most)s deep; it is not an export.")
        raise LegacyImportError(Said(message, most=str(MAX_NESTING)))
    try:
        document = json.loads(text)
    except json.JSONDecodeError as failure:
        raise LegacyImportError(Said(N_("The file is not valid JSON: %(failure)s."), failure=str(failure))) from None
    if has_control_character(_strings(document)):
        message = N_("The file contains invisible control characters (such as NUL); remove them and try again.")
        raise LegacyImportError(Said(message))
    return document


def _nesting(text: str) -> int:
    """How deep lists and objects nest, counted before parsing (the parser itself would exhaust the stack)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
    return deepest


def _strings(value: Any):
    """Every key and text value in a parsed document (whose nesting is already bounded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _slug(number: int, item: Any) -> str:
    where = Said(N_("Entry %(number)s"), number=str(number))
    if not isinstance(item, dict):
        raise LegacyImportError(Said(N_("%(where)s is not an object."), where=where))
    unknown = set(item) - ENTRY_KEYS
    if unknown:
        keys = ", ".join(sorted(unknown))
        raise LegacyImportError(Said(N_("%(where)s has unknown keys: %(keys)s."), where=where, keys=keys))
    slug = item.get("calendar")
    if not isinstance(slug, str) or not slug.strip():
        raise LegacyImportError(Said(N_("%(where)s has no calendar slug."), where=where))
    return slug.strip()


def _entry(
    number: int, item: dict, slug: str, fields_of_team: dict[int, ObjectFields], team_id: int | None
) -> LegacyEntry:
    where = Said(N_("Entry %(number)s (calendar %(slug)s)"), number=str(number), slug=repr(slug))
    if item.get("object") != SalesforceObject.LEAD.value:
        message = N_('%(where)s: the object must be "Lead" (legacy settings only created Leads).')
        raise LegacyImportError(Said(message, where=where))
    statement = select(Calendar).where(Calendar.slug == slug)
    if team_id is not None:  # before any other check, so nothing is said about another team's calendar
        statement = statement.where(Calendar.team_id == team_id)
    calendar = db.session.scalar(statement)
    if calendar is None:
        message = (
            N_("%(where)s: no calendar of this team has this slug.")
            if team_id is not None
            else N_("%(where)s: no calendar has this slug.")
        )
        raise LegacyImportError(Said(message, where=where))
    if service.integration_of(calendar) is not None:
        message = N_("%(where)s: the calendar already has a Salesforce integration; remove it first.")
        raise LegacyImportError(Said(message, where=where))
    rows = item.get("information_to_be_retrieved")
    if not isinstance(rows, list) or not rows:
        message = N_('%(where)s: "information_to_be_retrieved" must be a non-empty list.')
        raise LegacyImportError(Said(message, where=where))
    if len(rows) > MAX_ROWS:
        message = N_("%(where)s: more than %(most)s rows; the mapping editor holds at most %(most)s.")
        raise LegacyImportError(Said(message, where=where, most=str(MAX_ROWS)))
    settings = IntegrationSettings(
        object_name=SalesforceObject.LEAD.value,
        register_event=False,
        overwrite=False,
        contact_first=True,
        on_cancel=OnCancel.DELETE_EVENT.value,
        mappings=tuple(_row(where, calendar, index, row) for index, row in enumerate(rows, start=1)),
    )
    _check_as_the_editor_does(where, calendar, settings, fields_of_team)
    return LegacyEntry(calendar, settings)


def _check_as_the_editor_does(
    where: Said, calendar: Calendar, settings: IntegrationSettings, fields_of_team: dict[int, ObjectFields]
) -> None:
    """The mapping editor's save-time checks: a Premium team connected to Salesforce, and every row fitting the
    org's Lead fields (they exist, types, picklist values and lengths fit, required fields are filled)."""
    if calendar.team_id not in fields_of_team:
        fields_of_team[calendar.team_id] = _lead_fields(where, calendar)
    fields = fields_of_team[calendar.team_id]
    problems = check_mapping(fields, question_snapshots(calendar), settings.mappings, overwrite=settings.overwrite)
    if problems:
        said = [
            Said(N_("row %(row)s: %(problem)s"), row=str(p.row + 1), problem=p.message)
            if p.row is not None
            else p.message
            for p in problems
        ]
        raise LegacyImportError(Said(N_("%(where)s: %(problems)s"), where=where, problems=_joined(said)))


def _joined(said: list[Said]) -> Said:
    """Sentences one after the other, each still translatable."""
    joined = said[0]
    for sentence in said[1:]:
        joined = Said("%(first)s %(next)s", first=joined, next=sentence)  # no words of its own to translate
    return joined


def _lead_fields(where: Said, calendar: Calendar) -> ObjectFields:
    state = service.service_integration_state(calendar)
    if state.unavailable_reason:
        raise LegacyImportError(Said(N_("%(where)s: %(why)s"), where=where, why=state.unavailable_reason))
    try:
        cache = describe.describe_of(state.connection, SalesforceObject.LEAD.value)
    except SalesforceError as failure:
        message = N_("%(where)s: the org's Lead fields could not be read: %(failure)s")
        raise LegacyImportError(Said(message, where=where, failure=failure.message)) from None
    return fields_from_describe(cache.payload)


def _row(where: Said, calendar: Calendar, index: int, row: Any) -> MappingRow:
    where = Said(N_("%(where)s, row %(row)s"), where=where, row=str(index))
    if not isinstance(row, dict) or set(row) != {"lead_label", "source"}:
        message = N_('%(where)s must be an object with exactly "lead_label" and "source".')
        raise LegacyImportError(Said(message, where=where))
    field, source = row["lead_label"], row["source"]
    if not isinstance(field, str) or not field.strip() or len(field) > 80:
        raise LegacyImportError(
            Said(N_('%(where)s: "lead_label" must be a Salesforce field\'s API name.'), where=where)
        )
    if not isinstance(source, str):
        raise LegacyImportError(Said(N_('%(where)s: "source" must be text such as "question:E-mail".'), where=where))
    kind, separator, value = source.partition(":")
    if not separator or kind not in set(SourceKind):
        message = N_("%(where)s: the source %(source)s must start with question:, item: or fixed:.")
        raise LegacyImportError(Said(message, where=where, source=repr(source)))
    field = field.strip()
    # Legacy calendars only ever created Leads: every row stays create-only (design §1 "Legacy settings").
    create_only = WriteRule.ON_CREATE
    if kind == SourceKind.FIXED:
        return MappingRow(sf_field=field, source_kind=SourceKind.FIXED, fixed_value=value, write_rule=create_only)
    if kind == SourceKind.ITEM:
        return MappingRow(field, SourceKind.ITEM, _item_key(where, value), write_rule=create_only)
    question = str(_question_id(where, calendar, value))
    return MappingRow(field, SourceKind.QUESTION, question, write_rule=create_only)


def _item_key(where: Said, name: str) -> str:
    """A system item by its key (calendar_name) or its label (Calendar name), ignoring case."""
    wanted = name.strip().casefold()
    for item in SYSTEM_ITEMS.values():
        if wanted in (item.key.casefold(), item.label.casefold()):
            return item.key
    raise LegacyImportError(Said(N_("%(where)s: unknown system item %(name)s."), where=where, name=repr(name)))


def _question_id(where: Said, calendar: Calendar, label: str) -> int:
    """The calendar's question with this label (ignoring case and surrounding spaces); it must be unique."""
    wanted = label.strip().casefold()
    matches = [question for question in calendar.questions if question.label.strip().casefold() == wanted]
    if not matches:
        message = N_("%(where)s: the calendar has no question labelled %(label)s.")
        raise LegacyImportError(Said(message, where=where, label=repr(label)))
    if len(matches) > 1:
        message = N_("%(where)s: several questions are labelled %(label)s; rename one first.")
        raise LegacyImportError(Said(message, where=where, label=repr(label)))
    return matches[0].id


@click.command("import-legacy-settings")
@click.argument("file", type=click.File("rb"))
def import_legacy_settings_command(file) -> None:
    """Import legacy Lead-only Salesforce settings (a JSON export) as calendar integrations."""
    try:
        # One byte past the limit is enough to refuse a larger file without reading all of it.
        entries = import_legacy_settings(file.read(current_app.config["LEGACY_IMPORT_MAX_BYTES"] + 1))
    except LegacyImportError as failure:
        raise click.ClickException(f"{failure} Nothing was imported.") from None
    for entry in entries:
        click.echo(f"{entry.calendar.slug}: Lead / Not register / Not update, {len(entry.settings.mappings)} rows.")
    click.echo(f"Imported {len(entries)} calendar settings.")
