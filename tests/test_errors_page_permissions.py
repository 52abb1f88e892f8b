"""Who may see, retry and dismiss failed syncs (design §3), for every route of the errors page and the support
console found in app.url_map: a route added later without an expectation here fails the matrix."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from tests.factories import login
from tests.sync_factories import csrf_token, make_booking, make_sync

# How each route is guarded: team-wide pages, pages about one sync (its calendar decides), actions on one sync that
# change what its calendar sends (who may change the calendar's integration decides), the support console.
ROUTE_KINDS = {
    "sync_errors.errors": "team",
    "sync_errors.retry_all": "team",
    "sync_errors.detail": "sync",
    "sync_errors.state": "sync",
    "sync_errors.retry": "sync",
    "sync_errors.dismiss": "sync",
    "sync_errors.fix": "manage",
    "sync_errors.fallback": "manage",
    "support.index": "support",
    "support.failures": "support",
    "support.detail": "support",
    "support.retry": "support",
    "support.audit": "support",
    "support.legacy_import": "support",
    "support.backfill_list": "support",
}
VIEWERS = ("anonymous", "outsider", "staff", "owner", "admin", "admin_assistant", "creator", "host", "other_member")
TEAM_ROLES = {"owner": Role.OWNER, "admin": Role.ADMIN, "admin_assistant": Role.ADMIN_ASSISTANT}


def expected_status(kind: str, endpoint: str, viewer: str, method: str) -> int:
    done = 302 if method == "POST" else 200
    if viewer == "anonymous":
        return 302  # to the login page
    if kind == "support":
        if viewer != "staff":
            return 403
        if endpoint == "support.legacy_import" and method == "POST":
            return 422  # allowed, and the form posted without a file says so
        return 302 if endpoint == "support.index" else done
    if viewer in ("outsider", "staff"):
        return 404  # staff look at teams through the support console only
    if kind == "manage" and viewer in ("host", "other_member"):
        return 403  # fixing a booking's values for Salesforce: those who may change the calendar's integration
    if kind == "sync" and viewer == "other_member":
        return 403  # members only see the syncs of calendars they created or host
    return done


def our_routes(app) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("sync_errors", "support"):
            for method in sorted(rule.methods & {"GET", "POST"}):
                routes.append((rule.endpoint, rule.rule, method))
    return routes


@pytest.fixture
def world(app, factory, db_session):
    team, users = factory.team_with_roles()
    viewers = {name: users[role] for name, role in TEAM_ROLES.items()}
    viewers["creator"] = users[Role.MEMBER]
    viewers["host"] = factory.member(team, Role.MEMBER)
    viewers["other_member"] = factory.member(team, Role.MEMBER)
    viewers["outsider"] = factory.member(factory.team(), Role.OWNER)
    viewers["staff"] = factory.user(staff=True)
    calendar = factory.calendar(team, created_by=viewers["creator"], hosts=[viewers["creator"], viewers["host"]])
    return team, calendar, viewers


def test_every_route_of_the_errors_page_and_support_console_has_an_expectation(app):
    endpoints = {endpoint for endpoint, _, _ in our_routes(app)}

    assert endpoints == set(ROUTE_KINDS)


def test_permission_matrix_for_every_route_and_viewer(app, world, db_session):
    team, calendar, viewers = world
    mismatches = []
    for endpoint, rule, method in our_routes(app):
        for viewer in VIEWERS:
            job = make_sync(db_session, make_booking(db_session, calendar))  # fresh: POSTs change it
            client = app.test_client()
            if viewer != "anonymous":
                login(client, viewers[viewer])
            url = re.sub(r"<int:team_id>", str(team.id), rule).replace("<int:sync_id>", str(job.id))
            if endpoint == "sync_errors.retry_all":
                url += "?code=REQUIRED_FIELD_MISSING"
            if method == "POST":
                data = {"csrf_token": csrf_token(client), "code": "REQUIRED_FIELD_MISSING", "note": "matrix"}
                status = client.post(url, data=data).status_code
            else:
                status = client.get(url).status_code
            expected = expected_status(ROUTE_KINDS[endpoint], endpoint, viewer, method)
            if status != expected:
                mismatches.append(f"{method} {rule} as {viewer}: {status}, expected {expected}")

    assert mismatches == []


def test_a_member_sees_only_the_syncs_of_calendars_they_created_or_host(client, factory, db_session):
    team, users = factory.team_with_roles()
    member = users[Role.MEMBER]
    created = factory.calendar(team, created_by=member)
    hosted = factory.calendar(team, created_by=users[Role.OWNER], hosts=[member])
    foreign = factory.calendar(team, created_by=users[Role.OWNER])
    visible = {make_sync(db_session, make_booking(db_session, c)).id for c in (created, hosted)}
    hidden = make_sync(db_session, make_booking(db_session, foreign))
    login(client, member)

    text = client.get(f"/teams/{team.id}/salesforce/errors").get_data(as_text=True)

    assert {int(n) for n in re.findall(r'<tr id="sync-(\d+)"', text)} == visible
    assert f"sync-{hidden.id}" not in text and foreign.name not in text  # not even in the calendar filter


def test_an_admin_assistant_sees_every_calendars_syncs(client, factory, db_session):
    team, users = factory.team_with_roles()
    calendars = [factory.calendar(team, created_by=users[Role.OWNER]) for _ in range(2)]
    jobs = {make_sync(db_session, make_booking(db_session, c)).id for c in calendars}
    login(client, users[Role.ADMIN_ASSISTANT])

    text = client.get(f"/teams/{team.id}/salesforce/errors").get_data(as_text=True)

    assert {int(n) for n in re.findall(r'<tr id="sync-(\d+)"', text)} == jobs


def test_a_sync_of_another_team_is_not_found_even_for_an_owner(client, factory, db_session):
    team, users = factory.team_with_roles()
    other_team = factory.team()
    other_job = make_sync(db_session, make_booking(db_session, factory.calendar(other_team, created_by=factory.user())))
    login(client, users[Role.OWNER])

    for path in ("", "/retry", "/dismiss"):
        assert client.get(f"/teams/{team.id}/salesforce/syncs/{other_job.id}{path}").status_code == 404


def test_staff_cannot_dismiss_anywhere(app):
    support_routes = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("support.")]

    assert support_routes and not any("dismiss" in rule for rule in support_routes)
