"""The README's demo walk-through, followed literally in a real browser: the demo data, the identity and Salesforce
emulators and a worker, as `scripts/demo` starts them. Each step uses the names the README gives (links, buttons,
labels), so the test fails when the screens and the README part ways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from scripts.dev.demo_data import seed
from tests.fixtures.services import WorkerProcesses

GUEST_EMAIL = "walkthrough.guest@example.com"


@pytest.fixture
def demo(make_app, live_server, salesforce_emulator, salesforce_control, run_id):
    """The portal over HTTP with the demo data and a worker (configured after the server, so OAuth callbacks and
    booking links name its address)."""
    app = make_app(RQ_QUEUE_PREFIX=f"readme{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    with app.app_context():
        seed()
        db.session.remove()
    workers = WorkerProcesses()
    workers.start(app, 1)
    yield server
    workers.stop()


def test_the_readme_walkthrough_succeeds(demo, page, browser, salesforce_emulator, salesforce_control):
    server = demo

    # 1. Log in "with Google": the identity emulator's account page takes a demo account; "verified" stays ticked.
    page.goto(server.url)
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill("owner@acme.test")
    page.get_by_label("Name", exact=True).fill("Olivia Owner")
    expect(page.get_by_label("E-mail verified")).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))

    # 2. Team settings → Integrations → Salesforce → Connect to Salesforce; log in on the emulator and Allow.
    page.get_by_role("link", name="Team settings").first.click()
    page.get_by_role("link", name="Integrations").first.click()
    page.get_by_role("main").get_by_role("link", name=re.compile(r"\bSalesforce\b")).first.click()
    page.get_by_role("button", name="Connect to Salesforce").click()
    page.get_by_label("Username").fill("admin@example-org.test")
    page.get_by_label("Password").fill("emulator")
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.locator(".badge-connected")).to_be_visible()

    # 3. Calendars → Introductory call → Advanced settings → Service Integration → Add service integration →
    #    Salesforce; keep the mapping, click Integration; "Preview with a sample booking" shows what would be sent.
    page.get_by_role("link", name="Calendars").first.click()
    page.get_by_role("link", name="Introductory call").first.click()
    page.get_by_role("link", name="Advanced settings").first.click()
    expect(page.get_by_text("Service Integration").first).to_be_visible()
    page.get_by_role("link", name="Add service integration → Salesforce").click()
    page.get_by_role("button", name="Integration", exact=True).click()
    expect(page.get_by_text("Salesforce integration saved")).to_be_visible()
    page.get_by_role("link", name="Preview with a sample booking").first.click()
    expect(page.locator("[data-role=composite-body]").first).to_contain_text('"LastName"')
    assert salesforce_control.records("Lead") == []  # the preview sends nothing

    # 4. The booking page in a private window: pick a time, confirm.
    guest_context = browser.new_context()
    try:
        guest = guest_context.new_page()
        guest.goto(f"{server.url}/book/acme-intro")
        guest.locator("a.slot").first.click()
        guest.get_by_label("Name", exact=True).fill("Walter Walkthrough")
        guest.get_by_label("E-mail", exact=True).fill(GUEST_EMAIL)
        guest.get_by_label("Company", exact=True).fill("Walkthrough Ltd")
        guest.get_by_role("button", name="Confirm booking").click()
        expect(guest.get_by_text("Your booking is confirmed")).to_be_visible()
    finally:
        guest_context.close()

    # 5. The calendar's Bookings list shows the booking as Synced with a link to the record; the emulator's records
    #    page shows the Lead and its Event.
    page.get_by_role("link", name="Calendars").first.click()
    page.get_by_role("link", name="Bookings").first.click()
    row = page.locator("tr", has_text=GUEST_EMAIL)
    for _ in range(60):  # the worker syncs in the background; the list shows the state as it is when loaded
        if row.get_by_text("Synced").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(row.get_by_text("Synced")).to_be_visible()
    expect(row.get_by_role("link", name=re.compile("Salesforce"))).to_be_visible()
    page.goto(salesforce_emulator.control_url + "/records")
    expect(page.get_by_text(GUEST_EMAIL).first).to_be_visible()
    expect(page.get_by_text("Introductory call").first).to_be_visible()  # the Event's subject
