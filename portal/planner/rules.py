"""Write rules (design §5): when each mapping row is written to a record that already exists — always, only when
creating, or only if the field is empty in Salesforce — decided from the values the Composite read fetched.

Names stay whole: a full-name answer only ever creates a record's LastName; it never splits and never writes over a
record's FirstName/LastName. A value equal to what Salesforce holds is not sent (an e-mail differing only in case or
surrounding spaces counts as equal), so an update that changes nothing is not sent at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from ..enums import QuestionKind, SourceKind, WriteRule
from .fields import FieldInfo, ObjectFields
from .inputs import BookingSnapshot, MappingRow
from .sources import default_write_rule, question_for
from .values import JsonValue, row_value, writable_field
from .words import N_

WRITE_RULES = tuple(WriteRule)
RULE_LABELS = MappingProxyType(
    {
        WriteRule.ALWAYS: N_("Always"),
        WriteRule.ON_CREATE: N_("Only when creating"),
        WriteRule.IF_EMPTY: N_("Only if empty in Salesforce"),
    }
)
# One line each, for the editor: what the choice does to a record the guest already has.
RULE_HELP = MappingProxyType(
    {
        WriteRule.ALWAYS: N_("Written to new records and, when “Update” is chosen, to existing ones."),
        WriteRule.ON_CREATE: N_("Written to new records only; an existing record keeps its value."),
        WriteRule.IF_EMPTY: N_(
            "Written to new records, and to an existing record only while this field is empty there."
        ),
    }
)
_NAME_FIELDS = frozenset({"firstname", "lastname", "middlename", "salutation", "suffix"})


def rule_or_default(rule: str, sf_field: str) -> WriteRule:
    """The row's rule; a row that chose none gets the new-row default for its field."""
    return WriteRule(rule) if rule in WRITE_RULES else default_write_rule(sf_field)


def writes_full_name_to_a_name(row: MappingRow, booking: BookingSnapshot) -> bool:
    """A full-name answer on a name field: written on create only, whatever the row's rule says."""
    if row.source_kind != SourceKind.QUESTION or row.sf_field.strip().lower() not in _NAME_FIELDS:
        return False
    question = question_for(row, booking.questions)
    return question is not None and question.kind == QuestionKind.FULL_NAME


def effective_rule(row: MappingRow, booking: BookingSnapshot) -> WriteRule:
    return (
        WriteRule.ON_CREATE
        if writes_full_name_to_a_name(row, booking)
        else rule_or_default(row.write_rule, row.sf_field)
    )


def fields_to_read(rows: Sequence[MappingRow], booking: BookingSnapshot, fields: ObjectFields) -> tuple[str, ...]:
    """The mapped fields whose current values an update decides on (every row an update may write)."""
    names: list[str] = []
    for row in rows:
        info = fields.get(row.sf_field)
        if info is not None and effective_rule(row, booking) != WriteRule.ON_CREATE and info.name not in names:
            names.append(info.name)
    return tuple(names)


def decides_on_current_values(rows: Sequence[MappingRow], booking: BookingSnapshot) -> bool:
    """Whether an update needs the record's current values: a row written only if empty decides on them. Rows
    written always are sent as they are when nothing was read (only an unchanged value would be left out), and
    create-only rows are not sent to an existing record."""
    return any(effective_rule(row, booking) == WriteRule.IF_EMPTY for row in rows)


@dataclass(frozen=True)
class FieldDecision:
    """One mapped field on an existing record: the booking's value, Salesforce's, and whether it is written."""

    field: str
    value: JsonValue
    current: JsonValue | None  # None: empty in Salesforce, or not read
    written: bool
    why: str
    read: bool = False  # whether `current` is Salesforce's value (create-only rows are not read)


def update_decisions(
    fields: ObjectFields,
    rows: Sequence[MappingRow],
    booking: BookingSnapshot,
    host_user_id: str,
    current: Mapping[str, JsonValue | None] | None,
) -> tuple[FieldDecision, ...]:
    """Each non-blank row's decision for an existing record; `current` maps field names (any case) to the values
    the read returned, or is None when the record was not read (the editor's preview)."""
    known = {name.lower(): value for name, value in current.items()} if current is not None else None
    decisions = []
    for row in rows:
        rule = effective_rule(row, booking)
        field = writable_field(fields, row, creating=rule == WriteRule.ON_CREATE)
        value = row_value(field, row, booking, host_user_id)
        if value is None:
            continue  # a blank answer never blanks what Salesforce holds
        now = known.get(field.name.lower()) if known is not None else None
        written, why = _decide(field, row, booking, rule, value, now, known is not None)
        read = known is not None and field.name.lower() in known
        decisions.append(FieldDecision(field.name, value, now, written, why, read))
    return tuple(decisions)


def _decide(
    field: FieldInfo, row: MappingRow, booking: BookingSnapshot, rule: str, value: JsonValue, now, read: bool
) -> tuple[bool, str]:
    if writes_full_name_to_a_name(row, booking):
        return False, N_("a full name is only written to new records; an existing record's names are kept")
    if rule == WriteRule.ON_CREATE:
        return False, N_("only written when creating")
    if not read:
        return True, N_("written") if rule == WriteRule.ALWAYS else N_("written if the field is empty in Salesforce")
    if rule == WriteRule.IF_EMPTY and not is_empty(now):
        return False, N_("Salesforce already has a value")
    if same_value(field, now, value):
        return False, N_("Salesforce already has this value")
    return True, N_("always written") if rule == WriteRule.ALWAYS else N_("the field is empty in Salesforce")


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def same_value(field: FieldInfo, current: object, new: JsonValue) -> bool:
    """Whether writing `new` would change nothing Salesforce shows (an e-mail ignores case and spaces)."""
    if is_empty(current):
        return False
    if field.type == "email":
        return str(current).strip().casefold() == str(new).strip().casefold()
    if field.type == "reference":
        return str(current)[:15] == str(new)[:15]
    if field.type == "boolean" or isinstance(current, bool):
        return current is new
    if field.type in {"int", "double", "currency", "percent"}:
        try:
            return float(current) == float(new)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    if field.type == "datetime":
        return _moment(current) is not None and _moment(current) == _moment(new)
    if field.type == "multipicklist":
        return set(str(current).split(";")) == set(str(new).split(";"))
    return str(current) == str(new)


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
