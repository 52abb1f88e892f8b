"""No page scrolls sideways and no table cell spills out of its box: every admin page at 1280 and 1024 pixels
wide, the guest's booking and manage pages at 390 (a phone), all filled with long values (issue 12, Layout)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.routing import Rule

from portal.calendars import booking as booking_service
from portal.calendars.booking import GuestDetails
from portal.extensions import db
from portal.models import Calendar, SyncAttempt, SyncJob, SyncStatus, Team, User
from tests.sync_world import NOW, World, next_slot

LONG_EMAIL = "bartholomew.maximilian.featherstonehaugh-worthington.the-third@very-long-subdomain.example-company.test"
LONG_NAME = "Bartholomew Maximilian Featherstonehaugh-Worthington-Montgomery-Smythe"
LONG_COMPANY = "Internationale Handelsgesellschaft für Maschinenbau und Elektrotechnik GmbH & Co. KG"
LONG_WORD = "Supercalifragilisticexpialidocious" * 3  # a value with no place to break
MANAGE_TOKEN = "layout-manage-token-0123456789abcdef"

# Query strings some pages need to show their content rather than refuse the request.
QUERIES = {"sync_errors.retry_all": "?code=REQUIRED_FIELD_MISSING", "support.failures": "?per_page=25"}
NOT_PAGES = {"sync_errors.state"}  # JSON for the detail page's script

# Every page element that scrolls sideways or sticks out of its box, as text for the failure message.
OVERFLOWS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) problems.push(`page ${root.scrollWidth} > ${window.innerWidth}`);
  for (const table of document.querySelectorAll("table")) {
    const box = table.parentElement.getBoundingClientRect();
    const rect = table.getBoundingClientRect();
    if (rect.right > box.right + 1 || table.parentElement.scrollWidth > table.parentElement.clientWidth + 1) {
      problems.push(`table.${table.className} ${Math.round(rect.width)} in ${Math.round(box.width)}`);
    }
    for (const cell of table.querySelectorAll("td, th")) {
      if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`cell "${cell.innerText.slice(0, 40)}" ${cell.scrollWidth} > ${cell.clientWidth}`);
      }
    }
  }
  for (const el of document.querySelectorAll("main *")) {
    const rect = el.getBoundingClientRect();
    if (rect.width && rect.right > window.innerWidth + 1) {
      problems.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(rect.right)}`);
    }
  }
  return problems.slice(0, 8);
}"""


@pytest.fixture
def long_world(make_app, live_server, salesforce_emulator, salesforce_control, run_id):
    """A connected team whose names, guests and sync failures are as long as people make them."""
    app = make_app(RQ_QUEUE_PREFIX=f"layout{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    world = World.create(app, salesforce_emulator, salesforce_control)
    with app.app_context():
        team = db.session.get(Team, world.team_id)
        team.name = "Northern Hemisphere Enterprise Sales and Customer Success Team"
        calendar = db.session.get(Calendar, world.calendar_id)
        calendar.name = "Product walkthrough " + LONG_WORD[:90]
        owner = db.session.get(User, world.owner_id)
        owner.is_staff = True  # so the support console is among the pages
        owner.name = LONG_NAME
        db.session.commit()
        guest = GuestDetails(email=LONG_EMAIL, name=LONG_NAME, company=LONG_COMPANY, phone="+49 30 1234567890")
        booking = booking_service.book(calendar, next_slot(), guest, MANAGE_TOKEN, now=NOW)
        job = db.session.scalar(select(SyncJob).where(SyncJob.booking_id == booking.id))
        job.status, job.error_code, job.error_fields = (
            SyncStatus.FAILED,
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            ["Company"],
        )
        job.error_message = f"{LONG_COMPANY} is not accepted: {LONG_WORD}"
        job.attempts = 1
        db.session.add(
            SyncAttempt(
                sync_job_id=job.id, number=1, started_at=datetime.now(UTC) - timedelta(minutes=1),
                outcome="failed", error_code=job.error_code, api_calls=2,
                trail=[{"request": {"url": "/services/data/v61.0/composite/" + LONG_WORD, "body": LONG_EMAIL}}],
            )
        )  # fmt: skip
        db.session.commit()
        world.sync_id = job.id
        world.owner_email = owner.email
        db.session.remove()
    return server, world


def admin_paths(app, world) -> list[str]:
    values = {"team_id": world.team_id, "calendar_id": world.calendar_id, "sync_id": world.sync_id}
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or not is_admin_page(rule):
            continue
        _, path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)
        paths.append(path + QUERIES.get(rule.endpoint, ""))
    return paths


def is_admin_page(rule: Rule) -> bool:
    public = rule.rule.startswith(("/book/", "/manage/", "/static/", "/login", "/healthz", "/integrations/"))
    return not public and rule.rule != "/" and rule.endpoint not in NOT_PAGES


def log_in(page, server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_role("button", name="Log in with Google").click()
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Name", exact=True).fill(LONG_NAME)
    page.get_by_label("E-mail verified").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))


@pytest.mark.parametrize("width", [1280, 1024])
def test_no_admin_page_scrolls_sideways_or_spills_a_table_cell(long_world, browser, width):
    server, world = long_world
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, server, world.owner_email)
    paths = admin_paths(world.app, world)
    assert len(paths) >= 20  # every page of the portal, found in its URL map

    problems = {}
    for path in paths:
        response = page.goto(server.url + path)
        assert response.status < 400, (path, response.status)
        found = page.evaluate(OVERFLOWS)
        if found:
            problems[path] = found
    context.close()

    assert problems == {}


def test_the_guests_booking_and_manage_pages_fit_a_phone(long_world, browser):
    server, world = long_world
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    with world.app.app_context():
        slug = db.session.get(Calendar, world.calendar_id).slug
        db.session.remove()
    paths = [f"/book/{slug}", f"/manage/{MANAGE_TOKEN}", f"/manage/{MANAGE_TOKEN}/reschedule",
             f"/manage/{MANAGE_TOKEN}/cancel"]  # fmt: skip

    problems = {}
    for path in paths:
        assert page.goto(server.url + path).status < 400, path
        if found := page.evaluate(OVERFLOWS):
            problems[path] = found
    page.goto(server.url + f"/book/{slug}")
    page.locator("ul.slots a").first.click()  # the booking form with its questions
    page.wait_for_url("**/confirm?**")
    page.get_by_role("button", name="Confirm booking").wait_for()
    if found := page.evaluate(OVERFLOWS):
        problems["confirm"] = found
    context.close()

    assert problems == {}


def test_the_links_people_look_for_are_where_they_look(long_world, browser):
    server, world = long_world
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, server, world.owner_email)

    # the calendar's name leads to the calendar, whose top leads straight to Advanced settings
    page.goto(f"{server.url}/teams/{world.team_id}/calendars")
    page.get_by_role("link", name="Product walkthrough").click()
    page.wait_for_url(f"{server.url}/calendars/{world.calendar_id}/edit")
    page.get_by_role("link", name="Advanced settings (Service Integration)").click()
    assert page.evaluate("location.hash") == "#advanced-settings"
    assert page.get_by_role("heading", name="Service Integration").is_visible()

    # a question's choices show only while its type is single select
    row = page.locator("fieldset.question-row").last
    choices = row.get_by_label("Choices (one per line)")
    row.get_by_label("Type").select_option("short_text")
    assert not choices.is_visible()
    row.get_by_label("Type").select_option("single_select")
    assert choices.is_visible()

    # an errors-table row leads to its sync from the booking (the guest), not from the time
    page.goto(f"{server.url}/teams/{world.team_id}/salesforce/errors")
    row = page.locator(f"#sync-{world.sync_id}")
    assert row.locator("td").first.get_by_role("link").count() == 0  # the time is not the way in
    row.get_by_role("link", name=LONG_NAME).click()
    page.wait_for_url(f"{server.url}/teams/{world.team_id}/salesforce/syncs/{world.sync_id}")
    context.close()
