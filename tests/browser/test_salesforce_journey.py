"""In a real browser: an owner logs in through the identity emulator, connects the team's Salesforce org on the
emulator's Allow page, sees the connected state, and disconnects after confirming."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import Membership, Plan, Role, SalesforceConnection, Team, User

OWNER_EMAIL = "owner-journey@example.test"


def test_an_owner_connects_salesforce_through_the_allow_page_and_disconnects(
    make_app, live_server, page, salesforce_control
):
    app = make_app()
    with app.app_context():
        team = Team(name="Journey Co", plan=Plan.PREMIUM)
        owner = User(email=OWNER_EMAIL, email_verified=True, name="Olive Owner")
        db.session.add_all([team, owner])
        db.session.flush()
        db.session.add(Membership(team_id=team.id, user_id=owner.id, role=Role.OWNER))
        owner.current_team_id = team.id
        db.session.commit()
        team_id = team.id
        db.session.remove()
    server = live_server(app)

    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Name", exact=True).fill("Olive Owner")
    page.get_by_label("E-mail verified").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))

    page.goto(f"{server.url}/teams/{team_id}/settings/integrations/salesforce")
    assert page.get_by_text("Not connected yet", exact=True).is_visible()
    page.get_by_label("Production (login.salesforce.com)").check()
    page.get_by_role("button", name="Connect to Salesforce").click()

    page.get_by_label("Username").fill("admin@example-org.test")
    page.get_by_label("Password").fill("emulator")
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{server.url}/teams/{team_id}/settings/integrations/salesforce")
    org_id = salesforce_control.summary()["org_id"]
    assert page.get_by_text(f"Connected to Salesforce org {org_id} as admin@example-org.test.").is_visible()
    assert page.locator(".badge-connected").inner_text() == "Connected"
    assert page.get_by_text("Olive Owner on").is_visible()

    page.get_by_role("link", name="Disconnect…").click()
    assert page.get_by_role("heading", name="Disconnect Salesforce?").is_visible()
    page.get_by_role("button", name="Disconnect Salesforce").click()

    page.wait_for_url(f"{server.url}/teams/{team_id}/settings/integrations/salesforce")
    assert page.get_by_text("access was revoked in Salesforce").is_visible()
    assert page.get_by_text("Disconnected", exact=True).is_visible()
    with app.app_context():
        assert db.session.query(SalesforceConnection).count() == 0
        db.session.remove()
