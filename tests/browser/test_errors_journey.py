"""In a real browser, with a real RQ worker and the Salesforce emulator: a booking's sync fails on a required field,
an admin finds it on the errors page, reads the remedy, fixes the mapping, retries, and sees it synced."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Membership, Role, SyncJob, SyncStatus, User
from tests.fixtures.services import WorkerProcesses
from tests.sync_world import World


@pytest.fixture
def journey(make_app, live_server, salesforce_emulator, salesforce_control, run_id):
    """The portal served over HTTP, a connected team whose calendar maps Lead Company from an optional question,
    and a worker running syncs (configured after the server, so links and login callbacks name its address)."""
    app = make_app(RQ_QUEUE_PREFIX=f"errjourney{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    world = World.create(app, salesforce_emulator, salesforce_control)
    workers = WorkerProcesses()
    workers.start(app, 1)
    yield server, world
    workers.stop()


def admin_email(app, team_id: int) -> str:
    with app.app_context():
        email = db.session.scalar(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team_id, Membership.role == Role.ADMIN)
        )
        db.session.remove()
    return email


def log_in(page, server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Name", exact=True).fill("Ada Admin")
    page.get_by_label("E-mail verified").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))


def test_an_admin_fixes_a_required_field_failure_and_retries_it_to_synced(journey, page):
    server, world = journey
    booking_id = world.book("gita@example.com", name="Gita Guest", company="")
    [failed] = world.wait(booking_id)
    assert (failed.status, failed.error_code) == (SyncStatus.FAILED, "REQUIRED_FIELD_MISSING")
    log_in(page, server, admin_email(world.app, world.team_id))

    # Team Settings -> Integrations -> Salesforce -> the errors page
    page.goto(f"{server.url}/teams/{world.team_id}/settings/integrations/salesforce")
    page.get_by_role("link", name="Failed and waiting syncs").click()
    row = page.locator(f"#sync-{failed.id}")
    assert "gita@example.com" in row.inner_text()
    assert "Salesforce requires Company and the guest left it blank." in row.inner_text()
    assert "REQUIRED_FIELD_MISSING" not in row.inner_text()  # codes are for support, folded in the detail
    assert "Company" in row.locator(".remedy").inner_text()
    assert "give the mapping row a fallback value" in row.locator(".remedy").inner_text()

    # the sync's detail page names the refused mapping row and leads to the mapping
    row.get_by_role("link").first.click()
    assert page.locator("tr.offending").inner_text().startswith("Company")
    page.get_by_role("link", name="Open the calendar's Salesforce integration").click()

    # give the Company row a fallback value and save
    fields = page.locator("[data-role=sf-field]")
    company_row = next(i for i in range(fields.count()) if fields.nth(i).input_value() == "Company")
    page.locator("[data-role=fallback]").nth(company_row).fill("Unknown company")
    page.get_by_role("button", name="Integration").click()
    assert page.get_by_text("Salesforce integration saved").is_visible()

    # back to the sync, retry it after confirming
    page.goto(f"{server.url}/teams/{world.team_id}/salesforce/syncs/{failed.id}")
    page.get_by_role("link", name="Retry…", exact=True).click()
    assert page.get_by_role("heading", name=f"Retry sync #{failed.id}?").is_visible()
    page.get_by_role("button", name="Retry now").click()
    assert page.get_by_text("The sync was queued for a new attempt.").is_visible()

    [synced] = world.wait(booking_id)
    assert synced.status == SyncStatus.SYNCED, (synced.error_code, synced.error_message)
    page.reload()
    assert page.locator(".badge-synced").first.inner_text() == "Synced"
    assert (
        page.get_by_role("link", name="Open the Lead in Salesforce")
        .get_attribute("href")
        .endswith("/" + synced.sf_record_id)
    )
    [lead] = world.records("Lead", "gita@example.com")
    assert lead["Company"] == "Unknown company"

    page.goto(f"{server.url}/teams/{world.team_id}/salesforce/errors")
    assert page.locator(f"#sync-{failed.id}").count() == 0


@pytest.fixture
def idle_world(make_app, live_server, salesforce_emulator, salesforce_control, run_id):
    """The portal served over HTTP with a connected team, and no worker: a booking's sync stays queued."""
    app = make_app(RQ_QUEUE_PREFIX=f"errprogress{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    return server, World.create(app, salesforce_emulator, salesforce_control)


def test_a_queued_syncs_detail_page_updates_itself_when_the_sync_ends(idle_world, page):
    server, world = idle_world
    booking_id = world.book("hana@example.com", name="Hana Guest")
    [queued] = world.jobs(booking_id)
    log_in(page, server, admin_email(world.app, world.team_id))
    page.goto(f"{server.url}/teams/{world.team_id}/salesforce/syncs/{queued.id}")
    assert page.locator("[data-sync-state]").inner_text() == "Queued"
    assert page.get_by_text("This page updates itself until the sync ends.").is_visible()

    with world.app.app_context():  # the sync ends as a worker would leave it
        db.session.get(SyncJob, queued.id).status = SyncStatus.SYNCED
        db.session.commit()
        db.session.remove()

    page.locator("[data-sync-state]", has_text="Synced").wait_for()  # no reload by hand
    assert page.get_by_text("This page updates itself until the sync ends.").count() == 0
