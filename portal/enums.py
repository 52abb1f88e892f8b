"""The product's shared vocabulary: every enum stored in the database or passed to the planner, written once.

Pure (only the standard library), so both the models (as column types) and the pure planner use these same
classes; import them from `portal.models` elsewhere. Values are StrEnums: they equal their stored strings.
"""

from __future__ import annotations

import enum


class Plan(enum.StrEnum):
    FREE = "free"
    STANDARD = "standard"
    PREMIUM = "premium"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ADMIN_ASSISTANT = "admin_assistant"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class NameFormat(enum.StrEnum):
    FULL = "full"  # one full-name question
    FAMILY_GIVEN = "family_given"  # separate family and given name questions


class QuestionKind(enum.StrEnum):
    FULL_NAME = "full_name"
    FAMILY_NAME = "family_name"
    GIVEN_NAME = "given_name"
    EMAIL = "email"
    COMPANY = "company"
    PHONE = "phone"
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_SELECT = "single_select"
    CHECKBOX = "checkbox"


class BookingStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"


class SalesforceObject(enum.StrEnum):
    LEAD = "Lead"
    CONTACT = "Contact"


class OnCancel(enum.StrEnum):
    DELETE_EVENT = "delete_event"
    MARK_CANCELLED = "mark_cancelled"  # keep the Event, Subject prefixed "Cancelled: "


class SourceKind(enum.StrEnum):
    QUESTION = "question"  # source_key: the question id
    ITEM = "item"  # source_key: a system item key (portal.planner.sources.SYSTEM_ITEMS)
    FIXED = "fixed"  # fixed_value


class WriteRule(enum.StrEnum):
    """When a mapping row is written (design §5 "Write rules")."""

    ALWAYS = "always"  # on create, and on update when the integration updates existing records
    ON_CREATE = "on_create"  # only when the record is created
    IF_EMPTY = "if_empty"  # on create, and on update only while the field is empty in Salesforce


class SyncEvent(enum.StrEnum):
    CREATED = "created"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


class SyncStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SYNCED = "synced"
    SKIPPED = "skipped"  # reason: paused, no_integration
    WAITING = "waiting"  # reason: not_connected, needs_reconnect, plan
    FAILED = "failed"
    DISMISSED = "dismissed"


class SyncReason(enum.StrEnum):
    """Why a sync is skipped or waits (SyncJob.reason); also the codes of portal.salesforce's SalesforceAuthError
    that make a sync wait."""

    PAUSED = "paused"  # skipped
    NO_INTEGRATION = "no_integration"  # skipped
    PLAN = "plan"  # waiting
    NOT_CONNECTED = "not_connected"  # waiting
    NEEDS_RECONNECT = "needs_reconnect"  # waiting
    NEAR_API_LIMIT = "near_api_limit"  # pending, deferred


class BackfillState(enum.StrEnum):
    """Where a "Send earlier bookings" backfill stands (portal.sync.backfill)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"
    PAUSED = "paused"  # the org's daily API budget is nearly spent, or the connection is not usable; resumes itself


class ConnectionHistory(enum.StrEnum):
    """Where a team stands with Salesforce as its pages word it: a missing connection was either never made or
    disconnected (portal.sync.states.connection_history)."""

    NEVER = "never"
    DISCONNECTED = "disconnected"
    NEEDS_RECONNECT = "needs_reconnect"
    CONNECTED = "connected"
