"""Record rules a real org enforces on create and update, in the order Salesforce applies them.

Each stage either passes or raises ``ApiError`` with the real error codes and message formats.
"""

import re
from datetime import UTC, datetime

from emulators.salesforce import ids
from emulators.salesforce.errors import ApiError, api_error, error
from emulators.salesforce.metadata import Field
from emulators.salesforce.org import Org, sf_datetime

# Salesforce's Email fields: ASCII atoms before the @ (not starting with a dot, at most 64 characters), a domain of
# two or more labels of letters, digits and inner hyphens (at most 63 each); accented or non-Latin letters refused.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{0,63}")
_EMAIL_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_TEXT = {"string", "textarea", "email", "phone", "url", "picklist", "combobox", "multipicklist", "id", "reference"}
_JSON_TYPE_NAMES = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "date": "date",
    "datetime": "datetime",
}
MAX_EVENT_MINUTES = 14 * 24 * 60
DUPLICATE_MESSAGES = {
    "alert": "Use one of these records?",
    "block": "You're creating a duplicate record. We recommend you use an existing record instead.",
}


def check_write(org: Org, sobject: str, body: dict, existing: dict | None, headers: dict, version: str) -> dict:
    """Validate a create (existing is None) or update body; return values keyed by canonical names."""
    if sobject == "Lead" and existing is not None and existing.get("IsConverted"):
        raise api_error(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
    values = _canonical_values(org, sobject, body)
    _check_permissions(org, sobject, values, creating=existing is None)
    merged = {**(existing or {}), **values}
    _check_required(org, sobject, values, merged, creating=existing is None)
    _check_formats(org, sobject, values)
    _check_event_times(sobject, merged)
    _check_references(org, values)
    _check_validation_rules(org, sobject, merged)
    _check_duplicates(org, sobject, merged, headers, version)
    return values


def _canonical_values(org: Org, sobject: str, body: dict) -> dict:
    fields = org.field_map(sobject)
    values = {}
    for name, raw in body.items():
        if name == "attributes":
            continue
        f = fields.get(name.lower())
        if f is None or not f.readable:
            raise api_error(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
        values[f.name] = coerce(f, raw)
    return values


def coerce(f: Field, raw: object) -> object:
    """Convert a JSON value to the field's type, failing as Salesforce's JSON parser does."""
    if raw is None:
        return None
    if f.type in _TEXT:
        if isinstance(raw, (dict, list)):
            raise _parser_error("String", raw)
        text = raw if isinstance(raw, str) else ("true" if raw is True else "false" if raw is False else str(raw))
        return text or None  # Salesforce stores an empty string as null
    converters = {
        "boolean": _to_bool,
        "int": _to_int,
        "double": _to_float,
        "currency": _to_float,
        "percent": _to_float,
        "date": _to_date,
        "datetime": to_datetime,
    }
    try:
        return converters[f.type](raw)
    except (ValueError, TypeError, OverflowError):
        raise _parser_error(_JSON_TYPE_NAMES.get(f.type, f.type), raw) from None


def _parser_error(type_name: str, raw: object) -> ApiError:
    kind = "VALUE_STRING" if isinstance(raw, str) else "VALUE_NUMBER_INT" if isinstance(raw, int) else "START_OBJECT"
    return api_error(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {type_name} from {kind} value {raw} or request may be missing a required field at [line:1, column:1]",
    )


def _to_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in {"true", "false"}:
        return raw.lower() == "true"
    raise ValueError(raw)


def _to_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    number = float(raw)
    if number != int(number):
        raise ValueError(raw)
    return int(number)


def _to_float(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError(raw)
    return float(raw)


def _to_date(raw: object) -> str:
    return datetime.strptime(str(raw), "%Y-%m-%d").date().isoformat()


def to_datetime(raw: object) -> str:
    """Parse an ISO 8601 date-time (Z, +hh:mm or +hhmm offsets) and store it in UTC."""
    if not isinstance(raw, str):
        raise ValueError(raw)
    text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return sf_datetime(moment)


def parse_datetime(stored: str) -> datetime:
    return datetime.strptime(stored, "%Y-%m-%dT%H:%M:%S.%f%z")


def _check_permissions(org: Org, sobject: str, values: dict, creating: bool) -> None:
    fields = org.field_map(sobject)
    allowed = (lambda f: f.createable) if creating else (lambda f: f.updateable)
    refused = [name for name in values if not allowed(fields[name.lower()])]
    if refused:
        raise api_error(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(refused)}. Please check the security settings of this "
            "field and verify that it is read/write for your profile or permission set.",
            refused,
        )


def _check_required(org: Org, sobject: str, values: dict, merged: dict, creating: bool) -> None:
    required = [f.name for f in org.fields(sobject) if f.createable and not f.nillable and not f.defaulted_on_create]
    if creating:
        missing = [name for name in required if merged.get(name) in (None, "")]
    else:
        missing = [name for name in required if name in values and values[name] in (None, "")]
    if sobject == "Event":
        missing += _missing_event_fields(merged)
    if missing:
        raise api_error(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)


def _missing_event_fields(event: dict) -> list[str]:
    if event.get("IsAllDayEvent"):
        return [] if event.get("ActivityDate") or event.get("StartDateTime") else ["ActivityDate"]
    missing = [] if event.get("StartDateTime") or event.get("ActivityDateTime") else ["ActivityDateTime"]
    if event.get("EndDateTime") is None and event.get("DurationInMinutes") is None:
        missing.append("DurationInMinutes")
    return missing


def _check_formats(org: Org, sobject: str, values: dict) -> None:
    fields = org.field_map(sobject)
    problems = []
    for name, value in values.items():
        f = fields[name.lower()]
        if value is None or not isinstance(value, str):
            continue
        if f.length and f.type in _TEXT and len(value) > f.length:
            problems.append(
                error("STRING_TOO_LONG", f"{f.label}: data value too large: {value} (max length={f.length})", [name])
            )
        elif f.type == "email" and not _is_email(value):
            problems.append(error("INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {value}", [name]))
        elif f.type == "picklist" and f.restricted and value not in f.active_values():
            problems.append(
                error(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{f.label}: bad value for restricted picklist field: {value}",
                    [name],
                )
            )
    if problems:
        raise ApiError(400, problems)


def _check_event_times(sobject: str, event: dict) -> None:
    if sobject != "Event":
        return
    duration = event.get("DurationInMinutes")
    if duration is not None and not 0 <= duration <= MAX_EVENT_MINUTES:
        raise api_error(400, "FIELD_INTEGRITY_EXCEPTION", "Event duration cannot exceed 14 days", ["DurationInMinutes"])
    if not event.get("StartDateTime") or not event.get("EndDateTime"):
        return
    if parse_datetime(event["EndDateTime"]) < parse_datetime(event["StartDateTime"]):
        raise api_error(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            "End Date Time: End Date Time can't be earlier than Start Date Time.",
            ["EndDateTime"],
        )


def _check_references(org: Org, values: dict) -> None:
    for name, value in values.items():
        if not name.endswith("Id") or name == "Id" or value is None:
            continue
        _check_reference(org, name, value)


def _check_reference(org: Org, name: str, value: str) -> None:
    label_message = f"{_reference_label(name)}: id value of incorrect type: {value}"
    if not ids.is_well_formed(value):
        raise api_error(400, "MALFORMED_ID", label_message, [name])
    found = org.find_record(value)
    target_types = {"WhoId": {"Lead", "Contact"}, "WhatId": {"Account"}, "OwnerId": {"User"}, "AccountId": {"Account"}}
    if ids.object_for_id(value) not in target_types.get(name, {ids.object_for_id(value)}):
        raise api_error(400, "FIELD_INTEGRITY_EXCEPTION", label_message, [name])
    if found is None:
        raise api_error(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
    sobject, record = found
    if record["IsDeleted"]:
        raise api_error(400, "ENTITY_IS_DELETED", "entity is deleted", [])
    if sobject == "Lead" and record.get("IsConverted"):
        raise api_error(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])


def _reference_label(name: str) -> str:
    return {"WhoId": "Name ID", "WhatId": "Related To ID", "OwnerId": "Owner ID", "AccountId": "Account ID"}.get(
        name, name
    )


def _check_validation_rules(org: Org, sobject: str, record: dict) -> None:
    for rule in org.settings["validation_rules"]:
        if rule.get("object") == sobject and _condition_holds(rule.get("condition", {}), record):
            location = [rule["field"]] if rule.get("field") else []
            raise api_error(
                400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.get("message", "Validation failed"), location
            )


def _condition_holds(condition: dict, record: dict) -> bool:
    """A validation rule's error condition: blank / equals / not_equals / contains on one field."""
    value = record.get(condition.get("field", ""))
    expected = condition.get("value")
    operator = condition.get("operator", "blank")
    if operator == "blank":
        return value in (None, "")
    if operator == "equals":
        return value == expected
    if operator == "not_equals":
        return value != expected
    if operator == "contains":
        return isinstance(value, str) and str(expected).lower() in value.lower()
    return False


def _check_duplicates(org: Org, sobject: str, record: dict, headers: dict, version: str) -> None:
    mode = org.settings["duplicate_rules"].get(sobject, "off")
    if mode not in DUPLICATE_MESSAGES:
        return
    matches = find_duplicates(org, sobject, record)
    if not matches or (mode == "alert" and allow_save_requested(headers)):
        return
    raise ApiError(400, [duplicate_error(sobject, matches, mode, version)])


def find_duplicates(org: Org, sobject: str, record: dict) -> list[dict]:
    """The standard matching rules, with exact case-insensitive comparisons where Salesforce uses fuzzy ones:
    the same e-mail, or the same person by name — with the same Company (Lead) or the same Phone (Contact)."""
    return [
        other
        for other in org.records[sobject].values()
        if other["Id"] != record.get("Id")
        and not other["IsDeleted"]
        and not other.get("IsConverted")
        and (_same(record, other, "Email") or _same_person(sobject, record, other))
    ]


def _same(record: dict, other: dict, field: str) -> bool:
    value = (record.get(field) or "").strip().lower()
    return bool(value) and value == (other.get(field) or "").strip().lower()


def _same_person(sobject: str, record: dict, other: dict) -> bool:
    if not _same(record, other, "LastName"):
        return False
    if record.get("FirstName") and other.get("FirstName") and not _same(record, other, "FirstName"):
        return False
    return _same(record, other, "Company" if sobject == "Lead" else "Phone")


def allow_save_requested(headers: dict) -> bool:
    """Read Sforce-Duplicate-Rule-Header (e.g. "allowSave=true; includeRecordDetails=false")."""
    raw = next((value for key, value in headers.items() if key.lower() == "sforce-duplicate-rule-header"), "")
    options = dict(part.strip().split("=", 1) for part in re.split(r"[;,]", raw) if "=" in part)
    return options.get("allowSave", "").strip().lower() == "true"


def duplicate_error(sobject: str, matches: list[dict], mode: str, version: str) -> dict:
    message = DUPLICATE_MESSAGES[mode]
    return {
        "duplicateResult": {
            "allowSave": mode == "alert",
            "duplicateRule": f"Standard_{sobject}_Duplicate_Rule",
            "duplicateRuleEntityType": sobject,
            "errorMessage": message,
            "matchResults": [
                {
                    "entityType": sobject,
                    "errors": [],
                    "matchEngine": "FuzzyMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": sobject,
                                    "url": f"/services/data/v{version}/sobjects/{sobject}/{m['Id']}",
                                },
                                "Id": m["Id"],
                            },
                        }
                        for m in matches
                    ],
                    "rule": f"Standard_{sobject}_Match_Rule_v1_0",
                    "size": len(matches),
                    "success": True,
                }
            ],
        },
        "errorCode": "DUPLICATES_DETECTED",
        "message": message,
    }


def _is_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at) and _EMAIL_LOCAL.fullmatch(local) is not None and _EMAIL_DOMAIN.fullmatch(domain) is not None
