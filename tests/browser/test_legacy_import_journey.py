"""In a real browser against the Salesforce emulator: a team's owner carries legacy "information to be retrieved"
settings over from the team's Salesforce page: checks the file, sees what will be created, confirms, and the
calendar gets the expected integration."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import Plan, Role, SalesforceIntegration, SourceKind
from tests.factories import Factory
from tests.salesforce_flow import store_connection

OWNER_EMAIL = "legacy-owner@example.test"


def _connected_team(app, emulator, control) -> tuple[int, int, dict[str, int]]:
    with app.app_context():
        factory = Factory(db.session)
        team = factory.team(name="Legacy Carry-over Co", plan=Plan.PREMIUM)
        owner = factory.member(team, Role.OWNER, email=OWNER_EMAIL, name="Lee Legacy")
        calendar = factory.calendar(team, created_by=owner, name="Old intro call", slug="old-intro-call")
        db.session.commit()
        store_connection(db.session, team.id, control.issue_tokens(), emulator.production_url, token_cipher())
        ids = (team.id, calendar.id, {q.label: q.id for q in calendar.questions})
        db.session.remove()
    return ids


def test_an_owner_imports_legacy_settings_through_the_page(
    make_app, live_server, page, tmp_path, salesforce_emulator, salesforce_control
):
    app = make_app()
    team_id, calendar_id, questions = _connected_team(app, salesforce_emulator, salesforce_control)
    server = live_server(app)
    legacy = tmp_path / "legacy-settings.json"
    rows = [
        ("LastName", "question:Name"),
        ("Email", "question:E-mail"),
        ("Company", "fixed:Acme"),
        ("LeadSource", "fixed:Web"),
    ]
    legacy.write_text(
        json.dumps(
            [
                {
                    "calendar": "old-intro-call",
                    "object": "Lead",
                    "information_to_be_retrieved": [{"lead_label": f, "source": s} for f, s in rows],
                }
            ]
        )
    )
    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Name", exact=True).fill("Lee Legacy")
    page.get_by_label("E-mail verified").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))

    page.goto(f"{server.url}/teams/{team_id}/settings/integrations/salesforce")
    page.get_by_role("link", name="Import legacy settings").click()
    page.get_by_label("Legacy settings file (JSON)").set_input_files(str(legacy))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="What will be created")).to_be_visible()
    plan = page.locator("[data-role=legacy-plan] tbody tr")
    expect(plan).to_have_count(4)
    expect(plan.nth(0)).to_contain_text("LastName")
    expect(plan.nth(0)).to_contain_text("Booking question: Name")
    expect(plan.nth(2)).to_contain_text("Fixed value: Acme")
    with app.app_context():
        assert db.session.scalar(select(SalesforceIntegration)) is None  # nothing before confirming
        db.session.remove()

    page.get_by_role("button", name="Import 1 integration").click()
    expect(page.get_by_text("Imported 1 Salesforce integration: Old intro call.")).to_be_visible()

    with app.app_context():
        imported = db.session.scalar(
            select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar_id)
        )
        settings = (imported.object_name.value, imported.register_event, imported.overwrite)
        mapping = [(m.sf_field, m.source_kind, m.source_key, m.fixed_value) for m in imported.mappings]
        db.session.remove()
    assert settings == ("Lead", False, False)
    assert mapping == [
        ("LastName", SourceKind.QUESTION, str(questions["Name"]), ""),
        ("Email", SourceKind.QUESTION, str(questions["E-mail"]), ""),
        ("Company", SourceKind.FIXED, "", "Acme"),
        ("LeadSource", SourceKind.FIXED, "", "Web"),
    ]
