"""Words on the pages sales people use: every sync state, waiting reason and catalogue code, as the Bookings list,
the dashboard, the errors page and a sync's detail show them, reads as a sentence; raw codes and reason keys appear
only inside the sync detail's folded technical section (design §9)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from portal.models import ConnectionStatus, Plan, Role, SalesforceConnection, SyncStatus
from portal.planner.catalogue import CATALOGUE
from portal.sync.states import REASONS
from tests.factories import login
from tests.sync_factories import make_booking, make_sync

RAW_CODE = re.compile(r"[A-Z_]{6,}")
REASON_KEYS = [key for key in REASONS if "_" in key]  # "paused" and "plan" are plain words too
CODES = [*CATALOGUE, "INSUFFICIENT_ACCESS_OR_READONLY", "SOME_CODE_NOBODY_KNOWS"]
WAITING = ("not_connected", "needs_reconnect", "plan")


class VisibleText(HTMLParser):
    """The text a person reads, without what sits folded in <details class="technical"> (or in scripts)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: whether it hides its content

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "input", "meta", "link", "img", "hr"):
            return
        classes = (dict(attrs).get("class") or "").split()
        hidden = tag in ("script", "style") or (tag == "details" and "technical" in classes)
        self.stack.append(hidden or bool(self.stack and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in ("br", "input", "meta", "link", "img", "hr") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def jargon_in(html: str) -> list[str]:
    text = visible_text(html)
    return RAW_CODE.findall(text) + [key for key in REASON_KEYS if key in text]


@pytest.fixture
def every_state(factory, db_session):
    """One booking per state, reason and code the engine can leave, each message carrying its raw code."""
    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people[Role.OWNER], name="Intro call")
    jobs = []

    def add(status, code="", reason="", **fields):
        booking = make_booking(db_session, calendar)
        message = f"{code}: what Salesforce said" if code else ""
        if code == "FIELD_CUSTOM_VALIDATION_EXCEPTION":  # Salesforce sends the rule's own words, shown as they are
            message = "Leads from the web need a phone number."
        jobs.append(
            make_sync(
                db_session,
                booking,
                status=status,
                error_code=code,
                reason=reason,
                error_message=message,
                error_fields=["Company"] if code else [],
                **fields,
            )
        )

    for code in CODES:
        add(SyncStatus.FAILED, code)
        add(SyncStatus.PENDING, code, attempts=2)  # retrying
        add(SyncStatus.DISMISSED, code)
    for reason in WAITING:
        add(SyncStatus.WAITING, reason=reason)
    for reason in ("paused", "no_integration"):
        add(SyncStatus.SKIPPED, reason=reason)
    add(SyncStatus.PENDING, reason="near_api_limit")
    for status in (SyncStatus.PENDING, SyncStatus.RUNNING, SyncStatus.SYNCED):
        add(status)
    return team, calendar, people, jobs


def test_the_bookings_list_speaks_plain_words_for_every_state_and_code(client, every_state):
    team, calendar, people, jobs = every_state
    login(client, people[Role.OWNER])

    pages = [client.get(f"/calendars/{calendar.id}/bookings?page={n}").get_data(as_text=True) for n in (1, 2, 3, 4)]

    text = " ".join(visible_text(page) for page in pages)
    assert "Failed Salesforce requires Company and the guest left it blank." in text  # badge, then why
    assert "Waiting The team has not connected Salesforce." in text
    assert "Retrying Salesforce was unavailable. It is tried again." in text
    assert [jargon_in(page) for page in pages] == [[], [], [], []]


def test_the_errors_page_speaks_plain_words_for_every_state_and_code(client, every_state):
    team, calendar, people, jobs = every_state
    login(client, people[Role.ADMIN])

    pages = [
        client.get(f"/teams/{team.id}/salesforce/errors?per_page=200{extra}")
        for extra in ("", "&state=failed", "&state=waiting", "&state=retrying", "&code=REQUIRED_FIELD_MISSING")
    ]

    assert [page.status_code for page in pages] == [200] * 5
    listed = pages[0].get_data(as_text=True)
    assert listed.count('<tr id="sync-') == 2 * len(CODES) + len(WAITING)
    assert "Failed The connected Salesforce user may not write Company." in visible_text(listed)
    assert [jargon_in(page.get_data(as_text=True)) for page in pages] == [[]] * 5


def test_a_sync_detail_keeps_codes_and_trails_in_its_technical_section_only(client, every_state):
    team, calendar, people, jobs = every_state
    login(client, people[Role.OWNER])

    problems = {}
    for job in jobs:
        page = client.get(f"/teams/{team.id}/salesforce/syncs/{job.id}").get_data(as_text=True)
        if jargon_in(page):
            problems[job.id] = jargon_in(page)
        if job.error_code:
            technical = page[page.index('<details class="card technical">') :]
            assert f"<code>{job.error_code}</code>" in technical  # still there for support staff

    assert problems == {}


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ("never", "This team has not connected Salesforce yet. You can connect it"),
        ("disconnected", "Salesforce was disconnected from this team. You can connect it again"),
        ("needs_reconnect", "needs reconnecting: Salesforce stopped accepting the portal&#39;s access. You can"),
    ],
)
def test_the_dashboard_words_the_connection_by_its_history(client, factory, db_session, every_state, history, expected):
    from portal.audit import record

    team, calendar, people, jobs = every_state
    if history == "disconnected":
        record("salesforce.disconnect", team_id=team.id, actor_id=people[Role.OWNER].id)
    if history == "needs_reconnect":
        db_session.add(
            SalesforceConnection(
                team_id=team.id,
                login_url="https://login.salesforce.com",
                instance_url="https://acme.my.salesforce.com",
                status=ConnectionStatus.NEEDS_RECONNECT,
                username="a@acme.example",
            )
        )
    db_session.flush()

    page = login(client, people[Role.OWNER]).get("/dashboard").get_data(as_text=True)

    assert expected in page
    assert jargon_in(page) == []


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.OWNER, "Upgrade the team"), (Role.ADMIN, "Ask the team&#39;s owner")]
)
def test_only_the_owner_is_told_to_upgrade_and_others_to_ask_the_owner(client, factory, role, expected):
    team, people = factory.team_with_roles(plan=Plan.STANDARD)

    page = login(client, people[role]).get(f"/teams/{team.id}/settings/integrations/salesforce").get_data(as_text=True)

    assert expected in page


@pytest.mark.parametrize(
    ("path", "title", "words"),
    [
        ("/no-such-page", "Not found", "belongs to a team you are not a member of"),
        ("/teams/{team}/settings/integrations/salesforce/disconnect", "Not allowed", "Your role in this team"),
    ],
)
def test_error_pages_speak_the_products_language(client, factory, path, title, words):
    team, people = factory.team_with_roles()
    login(client, people[Role.MEMBER])

    page = client.get(path.format(team=team.id))

    text = page.get_data(as_text=True)
    assert title in text and words in text
    assert "permission to access the requested resource" not in text and "requested URL was not found" not in text
