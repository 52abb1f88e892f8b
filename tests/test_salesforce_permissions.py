"""Who may use each Salesforce route (design §3), generated from app.url_map so a new route cannot be missed:
owner, admin, admin assistant, member, another team's owner, staff and anonymous, on premium and other plans."""

from __future__ import annotations

import pytest
from flask import session, url_for
from sqlalchemy import select

from portal.crypto import token_cipher
from portal.models import Plan, Role, SalesforceConnection
from portal.salesforce import pending
from portal.salesforce.connections import PendingConnect

from .auth_flow import csrf_token
from .factories import login

PERSONAS = ("owner", "admin", "admin_assistant", "member", "outsider", "staff", "anonymous")
STATE = "matrix-state"

# Outcomes: an HTTP status, or where a redirect goes ("login", "salesforce" = the authorize page, "page").
MANAGERS_ONLY = {"admin_assistant": 403, "member": 403, "staff": 403, "outsider": 404, "anonymous": "login"}
EXPECTED = {
    ("salesforce.page", "GET"): {
        **{persona: 200 for persona in ("owner", "admin", "admin_assistant", "member", "staff")},
        "outsider": 404,
        "anonymous": "login",
    },
    ("salesforce.connect", "POST"): {"owner": "salesforce", "admin": "salesforce", **MANAGERS_ONLY},
    ("salesforce.callback", "GET"): {"owner": "page", "admin": "page", **MANAGERS_ONLY},
    ("salesforce.confirm_disconnect", "GET"): {"owner": 200, "admin": 200, **MANAGERS_ONLY},
    ("salesforce.disconnect", "POST"): {"owner": "page", "admin": "page", **MANAGERS_ONLY},
    ("salesforce.legacy_import", "GET"): {"owner": 200, "admin": 200, **MANAGERS_ONLY},
    # allowed; the form posted without a file is refused on the page (422)
    ("salesforce.legacy_import", "POST"): {"owner": 422, "admin": 422, **MANAGERS_ONLY},
}
# Connecting needs Premium; a team that left Premium may still view the page and disconnect.
NOT_PREMIUM = {
    ("salesforce.connect", "POST"): {"owner": 403, "admin": 403},
    ("salesforce.callback", "GET"): {"owner": 403, "admin": 403},
}


def salesforce_routes(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("salesforce.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_salesforce_route_has_expectations(app):
    assert salesforce_routes(app) == sorted(EXPECTED)


@pytest.fixture
def world(factory, salesforce_emulator):
    """Factory for a team of the given plan with every role, connected, plus an outsider and a staff user."""

    def build(plan: Plan):
        team, people = factory.team_with_roles(plan=plan)
        other, other_people = factory.team_with_roles()
        users = {role.value: user for role, user in people.items()}
        users["outsider"] = other_people[Role.OWNER]
        users["staff"] = factory.user(staff=True)
        cipher = token_cipher()
        factory.session.add(
            SalesforceConnection(
                team_id=team.id,
                login_url=salesforce_emulator.production_url,
                instance_url=salesforce_emulator.instance_url,
                org_id="00D000000000001AAA",
                username="admin@example-org.test",
                access_token_encrypted=cipher.encrypt("matrix-access"),
                refresh_token_encrypted=cipher.encrypt("matrix-refresh"),
            )
        )
        factory.session.flush()
        return team, users

    return build


def give_pending_attempt(app, client, team_id: int, user_id: int) -> None:
    """As if this person had pressed Connect for the team: the attempt waits in their session under STATE."""
    with app.test_request_context():
        pending.remember(STATE, PendingConnect(team_id, user_id, "http://unused", "verifier", "http://cb"))
        waiting = session[pending.SESSION_KEY]
    with client.session_transaction() as client_session:
        client_session[pending.SESSION_KEY] = waiting


def outcome(response, app, team_id: int, salesforce_url: str):
    if response.status_code != 302:
        return response.status_code
    location = response.headers["Location"]
    with app.test_request_context():
        login_path, page_path = url_for("auth.login"), url_for("salesforce.page", team_id=team_id)
    if location.startswith(login_path):
        return "login"
    if location.startswith(salesforce_url + "/services/oauth2/authorize"):
        return "salesforce"
    if location == page_path:
        return "page"
    return location


@pytest.mark.parametrize("plan", [Plan.PREMIUM, Plan.STANDARD, Plan.FREE])
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_what_design_section_3_allows(
    app, client, db_session, world, salesforce_emulator, plan, persona
):
    team, users = world(plan)
    user = users.get(persona)
    mismatches = []
    for endpoint, method in salesforce_routes(app):
        client.delete_cookie("session")
        if user is not None:
            login(client, user)
        give_pending_attempt(app, client, team.id, user.id if user else 0)
        with app.test_request_context():
            path = url_for(endpoint, team_id=team.id) if endpoint != "salesforce.callback" else url_for(endpoint)
        if method == "POST":
            response = client.post(path, data={"csrf_token": csrf_token(client), "environment": "production"})
        else:
            response = client.get(path, query_string={"state": STATE, "error": "access_denied"})
        expected = EXPECTED[(endpoint, method)][persona]
        if plan != Plan.PREMIUM:
            expected = NOT_PREMIUM.get((endpoint, method), {}).get(persona, expected)
        got = outcome(response, app, team.id, salesforce_emulator.production_url)
        if got != expected:
            mismatches.append((endpoint, method, expected, got))
        still_connected = db_session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == team.id))
        if endpoint == "salesforce.disconnect" and expected != "page":
            assert still_connected is not None, "a refused disconnect must not delete the connection"

    assert mismatches == []


def test_a_non_premium_team_sees_the_upgrade_notice_and_no_connect_form(client, factory):
    team, people = factory.team_with_roles(plan=Plan.STANDARD)
    login(client, people[Role.OWNER])

    page = client.get(f"/teams/{team.id}/settings/integrations/salesforce").get_data(as_text=True)

    assert "part of the Premium plan" in page
    assert "Connect to Salesforce" not in page


@pytest.mark.parametrize("role", [Role.ADMIN_ASSISTANT, Role.MEMBER])
def test_members_and_assistants_see_the_page_read_only(client, factory, role):
    team, people = factory.team_with_roles()
    login(client, people[role])

    page = client.get(f"/teams/{team.id}/settings/integrations/salesforce").get_data(as_text=True)

    assert "Before you connect" in page
    assert "Connect to Salesforce" not in page
    assert "Only the team's owners and admins can connect or disconnect Salesforce." in page


def test_staff_see_any_teams_page_read_only(client, factory):
    team, _ = factory.team_with_roles()
    login(client, factory.user(staff=True))

    page = client.get(f"/teams/{team.id}/settings/integrations/salesforce").get_data(as_text=True)

    assert "You are viewing this team as staff (read-only)." in page
    assert "Connect to Salesforce" not in page
