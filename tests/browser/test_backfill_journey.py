"""In a real browser, with a real RQ worker and the Salesforce emulator: an owner sends a calendar's earlier
bookings, watches the progress bar fill up to done, then stops a second sending midway and resumes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import SalesforceIntegration, User
from tests.browser.test_errors_journey import log_in
from tests.fixtures.services import WorkerProcesses
from tests.sync_world import World


@pytest.fixture
def journey(make_app, live_server, salesforce_emulator, salesforce_control, run_id):
    app = make_app(RQ_QUEUE_PREFIX=f"backfilljourney{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    world = World.create(app, salesforce_emulator, salesforce_control)
    workers = WorkerProcesses()
    workers.start(app, 1)
    yield server, world
    workers.stop()


def earlier_bookings(world: World, emails: list[str]) -> None:
    """Bookings made while the integration was paused, so none reached Salesforce."""
    set_enabled(world, False)
    for n, email in enumerate(emails):
        world.book(email, name=f"Earlier {n}")
    set_enabled(world, True)


def set_enabled(world: World, enabled: bool) -> None:
    with world.app.app_context():
        integration = db.session.scalar(
            select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == world.calendar_id)
        )
        integration.enabled = enabled
        db.session.commit()
        db.session.remove()


def owner_email(world: World) -> str:
    with world.app.app_context():
        email = db.session.get(User, world.owner_id).email
        db.session.remove()
    return email


def test_an_owner_sends_earlier_bookings_and_stops_and_resumes_a_second_sending(journey, page):
    server, world = journey
    earlier_bookings(world, ["first@example.com", "second@example.com"])
    log_in(page, server, owner_email(world))

    page.goto(f"{server.url}/calendars/{world.calendar_id}/integrations/salesforce")
    page.get_by_role("link", name="Send earlier bookings").click()
    page.get_by_role("button", name="Check").click()
    assert "2 will be sent" in page.locator("main").inner_text()
    page.get_by_role("button", name="Send 2 earlier bookings").click()

    # the bar fills by itself (the page polls) and the page shows the finished sending
    expect(page.locator("[data-field=state_words]")).to_have_text("Finished", timeout=60_000)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    assert page.locator("[data-field=created]").inner_text() == "2"
    assert len(world.records("Lead")) == 2

    # the same guest three times goes out in three batches, slowly: stop after starting, then resume
    earlier_bookings(world, ["again@example.com"] * 3)
    world.control.update_settings(latency_ms=800)
    page.get_by_role("button", name="Check").click()
    page.get_by_role("button", name="Send 3 earlier bookings").click()
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("[data-field=state_words]")).to_have_text("Stopped")
    page.get_by_role("button", name="Resume").click()
    world.control.update_settings(latency_ms=0)
    expect(page.locator("[data-field=state_words]")).to_have_text("Finished", timeout=60_000)
    assert page.locator("[data-field=done]").inner_text() == page.locator("[data-field=total]").inner_text() == "5"
    [lead] = world.records("Lead", "again@example.com")
    assert len(world.events_for(lead["Id"])) == 3
