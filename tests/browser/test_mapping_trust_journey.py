"""Browser journeys of issue 12 against the Salesforce emulator: a calendar made from scratch gets a Salesforce
integration with its default mapping, and a guest is told on the form when an answer would not fit its field."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import Plan, Role, SalesforceIntegration
from tests.factories import Factory
from tests.salesforce_flow import store_connection

ADMIN_EMAIL = "trust-journey@example.test"


def _connected_team(app, emulator, control) -> int:
    """A premium team connected to the emulator, with an admin who is also a Salesforce user."""
    with app.app_context():
        factory = Factory(db.session)
        team = factory.team(name="Trust Journey Co", plan=Plan.PREMIUM)
        factory.member(team, Role.ADMIN, email=ADMIN_EMAIL, name="Ada Admin")
        db.session.commit()
        store_connection(db.session, team.id, control.issue_tokens(), emulator.production_url, token_cipher())
        control.add_user("ada.admin@example-org.test", email=ADMIN_EMAIL, last_name="Admin")
        team_id = team.id
        db.session.remove()
    control.clear_log()
    return team_id


def _log_in(page, server) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Name", exact=True).fill("Ada Admin")
    page.get_by_label("E-mail verified").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))


def _row_fields(page) -> list[str]:
    selects = page.locator(".mapping-rows [data-mapping-row] [data-role=sf-field]")
    return [value for value in (selects.nth(i).input_value() for i in range(selects.count())) if value]


def test_a_calendar_from_scratch_gets_the_default_mapping_and_guests_are_told_the_fields_limit(
    make_app, live_server, page, salesforce_emulator, salesforce_control
):
    app = make_app()
    team_id = _connected_team(app, salesforce_emulator, salesforce_control)
    server = live_server(app)
    _log_in(page, server)

    # a calendar from scratch: the editor's defaults (no company question, built-in questions without limits)
    page.goto(f"{server.url}/teams/{team_id}/calendars/new")
    page.get_by_label("Name", exact=True).fill("Intro call")
    page.get_by_label("URL slug").fill("intro-call")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.get_by_text("Calendar “Intro call” created.")).to_be_visible()

    # Advanced settings → Service Integration → Add: the default mapping, and a Lead's Company offered in place
    page.get_by_role("link", name="Add service integration → Salesforce").click()
    assert _row_fields(page) == ["LastName", "Email"]
    remedy = page.locator("#remedy-Company")
    expect(remedy).to_contain_text("Salesforce requires Company (Company) to create a Lead, and no row fills it.")
    remedy.get_by_role("button", name="Ask “Company” on the booking form (required)").click()
    expect(page.get_by_text("The booking form now asks “Company” (required)")).to_be_visible()
    assert _row_fields(page) == ["LastName", "Email", "Company"]
    page.get_by_role("button", name="Integration", exact=True).click()
    expect(page.get_by_text("Salesforce integration saved: Lead with 3 rows.")).to_be_visible()
    with app.app_context():
        integration = db.session.query(SalesforceIntegration).one()
        assert [m.sf_field for m in integration.mappings] == ["LastName", "Email", "Company"]
        db.session.remove()

    # the guest: Name goes to LastName (80 characters), so the form says so and takes no more
    page.goto(f"{server.url}/book/intro-call")
    page.locator("a.slot").first.click()
    name = page.get_by_label("Name")
    expect(page.locator(f"#{name.get_attribute('id')}-help")).to_have_text("At most 80 characters.")
    name.press_sequentially("x" * 81)
    assert len(name.input_value()) == 80
    # without the browser's own limit the server still refuses, next to the field
    name.evaluate("input => input.removeAttribute('maxlength')")
    name.fill("y" * 81)
    page.get_by_label("E-mail").fill("guest@example.com")
    page.get_by_label("Company").fill("Guest Ltd")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_text("Use at most 80 characters.")).to_be_visible()
    assert not [entry for entry in salesforce_control.request_log() if entry["method"] != "GET"]
