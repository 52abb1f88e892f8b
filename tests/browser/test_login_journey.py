"""In a real browser: log in "with Google" and "with Microsoft" on the identity emulator's account page, land in
the personal space the first login creates, switch to a team and log out.

The portal is served over real HTTP on a committed database; the emulator runs in this process, in a thread.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Invitation, Plan, Role, Team


@pytest.fixture
def portal_url(make_app, live_server) -> str:
    return live_server(make_app()).url


def log_in(page, portal_url: str, provider: str, email: str, name: str) -> None:
    page.goto(portal_url + "/")
    page.get_by_role("button", name=f"Log in with {provider}").click()
    expect(page.get_by_role("heading", name=f"Sign in with {provider}")).to_be_visible()
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Continue").click()


def test_logging_in_with_google_lands_in_the_new_personal_space(page, portal_url):
    log_in(page, portal_url, "Google", "grace@example.com", "Grace Hopper")

    expect(page.get_by_role("heading", name="Grace Hopper (personal)")).to_be_visible()
    assert page.url == portal_url + "/dashboard"
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Team settings")).to_be_visible()

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_text("You are logged out.")).to_be_visible()
    expect(page.get_by_role("button", name="Log in with Google")).to_be_visible()


def test_logging_in_with_microsoft_lands_in_the_new_personal_space(page, portal_url):
    log_in(page, portal_url, "Microsoft", "alan@contoso.example", "Alan Turing")

    expect(page.get_by_role("heading", name="Alan Turing (personal)")).to_be_visible()
    assert page.url == portal_url + "/dashboard"


def test_an_invited_person_lands_in_the_team_and_can_switch_spaces(page, make_app, live_server):
    app = make_app()
    with app.app_context():
        team = Team(name="Acme Sales", plan=Plan.PREMIUM)
        db.session.add(team)
        db.session.flush()
        db.session.add(Invitation(team_id=team.id, email="ken@example.com", role=Role.ADMIN))
        db.session.commit()
        db.session.remove()
    portal_url = live_server(app).url

    log_in(page, portal_url, "Google", "ken@example.com", "Ken Thompson")

    expect(page.get_by_text("You have joined Acme Sales.")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme Sales")).to_be_visible()

    page.get_by_label("Current space").select_option(label="Ken Thompson (personal)")
    page.get_by_role("button", name="Switch").click()

    expect(page.get_by_role("heading", name="Ken Thompson (personal)")).to_be_visible()
