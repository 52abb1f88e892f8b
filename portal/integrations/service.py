"""Saving, pausing, resuming and removing a calendar's Salesforce integration, each audited in one commit; the
booking form's limits its mapping needs, and the question the mapping editor may ask for it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import Select, case, or_, select

from .. import audit
from ..access import MANAGERS
from ..enums import ConnectionHistory
from ..extensions import db
from ..models import (
    Calendar,
    FieldMapping,
    OnCancel,
    Question,
    QuestionKind,
    Role,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    Team,
    WriteRule,
)
from ..planner.fields import ObjectFields, fields_from_describe
from ..planner.inputs import IntegrationSettings, MappingRow
from ..planner.sources import GUEST_COLUMNS, QUESTION_KINDS
from ..planner.validation import mapped_limits
from ..salesforce import describe
from ..sync import snapshots
from ..sync.states import connection_history, connection_sentence, plan_sentence, was_disconnected


def integration_of(calendar: Calendar) -> SalesforceIntegration | None:
    return db.session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar.id))


@dataclass(frozen=True)
class ServiceIntegrationState:
    """What the calendar's Advanced settings show about Salesforce, worded for the viewer's role (None: staff or
    an operator's command)."""

    calendar: Calendar
    integration: SalesforceIntegration | None
    premium: bool
    connection: SalesforceConnection | None
    history: ConnectionHistory
    viewer_role: Role | None = None

    @property
    def salesforce_page(self) -> str:
        return url_for("salesforce.page", team_id=self.calendar.team_id)

    @property
    def connected(self) -> bool:
        return self.history == ConnectionHistory.CONNECTED

    @property
    def unavailable_reason(self) -> str:
        """Why integrations cannot be added or edited now ("" when they can)."""
        if not self.premium:
            return plan_sentence(is_owner=self.viewer_role == Role.OWNER)
        return connection_sentence(self.history, may_connect=self.viewer_role in MANAGERS)


def service_integration_state(calendar: Calendar, viewer_role: Role | None = None) -> ServiceIntegrationState:
    """The calendar's integration, the team's connection and whether it was ever disconnected, in one statement
    (the audit log is read only for a team without a working connection)."""
    team = calendar.team
    unconnected = or_(SalesforceConnection.id.is_(None), SalesforceConnection.refresh_token_encrypted.is_(None))
    connection, integration, disconnected = db.session.execute(
        select(SalesforceConnection, SalesforceIntegration, case((unconnected, was_disconnected(team.id)), else_=False))
        .select_from(Team)
        .outerjoin(SalesforceConnection, SalesforceConnection.team_id == Team.id)
        .outerjoin(SalesforceIntegration, SalesforceIntegration.calendar_id == calendar.id)
        .where(Team.id == team.id)
    ).one()
    return ServiceIntegrationState(
        calendar=calendar,
        integration=integration,
        premium=team.is_premium,
        connection=connection,
        history=connection_history(db.session, team.id, connection, disconnected),
        viewer_role=viewer_role,
    )


def cached_fields(calendar: Calendar, object_name: str) -> ObjectFields | None:
    """The object's fields from the team's cached describe, without calling Salesforce; None when not cached."""
    connection = db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == calendar.team_id))
    return _cached_fields_of(connection, object_name)


def _cached_fields_of(connection: SalesforceConnection | None, object_name: str) -> ObjectFields | None:
    cache = describe.cached_describe(connection, object_name) if connection is not None else None
    return fields_from_describe(cache.payload) if cache is not None else None


def booking_form_limits(calendar: Calendar) -> dict[int, int]:
    """Question id -> the length of the Salesforce field its answers go to, the booking form's limit (issue 12)."""
    integration = integration_of(calendar)
    fields = cached_fields(calendar, integration.object_name.value) if integration is not None else None
    return _limits(calendar, integration, fields)


def booking_form_limits_in(state: ServiceIntegrationState) -> dict[int, int]:
    """booking_form_limits, from the integration and connection a page has loaded already."""
    integration = state.integration
    fields = _cached_fields_of(state.connection, integration.object_name.value) if integration is not None else None
    return _limits(state.calendar, integration, fields)


def _limits(calendar: Calendar, integration: SalesforceIntegration | None, fields: ObjectFields | None):
    if integration is None or fields is None:
        return {}
    questions = [snapshots.question_snapshot(question) for question in calendar.questions]
    return mapped_limits(fields, questions, snapshots.mapping_rows(integration.mappings))


def needing_attention(team_id: int, calendar_ids: Select | None = None) -> list[SalesforceIntegration]:
    """The team's integrations marked "Needs attention", for the dashboard; only the calendars the viewer may
    see (`calendar_ids`, None for all)."""
    query = (
        select(SalesforceIntegration)
        .join(Calendar, Calendar.id == SalesforceIntegration.calendar_id)
        .where(Calendar.team_id == team_id, Calendar.archived_at.is_(None), SalesforceIntegration.attention != "")
        .order_by(Calendar.name, Calendar.id)
    )
    if calendar_ids is not None:
        query = query.where(Calendar.id.in_(calendar_ids))
    return list(db.session.scalars(query))


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


def ask_built_in_question(calendar: Calendar, kind: QuestionKind) -> Question:
    """The mapping editor's remedy for a required field the booking form does not ask (a Lead's Company): ask the
    built-in question, required, after the other built-in ones. Audited and committed."""
    ordered = sorted(calendar.questions, key=lambda q: q.position)
    question = next((q for q in ordered if q.kind == kind), None)
    if question is None:
        question = Question(kind=kind, label=QUESTION_KINDS[kind].label)
        order = list(GUEST_COLUMNS)  # the calendar editor's order: names, e-mail, company, phone
        before = [q for q in ordered if q.kind in order and order.index(q.kind) < order.index(kind)]
        ordered.insert(len(before), question)
    question.required = True
    for position, each in enumerate(ordered):
        each.position = position
    calendar.questions = ordered
    db.session.flush()
    audit.record(
        "calendar.question_asked",
        team_id=calendar.team_id,
        target=calendar,
        question_id=question.id,
        kind=kind.value,
        reason="required by the Salesforce mapping",
    )
    db.session.commit()
    return question


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
