"""In a real browser against the Salesforce emulator: a calendar editor adds a Salesforce integration from the
calendar's Advanced settings with five mapping rows (a fixed picklist value and OwnerId from the participating
member among them), sees a validation error at its row, fixes it, saves with "Integration", and previews."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import Plan, Role, SalesforceIntegration
from tests.factories import Factory
from tests.salesforce_flow import store_connection

EDITOR_EMAIL = "editor-journey@example.test"


def _connected_calendar(app, emulator, control) -> tuple[int, str]:
    """A premium team connected to the emulator, and a calendar its editor hosts; the host is a Salesforce user."""
    with app.app_context():
        factory = Factory(db.session)
        team = factory.team(name="Integration Journey Co", plan=Plan.PREMIUM)
        editor = factory.member(team, Role.ADMIN_ASSISTANT, email=EDITOR_EMAIL, name="Ed Editor")
        calendar = factory.calendar(team, created_by=editor, name="Discovery call")
        db.session.commit()
        store_connection(db.session, team.id, control.issue_tokens(), emulator.production_url, token_cipher())
        owner_user = control.add_user("ed.editor@example-org.test", email=EDITOR_EMAIL, last_name="Editor")
        calendar_id = calendar.id
        db.session.remove()
    control.update_settings(field_permissions={"Lead.Title": {"updateable": False}})
    control.clear_log()
    return calendar_id, owner_user


def _log_in(page, server) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill(EDITOR_EMAIL)
    page.get_by_label("Name", exact=True).fill("Ed Editor")
    page.get_by_label("E-mail verified").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))


def _rows(page):
    return page.locator(".mapping-rows [data-mapping-row]")


def _add_row(page, field: str, source: str, fixed_value: str = ""):
    before = _rows(page).count()
    page.get_by_role("button", name="Add row").click()
    expect(_rows(page)).to_have_count(before + 1)  # added in place, no reload
    row = _rows(page).last
    expect(row.locator("[data-role=sf-field]")).to_be_focused()
    row.locator("[data-role=sf-field]").select_option(field)
    row.locator("[data-role=source]").select_option(source)
    if fixed_value:
        row.locator("[data-role=fixed-value]").fill(fixed_value)
    return row


def test_an_editor_adds_a_salesforce_integration_fixes_an_error_saves_and_previews(
    make_app, live_server, page, salesforce_emulator, salesforce_control
):
    app = make_app()
    calendar_id, host_user_id = _connected_calendar(app, salesforce_emulator, salesforce_control)
    server = live_server(app)
    _log_in(page, server)

    # Calendar → Advanced settings → Service Integration → Add service integration → Salesforce
    page.goto(f"{server.url}/calendars/{calendar_id}/edit")
    page.get_by_role("link", name="Add service integration → Salesforce").click()
    expect(page.get_by_role("heading", name=re.compile("Add service integration → Salesforce"))).to_be_visible()
    fields = page.locator(".mapping-rows [data-role=sf-field]")
    assert [fields.nth(i).input_value() for i in range(4)] == ["LastName", "Email", "Company", "Phone"]

    # the default Phone row goes, in place; a fixed picklist value and the host as owner come in
    _rows(page).nth(3).get_by_role("button", name="Remove row").click()
    lead_source = _add_row(page, "LeadSource", "fixed", "Web")
    assert lead_source.locator("[data-role=fixed-value]").get_attribute("list") == "picklist-LeadSource"
    _add_row(page, "OwnerId", "item:participating_member")
    title_option = page.locator(".mapping-rows [data-role=sf-field]").first.locator("option[value=Title]")
    page.get_by_label("Update: overwrite the existing record's mapped fields").check()
    expect(title_option).to_be_disabled()  # the connected user may create Title but not update it
    page.get_by_label("Not update: leave an existing record unchanged").check()
    expect(title_option).to_be_enabled()

    # save: Company comes from an optional question without a fallback
    page.get_by_role("button", name="Integration", exact=True).click()
    company_row = _rows(page).nth(2)
    expect(company_row.locator(".row-errors")).to_contain_text(
        "Company (Company) is required by Salesforce but the question 'Company' is optional"
    )
    saved_fields = page.locator(".mapping-rows [data-role=sf-field]")
    assert [saved_fields.nth(i).input_value() for i in range(5)] == [
        "LastName",
        "Email",
        "Company",
        "LeadSource",
        "OwnerId",
    ]

    # fix it with a fallback, save
    company_row.locator("[data-role=fallback]").fill("Unknown company")
    page.get_by_role("button", name="Integration", exact=True).click()
    expect(page.get_by_text("Salesforce integration saved: Lead with 5 rows.")).to_be_visible()
    with app.app_context():
        integration = db.session.query(SalesforceIntegration).one()
        assert [m.sf_field for m in integration.mappings] == ["LastName", "Email", "Company", "LeadSource", "OwnerId"]
        db.session.remove()

    # preview with a sample booking: what the sync would send, nothing written
    page.get_by_role("link", name="Preview with a sample booking").click()
    expect(page.get_by_role("heading", name="New record")).to_be_visible()
    expect(page.get_by_role("heading", name="Existing record")).to_be_visible()
    page.locator("details summary").first.click()
    body = json.loads(page.locator("[data-role=composite-body]").first.inner_text())
    lead, event = body["compositeRequest"]
    assert lead["body"] == {
        "LastName": "Alex Sample",
        "Email": "alex.sample@example.com",
        "Company": "Example Ltd",
        "LeadSource": "Web",
        "OwnerId": host_user_id,
    }
    assert event["body"]["WhoId"] == "@{record.id}" and event["body"]["OwnerId"] == host_user_id
    assert not [e for e in salesforce_control.request_log() if e["method"] != "GET"]
