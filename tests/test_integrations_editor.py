"""The Service Integration → Salesforce editor: the cached describe, field lists that follow overwrite and field-level
permissions, the Advanced settings section, who may edit, and pause/resume/remove with their audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, ConnectionStatus, DescribeCache, Plan, Role, SalesforceIntegration
from tests.auth_flow import csrf_token
from tests.factories import login
from tests.integration_support import (
    add_integration,
    connected_world,
    describe_calls,
    editor_form,
    field_options,
    offered,
)

DEFAULT_ROWS = [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")]


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    return connected_world(factory, db_session, salesforce_emulator, salesforce_control)


def test_a_second_editor_load_makes_no_salesforce_call(client, db_session, world, salesforce_control):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)

    first = client.get(world.editor_url)
    second = client.get(world.editor_url)

    assert first.status_code == second.status_code == 200
    assert len(describe_calls(salesforce_control, "Lead")) == 1
    assert len(salesforce_control.request_log()) == 1


def test_refresh_salesforce_fields_fetches_the_describe_again(client, db_session, world, salesforce_control):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)
    client.get(world.editor_url)
    salesforce_control.update_settings(field_permissions={"Lead.Title": {"createable": False}})
    assert "Title" in field_options(client.get(world.editor_url).get_data(as_text=True))

    refreshed = client.post(
        f"{world.editor_url}/refresh-fields", data={"csrf_token": csrf_token(client), "object_name": "Lead"}
    )

    assert refreshed.status_code == 302 and refreshed.headers["Location"].endswith(world.editor_url)
    assert len(describe_calls(salesforce_control, "Lead")) == 2
    assert "Title" not in field_options(client.get(world.editor_url).get_data(as_text=True))
    assert len(describe_calls(salesforce_control, "Lead")) == 2


def test_fields_are_labelled_with_api_names_and_required_ones_marked(client, db_session, world):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)

    options = field_options(client.get(world.editor_url).get_data(as_text=True))

    assert options["LastName"]["label"] == "Last Name (LastName) — required"
    assert options["Company"]["label"] == "Company (Company) — required"
    assert options["FirstName"]["label"] == "First Name (FirstName)"
    assert options["OwnerId"]["label"].startswith("Owner ID (OwnerId)")
    assert (
        options["LeadSource"]["data-picklist"]
        == '["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]'
    )
    for read_only in ("Name", "IsConverted", "CreatedDate", "ConvertedContactId", "Id"):
        assert read_only not in options


def test_fields_the_user_cannot_update_are_offered_only_while_overwrite_is_off(
    client, db_session, world, salesforce_control
):
    salesforce_control.update_settings(field_permissions={"Lead.Title": {"updateable": False}})
    integration = add_integration(db_session, world.calendar, DEFAULT_ROWS, overwrite=False)
    login(client, world.owner)

    not_overwriting = field_options(client.get(world.editor_url).get_data(as_text=True))
    integration.overwrite = True
    db_session.flush()
    overwriting = field_options(client.get(world.editor_url).get_data(as_text=True))

    assert offered(not_overwriting["Title"]) and not offered(overwriting["Title"])
    assert overwriting["Title"]["data-create-only"] == "1"
    assert offered(overwriting["FirstName"]) and offered(overwriting["LastName"])


def test_switching_overwrite_on_in_the_form_updates_the_field_lists(client, db_session, world, salesforce_control):
    salesforce_control.update_settings(field_permissions={"Lead.Title": {"updateable": False}})
    add_integration(db_session, world.calendar, DEFAULT_ROWS, overwrite=False)
    login(client, world.owner)
    data = editor_form(client.get(world.editor_url).get_data(as_text=True))

    reloaded = client.post(world.editor_url, data={**data, "overwrite": "update", "reload": "Update field lists"})

    assert reloaded.status_code == 200
    assert not offered(field_options(reloaded.get_data(as_text=True))["Title"])
    assert salesforce_control.request_log() == describe_calls(salesforce_control)  # nothing but the one describe


def test_fields_hidden_or_read_only_by_field_level_security_are_not_offered(
    client, db_session, world, salesforce_control
):
    salesforce_control.update_settings(
        field_permissions={"Lead.Industry": {"readable": False}, "Lead.Rating": {"createable": False}}
    )
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)

    options = field_options(client.get(world.editor_url).get_data(as_text=True))

    assert "Industry" not in options and "Rating" not in options
    assert "Website" in options


def test_a_mapped_field_that_lost_its_permission_stays_visible_on_its_row(
    client, db_session, world, salesforce_control
):
    salesforce_control.update_settings(field_permissions={"Lead.Rating": {"createable": False}})
    add_integration(db_session, world.calendar, [*DEFAULT_ROWS, ("Rating", "fixed", "Hot")])
    login(client, world.owner)

    options = field_options(client.get(world.editor_url).get_data(as_text=True), row=2)

    assert options["Rating"]["label"] == "Rating (not available in Salesforce)"


def test_contact_integrations_list_contact_fields(client, db_session, world, salesforce_control):
    add_integration(db_session, world.calendar, [("LastName", "fixed", "Guest")], object_name="Contact")
    login(client, world.owner)

    options = field_options(client.get(world.editor_url).get_data(as_text=True))

    assert "Department" in options and "Company" not in options
    assert len(describe_calls(salesforce_control, "Contact")) == 1


def test_the_describe_is_cached_per_connection_and_object(client, db_session, world):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)
    client.get(world.editor_url)

    cached = db_session.scalars(select(DescribeCache).where(DescribeCache.connection_id == world.connection.id)).all()

    assert [(c.object_name, c.payload["name"]) for c in cached] == [("Lead", "Lead")]


def test_a_describe_failure_is_explained_not_a_500(client, db_session, world, salesforce_control):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    salesforce_control.add_fault("service_unavailable", path="/describe$")
    login(client, world.owner)

    response = client.get(world.editor_url)

    assert response.status_code == 200
    assert "could not be loaded" in response.get_data(as_text=True)
    assert db_session.scalar(select(DescribeCache).where(DescribeCache.connection_id == world.connection.id)) is None


# -- the Advanced settings section and who may edit ---------------------------------------------------------------


def test_the_calendar_editor_offers_to_add_a_salesforce_integration(client, world):
    login(client, world.owner)

    page = client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True)

    assert "Service Integration" in page
    assert f'href="/calendars/{world.calendar.id}/integrations/salesforce/new"' in page
    assert "Add service integration → Salesforce" in page


def test_the_section_summarises_an_existing_integration(client, db_session, world):
    add_integration(db_session, world.calendar, DEFAULT_ROWS, register_event=False, overwrite=True)
    login(client, world.owner)

    page = client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True)

    assert "Not register" in page and "Update (overwrite mapped fields)" in page
    assert "2 rows: LastName, Company" in page
    assert "Add service integration" not in page


@pytest.mark.parametrize("plan", [Plan.FREE, Plan.STANDARD])
def test_a_team_without_premium_is_told_so_and_refused_by_the_server(client, db_session, world, plan):
    world.team.plan = plan
    db_session.flush()
    login(client, world.owner)

    section = client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True)
    page = client.get(f"{world.editor_url}/new")
    posted = client.post(f"{world.editor_url}/new", data={"csrf_token": csrf_token(client), "save": "Integration"})

    assert "Premium plan" in section and f"/teams/{world.team.id}/settings/integrations/salesforce" in section
    assert page.status_code == posted.status_code == 403
    assert "Premium plan" in page.get_data(as_text=True)
    assert db_session.scalar(select(SalesforceIntegration)) is None


def test_a_team_needing_reconnect_is_sent_to_the_salesforce_page(client, db_session, world, salesforce_control):
    world.connection.status = ConnectionStatus.NEEDS_RECONNECT
    db_session.flush()
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/new")

    assert page.status_code == 403
    assert "needs reconnecting" in page.get_data(as_text=True)
    assert salesforce_control.request_log() == []


def test_a_team_without_a_connection_is_told_to_connect(client, factory):
    team = factory.team()
    owner = factory.member(team, Role.OWNER)
    calendar = factory.calendar(team, created_by=owner)
    login(client, owner)

    section = client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True)

    assert "This team has not connected Salesforce yet" in section
    assert f'href="/teams/{team.id}/settings/integrations/salesforce"' in section


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.ADMIN_ASSISTANT])
def test_editors_may_open_every_calendars_integration(client, db_session, factory, world, role):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, factory.member(world.team, role))

    assert client.get(world.editor_url).status_code == 200


def test_a_member_changes_the_integration_of_calendars_they_created_only(client, db_session, factory, world):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    outsider = factory.member(world.team, Role.MEMBER)
    host = factory.member(world.team, Role.MEMBER)
    creator = factory.member(world.team, Role.MEMBER)
    hosted = factory.calendar(world.team, created_by=world.owner, hosts=[host])
    created = factory.calendar(world.team, created_by=creator, hosts=[world.owner])

    login(client, outsider)
    refused = [client.get(world.editor_url).status_code, client.get(f"{world.editor_url}/preview").status_code]
    refused.append(client.post(f"{world.editor_url}/pause", data={"csrf_token": csrf_token(client)}).status_code)
    login(client, host)
    hosted_page = client.get(f"/calendars/{hosted.id}/integrations/salesforce/new")
    login(client, creator)
    created_page = client.get(f"/calendars/{created.id}/integrations/salesforce/new")

    assert refused == [403, 403, 403]
    assert hosted_page.status_code == 403  # design §3: hosting a calendar is not owning where its bookings go
    assert created_page.status_code == 200


def test_another_teams_calendar_is_not_found(client, db_session, factory, world):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    stranger_team = factory.team()
    login(client, factory.member(stranger_team, Role.OWNER))

    assert client.get(world.editor_url).status_code == 404
    assert client.post(f"{world.editor_url}/remove", data={"csrf_token": csrf_token(client)}).status_code == 404
    assert db_session.scalar(select(SalesforceIntegration)) is not None


# -- pause, resume, remove -----------------------------------------------------------------------------------------


def audit_actions(db_session, team_id: int) -> list[str]:
    return list(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.team_id == team_id).order_by(AuditEvent.id))
    )


def test_pausing_and_resuming_are_audited(client, db_session, world):
    integration = add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)

    client.post(f"{world.editor_url}/pause", data={"csrf_token": csrf_token(client)})
    db_session.refresh(integration)
    paused = integration.enabled
    section = client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True)
    client.post(f"{world.editor_url}/resume", data={"csrf_token": csrf_token(client)})
    db_session.refresh(integration)

    assert paused is False and integration.enabled is True
    assert "Paused" in section and ">Resume<" in section
    assert audit_actions(db_session, world.team.id) == [
        "salesforce_integration.paused",
        "salesforce_integration.resumed",
    ]


def test_removing_asks_first_then_deletes_the_mapping_and_audits(client, db_session, world):
    add_integration(db_session, world.calendar, DEFAULT_ROWS)
    login(client, world.owner)

    confirmation = client.get(f"{world.editor_url}/remove")
    still_there = db_session.scalar(select(SalesforceIntegration)) is not None
    removed = client.post(f"{world.editor_url}/remove", data={"csrf_token": csrf_token(client)})

    assert confirmation.status_code == 200 and "Remove integration" in confirmation.get_data(as_text=True)
    assert still_there
    assert removed.status_code == 302
    assert db_session.scalar(select(SalesforceIntegration)) is None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "salesforce_integration.removed"))
    assert event.actor_id == world.owner.id and event.details["rows"] == 2


def test_choosing_contact_and_updating_the_field_lists_shows_contact_fields(client, world, salesforce_control):
    login(client, world.owner)
    data = editor_form(client.get(f"{world.editor_url}/new").get_data(as_text=True))

    reloaded = client.post(
        f"{world.editor_url}/new", data={**data, "object_name": "Contact", "reload": "Update field lists"}
    )

    options = field_options(reloaded.get_data(as_text=True))
    assert reloaded.status_code == 200
    assert "Department" in options and "Company" not in options
    assert [entry["path"].split("/")[-2] for entry in describe_calls(salesforce_control)] == ["Lead", "Contact"]
