"""Browser journeys of issue 12 against the Salesforce emulator: a calendar made from scratch gets a Salesforce
integration with its default mapping, and a guest is told on the form when an answer would not fit its field; a
refused mapping save opens on its banner, and Preview works on the unsaved form without writing to Salesforce; a
calendar change that would break the mapping is warned about, and once confirmed marks the integration "Needs
attention" on the calendar, the integration and the dashboard until the row is fixed."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import Calendar, Plan, QuestionKind, Role, SalesforceIntegration, Team, User
from tests.factories import Factory
from tests.integration_support import add_integration
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


def _calendar_with_company(app, team_id: int) -> int:
    with app.app_context():
        factory = Factory(db.session)
        team = db.session.get(Team, team_id)
        admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        calendar = factory.calendar(team, created_by=admin, name="Discovery call", slug="discovery-call")
        db.session.commit()
        calendar_id = calendar.id
        db.session.remove()
    return calendar_id


def test_a_refused_save_opens_on_its_banner_and_preview_before_the_first_save_sends_nothing(
    make_app, live_server, page, salesforce_emulator, salesforce_control
):
    app = make_app()
    team_id = _connected_team(app, salesforce_emulator, salesforce_control)
    calendar_id = _calendar_with_company(app, team_id)
    server = live_server(app)
    _log_in(page, server)
    page.goto(f"{server.url}/calendars/{calendar_id}/integrations/salesforce/new")
    rows = page.locator(".mapping-rows [data-mapping-row]")
    blank = rows.nth(4)  # the default rows are LastName, Email, Company (optional, no fallback), Phone
    blank.locator("[data-role=sf-field]").select_option("LeadSource")
    blank.locator("[data-role=source]").select_option("fixed")
    blank.locator("[data-role=fixed-value]").fill("Trade Show")

    page.get_by_role("button", name="Integration", exact=True).click()

    banner = page.locator("#not-saved")
    expect(banner).to_contain_text("Not saved: 2 rows need attention.")
    expect(banner).to_be_focused()
    assert page.evaluate("window.scrollY") < banner.bounding_box()["y"] + 10  # at the top, in view
    assert _row_fields(page) == ["LastName", "Email", "Company", "Phone", "LeadSource"]
    expect(rows.nth(4).locator("[data-role=fixed-value]")).to_have_value("Trade Show")
    banner.get_by_role("link", name="Row 5 (LeadSource)").click()
    expect(rows.nth(4).locator("[data-role=sf-field]")).to_be_focused()

    # fix both rows but do not save: Preview shows what would be sent, in a new tab, and nothing is written
    rows.nth(2).locator("[data-role=fallback]").fill("Private person")
    rows.nth(4).locator("[data-role=fixed-value]").fill("Web")
    salesforce_control.clear_log()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Preview", exact=True).click()
    preview = popup_info.value
    expect(preview.get_by_role("heading", name="New record")).to_be_visible()
    preview.locator("details summary").first.click()
    lead = json.loads(preview.locator("[data-role=composite-body]").first.inner_text())["compositeRequest"][0]
    assert lead["body"]["LeadSource"] == "Web"  # the unsaved fixed value
    log = salesforce_control.request_log()
    assert log and not [entry for entry in log if entry["method"] != "GET"]  # only the host's User was read
    with app.app_context():
        assert db.session.query(SalesforceIntegration).count() == 0
        db.session.remove()
    expect(rows.nth(4).locator("[data-role=fixed-value]")).to_have_value("Web")  # the editor keeps its entries


def test_a_calendar_change_that_breaks_the_mapping_is_warned_confirmed_flagged_and_cleared_by_fixing_the_row(
    make_app, live_server, page, salesforce_emulator, salesforce_control
):
    app = make_app()
    team_id = _connected_team(app, salesforce_emulator, salesforce_control)
    calendar_id = _calendar_with_company(app, team_id)
    with app.app_context():
        calendar = db.session.get(Calendar, calendar_id)
        company = next(q for q in calendar.questions if q.kind == QuestionKind.COMPANY)
        company.required = True
        by_kind = {q.kind: str(q.id) for q in calendar.questions}
        add_integration(
            db.session,
            calendar,
            [
                ("LastName", "question", by_kind[QuestionKind.FULL_NAME]),
                ("Email", "question", by_kind[QuestionKind.EMAIL]),
                ("Company", "question", by_kind[QuestionKind.COMPANY]),
            ],
        )
        db.session.commit()
        db.session.remove()
    server = live_server(app)
    _log_in(page, server)
    badge = page.locator(".badge", has_text="Needs attention")

    # the calendar editor: Company made optional is shown before saving, with a link to the row
    page.goto(f"{server.url}/calendars/{calendar_id}/edit")
    page.get_by_label("Company question").select_option("optional")
    page.get_by_role("button", name="Save calendar").click()
    warning = page.locator("#mapping-warning")
    expect(warning).to_contain_text("The Salesforce integration (Lead) could no longer fill these fields:")
    expect(warning).to_contain_text("Row 3 (Company): Company (Company) is required by Salesforce")
    expect(warning.get_by_role("link", name="Fix this row")).to_have_attribute(
        "href", f"/calendars/{calendar_id}/integrations/salesforce#row-3"
    )

    # saving anyway: confirmed, and "Needs attention" on the calendar, the integration and the dashboard
    page.get_by_label(re.compile("Save anyway")).check()
    page.get_by_role("button", name="Save calendar").click()
    expect(page.get_by_text("Calendar saved. Its Salesforce integration needs attention")).to_be_visible()
    expect(badge).to_be_visible()
    page.goto(f"{server.url}/dashboard")
    expect(badge).to_be_visible()
    expect(page.get_by_role("link", name="Discovery call")).to_be_visible()
    page.goto(f"{server.url}/calendars/{calendar_id}/edit")
    page.locator("#mapping-warning, .service-integration").get_by_role("link", name="Fix the mapping").click()
    expect(badge).to_be_visible()

    # fixing the row in the mapping editor clears it everywhere
    page.locator("#row-3 [data-role=fallback]").fill("Private person")
    page.get_by_role("button", name="Integration", exact=True).click()
    expect(page.get_by_text("Salesforce integration saved")).to_be_visible()
    expect(badge).to_have_count(0)
    for path in (f"/calendars/{calendar_id}/edit", "/dashboard"):
        page.goto(f"{server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        expect(badge).to_have_count(0)
