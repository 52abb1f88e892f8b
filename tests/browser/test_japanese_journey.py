"""Issue 15 in a real browser: the same journey in English and in Japanese (the browser's language), with a worker
syncing to the Salesforce emulator. An owner logs in, connects Salesforce, adds the calendar's Salesforce
integration, a guest books as 山田 太郎 and the owner sees the booking synced. Each step clicks the words the viewer
reads in their language; the Lead and Event the emulator holds afterwards are the same field for field whichever
language the people used. A screenshot of the Japanese bookings list goes to a temporary directory (fonts-noto-cjk,
installed by scripts/setup --dev, draws the Japanese text)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Calendar, NameFormat, Plan, Role
from tests.factories import Factory
from tests.fixtures.services import WorkerProcesses

GUEST_EMAIL = "taro.yamada@example.jp"
SLUG = "shokai-soudan"
WORDS = {
    "en": {
        "log_in": "Log in with Google",
        "production": "Production (login.salesforce.com)",
        "connect": "Connect to Salesforce",
        "add": "Add service integration → Salesforce",
        "save": "Integration",
        "saved": "Salesforce integration saved",
        "family": "Family name",
        "given": "Given name",
        "email": "E-mail",
        "company": "Company",
        "confirm": "Confirm booking",
        "confirmed": "Your booking is confirmed",
        "synced": "Synced",
        "open": "Open in Salesforce",
        "name_shown": "山田 太郎",  # the name's own script writes the family name first (design §1 "Names")
    },
    "ja": {
        "log_in": "Google でログイン",
        "production": "本番環境（login.salesforce.com）",
        "connect": "Salesforce と連携する",
        "add": "サービス連携を追加する → Salesforce",
        "save": "連携する",
        "saved": "Salesforce 連携を保存しました",
        "family": "姓",
        "given": "名",
        "email": "メール",
        "company": "会社名",
        "confirm": "予約を確定する",
        "confirmed": "確定しました",
        "synced": "連携済み",
        "open": "Salesforce で開く",
        "name_shown": "山田 太郎",
    },
}
# Fields every new record gets that say when and by which id it was made, not what was sent.
BOOKKEEPING = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById", "LastModifiedById"}


@pytest.fixture
def portal(make_app, live_server, salesforce_emulator, run_id):
    """The portal over HTTP with a worker; PUBLIC_BASE_URL names the server so OAuth callbacks come back to it."""
    app = make_app(RQ_QUEUE_PREFIX=f"i18n{run_id}")
    server = live_server(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    workers = WorkerProcesses()
    workers.start(app, 1)
    yield app, server
    workers.stop()


def _team_with_calendar(app, language: str) -> tuple[int, int, str, str]:
    """A premium team of its own per journey, its owner, and a calendar asking family and given names (the same
    calendar both times: what a team typed does not depend on who reads it)."""
    with app.app_context():
        factory = Factory(db.session)
        team = factory.team(name="営業部", plan=Plan.PREMIUM)
        email = f"owner-{language}@example.test"
        owner = factory.member(team, Role.OWNER, email=email, name="鈴木 一郎")
        owner.current_team_id = team.id
        for earlier in db.session.scalars(select(Calendar).where(Calendar.slug == SLUG)):
            earlier.slug = f"{SLUG}-before-{language}"  # the slug (in the Event's booking page line) is reused
        db.session.flush()
        calendar = factory.calendar(
            team,
            created_by=owner,
            name="初回相談",
            name_format=NameFormat.FAMILY_GIVEN,
            time_zone="Asia/Tokyo",
            slug=SLUG,
        )
        next(q for q in calendar.questions if q.kind.value == "company").required = True
        db.session.commit()
        made = (team.id, calendar.id, calendar.slug, email)
        db.session.remove()
    return made


def _journey(browser, app, server, control, language: str, slot_href: str | None, shots) -> tuple[dict, dict, str]:
    """The whole journey in one language; returns the Lead and Event the emulator holds and the slot booked."""
    words = WORDS[language]
    team_id, calendar_id, slug, owner_email = _team_with_calendar(app, language)
    browser_locale = {"en": "en-US", "ja": "ja-JP"}[language]
    # Both journeys happen in Tokyo; only the language differs.
    owner_context = browser.new_context(locale=browser_locale, timezone_id="Asia/Tokyo")
    guest_context = browser.new_context(locale=browser_locale, timezone_id="Asia/Tokyo")
    try:
        page = owner_context.new_page()
        # Log in (the identity emulator's own page stays English).
        page.goto(f"{server.url}/login")
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.get_by_role("button", name=words["log_in"]).click()
        page.get_by_label("E-mail", exact=True).fill(owner_email)
        page.get_by_label("Name", exact=True).fill("鈴木 一郎")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(re.escape(server.url) + "/.*"))

        # Connect Salesforce on the team's Salesforce page (the emulator's login and Allow pages stay English).
        page.goto(f"{server.url}/teams/{team_id}/settings/integrations/salesforce")
        page.get_by_label(words["production"]).check()
        page.get_by_role("button", name=words["connect"]).click()
        page.get_by_label("Username").fill("admin@example-org.test")
        page.get_by_label("Password").fill("emulator")
        page.get_by_role("button", name="Log In").click()
        page.get_by_role("button", name="Allow").click()
        expect(page.locator(".badge-connected")).to_be_visible()

        # Add the calendar's Salesforce integration with its suggested mapping.
        page.goto(f"{server.url}/calendars/{calendar_id}/edit")
        page.get_by_role("link", name=words["add"]).click()
        page.get_by_role("button", name=words["save"], exact=True).click()
        expect(page.get_by_text(words["saved"])).to_be_visible()

        # A guest books as 山田 太郎, at the same time in both journeys.
        guest = guest_context.new_page()
        guest.goto(f"{server.url}/book/{slug}")
        expect(guest.locator("html")).to_have_attribute("lang", language)
        slot = guest.locator("a.slot").first
        slot_href = slot_href or slot.get_attribute("href")
        guest.goto(server.url + slot_href)
        guest.get_by_label(words["family"], exact=True).fill("山田")
        guest.get_by_label(words["given"], exact=True).fill("太郎")
        guest.get_by_label(words["email"], exact=True).fill(GUEST_EMAIL)
        guest.get_by_label(words["company"], exact=True).fill("株式会社サンプル")
        guest.get_by_role("button", name=words["confirm"]).click()
        expect(guest.get_by_text(words["confirmed"])).to_be_visible()

        # The owner sees it synced on the calendar's bookings list.
        page.goto(f"{server.url}/calendars/{calendar_id}/bookings")
        row = page.locator("tr", has_text=GUEST_EMAIL)
        expect(row).to_contain_text(words["name_shown"])
        for _ in range(60):  # the worker syncs in the background; the list shows the state when it is loaded
            if row.get_by_text(words["synced"], exact=True).count():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(row.get_by_text(words["synced"], exact=True)).to_be_visible()
        expect(row.get_by_role("link", name=words["open"])).to_be_visible()
        shots(page, language)
    finally:
        guest_context.close()
        owner_context.close()
    (lead,) = [r for r in control.records("Lead") if r.get("Email") == GUEST_EMAIL]
    (event,) = control.records("Event")
    # Each journey's org numbers its users afresh: an owner is compared by who it is, not by its id.
    usernames = {user["Id"]: user["Username"] for user in control.records("User")}
    for record in (lead, event):
        record["OwnerId"] = usernames[record["OwnerId"]]
    return lead, event, slot_href


def _what_was_sent(record: dict[str, Any], *links: str) -> dict[str, Any]:
    """The record without its bookkeeping and the ids linking it to other records of its own journey."""
    return {key: value for key, value in record.items() if key not in BOOKKEEPING and key not in links}


def test_the_journey_in_japanese_reads_japanese_and_makes_the_same_salesforce_records_as_in_english(
    portal, browser, salesforce_control, tmp_path
):
    app, server = portal

    def screenshot(page, language):
        path = tmp_path / f"bookings-{language}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0

    english_lead, english_event, slot = _journey(browser, app, server, salesforce_control, "en", None, screenshot)
    salesforce_control.reset()  # a fresh org: the Japanese journey's guest is new to Salesforce too
    japanese_lead, japanese_event, _ = _journey(browser, app, server, salesforce_control, "ja", slot, screenshot)

    assert japanese_lead["LastName"] == "山田" and japanese_lead["Company"] == "株式会社サンプル"
    assert japanese_lead["OwnerId"] == "admin@example-org.test"  # the connected user: the host is no Salesforce user
    assert _what_was_sent(japanese_lead) == _what_was_sent(english_lead)
    assert english_event["WhoId"] == english_lead["Id"] and japanese_event["WhoId"] == japanese_lead["Id"]
    english_sent, japanese_sent = _what_was_sent(english_event, "WhoId"), _what_was_sent(japanese_event, "WhoId")
    # The Event's description starts with the booking's own reference (design §5): each journey's own booking.
    for sent in (english_sent, japanese_sent):
        sent["Description"] = re.sub(r"^Booking reference: \d+\n", "", sent["Description"])
    assert japanese_sent == english_sent
    assert japanese_sent["Subject"] == english_sent["Subject"] and "初回相談" in japanese_sent["Subject"]
