"""Checks of a calendar's Salesforce mapping for the integration editor (issue 6), pure: each problem at its row,
in words that say how to fix it. The describe, the questions and the rows come in; nothing is fetched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..enums import QuestionKind, SourceKind, WriteRule
from .fields import MAPPABLE_TYPES, TEXT_TYPES, FieldInfo, ObjectFields
from .inputs import MappingRow, QuestionSnapshot
from .rules import rule_or_default
from .sources import HOST_ITEM, QUESTION_KINDS, SYSTEM_ITEMS, answer_limit, question_for
from .values import SyncRefused, convert

LENGTH_TYPES = TEXT_TYPES | {"email", "phone", "url", "picklist", "multipicklist"}
PICKLIST_TYPES = frozenset({"picklist", "multipicklist"})
MAX_TYPED_VALUE = 1000  # characters of a fixed or fallback value, typed in the editor or read from a legacy file


@dataclass(frozen=True)
class MappingProblem:
    row: int | None  # index into the rows; None: the mapping as a whole (e.g. a required field no row fills)
    field: str
    message: str


def check_mapping(
    fields: ObjectFields, questions: Sequence[QuestionSnapshot], rows: Sequence[MappingRow], *, overwrite: bool
) -> tuple[MappingProblem, ...]:
    """Every problem that must be fixed before the mapping is saved; empty when it may be saved."""
    problems: list[MappingProblem] = []
    first_row_of: dict[str, int] = {}
    for index, row in enumerate(rows):
        messages = _row_messages(index, row, fields, questions, overwrite, first_row_of)
        problems += [MappingProblem(index, row.sf_field, message) for message in messages]
    return tuple(problems) + _unmapped(fields, rows)


def _row_messages(
    index: int,
    row: MappingRow,
    fields: ObjectFields,
    questions: Sequence[QuestionSnapshot],
    overwrite: bool,
    first_row_of: dict[str, int],
) -> list[str]:
    name = row.sf_field.strip()
    if not name:
        return ["Choose a Salesforce field for this row."]
    if name != row.sf_field:  # Salesforce refuses " LastName " with INVALID_FIELD on every sync
        return [
            f"{row.sf_field!r} is not a Salesforce field name: field names have no spaces around them. Choose the "
            "field from the list."
        ]
    if name.lower() in first_row_of:
        return [f"{name} is already mapped in row {first_row_of[name.lower()] + 1}; remove one of the two rows."]
    first_row_of[name.lower()] = index
    field = fields.get(name)
    if field is None:
        return [
            f"{name} no longer exists in Salesforce or the connected user cannot see it; choose another field "
            "or remove the row."
        ]
    updates = overwrite and rule_or_default(row.write_rule, row.sf_field) != WriteRule.ON_CREATE
    access = _access_message(field, updates)
    if access:
        return [access]
    return _source_messages(field, row, questions) + _fallback_messages(field, row)


def _access_message(field: FieldInfo, updates: bool) -> str:
    """Why the connected user cannot write the field as the row would (`updates`: also to existing records)."""
    if field.type not in MAPPABLE_TYPES:
        return f"{field.display} is a {field.type} field, which a mapping cannot fill; choose another field."
    if not field.createable:
        return (
            f"The connected Salesforce user may not set {field.display} on new records; grant access to the field "
            "or remove the row."
        )
    if updates and not field.updateable:
        return (
            f"The connected Salesforce user may not update {field.display}, and overwrite is on; choose “Only when "
            "creating” for this row, turn overwrite off, grant access to the field, or remove the row."
        )
    return ""


def _source_messages(field: FieldInfo, row: MappingRow, questions: Sequence[QuestionSnapshot]) -> list[str]:
    if row.source_kind == SourceKind.QUESTION:
        question = question_for(row, questions)
        if question is None:
            return ["The booking question this row used no longer exists; choose another source or remove the row."]
        return _question_messages(field, row, question)
    if row.source_kind == SourceKind.ITEM:
        return _item_messages(field, row)
    if row.source_kind == SourceKind.FIXED:
        return _fixed_messages(field, row.fixed_value)
    return ["Choose a source for this row: a booking question, a system item or a fixed value."]


def _question_messages(field: FieldInfo, row: MappingRow, question: QuestionSnapshot) -> list[str]:
    kind = QUESTION_KINDS.get(question.kind)
    if kind is None or field.type not in kind.fits:
        kind_label = kind.label.lower() if kind else question.kind
        return [
            f"A {kind_label} question ({question.label}) cannot fill {field.display}, a {field.type} field; "
            "choose a question or system item of a fitting type, or a fixed value."
        ]
    messages = []
    if not kind.typed_by_guest:  # a typed answer is limited to the field's length on the booking form instead
        remedy = "shorten the options or choose a longer field"
        messages += _length_messages(field, _longest_answer(question), f"The question {question.label!r}", remedy)
    messages += _choice_messages(field, question, kind.typed_by_guest)
    can_be_blank = (
        not question.required and question.kind != QuestionKind.CHECKBOX
    )  # a checkbox is always ticked or not
    if field.required_on_create and can_be_blank and not row.fallback_value.strip():
        messages.append(
            f"{field.display} is required by Salesforce but the question {question.label!r} is optional; make the "
            "question required or give this row a fallback value."
        )
    return messages


def _longest_answer(question: QuestionSnapshot) -> int:
    if question.kind == QuestionKind.SINGLE_SELECT:
        return max((len(option) for option in question.options), default=0)
    if question.kind == QuestionKind.CHECKBOX:
        return len("Yes")
    return answer_limit(question)


def mapped_limits(
    fields: ObjectFields, questions: Sequence[QuestionSnapshot], rows: Sequence[MappingRow]
) -> dict[int, int]:
    """Question id -> the most characters the booking form lets a guest type so the answer fits every Salesforce
    field it is mapped to (issue 12): the mapping need not be refused, and values are never shortened."""
    limits: dict[int, int] = {}
    for row in rows:
        question = question_for(row, questions) if row.source_kind == SourceKind.QUESTION else None
        field = fields.get(row.sf_field.strip()) if question is not None else None
        kind = QUESTION_KINDS.get(question.kind) if question is not None else None
        if field is None or kind is None or not kind.typed_by_guest:
            continue
        if field.type in LENGTH_TYPES and field.length:
            limits[question.id] = min(limits.get(question.id, field.length), field.length)
    return limits


def _length_messages(field: FieldInfo, longest: int | None, source: str, remedy: str) -> list[str]:
    if field.type not in LENGTH_TYPES or not field.length or not longest or longest <= field.length:
        return []
    return [
        f"{source} allows {longest} characters but {field.display} holds {field.length}; {remedy} "
        "(values are never shortened)."
    ]


def _choice_messages(field: FieldInfo, question: QuestionSnapshot, typed_by_guest: bool) -> list[str]:
    if field.type not in PICKLIST_TYPES or not field.restricted_picklist:
        return []
    if typed_by_guest:
        return [
            f"Guests type {question.label!r} freely but {field.display} accepts only its picklist values; map a "
            "choice question whose options are those values, or a fixed value."
        ]
    foreign = [option for option in question.options if option not in field.picklist_values]
    if not foreign:
        return []
    return [
        f"The options {', '.join(foreign)} of {question.label!r} are not values of {field.display}; use only "
        f"{', '.join(field.picklist_values)}."
    ]


def _item_messages(field: FieldInfo, row: MappingRow) -> list[str]:
    item = SYSTEM_ITEMS.get(row.source_key)
    if item is None:
        return ["This system item no longer exists; choose another source or remove the row."]
    if field.type not in item.fits:
        return [f"{item.label} cannot fill {field.display}, a {field.type} field; choose a fitting source."]
    if row.source_key == HOST_ITEM and field.type == "reference" and "User" not in field.reference_to:
        return [f"{item.label} is a Salesforce User, and {field.display} does not refer to Users."]
    if field.type in PICKLIST_TYPES and field.restricted_picklist:
        return [f"{field.display} accepts only its picklist values; map a fixed value instead of {item.label}."]
    return _length_messages(field, item.max_length, item.label, "choose a longer field")


def _fixed_messages(field: FieldInfo, value: str) -> list[str]:
    if not value.strip():
        return ["Type the fixed value, or choose another source."]
    return _value_messages(field, value, "The fixed value")


def _fallback_messages(field: FieldInfo, row: MappingRow) -> list[str]:
    if row.source_kind == SourceKind.FIXED or not row.fallback_value.strip():
        return []
    return _value_messages(field, row.fallback_value, "The fallback value")


def _value_messages(field: FieldInfo, value: str, what: str) -> list[str]:
    """A typed value must convert to the field's type; for picklists it must be an active value, restricted or not."""
    if len(value) > MAX_TYPED_VALUE:
        return [f"{what} has {len(value)} characters; at most {MAX_TYPED_VALUE} are accepted."]
    if field.type in PICKLIST_TYPES:
        choices = [part.strip() for part in value.split(";")] if field.type == "multipicklist" else [value.strip()]
        inactive = [choice for choice in choices if choice not in field.picklist_values]
        if inactive:
            return [
                f"{what} {', '.join(inactive)!r} is not an active value of {field.display}; choose one of "
                f"{', '.join(field.picklist_values)}."
            ]
    try:
        convert(field, value)
    except SyncRefused as refused:
        return [f"{what} does not fit. {refused.error.message}"]
    return []


def check_host_owner(
    fields: ObjectFields, rows: Sequence[MappingRow], host_emails: Sequence[str], salesforce_users: frozenset[str]
) -> tuple[MappingProblem, ...]:
    """A row that sets a User reference (OwnerId) to the booking's host needs a host who is a Salesforce user;
    salesforce_users: the lower-cased e-mails of active Salesforce Users among the hosts."""
    if any(email.lower() in salesforce_users for email in host_emails):
        return ()
    problems = []
    for index, row in enumerate(rows):
        field = fields.get(row.sf_field.strip())
        if (
            row.source_kind == SourceKind.ITEM
            and row.source_key == HOST_ITEM
            and field is not None
            and field.type == "reference"
        ):
            problems.append(
                MappingProblem(
                    index,
                    field.name,
                    f"No participating member is a Salesforce user, so {field.display} cannot be set to the booking's "
                    "host; keep a member who is a Salesforce user, or remove the row.",
                )
            )
    return tuple(problems)


def _unmapped(fields: ObjectFields, rows: Sequence[MappingRow]) -> tuple[MappingProblem, ...]:
    mapped = {row.sf_field.strip().lower() for row in rows}
    problems = [
        MappingProblem(
            None,
            f.name,
            f"{f.display} is required by Salesforce: add a row for it from a required question, a system item, a "
            "fixed value, or an optional question with a fallback.",
        )
        for f in fields.required_on_create
        if f.name.lower() not in mapped
    ]
    email = fields.get("Email")
    if email is not None and email.createable and "email" not in mapped:
        problems.append(
            MappingProblem(
                None,
                email.name,
                f"Map the guest's e-mail to {email.display}: the sync finds the guest's record by it, so without it "
                "every booking would create a new record.",
            )
        )
    return tuple(problems)
