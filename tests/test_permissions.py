"""The permission matrix, generated from app.url_map so that a route added later is covered without anyone
remembering to add it here.

Conventions (for whoever adds a route):
- A route is either public (PUBLIC_ENDPOINTS, or under PUBLIC_PREFIXES: guests' booking pages and manage
  links) or it sends anonymous visitors to the login page. A new public route must be added to the allow-list.
- Staff-only routes live under STAFF_ONLY_PREFIX and refuse everyone who is not staff with 403.
- Every other route that names objects in its URL must answer 404 when any of them belongs to another team:
  load first (404), then authorize (403), then validate. URL arguments are filled by name from OBJECT_IDS
  (team_id, calendar_id, sync_id, …) or PUBLIC_VALUES (slug, token, …); an argument name this test does not
  know fails test_every_url_argument_is_known, so teach it here when you add one.
- Every POST is refused without a CSRF token (CSRF_EXEMPT lists the exceptions: none).
- Every response carries the security headers of design §9.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.routing import Rule

from portal.models import (
    Booking,
    FieldMapping,
    Invitation,
    Membership,
    Role,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncStatus,
    Team,
    User,
    utcnow,
)
from tests.auth_flow import csrf_token, log_in_with
from tests.factories import login

PUBLIC_ENDPOINTS = {
    "static",
    "health.healthz",
    "home.index",
    "auth.login",
    "auth.start",
    "auth.callback",
    "auth.logout",
    "salesforce.callback",  # the OAuth redirect back from Salesforce; it checks its own state
}
PUBLIC_PREFIXES = ("/book/", "/manage/")
STAFF_ONLY_PREFIX = "/support/"
CSRF_EXEMPT: set[str] = set()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    """One team with one object of every kind a URL can name."""

    team: Team
    owner: User
    member: User
    calendar_id: int
    calendar_slug: str
    question_id: int
    booking_id: int
    invitation_id: int
    connection_id: int
    integration_id: int
    mapping_id: int
    sync_id: int
    attempt_id: int


OBJECT_IDS: dict[str, Callable[[World], int]] = {
    "team_id": lambda world: world.team.id,
    "user_id": lambda world: world.member.id,
    "calendar_id": lambda world: world.calendar_id,
    "question_id": lambda world: world.question_id,
    "booking_id": lambda world: world.booking_id,
    "invitation_id": lambda world: world.invitation_id,
    "connection_id": lambda world: world.connection_id,
    "integration_id": lambda world: world.integration_id,
    "mapping_id": lambda world: world.mapping_id,
    "sync_id": lambda world: world.sync_id,
    "attempt_id": lambda world: world.attempt_id,
}
PUBLIC_VALUES: dict[str, Callable[[World], str]] = {
    "filename": lambda world: "css/app.css",
    "provider": lambda world: "google",
    "slug": lambda world: world.calendar_slug,
    "token": lambda world: "not-a-real-manage-token",
}


def build_world(factory, db_session, name: str) -> World:
    team = factory.team(name=name)
    owner = factory.member(team, Role.OWNER)
    member = factory.member(team, Role.MEMBER)
    calendar = factory.calendar(team, created_by=member)
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    booking = Booking(
        calendar_id=calendar.id,
        host_id=member.id,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        busy_from=start,
        busy_until=start + timedelta(minutes=30),
        guest_name="Guest",
        guest_email="guest@example.com",
        manage_token_hash=hashlib.sha256(f"{name}-token".encode()).hexdigest(),
    )
    invitation = Invitation(team_id=team.id, email=f"invitee@{team.id}.example", role=Role.MEMBER)
    connection = SalesforceConnection(
        team_id=team.id, login_url="https://login.salesforce.com", instance_url="https://example.my.salesforce.com"
    )
    integration = SalesforceIntegration(calendar_id=calendar.id, object_name=SalesforceObject.LEAD)
    db_session.add_all([booking, invitation, connection, integration])
    db_session.flush()
    mapping = FieldMapping(integration_id=integration.id, sf_field="LastName", source_kind=SourceKind.FIXED)
    job = SyncJob(
        team_id=team.id,
        calendar_id=calendar.id,
        booking_id=booking.id,
        event=SyncEvent.CREATED,
        status=SyncStatus.FAILED,
        error_code="REQUIRED_FIELD_MISSING",
        retryable=True,
    )
    db_session.add_all([mapping, job])
    db_session.flush()
    attempt = SyncAttempt(sync_job_id=job.id, number=1, outcome="failed")
    db_session.add(attempt)
    db_session.flush()
    return World(
        team=team,
        owner=owner,
        member=member,
        calendar_id=calendar.id,
        calendar_slug=calendar.slug,
        question_id=calendar.questions[0].id,
        booking_id=booking.id,
        invitation_id=invitation.id,
        connection_id=connection.id,
        integration_id=integration.id,
        mapping_id=mapping.id,
        sync_id=job.id,
        attempt_id=attempt.id,
    )


@pytest.fixture
def ours(factory, db_session) -> World:
    return build_world(factory, db_session, "Team A")


@pytest.fixture
def theirs(factory, db_session) -> World:
    return build_world(factory, db_session, "Team B")


def all_rules(app) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def is_public(rule: Rule) -> bool:
    return rule.endpoint in PUBLIC_ENDPOINTS or rule.rule.startswith(PUBLIC_PREFIXES)


def is_staff_only(rule: Rule) -> bool:
    return rule.rule.startswith(STAFF_ONLY_PREFIX)


def methods(rule: Rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def object_arguments(rule: Rule) -> list[str]:
    return sorted(argument for argument in rule.arguments if argument in OBJECT_IDS)


def path_for(rule: Rule, world: World, overrides: dict[str, int] | None = None) -> str:
    values = {}
    for argument in rule.arguments:
        if argument in OBJECT_IDS:
            values[argument] = OBJECT_IDS[argument](world)
        else:
            values[argument] = PUBLIC_VALUES[argument](world)
    values.update(overrides or {})
    _, path = rule.build(values, append_unknown=False)
    return path


def request(client, method: str, path: str, *, with_csrf: bool = True):
    data = {"csrf_token": csrf_token(client)} if with_csrf and method in WRITE_METHODS else {}
    return client.open(path, method=method, data=data)


def security_header_problems(response) -> list[str]:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    problems = []
    if "script-src 'self'" not in csp or "unsafe-inline" in csp:
        problems.append("a CSP with script-src 'self' and no 'unsafe-inline'")
    if "frame-ancestors 'none'" not in csp:
        problems.append("frame-ancestors 'none'")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options: nosniff")
    return problems


class Findings:
    """Collects every violation over all routes, so one run shows the whole matrix's failures."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def expect(self, condition: bool, method: str, path: str, rule: Rule, message: str) -> None:
        if not condition:
            self.items.append(f"{method} {path} ({rule.endpoint}): {message}")

    def check_headers(self, response, method: str, path: str, rule: Rule) -> None:
        for missing in security_header_problems(response):
            self.items.append(f"{method} {path} ({rule.endpoint}): missing {missing}")

    def assert_none(self) -> None:
        assert not self.items, "\n".join(self.items)


def routes(app, wanted: Callable[[Rule], bool]) -> Iterator[tuple[Rule, str]]:
    for rule in all_rules(app):
        if wanted(rule):
            for method in methods(rule):
                yield rule, method


def test_every_url_argument_is_known(app):
    known = set(OBJECT_IDS) | set(PUBLIC_VALUES)
    unknown = {
        f"{rule.rule} ({rule.endpoint}): {argument}"
        for rule in all_rules(app)
        for argument in rule.arguments
        if argument not in known
    }
    assert not unknown, "teach tests/test_permissions.py these URL arguments:\n" + "\n".join(sorted(unknown))


def test_anonymous_visitors_are_sent_to_login_everywhere_but_public_routes(client, ours):
    findings = Findings()
    for rule, method in routes(client.application, lambda rule: not is_public(rule)):
        path = path_for(rule, ours)
        response = request(client, method, path)
        location = response.headers.get("Location", "")
        findings.expect(
            response.status_code == 302 and location.startswith("/login?next="),
            method,
            path,
            rule,
            f"expected a redirect to /login, got {response.status_code} {location}".rstrip()
            + " (if the route is public, add it to PUBLIC_ENDPOINTS)",
        )
        findings.check_headers(response, method, path, rule)
    findings.assert_none()


def test_a_member_of_another_team_gets_404_for_its_objects(client, ours, theirs):
    """All of the route's objects from team B, then each one alone from B beside team A's others."""
    login(client, ours.owner)
    findings = Findings()
    scoped = lambda rule: not is_public(rule) and not is_staff_only(rule) and object_arguments(rule)  # noqa: E731
    for rule, method in routes(client.application, scoped):
        arguments = object_arguments(rule)
        variants = [{name: OBJECT_IDS[name](theirs) for name in arguments}]
        if len(arguments) > 1:
            variants += [{name: OBJECT_IDS[name](theirs)} for name in arguments]
        for overrides in variants:
            path = path_for(rule, ours, overrides)
            response = request(client, method, path)
            findings.expect(
                response.status_code == 404, method, path, rule, f"expected 404, got {response.status_code}"
            )
    findings.assert_none()


def test_a_teams_own_pages_answer_its_owner(client, ours):
    """The ids above are real: with team A's own objects, A's owner is not told 404."""
    login(client, ours.owner)
    findings = Findings()
    own_pages = lambda rule: not is_public(rule) and not is_staff_only(rule) and "GET" in rule.methods  # noqa: E731
    for rule, _ in routes(client.application, own_pages):
        path = path_for(rule, ours)
        response = client.get(path)
        findings.expect(
            response.status_code != 404 and response.status_code < 500,
            "GET",
            path,
            rule,
            f"expected the page, got {response.status_code}",
        )
        findings.check_headers(response, "GET", path, rule)
    findings.assert_none()


def test_ids_beyond_the_database_range_are_not_found(client, ours):
    login(client, ours.owner)
    findings = Findings()
    for rule, method in routes(client.application, lambda rule: bool(object_arguments(rule))):
        path = path_for(rule, ours, {name: 2**31 for name in object_arguments(rule)})
        response = request(client, method, path)
        # 405 when another route's pattern fits the path for other methods: werkzeug checks methods first
        findings.expect(
            response.status_code in (404, 405), method, path, rule, f"expected 404, got {response.status_code}"
        )
    findings.assert_none()


def test_staff_only_routes_refuse_everyone_else(client, ours, theirs):
    login(client, ours.owner)
    findings = Findings()
    for rule, method in routes(client.application, is_staff_only):
        for world in (ours, theirs):
            path = path_for(rule, world)
            response = request(client, method, path)
            findings.expect(
                response.status_code == 403, method, path, rule, f"expected 403, got {response.status_code}"
            )
    findings.assert_none()


def test_a_post_without_csrf_token_is_refused(client, ours):
    login(client, ours.owner)
    findings = Findings()
    for rule, method in routes(client.application, lambda rule: rule.endpoint not in CSRF_EXEMPT):
        if method not in WRITE_METHODS:
            continue
        path = path_for(rule, ours)
        response = request(client, method, path, with_csrf=False)
        findings.expect(response.status_code == 400, method, path, rule, f"expected 400, got {response.status_code}")
    findings.assert_none()


def test_public_pages_carry_the_security_headers(client, ours):
    findings = Findings()
    for rule, _ in routes(client.application, lambda rule: is_public(rule) and "GET" in rule.methods):
        path = path_for(rule, ours)
        findings.check_headers(client.get(path), "GET", path, rule)
    findings.assert_none()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ADMIN_ASSISTANT, Role.MEMBER])
def test_members_cannot_change_roles(client, factory, db_session, ours, role):
    actor = factory.member(ours.team, role)
    login(client, actor)

    for target, new_role in [(ours.member, "owner"), (actor, "owner"), (ours.owner, "member")]:
        response = client.post(
            f"/teams/{ours.team.id}/settings/members/{target.id}/role",
            data={"csrf_token": csrf_token(client), "role": new_role},
        )
        assert response.status_code == 403

    roles = dict(
        db_session.execute(select(Membership.user_id, Membership.role).where(Membership.team_id == ours.team.id)).all()
    )
    assert roles[actor.id] == role and roles[ours.member.id] == Role.MEMBER and roles[ours.owner.id] == Role.OWNER


def test_the_last_owner_cannot_be_removed(client, db_session, ours):
    login(client, ours.owner)

    response = client.post(
        f"/teams/{ours.team.id}/settings/members/{ours.owner.id}/remove", data={"csrf_token": csrf_token(client)}
    )

    membership = db_session.scalar(
        select(Membership).where(Membership.team_id == ours.team.id, Membership.user_id == ours.owner.id)
    )
    assert membership is not None and membership.role == Role.OWNER
    assert "its last owner cannot be removed" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "http:/x"]
)
def test_an_off_site_next_parameter_is_ignored(client, identity_control, target):
    assert "evil.example" not in client.get("/login", query_string={"next": target}).get_data(as_text=True)

    response = log_in_with(client, identity_control, "google", next_target=target)

    assert response.headers["Location"] == "/dashboard"


def test_cookies_are_httponly_and_samesite(client, identity_control):
    response = log_in_with(client, identity_control, "google", email="cookie@example.com")

    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
