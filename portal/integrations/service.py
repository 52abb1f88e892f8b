"""Saving, pausing, resuming and removing a calendar's Salesforce integration, each audited in one commit, and
keeping mappings honest when a booking question they use is deleted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import (
    Calendar,
    ConnectionStatus,
    FieldMapping,
    OnCancel,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    WriteRule,
)
from ..planner.inputs import IntegrationSettings, MappingRow


def integration_of(calendar: Calendar) -> SalesforceIntegration | None:
    return db.session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar.id))


@dataclass(frozen=True)
class ServiceIntegrationState:
    """What the calendar's Advanced settings show about Salesforce."""

    calendar: Calendar
    integration: SalesforceIntegration | None
    premium: bool
    connection: SalesforceConnection | None

    @property
    def salesforce_page(self) -> str:
        return url_for("salesforce.page", team_id=self.calendar.team_id)

    @property
    def connected(self) -> bool:
        connection = self.connection
        return (
            connection is not None
            and connection.status == ConnectionStatus.CONNECTED
            and connection.refresh_token_encrypted is not None
        )

    @property
    def unavailable_reason(self) -> str:
        """Why integrations cannot be added or edited now ("" when they can)."""
        if not self.premium:
            return "Salesforce integrations are part of the Premium plan; this team is not on it."
        if self.connection is None or self.connection.refresh_token_encrypted is None:
            return "This team has not connected a Salesforce org yet; an owner or admin connects it first."
        if not self.connected:
            return "The team's Salesforce connection needs reconnecting; an owner or admin reconnects it first."
        return ""


def service_integration_state(calendar: Calendar) -> ServiceIntegrationState:
    team = calendar.team
    return ServiceIntegrationState(
        calendar=calendar,
        integration=integration_of(calendar),
        premium=team.is_premium,
        connection=db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == team.id)),
    )


def save_integration(calendar: Calendar, settings: IntegrationSettings) -> SalesforceIntegration:
    """Create or replace the calendar's integration settings and mapping (already validated) and commit."""
    integration = store_integration(calendar, settings)
    db.session.commit()
    return integration


def store_integration(calendar: Calendar, settings: IntegrationSettings, **audit_details) -> SalesforceIntegration:
    """Create or replace the integration in the current transaction, audited; the caller commits."""
    integration = integration_of(calendar)
    created = integration is None
    if created:
        integration = SalesforceIntegration(calendar_id=calendar.id)
        db.session.add(integration)
    _apply(integration, settings)
    integration.attention = ""
    db.session.flush()
    audit.record(
        "salesforce_integration.created" if created else "salesforce_integration.updated",
        team_id=calendar.team_id,
        target=integration,
        calendar_id=calendar.id,
        **describe_for_audit(settings),
        **audit_details,
    )
    return integration


def set_paused(integration: SalesforceIntegration, paused: bool) -> None:
    integration.enabled = not paused
    audit.record(
        "salesforce_integration.paused" if paused else "salesforce_integration.resumed",
        team_id=integration.calendar.team_id,
        target=integration,
        calendar_id=integration.calendar_id,
    )
    db.session.commit()


def remove_integration(integration: SalesforceIntegration) -> None:
    """Delete the settings and mapping; bookings already synced keep their Salesforce records."""
    audit.record(
        "salesforce_integration.removed",
        team_id=integration.calendar.team_id,
        target=integration,
        calendar_id=integration.calendar_id,
        object=integration.object_name.value,
        rows=len(integration.mappings),
    )
    db.session.delete(integration)
    db.session.commit()


def questions_in_use(calendar: Calendar) -> dict[int, list[str]]:
    """Question id -> the Salesforce fields its answers are mapped to, for the calendar's integration."""
    integration = integration_of(calendar)
    used: dict[int, list[str]] = {}
    for row in integration.mappings if integration else []:
        if row.source_kind == SourceKind.QUESTION and row.source_key.isdigit():
            used.setdefault(int(row.source_key), []).append(row.sf_field)
    return used


def flag_for_deleted_question(calendar: Calendar, deleted: Iterable[tuple[int, str]]) -> None:
    """Mark the integration as needing attention for each deleted (question id, label) its mapping used.

    Called in the transaction that deletes the questions; the rows stay so the editor shows what to fix."""
    in_use = questions_in_use(calendar)
    problems = [
        f"The question “{label}” was deleted but is mapped to {', '.join(in_use[question_id])}."
        for question_id, label in deleted
        if question_id in in_use
    ]
    if not problems:
        return
    integration = integration_of(calendar)
    integration.attention = " ".join(filter(None, [integration.attention, *problems]))
    audit.record(
        "salesforce_integration.flagged",
        team_id=calendar.team_id,
        target=integration,
        calendar_id=calendar.id,
        reason=" ".join(problems),
    )


def mapped_removal_message(in_use: dict[int, list[str]], deleted: Iterable[tuple[int, str]]) -> str:
    """Why the calendar editor asks before deleting questions the Salesforce mapping uses."""
    mapped = "; ".join(f"“{label}” → {', '.join(in_use[question_id])}" for question_id, label in deleted)
    return (
        f"Saving deletes booking questions the Salesforce integration maps ({mapped}). Tick this box and save again "
        "to delete them anyway: the integration is then flagged until its mapping is fixed."
    )


def describe_for_audit(settings: IntegrationSettings) -> dict:
    """The settings and mapping as plain values for an audit event's details."""
    return {
        "object": settings.object_name,
        "register_event": settings.register_event,
        "overwrite": settings.overwrite,
        "contact_first": settings.contact_first,
        "on_cancel": settings.on_cancel,
        "mapping": [_row_for_audit(row) for row in settings.mappings],
    }


def _row_for_audit(row: MappingRow) -> dict:
    source = row.fixed_value if row.source_kind == SourceKind.FIXED else row.source_key
    entry = {"field": row.sf_field, "source": f"{row.source_kind}:{source}"}
    if row.fallback_value:
        entry["fallback"] = row.fallback_value
    return entry


def _apply(integration: SalesforceIntegration, settings: IntegrationSettings) -> None:
    integration.object_name = SalesforceObject(settings.object_name)
    integration.register_event = settings.register_event
    integration.overwrite = settings.overwrite
    integration.contact_first = settings.contact_first and integration.object_name == SalesforceObject.LEAD
    integration.on_cancel = OnCancel(settings.on_cancel)
    # Replace the rows wholesale: flush the deletions first so the (integration, field) unique key is free again.
    integration.mappings = []
    db.session.flush()
    integration.mappings = [
        FieldMapping(
            position=position,
            sf_field=row.sf_field,
            source_kind=SourceKind(row.source_kind),
            source_key=row.source_key if row.source_kind != SourceKind.FIXED else "",
            fixed_value=row.fixed_value if row.source_kind == SourceKind.FIXED else "",
            fallback_value=row.fallback_value if row.source_kind != SourceKind.FIXED else "",
            write_rule=WriteRule(row.write_rule),
        )
        for position, row in enumerate(settings.mappings)
    ]
