"""In a real browser, with a real RQ worker and the Salesforce emulator: a booking fails because the guest left a
required Company blank; an admin repairs it with Fix and retry (sees the Salesforce values first, nothing written),
and the Lead arrives with the corrected value while the booking still shows the guest's own (blank) answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.models import SyncStatus
from tests.browser.test_errors_journey import admin_email, log_in
from tests.fixtures.services import WorkerProcesses
from tests.sync_world import World


@pytest.fixture
def journey(make_app, live_server, salesforce_emulator, salesforce_control, run_id):
    app = make_app(RQ_QUEUE_PREFIX=f"fixjourney{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    world = World.create(app, salesforce_emulator, salesforce_control)
    workers = WorkerProcesses()
    workers.start(app, 1)
    yield server, world
    workers.stop()


def test_a_required_field_failure_is_repaired_with_fix_and_retry(journey, page):
    server, world = journey
    booking_id = world.book("hana@example.com", name="Hana Guest", company="")
    [failed] = world.wait(booking_id)
    assert (failed.status, failed.error_code) == (SyncStatus.FAILED, "REQUIRED_FIELD_MISSING")
    log_in(page, server, admin_email(world.app, world.team_id))

    # the errors page offers Fix and retry on the failing row
    page.goto(f"{server.url}/teams/{world.team_id}/salesforce/errors")
    page.locator(f"#sync-{failed.id}").get_by_role("link", name="Fix and retry this booking").click()
    expect(page.get_by_role("heading", name=f"Fix and retry sync #{failed.id}")).to_be_visible()
    fix_form = page.locator("form", has=page.get_by_role("button", name="Save and retry"))
    expect(fix_form.get_by_role("textbox")).to_have_count(1)  # only the value the failing field comes from
    company = fix_form.get_by_label("Company", exact=True)

    # see what Salesforce would get: nothing is written yet
    world.control.clear_log()
    company.fill("Hana's Bakery")
    page.get_by_role("button", name="Show the Salesforce values").click()
    preview = page.locator("[data-role=fix-preview]").first
    expect(preview.locator("tr.offending")).to_have_text("CompanyHana's Bakery")
    assert [e for e in world.control.request_log() if e["method"] != "GET"] == []
    assert world.records("Lead", "hana@example.com") == []

    expect(fix_form.get_by_label("Company", exact=True)).to_have_value("Hana's Bakery")  # kept after the preview
    page.get_by_role("button", name="Save and retry").click()
    expect(page.get_by_text("The corrected values were saved")).to_be_visible()

    [synced] = world.wait(booking_id)
    assert synced.status == SyncStatus.SYNCED, (synced.error_code, synced.error_message)
    [lead] = world.records("Lead", "hana@example.com")
    assert lead["Company"] == "Hana's Bakery"

    # the booking keeps the guest's own answer; the correction is shown beside it
    page.reload()
    answers = page.locator("dl.answers")
    expect(answers).to_contain_text("(blank)")
    expect(answers).to_contain_text("Corrected Sent to Salesforce as “Hana's Bakery”")
    page.goto(f"{server.url}/calendars/{world.calendar_id}/bookings")
    row = page.locator("table.bookings tr", has_text="hana@example.com")
    expect(row).to_contain_text("Corrected for Salesforce")
    expect(row).not_to_contain_text("Hana's Bakery")
