"""Guarding a calendar's Salesforce mapping from the calendar side (issue 12): a calendar edit that would leave a
mapping row unable to fill its Salesforce field (a mapped question deleted, made optional without a fallback,
changed to another kind, the name format switched, the only hosts who are Salesforce users removed while OwnerId
takes the host) is found with the same pure checks the mapping editor uses
(portal.planner.validation), so the two editors agree. Only problems the edit *adds* count: a mapping that was
already imperfect does not block every calendar save."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Calendar, SalesforceConnection, SalesforceIntegration, User
from ..planner import soql
from ..planner.fields import FieldInfo, ObjectFields, fields_from_describe
from ..planner.inputs import MappingRow
from ..planner.sources import maps_host
from ..planner.validation import MappingProblem, check_host_owner, check_mapping
from ..salesforce import describe
from ..salesforce.client import client_for_connection
from ..salesforce.errors import SalesforceError
from ..sync import snapshots
from .service import integration_of


@dataclass(frozen=True)
class RowAtRisk:
    number: int | None  # the row as the mapping editor numbers it (from 1); None: the mapping as a whole
    field: str
    message: str

    @property
    def place(self) -> str:
        return f"Row {self.number} ({self.field})" if self.number else self.field


@dataclass(frozen=True)
class MappingAtRisk:
    """What a calendar edit would break in the calendar's Salesforce mapping."""

    integration: SalesforceIntegration
    rows: tuple[RowAtRisk, ...]

    def summary(self) -> str:
        return " ".join(f"{row.place}: {row.message}" for row in self.rows)


@dataclass(frozen=True)
class MappingGuard:
    """Taken before the edit is applied: the integration, its object's fields and the problems it already has."""

    integration: SalesforceIntegration | None
    fields: ObjectFields | None = None
    rows: tuple[MappingRow, ...] = ()
    hosts_after: tuple[str, ...] = ()  # the hosts' e-mails once the edit is applied
    salesforce_users: frozenset[str] | None = None  # looked up only when hosts are removed and the host is mapped
    problems_before: frozenset[tuple[int | None, str]] = frozenset()

    def after(self, calendar: Calendar, host_emails: tuple[str, ...] | None = None) -> tuple[MappingProblem, ...]:
        """The mapping's problems with the calendar as it now stands in the session (edit applied, not flushed)."""
        if self.integration is None:
            return ()
        questions = tuple(snapshots.question_snapshot(q) for q in calendar.questions)
        problems = check_mapping(self.fields, questions, self.rows, overwrite=self.integration.overwrite)
        if self.salesforce_users is not None:
            hosts = self.hosts_after if host_emails is None else host_emails
            problems += check_host_owner(self.fields, self.rows, hosts, self.salesforce_users)
        return problems

    def risk(self, problems: tuple[MappingProblem, ...]) -> MappingAtRisk | None:
        added = [p for p in problems if (p.row, p.message) not in self.problems_before]
        if not added:
            return None
        rows = tuple(RowAtRisk(None if p.row is None else p.row + 1, p.field, p.message) for p in added)
        return MappingAtRisk(self.integration, rows)


def guard_for(calendar: Calendar, host_ids_after: list[int]) -> MappingGuard:
    """Call before changing the calendar: the object's describe may be fetched (and committed), and the hosts'
    Salesforce users looked up, here and never while the edit is pending."""
    integration = integration_of(calendar)
    if integration is None:
        return MappingGuard(None)
    rows = snapshots.mapping_rows(integration.mappings)
    connection = db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == calendar.team_id))
    fields = _fields(connection, integration.object_name.value) or _known_without_salesforce(
        integration.object_name.value, rows
    )
    hosts_before = tuple(host.user.email for host in calendar.hosts)
    hosts_after = tuple(db.session.scalars(select(User.email).where(User.id.in_(host_ids_after))))
    removed = {email.lower() for email in hosts_before} - {email.lower() for email in hosts_after}
    users = _salesforce_users(connection, hosts_before) if removed and maps_host(rows) else None
    guard = MappingGuard(integration, fields, rows, hosts_after, users)
    before = frozenset((p.row, p.message) for p in guard.after(calendar, hosts_before))
    return MappingGuard(integration, fields, rows, hosts_after, users, before)


def _salesforce_users(connection: SalesforceConnection | None, emails: tuple[str, ...]) -> frozenset[str] | None:
    """The lower-cased e-mails among these that are active Salesforce Users (a query, never a write); None when
    Salesforce cannot say, and the host check is then left out."""
    if connection is None or connection.refresh_token_encrypted is None or not emails:
        return None
    try:
        with client_for_connection(connection.id) as client:
            records = client.query(soql.users_by_emails(emails)).get("records", [])
    except SalesforceError:
        return None
    return frozenset(str(record.get("Email") or "").lower() for record in records)


def _fields(connection: SalesforceConnection | None, object_name: str) -> ObjectFields | None:
    if connection is None or connection.refresh_token_encrypted is None:
        return None
    try:
        return fields_from_describe(describe.describe_of(connection, object_name).payload)
    except SalesforceError:
        return None


def _known_without_salesforce(object_name: str, rows: tuple[MappingRow, ...]) -> ObjectFields:
    """Without a describe, each mapped field as plain optional text: a row that loses its question still shows."""
    return ObjectFields(object_name, tuple(FieldInfo(row.sf_field, row.sf_field, "string") for row in rows))


def record_outcome(guard: MappingGuard, risk: MappingAtRisk | None, problems: tuple[MappingProblem, ...]) -> None:
    """In the calendar edit's transaction: a confirmed risk flags the integration "Needs attention" (audited); an
    edit that leaves the mapping without problems clears the flag. Its bookings keep syncing where they can."""
    integration = guard.integration
    if integration is None:
        return
    calendar_id = integration.calendar_id
    team_id = integration.calendar.team_id
    if risk is not None:
        integration.attention = " ".join(filter(None, [integration.attention, risk.summary()]))
        audit.record(
            "salesforce_integration.flagged",
            team_id=team_id,
            target=integration,
            calendar_id=calendar_id,
            reason=integration.attention,
            confirmed=True,
        )
    elif integration.attention and not problems:
        integration.attention = ""
        audit.record("salesforce_integration.attention_cleared", team_id=team_id, target=integration,
                     calendar_id=calendar_id)  # fmt: skip
