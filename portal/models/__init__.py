"""Domain models, one module per domain; import them from here."""

from ..enums import ConnectionHistory, SyncReason
from .accounts import Identity, Invitation, Membership, Plan, Role, Team, User
from .audit import AuditEvent, NotificationLog
from .backfill import ACTIVE_BACKFILL_STATES, Backfill, BackfillState
from .base import MAX_DATABASE_ID, Base, utcnow
from .calendars import (
    AvailabilityRange,
    Booking,
    BookingStatus,
    Calendar,
    CalendarHost,
    HostBookingVersion,
    NameFormat,
    Question,
    QuestionKind,
)
from .salesforce import (
    ConnectionStatus,
    DescribeCache,
    FieldMapping,
    OnCancel,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    WriteRule,
)
from .sync import ERROR_CODE_SQL, LISTED_SQL, OPEN_STATUSES, SalesforceLink, SyncAttempt, SyncEvent, SyncJob, SyncStatus

__all__ = [
    "ConnectionHistory",
    "ACTIVE_BACKFILL_STATES",
    "MAX_DATABASE_ID",
    "AuditEvent",
    "AvailabilityRange",
    "Backfill",
    "BackfillState",
    "Base",
    "Booking",
    "BookingStatus",
    "Calendar",
    "CalendarHost",
    "HostBookingVersion",
    "ConnectionStatus",
    "DescribeCache",
    "FieldMapping",
    "Identity",
    "Invitation",
    "Membership",
    "NameFormat",
    "NotificationLog",
    "ERROR_CODE_SQL",
    "LISTED_SQL",
    "OPEN_STATUSES",
    "OnCancel",
    "Plan",
    "Question",
    "QuestionKind",
    "Role",
    "SalesforceConnection",
    "SalesforceIntegration",
    "SalesforceLink",
    "SalesforceObject",
    "SourceKind",
    "WriteRule",
    "SyncAttempt",
    "SyncEvent",
    "SyncJob",
    "SyncReason",
    "SyncStatus",
    "Team",
    "User",
    "utcnow",
]
