"""Values for Salesforce fields: each mapped value converted by the field's describe type (length, e-mail, phone, url,
date, date-time, boolean, picklist, number, reference), fallbacks applied, and required fields checked.

A value that cannot fit refuses the sync naming the field; nothing is ever truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from .catalogue import SyncError, sync_error
from .fields import FieldInfo, ObjectFields
from .inputs import BookingSnapshot, MappingRow
from .sources import Host, SourceValue, source_value

JsonValue = str | int | float | bool

# What Salesforce accepts in an Email field: ASCII only (no accented or non-Latin letters, RFC 6532 is not
# supported), a local part of RFC 5322 atom characters not starting with a dot and at most 64 characters long, a
# domain of two or more labels (letters, digits, inner hyphens, at most 63 each), 80 characters in all.
EMAIL_LENGTH = 80
EMAIL_LOCAL_LENGTH = 64
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*")
_EMAIL_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YES = frozenset({"true", "yes", "y", "1", "on", "checked"})
_NO = frozenset({"false", "no", "n", "0", "off", "unchecked"})


class SyncRefused(Exception):
    """Planning stopped before (or instead of) a Salesforce call; `error` says why."""

    def __init__(self, error: SyncError) -> None:
        super().__init__(error.message)
        self.error = error


def _refuse(code: str, field: FieldInfo, message: str) -> SyncRefused:
    return SyncRefused(sync_error(code, f"{field.display}: {message}", (field.name,)))


def utc_text(moment: datetime) -> str:
    """A moment as Salesforce date-time text in UTC: 2025-03-04T09:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_text(value: SourceValue) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, Host):
        return value.name
    return str(value)


def _fitting_length(field: FieldInfo, text: str) -> str:
    if field.length and len(text) > field.length:
        raise _refuse(
            "STRING_TOO_LONG",
            field,
            f"the value has {len(text)} characters and the field allows {field.length}; it is never shortened.",
        )
    return text


def _text(field: FieldInfo, value: SourceValue) -> JsonValue:
    return _fitting_length(field, as_text(value))


def email_problem(text: str) -> str | None:
    """Why Salesforce would refuse `text` as an e-mail address, in words a guest can act on; None if it accepts it.
    The booking form refuses what this refuses (portal.validators), so no booking fails its sync for it."""
    local, at, domain = text.rpartition("@")
    if not text.isascii():
        return (
            "Use an address without letters with accents or from other alphabets: our customer records accept "
            "only plain letters (a-z), digits and signs such as . _ + - in an e-mail address."
        )
    if len(text) > EMAIL_LENGTH:
        return f"Use an address of at most {EMAIL_LENGTH} characters: our customer records accept no longer one."
    if len(local) > EMAIL_LOCAL_LENGTH:
        return (
            f"Use at most {EMAIL_LOCAL_LENGTH} characters before the @: our customer records accept no longer "
            "addresses."
        )
    if not at or not _EMAIL_LOCAL.fullmatch(local) or not _EMAIL_DOMAIN.fullmatch(domain):
        return "Enter a valid e-mail address, like name@example.com."
    return None


def _email(field: FieldInfo, value: SourceValue) -> JsonValue:
    text = _fitting_length(field, as_text(value))
    if email_problem(text) is not None:
        raise _refuse("INVALID_EMAIL_ADDRESS", field, f"{text!r} is not an e-mail address Salesforce accepts.")
    return text


def _allowed_choice(field: FieldInfo, choice: str) -> str:
    if field.restricted_picklist and choice not in field.picklist_values:
        allowed = ", ".join(field.picklist_values)
        raise _refuse(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            field,
            f"{choice!r} is not one of the allowed values ({allowed}).",
        )
    return choice


def _picklist(field: FieldInfo, value: SourceValue) -> JsonValue:
    return _fitting_length(field, _allowed_choice(field, as_text(value)))


def _multipicklist(field: FieldInfo, value: SourceValue) -> JsonValue:
    choices = [part.strip() for part in as_text(value).split(";") if part.strip()]
    return _fitting_length(field, ";".join(_allowed_choice(field, choice) for choice in choices))


def _boolean(field: FieldInfo, value: SourceValue) -> JsonValue:
    if isinstance(value, bool):
        return value
    word = as_text(value).lower() if isinstance(value, str) else ""
    if word in _YES | _NO:
        return word in _YES
    raise _refuse("VALUE_DOES_NOT_FIT", field, f"{as_text(value)!r} is not a yes/no value.")


def _integer(field: FieldInfo, value: SourceValue) -> JsonValue:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    raise _refuse("VALUE_DOES_NOT_FIT", field, f"{as_text(value)!r} is not a whole number.")


def _number(field: FieldInfo, value: SourceValue) -> JsonValue:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise _refuse("VALUE_DOES_NOT_FIT", field, f"{as_text(value)!r} is not a number.")
    return int(number) if number == number.to_integral_value() and "." not in value else float(number)


def _date(field: FieldInfo, value: SourceValue) -> JsonValue:
    if isinstance(value, datetime):
        return value.date().isoformat()  # the booking's own date, in the calendar's time zone
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise _refuse("VALUE_DOES_NOT_FIT", field, f"{as_text(value)!r} is not a date (YYYY-MM-DD).")


def _datetime(field: FieldInfo, value: SourceValue) -> JsonValue:
    moment = value if isinstance(value, datetime) else _parse_moment(value)
    if moment is None:
        raise _refuse(
            "VALUE_DOES_NOT_FIT", field, f"{as_text(value)!r} is not a date and time with a time zone (e.g. ...Z)."
        )
    return utc_text(moment)


def _parse_moment(value: SourceValue) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _reference(field: FieldInfo, value: SourceValue) -> JsonValue:
    if isinstance(value, str) and _RECORD_ID.match(value):
        return value
    raise _refuse("VALUE_DOES_NOT_FIT", field, f"{as_text(value)!r} is not a Salesforce record id.")


_CONVERTERS: dict[str, Callable[[FieldInfo, SourceValue], JsonValue]] = {
    "string": _text,
    "textarea": _text,
    "combobox": _text,
    "encryptedstring": _text,
    "phone": _text,
    "url": _text,
    "email": _email,
    "picklist": _picklist,
    "multipicklist": _multipicklist,
    "boolean": _boolean,
    "int": _integer,
    "double": _number,
    "currency": _number,
    "percent": _number,
    "date": _date,
    "datetime": _datetime,
    "reference": _reference,
}


def _host_for(field: FieldInfo, host: Host) -> str:
    """The host as the field needs them: their User id for a reference, their e-mail or their name as text."""
    if field.type == "reference":
        return host.user_id
    return host.email if field.type == "email" else host.name


def convert(field: FieldInfo, value: SourceValue) -> JsonValue | None:
    """The value as the field accepts it; None when it is blank (blank values are never sent)."""
    if isinstance(value, Host):
        value = _host_for(field, value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    converter = _CONVERTERS.get(field.type)
    if converter is None:
        raise _refuse("VALUE_DOES_NOT_FIT", field, f"a mapping cannot fill a field of type {field.type}.")
    return converter(field, value)


def writable_field(fields: ObjectFields, row: MappingRow, creating: bool) -> FieldInfo:
    field = fields.get(row.sf_field)
    if field is None:
        raise SyncRefused(
            sync_error("INVALID_FIELD", f"{row.sf_field} no longer exists on {fields.object_name}.", (row.sf_field,))
        )
    if not (field.createable if creating else field.updateable):
        verb = "create" if creating else "update"
        raise SyncRefused(
            sync_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"{field.display}: the connected user may not {verb} this field.",
                (field.name,),
            )
        )
    return field


def row_value(field: FieldInfo, row: MappingRow, booking: BookingSnapshot, host_user_id: str) -> JsonValue | None:
    """One row's converted value, its fallback when the source is blank; None when both are blank."""
    value = source_value(row, booking, host_user_id)
    if value is None:
        raise SyncRefused(
            sync_error(
                "MAPPING_SOURCE_MISSING",
                f"{field.display}: the mapped {row.source_kind} {row.source_key!r} no longer exists.",
                (field.name,),
            )
        )
    converted = convert(field, value)
    return converted if converted is not None else convert(field, row.fallback_value)


def record_values(
    fields: ObjectFields,
    rows: Sequence[MappingRow],
    booking: BookingSnapshot,
    host_user_id: str = "",
    *,
    creating: bool,
) -> tuple[tuple[str, JsonValue], ...]:
    """The mapped, non-blank values for the record, in row order; raises SyncRefused naming a field that cannot fit."""
    values = []
    for row in rows:
        field = writable_field(fields, row, creating)
        value = row_value(field, row, booking, host_user_id)
        if value is not None:
            values.append((field.name, value))
    return tuple(values)


def check_required(
    fields: ObjectFields, values: Sequence[tuple[str, JsonValue]], *, creating: bool
) -> SyncError | None:
    """Required fields left blank: on create every required_on_create field; on update the non-nillable fields
    being sent. None when nothing is missing."""
    sent = {name.lower(): value for name, value in values}
    if creating:
        candidates = fields.required_on_create
    else:
        candidates = tuple(f for f in fields.fields if not f.nillable and f.name.lower() in sent)
    missing = tuple(f for f in candidates if sent.get(f.name.lower()) in (None, ""))
    if not missing:
        return None
    names = ", ".join(f.display for f in missing)
    return sync_error(
        "REQUIRED_FIELD_MISSING",
        f"Required fields are blank: {names}. Make the question required or give the mapping row a fallback value.",
        tuple(f.name for f in missing),
    )
