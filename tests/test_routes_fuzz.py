"""Property (issue 17): for every route in app.url_map, GET and POST as a logged-in owner (and staff) of a Premium
team with a connected org, a calendar with a Salesforce integration, bookings and failed syncs, with a valid CSRF
token, random strings (NUL, control characters, huge numbers, extreme and malformed dates, very long values) in
every path segment, query parameter and form field never give a 500 nor an unhandled-error log line.

The fields come from the pages themselves: every GET page is rendered once and its forms parsed (html.parser), so a
field added to a form is fuzzed without this file changing; query parameters the views read without a form are
listed in QUERY_PARAMETERS. Each example runs in a savepoint that is rolled back, so deleting, disconnecting or
logging out in one example leaves the next one the same world."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from portal.calendars.booking import hash_token
from portal.extensions import db
from portal.models import Invitation, Role, User
from portal.salesforce import describe
from tests.auth_flow import csrf_token
from tests.factories import login
from tests.integration_support import connected_world
from tests.sync_factories import make_attempt, make_booking, make_integration, make_sync

# Query parameters views read from request.args (the filter forms add theirs when their pages are parsed).
QUERY_PARAMETERS = (
    "week", "slot", "tz", "booking", "q", "code", "state", "team", "calendar", "from", "to", "action", "actor",
    "page", "per_page", "status", "next", "error", "error_description",
)  # fmt: skip
METHODS = ("GET", "POST")
EXAMPLES_PER_ROUTE = 12
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

NASTY = [
    "\x00", "a\x00b", "\x01", "\x1b[2J", "\x7f", "\u0085", "\r\n", "\t", "\u202e", "\u200b", "\ufeff", "\u3000",
    "", " ", "0", "-1", "1.5", "1e309", "NaN", "Infinity", "9" * 30, str(2**63), str(2**31), "-" + "9" * 25,
    "9999-12-31", "0001-01-01", "0000-00-00", "10000-01-01", "-0001-01-01", "2024-02-30", "2024-13-01",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:55:00+14:00", "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:00+25:00", "2024-W99", "1970-01-01", "localtime", "Factory", "../../etc/passwd",
    "%00", "<script>alert(1)</script>", "'; DROP TABLE bookings; --", "💥" * 50,
]  # fmt: skip
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)  # surrogates cannot be sent
fuzz = st.one_of(
    st.sampled_from(NASTY),
    text,
    st.builds(lambda a, b, c: a + b + c, text, st.sampled_from(NASTY), text),
    st.builds(lambda char, n: char * n, st.sampled_from(["x", "9", "\x00", "é"]), st.integers(1_000, 20_000)),
)


@dataclass
class Forms:
    """Field names and their rendered values, per endpoint and method; query parameters per endpoint."""

    fields: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    query: dict[str, set[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """Each <form>'s action, method and fields (inputs, selects with their selected option, textareas)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form":
            self._fields = {}
            method = (attributes.get("method") or "get").upper()
            self.forms.append((attributes.get("action") or "", method, self._fields))
        elif self._fields is None or not name and tag != "option":
            return
        elif tag == "input" and attributes.get("type") not in ("checkbox", "radio") or "checked" in attributes:
            self._fields.setdefault(name, attributes.get("value") or "")
        elif tag in ("input", "textarea"):
            self._fields.setdefault(name, "")
        elif tag == "select":
            self._select = name
            self._fields.setdefault(name, "")
        elif tag == "option" and self._select and ("selected" in attributes or not self._fields[self._select]):
            self._fields[self._select] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


@dataclass
class World:
    owner_id: int
    values: dict[str, str]  # a valid value for each path argument name


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control) -> World:
    made = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    owner = made.owner
    owner.is_staff = True  # so the support console is reached too
    member = factory.member(made.team, Role.MEMBER)
    invitation = Invitation(team_id=made.team.id, email="invited@example.test", role=Role.MEMBER)
    db_session.add(invitation)
    make_integration(db_session, made.calendar)
    booking = make_booking(db_session, made.calendar)
    token = secrets.token_urlsafe(24)
    booking.manage_token_hash = hash_token(token)  # so the guest's manage pages open
    job = make_sync(db_session, booking)
    make_attempt(db_session, job)
    for object_name in ("Lead", "Contact"):  # cached, so the editor asks the emulator nothing
        describe.describe_of(made.connection, object_name)
    db_session.commit()
    values = {
        "calendar_id": str(made.calendar.id),
        "team_id": str(made.team.id),
        "sync_id": str(job.id),
        "user_id": str(member.id),
        "invitation_id": str(invitation.id),
        "slug": made.calendar.slug,
        "token": token,
        "provider": "google",
        "filename": "css/app.css",
    }
    return World(owner.id, values)


def discovered_forms(app, client, world: World) -> Forms:
    """Every GET page rendered once with valid arguments (none may fail), and their forms parsed."""
    forms = Forms()
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.callback", "salesforce.callback"):
            continue
        path = _path(rule, world.values)
        response = client.get(path)
        assert response.status_code < 500, f"GET {path}: {response.status_code}"
        parser = _FormParser()
        parser.feed(response.get_data(as_text=True))
        for action, method, fields in parser.forms:
            target = urlsplit(action).path or path
            try:
                endpoint, _ = adapter.match(target, method=method)
            except (NotFound, MethodNotAllowed):
                continue
            if method == "GET":
                forms.query.setdefault(endpoint, set()).update(fields)
            else:
                forms.fields.setdefault((endpoint, method), {}).update(fields)
    return forms


def _path(rule: Rule, values: dict[str, str], replaced: dict[str, str] | None = None) -> str:
    """The rule's path with valid values, some replaced by fuzz; built by hand so any string can be sent."""
    chosen = {**values, **(replaced or {})}
    return PLACEHOLDER.sub(lambda match: quote(chosen[match.group(1)], safe="/"), rule.rule)


def _request(draw, forms: Forms, world: World, rule: Rule, method: str) -> tuple[str, dict, dict]:
    """A path, query and form with valid values where nothing is drawn, and fuzz in a random part of each."""
    replaced = {arg: draw(fuzz) for arg in sorted(rule.arguments) if draw(st.booleans())}
    names = sorted(forms.query.get(rule.endpoint, set()) | set(QUERY_PARAMETERS))
    query = {name: draw(fuzz) for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True))}
    form = dict(forms.fields.get((rule.endpoint, method), {})) if method == "POST" else {}
    form.pop("csrf_token", None)
    # A form whose page needs a valid slot or code to render is not parsed: the known names stand in for it.
    fields = sorted(set(form) | set(QUERY_PARAMETERS))
    for name in draw(st.lists(st.sampled_from(fields), max_size=6, unique=True)) if method == "POST" else ():
        form[name] = draw(fuzz)
    return _path(rule, world.values, replaced), query, form


@pytest.mark.timeout(600)
def test_no_input_in_any_route_gives_a_server_error(app, client, db_session, world, caplog):
    """Every route and method of the app, each with its own bounded run of examples."""
    caplog.set_level(logging.ERROR)
    login(client, db_session.get(User, world.owner_id))
    forms = discovered_forms(app, client, world)
    routes = sorted(
        ((rule, method) for rule in app.url_map.iter_rules() for method in METHODS if method in rule.methods),
        key=lambda pair: (pair[0].rule, pair[1]),
    )
    assert forms.fields and forms.query and len(routes) > 40  # the crawl saw the app's pages and forms

    for rule, method in routes:
        fuzz_route(client, caplog, forms, world, rule, method)()


def fuzz_route(client, caplog, forms: Forms, world: World, rule: Rule, method: str):
    """One route's property; each example in a savepoint rolled back afterwards, logged in afresh."""
    connection = db.session.get_bind()

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def property_holds(data):
        path, query, form = _request(data.draw, forms, world, rule, method)
        db.session.remove()  # the session's own savepoint must begin inside ours, not around it
        savepoint = connection.begin_nested()
        try:
            login(client, db.session.get(User, world.owner_id))
            caplog.clear()
            if method == "POST":
                response = client.post(path, query_string=query, data={**form, "csrf_token": csrf_token(client)})
            else:
                response = client.get(path, query_string=query)
            unhandled = [r.getMessage() for r in caplog.records if r.name == "portal.errors" or r.exc_info]
            assert response.status_code < 500, f"{method} {path} {query} {form}: {response.status_code}"
            assert not unhandled, f"{method} {path} {query} {form}: logged {unhandled}"
        finally:
            db.session.remove()
            savepoint.rollback()

    return property_holds
