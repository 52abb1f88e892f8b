"""Who sees a calendar's bookings, and who may archive a calendar or change its Salesforce integration (design §3):
one table of viewer (role x relation to the calendar) x page -> outcome, for every page that shows a booking.

Owners, admins and admin assistants see every calendar's bookings; a member sees those of the calendars they
created or host. Archiving and the Salesforce integration belong to the creator, owners, admins and admin
assistants: a member who only hosts a calendar may not. Staff look at teams through the support console only."""

from __future__ import annotations

import pytest

from portal.models import Role, User
from tests.factories import login
from tests.integration_support import add_integration, connected_world
from tests.sync_factories import csrf_token, make_booking, make_sync

GUEST = "visible.guest@example.test"
VIEWERS = ("owner", "admin", "admin_assistant", "creator", "host", "other_member", "outsider", "staff")

# Outcomes: "shown" (200 with the booking on it), "hidden" (200 without it), or a refusal's status code.
SEES = {"owner": "shown", "admin": "shown", "admin_assistant": "shown", "creator": "shown", "host": "shown"}
MANAGES = {**SEES, "host": 403}
TABLE: dict[str, dict[str, str | int]] = {
    # page -> viewer -> outcome; a viewer missing from a page's row gets DEFAULT[page]
    "bookings list": {**SEES, "other_member": 403, "outsider": 404, "staff": 404},
    "sync detail": {**SEES, "other_member": 403, "outsider": 404, "staff": 404},
    "errors page": {**SEES, "other_member": "hidden", "outsider": 404, "staff": 404},
    "retry one sync": {**SEES, "other_member": 403, "outsider": 404, "staff": 404},
    "dashboard counts": {**SEES, "other_member": "hidden", "outsider": "hidden", "staff": "hidden"},
    "salesforce page counts": {**SEES, "other_member": "hidden", "outsider": 404, "staff": "hidden"},
    "calendar list link": {**SEES, "other_member": "hidden", "outsider": 404, "staff": 404},
    "preview with the booking": {**MANAGES, "other_member": 403, "outsider": 404, "staff": 404},
}
MANAGE_TABLE: dict[str, dict[str, str | int]] = {
    # action -> viewer -> status of the GET (the page that asks before acting) or of the POST
    "open the integration editor": {**MANAGES, "other_member": 403, "outsider": 404, "staff": 404},
    "pause the integration": {**MANAGES, "other_member": 403, "outsider": 404, "staff": 404},
    "remove the integration": {**MANAGES, "other_member": 403, "outsider": 404, "staff": 404},
    "edit the calendar's settings": {**SEES, "other_member": 403, "outsider": 404, "staff": 404},
}


class Setup:
    """A connected premium team with a calendar created by one member and hosted by another (not its creator),
    one upcoming booking on it and that booking's failed sync; every viewer of the table."""

    def __init__(self, factory, db_session, emulator, control) -> None:
        world = connected_world(factory, db_session, emulator, control)
        self.team = world.team
        team = world.team
        self.viewers: dict[str, User] = {"owner": world.owner}
        for name, role in (("admin", Role.ADMIN), ("admin_assistant", Role.ADMIN_ASSISTANT)):
            self.viewers[name] = factory.member(team, role)
        for name in ("creator", "host", "other_member"):
            self.viewers[name] = factory.member(team, Role.MEMBER)
        self.viewers["outsider"] = factory.member(factory.team(), Role.OWNER)
        self.viewers["staff"] = factory.user(staff=True)
        for user in self.viewers.values():
            user.current_team_id = user.current_team_id or team.id  # staff's dashboard shows no team of theirs
        self.viewers["staff"].current_team_id = None
        self.calendar = factory.calendar(team, created_by=self.viewers["creator"], hosts=[self.viewers["host"]])
        add_integration(db_session, self.calendar, [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")])
        self.booking = make_booking(db_session, self.calendar, guest_email=GUEST)
        self.sync = make_sync(db_session, self.booking)

    def client(self, app, viewer: str):
        client = app.test_client()
        login(client, self.viewers[viewer])
        return client


@pytest.fixture
def setup(factory, db_session, salesforce_emulator, salesforce_control) -> Setup:
    return Setup(factory, db_session, salesforce_emulator, salesforce_control)


def outcome(client, setup: Setup, page: str) -> str | int:
    team_id, calendar_id, sync_id = setup.team.id, setup.calendar.id, setup.sync.id
    if page == "retry one sync":
        url = f"/teams/{team_id}/salesforce/syncs/{sync_id}/retry"
        response = client.post(url, data={"csrf_token": csrf_token(client)})
        return "shown" if response.status_code == 302 else response.status_code
    url, mark = {
        "bookings list": (f"/calendars/{calendar_id}/bookings", GUEST),
        "sync detail": (f"/teams/{team_id}/salesforce/syncs/{sync_id}", GUEST),
        "errors page": (f"/teams/{team_id}/salesforce/errors", f'id="sync-{sync_id}"'),
        "dashboard counts": ("/dashboard", "1 booking failed to reach Salesforce, 0 waiting"),
        "salesforce page counts": (f"/teams/{team_id}/settings/integrations/salesforce", "1 failed"),
        "calendar list link": (f"/teams/{team_id}/calendars", f"/calendars/{calendar_id}/bookings"),
        "preview with the booking": (
            f"/calendars/{calendar_id}/integrations/salesforce/preview?booking={setup.booking.id}",
            GUEST,
        ),
    }[page]
    response = client.get(url)
    if response.status_code != 200:
        return response.status_code
    return "shown" if mark in response.get_data(as_text=True) else "hidden"


@pytest.mark.parametrize("page", list(TABLE))
def test_who_sees_a_calendars_bookings_on_every_page_that_shows_one(app, setup, page):
    found = {viewer: outcome(setup.client(app, viewer), setup, page) for viewer in VIEWERS}

    assert found == {viewer: TABLE[page][viewer] for viewer in VIEWERS}


def manage_status(client, setup: Setup, action: str) -> str | int:
    calendar_id = setup.calendar.id
    if action == "pause the integration":
        url = f"/calendars/{calendar_id}/integrations/salesforce/pause"
        status = client.post(url, data={"csrf_token": csrf_token(client)}).status_code
        return "shown" if status == 302 else status
    url = {
        "open the integration editor": f"/calendars/{calendar_id}/integrations/salesforce",
        "remove the integration": f"/calendars/{calendar_id}/integrations/salesforce/remove",
        "edit the calendar's settings": f"/calendars/{calendar_id}/edit",
    }[action]
    status = client.get(url).status_code
    return "shown" if status == 200 else status


@pytest.mark.parametrize("action", list(MANAGE_TABLE))
def test_who_may_change_a_calendars_salesforce_integration(app, setup, action):
    found = {viewer: manage_status(setup.client(app, viewer), setup, action) for viewer in VIEWERS}

    assert found == {viewer: MANAGE_TABLE[action][viewer] for viewer in VIEWERS}


def test_a_host_sees_the_integration_but_no_button_to_change_it(app, setup):
    page = setup.client(app, "host").get(f"/calendars/{setup.calendar.id}/edit").get_data(as_text=True)

    assert "Only the person who created this calendar" in page
    assert "/integrations/salesforce/remove" not in page and "Edit integration" not in page
