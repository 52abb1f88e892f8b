"""Fix and retry (issue 12): only the guest's values the failing fields come from are offered, the preview shows what
Salesforce would get without writing, the corrections are stored beside the guest's answers (which stay), used by
the sync's inputs, audited, and only those who may edit the calendar's integration may do it. "Apply a fallback to
the row and retry all N" sets the row's fallback and retries the syncs with that cause and field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, CalendarHost, Role, SalesforceIntegration, SourceKind, SyncStatus
from portal.planner.inputs import MappingRow, QuestionSnapshot
from portal.planner.sources import questions_feeding, source_value
from portal.sync import snapshots
from tests.factories import login
from tests.integration_support import connected_world
from tests.sync_factories import csrf_token, make_booking, make_integration, make_sync

NAME = QuestionSnapshot(1, "full_name", "Name", required=True)
EMAIL = QuestionSnapshot(2, "email", "E-mail", required=True)
COMPANY = QuestionSnapshot(3, "company", "Company")
ROWS = (
    MappingRow("LastName", SourceKind.QUESTION, "1"),
    MappingRow("Email", SourceKind.QUESTION, "2"),
    MappingRow("Company", SourceKind.QUESTION, "3"),
    MappingRow("Description", SourceKind.QUESTION, "3"),
    MappingRow("LeadSource", SourceKind.FIXED, fixed_value="Web"),
)


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        (["Company"], [(3, ("Company",))]),
        (["company"], [(3, ("Company",))]),  # API names ignore case
        (["Company", "Description"], [(3, ("Company", "Description"))]),
        (["Email", "LastName"], [(1, ("LastName",)), (2, ("Email",))]),  # in form order
        (["LeadSource"], []),  # a fixed value: no guest value to correct
        (["Title"], []),  # not mapped at all
        ([], []),
    ],
)
def test_only_the_questions_feeding_the_failing_fields_are_offered(failing, expected):
    found = questions_feeding(ROWS, (NAME, EMAIL, COMPANY), failing)

    assert [(q.id, fields) for q, fields in found] == expected


def company_failure(db_session, factory, calendar, company: str = ""):
    booking = make_booking(db_session, calendar, guest_company=company)
    company_id = str(next(q.id for q in calendar.questions if q.kind.value == "company"))
    booking.answers = {company_id: company}
    db_session.flush()
    return booking, company_id, make_sync(db_session, booking)


@pytest.fixture
def team_setup(client, factory, db_session):
    team, users = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=users[Role.MEMBER])
    make_integration(db_session, calendar)
    return team, users, calendar


def audit_events(db_session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_sync_inputs_take_corrected_values_over_the_guests_answers(db_session, factory, team_setup):
    _, _, calendar = team_setup
    booking, company_id, _ = company_failure(db_session, factory, calendar)
    booking.corrections = {company_id: "Corrected Ltd"}
    db_session.flush()

    snapshot = snapshots.booking_snapshot(booking, booking_page_url="https://example.test/book/x")
    row = MappingRow("Company", SourceKind.QUESTION, company_id)

    assert source_value(row, snapshot) == "Corrected Ltd"
    assert snapshot.guest_company == "Corrected Ltd"
    assert booking.answers[company_id] == "" and booking.guest_company == ""  # the guest's own answer stays


def test_the_fix_page_offers_only_the_value_behind_the_failing_field(client, db_session, factory, team_setup):
    team, users, calendar = team_setup
    _, company_id, job = company_failure(db_session, factory, calendar)
    login(client, users[Role.ADMIN])

    text = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}/fix").get_data(as_text=True)

    assert f'name="q{company_id}"' in text
    others = [q.id for q in calendar.questions if str(q.id) != company_id]
    assert not any(f'name="q{qid}"' in text for qid in others)
    assert "The guest answered: (blank)" in text
    assert "Apply a fallback to the row and retry all 1" in text
    errors_page = client.get(f"/teams/{team.id}/salesforce/errors").get_data(as_text=True)
    assert f'href="/teams/{team.id}/salesforce/syncs/{job.id}/fix">Fix and retry this booking</a>' in errors_page


def test_the_detail_page_says_what_fixes_this_booking_and_future_ones_with_links(
    client, db_session, factory, team_setup
):
    team, users, calendar = team_setup
    _, _, job = company_failure(db_session, factory, calendar)
    login(client, users[Role.OWNER])

    text = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)

    assert "This booking:" in text and "Future bookings:" in text
    assert f'href="/teams/{team.id}/salesforce/syncs/{job.id}/fix">Fix and retry</a>' in text
    assert f'href="/calendars/{calendar.id}/edit">Open the calendar' in text


def test_save_and_retry_stores_the_correction_keeps_the_answer_retries_and_audits(
    client, db_session, factory, team_setup
):
    team, users, calendar = team_setup
    booking, company_id, job = company_failure(db_session, factory, calendar)
    login(client, users[Role.MEMBER])  # the calendar's creator may edit its integration

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/fix",
        data={"csrf_token": csrf_token(client), f"q{company_id}": "  Gita's Garage ", "save": "Save and retry"},
    )

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/salesforce/syncs/{job.id}")
    db_session.refresh(booking)
    db_session.refresh(job)
    assert booking.corrections == {company_id: "Gita's Garage"}
    assert booking.answers == {company_id: ""} and booking.guest_company == ""
    assert job.status == SyncStatus.PENDING
    [event] = audit_events(db_session, "booking.corrected")
    assert (event.actor_id, event.team_id, event.target_type, event.target_id) == (
        users[Role.MEMBER].id,
        team.id,
        "Booking",
        str(booking.id),
    )
    assert event.details["values"] == {company_id: {"guest": "", "corrected": "Gita's Garage"}}
    assert len(audit_events(db_session, "sync.retry")) == 1
    detail = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)
    assert "Corrected</span> Sent to Salesforce as “Gita&#39;s Garage”" in detail


def test_a_correction_back_to_the_guests_answer_drops_it(client, db_session, factory, team_setup):
    team, users, calendar = team_setup
    booking, company_id, job = company_failure(db_session, factory, calendar, company="Acme")
    booking.corrections = {company_id: "Other"}
    db_session.flush()
    login(client, users[Role.ADMIN])

    client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/fix",
        data={"csrf_token": csrf_token(client), f"q{company_id}": "Acme", "save": "Save and retry"},
    )

    db_session.refresh(booking)
    assert booking.corrections == {}


def test_a_value_longer_than_the_question_allows_is_refused_on_the_page(client, db_session, factory, team_setup):
    team, users, calendar = team_setup
    booking, company_id, job = company_failure(db_session, factory, calendar)
    login(client, users[Role.ADMIN])

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/fix",
        data={"csrf_token": csrf_token(client), f"q{company_id}": "x" * 81, "save": "Save and retry"},
    )

    assert response.status_code == 422 and "Use at most 80 characters." in response.get_data(as_text=True)
    db_session.refresh(booking)
    db_session.refresh(job)
    assert booking.corrections == {} and job.status == SyncStatus.FAILED


def test_only_those_who_may_change_the_integration_fix_hosts_other_members_and_staff_do_not(
    app, db_session, factory, team_setup
):
    team, _, calendar = team_setup
    booking, company_id, job = company_failure(db_session, factory, calendar)
    host = factory.member(team, Role.MEMBER)
    calendar.hosts.append(CalendarHost(user_id=host.id, position=1))
    other_member = factory.member(team, Role.MEMBER)
    staff = factory.user(staff=True)
    db_session.flush()
    url = f"/teams/{team.id}/salesforce/syncs/{job.id}/fix"
    statuses = []
    for user in (host, other_member, staff):
        client = app.test_client()
        login(client, user)
        data = {"csrf_token": csrf_token(client), f"q{company_id}": "Sneaky", "save": "Save and retry"}
        statuses.append((client.get(url).status_code, client.post(url, data=data).status_code))
        if user is host:  # the host sees the failure, but is offered no fix
            errors_page = client.get(f"/teams/{team.id}/salesforce/errors").get_data(as_text=True)
            detail = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)
            assert f"sync-{job.id}" in errors_page and "Fix and retry" not in errors_page + detail

    assert statuses == [(403, 403), (403, 403), (404, 404)]
    db_session.refresh(booking)
    assert booking.corrections == {} and audit_events(db_session, "booking.corrected") == []
    support = app.test_client()
    login(support, staff)
    support_page = support.get(f"/support/teams/{team.id}/syncs/{job.id}").get_data(as_text=True)
    assert "Fix and retry" not in support_page


@pytest.fixture
def connected(factory, db_session, salesforce_emulator, salesforce_control):
    world = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    make_integration(db_session, world.calendar)
    return world


def test_apply_a_fallback_sets_the_row_and_retries_the_syncs_with_that_cause_and_field(
    client, db_session, factory, connected
):
    team, calendar = connected.team, connected.calendar
    failures = [company_failure(db_session, factory, calendar)[2] for _ in range(3)]
    other_field = make_sync(db_session, make_booking(db_session, calendar), error_fields=["LastName"])
    other_calendar = factory.calendar(team, created_by=connected.owner)
    make_integration(db_session, other_calendar)
    elsewhere = company_failure(db_session, factory, other_calendar)[2]
    login(client, connected.owner)

    page = client.get(f"/teams/{team.id}/salesforce/syncs/{failures[0].id}/fix").get_data(as_text=True)
    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{failures[0].id}/fallback",
        data={"csrf_token": csrf_token(client), "value": "Unknown company"},
    )

    assert "Apply a fallback to the row and retry all 3" in page
    assert response.status_code == 302
    for job in (*failures, other_field, elsewhere):
        db_session.refresh(job)
    assert [j.status for j in failures] == [SyncStatus.PENDING] * 3
    assert (other_field.status, elsewhere.status) == (SyncStatus.FAILED, SyncStatus.FAILED)
    integration = calendar_integration(db_session, calendar)
    assert {m.sf_field: m.fallback_value for m in integration.mappings}["Company"] == "Unknown company"
    [fallback_event] = audit_events(db_session, "salesforce_integration.fallback_set")
    assert fallback_event.details == {"calendar_id": calendar.id, "field": "Company", "fallback": "Unknown company"}
    [retry_event] = audit_events(db_session, "sync.retry_all")
    assert sorted(retry_event.details["sync_ids"]) == sorted(j.id for j in failures)


def test_a_fallback_that_does_not_fit_the_field_is_refused_and_nothing_changes(client, db_session, factory, connected):
    team, calendar = connected.team, connected.calendar
    job = make_sync(db_session, make_booking(db_session, calendar), error_fields=["LastName"])
    login(client, connected.owner)

    response = client.post(
        f"/teams/{team.id}/salesforce/syncs/{job.id}/fallback",
        data={"csrf_token": csrf_token(client), "value": "x" * 100},  # LastName holds 80
    )

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/syncs/{job.id}/fix")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not applied: The fallback value does not fit." in page
    db_session.refresh(job)
    assert job.status == SyncStatus.FAILED
    integration = calendar_integration(db_session, calendar)
    assert all(m.fallback_value == "" for m in integration.mappings)
    assert audit_events(db_session, "salesforce_integration.fallback_set") == []


def calendar_integration(db_session, calendar):
    db_session.expire_all()
    return db_session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar.id))


def test_the_preview_shows_the_corrected_value_and_writes_nothing(
    client, db_session, factory, salesforce_emulator, salesforce_control
):
    world = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    make_integration(db_session, world.calendar)
    booking, company_id, job = company_failure(db_session, factory, world.calendar)
    login(client, world.owner)
    salesforce_control.clear_log()

    response = client.post(
        f"/teams/{world.team.id}/salesforce/syncs/{job.id}/fix",
        data={
            "csrf_token": csrf_token(client),
            f"q{company_id}": "Preview Ltd",
            "show_preview": "Show the Salesforce values",
        },
    )

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<tr class="offending"><td>Company</td><td>Preview Ltd</td></tr>' in text
    writes = [e for e in salesforce_control.request_log() if e["method"] != "GET"]
    assert writes == []
    db_session.refresh(booking)
    db_session.refresh(job)
    assert booking.corrections == {} and job.status == SyncStatus.FAILED
