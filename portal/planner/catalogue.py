"""The error catalogue (design §5): for each Salesforce or planner error code, its cause and what to do, in plain
words, and whether a retry can help. Used for sync outcomes, the errors page and the e-mails."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    cause: str
    remedy: str
    retryable: bool = False


def _info(code: str, cause: str, remedy: str, retryable: bool = False) -> tuple[str, ErrorInfo]:
    return code, ErrorInfo(code, cause, remedy, retryable)


CATALOGUE = MappingProxyType(
    dict(
        [
            _info(
                "invalid_grant",
                "Salesforce revoked the portal's access (the token was deleted, the connected app was blocked, or "
                "its refresh token policy expired it).",
                "An owner or admin reconnects Salesforce on the team's Salesforce page; set the connected app's "
                'refresh token policy to "valid until revoked".',
            ),
            _info(
                "REQUIRED_FIELD_MISSING",
                "A field Salesforce requires was blank (for example Company).",
                "Make that booking question required, or give the mapping row a fallback value.",
            ),
            _info(
                "DUPLICATES_DETECTED",
                "A Salesforce duplicate rule matched the record.",
                "The matched record is used; if it is still blocked, adjust the duplicate rule or turn overwrite on.",
            ),
            _info(
                "CANNOT_UPDATE_CONVERTED_LEAD",
                "The Lead was converted.",
                "Nothing: the retry finds the Contact the Lead was converted to and links the booking to it.",
                retryable=True,  # a fresh read sees the conversion (design §5)
            ),
            _info(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "The value is not one of the picklist's allowed values.",
                "Pick a value from the list in the mapping, or map a choice question whose options are allowed values.",
            ),
            _info(
                "STRING_TOO_LONG",
                "The guest's answer is longer than the Salesforce field allows (it is never shortened).",
                "Limit the booking question's length to the field's length, or map it to a longer field.",
            ),
            _info(
                "INVALID_EMAIL_ADDRESS",
                "The value is not an e-mail address Salesforce accepts.",
                "Map an e-mail question to this field, or change the question's type.",
            ),
            _info(
                "VALUE_DOES_NOT_FIT",
                "The answer cannot be read as the field's type (a number, a date, a yes/no or a record id).",
                "Map a question of a fitting type to the field, or change the question's type.",
            ),
            _info(
                "JSON_PARSER_ERROR",
                "Salesforce could not read a value as the field's type.",
                "Map a question of a fitting type to the field.",
            ),
            _info(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "A validation rule in the Salesforce org refused the record.",
                "The rule's own message says what it expects; change the mapping or the rule accordingly.",
            ),
            _info(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Field-level security or permissions do not let the connected user write this field.",
                "Grant the connected Salesforce user access to the field, or remove the mapping row.",
            ),
            _info(
                "INSUFFICIENT_ACCESS",
                "The connected Salesforce user lacks a permission this sync needs.",
                "Grant the connected user access to the object and fields, or remove the mapping row.",
            ),
            _info(
                "INVALID_FIELD",
                "A mapped field no longer exists in Salesforce or cannot be seen by the connected user.",
                "Refresh the Salesforce fields in the integration editor and fix or remove the row.",
            ),
            _info(
                "MAPPING_SOURCE_MISSING",
                "A mapping row uses a booking question or system item that no longer exists.",
                "Open the calendar's Salesforce integration and fix or remove the flagged row.",
            ),
            _info(
                "ENTITY_IS_DELETED",
                "The record or Event was deleted in Salesforce.",
                "Nothing can be changed on a deleted record; dismiss this sync or restore the record from the "
                "Salesforce recycle bin and retry.",
            ),
            _info(
                "NOT_FOUND",
                "The record or Event no longer exists in Salesforce.",
                "Dismiss this sync, or restore the record in Salesforce and retry.",
            ),
            _info(
                "INVALID_CROSS_REFERENCE_KEY",
                "A linked record (the guest's record or the owner) does not exist or is not visible.",
                "Check that the record and the host's Salesforce user exist and are visible to the connected user.",
            ),
            _info(
                "REQUEST_LIMIT_EXCEEDED",
                "The Salesforce org used up its daily API requests.",
                "Wait: the sync is retried automatically once the limit allows.",
                retryable=True,
            ),
            _info(
                "API_DISABLED_FOR_ORG",
                "The Salesforce edition has no API access.",
                "Use an API-enabled edition (Enterprise, Unlimited, Developer, Performance, or Professional with API "
                "access).",
            ),
            _info(
                "UNABLE_TO_LOCK_ROW",
                "Another process in Salesforce was changing the same record.",
                "Nothing: the sync is retried automatically.",
                retryable=True,
            ),
            _info(
                "SERVER_UNAVAILABLE",
                "Salesforce was unavailable.",
                "Nothing: the sync is retried automatically.",
                retryable=True,
            ),
            _info(
                "UNKNOWN_EXCEPTION",
                "Salesforce failed with an internal error.",
                "Nothing: the sync is retried automatically; if it keeps failing, contact Salesforce support with "
                "the ErrorId in the message.",
                retryable=True,
            ),
            _info(
                "READ_FAILED",
                "The connection to Salesforce broke while the portal was reading from it (looking up the guest's "
                "record or the object's fields), before anything was sent to be saved: nothing was written.",
                "Nothing: the sync is retried automatically; if it keeps failing, Salesforce or the network to it is "
                "down.",
                retryable=True,
            ),
            _info(
                "UNKNOWN_OUTCOME",
                "The connection dropped after the write was sent, so whether Salesforce saved it is unknown.",
                "Nothing: the retry first looks for what was saved, so nothing is created twice.",
                retryable=True,
            ),
            _info(
                "GUEST_BUSY",
                "Another booking by the same guest was being sent to Salesforce at the same moment.",
                "Nothing: the sync is retried automatically once that one is done, so the guest keeps one record.",
                retryable=True,
            ),
            _info(
                "INTERNAL_ERROR",
                "The portal failed while syncing this booking.",
                "Nothing: the sync is retried automatically; if it keeps failing, contact support.",
                retryable=True,
            ),
            _info(
                "UNEXPECTED_RESPONSE",
                "Salesforce answered in a form the portal did not expect.",
                "The sync is retried; if it keeps failing, contact support with the sync's trail.",
                retryable=True,
            ),
        ]
    )
)
_PREFIXES = ("INSUFFICIENT_ACCESS",)  # INSUFFICIENT_ACCESS_OR_READONLY, INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY
_UNKNOWN = ErrorInfo(
    "", "Salesforce refused the request.", "Read Salesforce's message below; fix the mapping or the org and retry."
)


def explain(code: str) -> ErrorInfo:
    """The catalogue entry for a code (INSUFFICIENT_ACCESS… codes share one); a generic one for unknown codes."""
    if code in CATALOGUE:
        return CATALOGUE[code]
    prefix = next((p for p in _PREFIXES if code.startswith(p)), None)
    return CATALOGUE[prefix] if prefix else _UNKNOWN


def is_transient(code: str, http_status: int | None = None) -> bool:
    """Whether a retry can help: the catalogue's transient codes and any 5xx answer."""
    return explain(code).retryable or (http_status is not None and http_status >= 500)


@dataclass(frozen=True)
class SyncError:
    code: str
    message: str
    fields: tuple[str, ...] = ()
    retryable: bool = False
    cause: str = ""
    remedy: str = ""


def sync_error(code: str, message: str, fields: tuple[str, ...] = (), http_status: int | None = None) -> SyncError:
    """A SyncError explained from the catalogue."""
    info = explain(code)
    return SyncError(code, message, tuple(fields), is_transient(code, http_status), info.cause, info.remedy)
