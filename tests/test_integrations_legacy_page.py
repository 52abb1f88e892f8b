"""The legacy import in the product (issue 12): owners and admins on their team's Salesforce page and staff in the
support console check a legacy export, see what will be created, and confirm; refusals explain the problem and
import nothing; a team's page may name only that team's calendars."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Role, SalesforceIntegration, SourceKind
from tests.factories import login
from tests.integration_support import connected_world, question_id
from tests.sync_factories import csrf_token


def legacy_file(*slugs: str, rows=None) -> bytes:
    rows = rows or [
        ("LastName", "question:Name"),
        ("Email", "question:E-mail"),
        ("Company", "fixed:Acme"),
        ("LeadSource", "fixed:Web"),
    ]
    document = [
        {
            "calendar": slug,
            "object": "Lead",
            "information_to_be_retrieved": [{"lead_label": f, "source": s} for f, s in rows],
        }
        for slug in slugs
    ]
    return json.dumps(document).encode()


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    found = connected_world(factory, db_session, salesforce_emulator, salesforce_control, slug="legacy-page-cal")
    db_session.commit()  # a refused import rolls back its own work, never the test's
    return found


def page_url(world) -> str:
    return f"/teams/{world.team.id}/settings/integrations/salesforce/legacy-import"


def check(client, url: str, data: bytes):
    return client.post(
        url,
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), "legacy.json"), "check": "Check the file"},
        content_type="multipart/form-data",
    )


def integrations(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(SalesforceIntegration))


def test_the_team_page_shows_what_will_be_created_and_imports_only_on_confirmation(client, db_session, world):
    login(client, world.owner)
    assert "Import legacy settings" in client.get(f"/teams/{world.team.id}/settings/integrations/salesforce").text

    checked = check(client, page_url(world), legacy_file("legacy-page-cal"))

    text = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "What will be created" in text
    assert "Register new behavior: Not register · Update behavior: Not update" in text
    assert "<td>LastName</td><td>Booking question: Name</td>" in text
    assert "<td>Company</td><td>Fixed value: Acme</td>" in text
    assert integrations(db_session) == 0

    document = legacy_file("legacy-page-cal").decode()
    confirmed = client.post(
        page_url(world), data={"csrf_token": csrf_token(client), "document": document, "confirm": "Import"}
    )

    assert confirmed.status_code == 302
    imported = db_session.scalar(
        select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == world.calendar.id)
    )
    assert (imported.object_name.value, imported.register_event, imported.overwrite) == ("Lead", False, False)
    assert [(m.sf_field, m.source_kind, m.source_key, m.fixed_value) for m in imported.mappings] == [
        ("LastName", SourceKind.QUESTION, str(question_id(world.calendar, "Name")), ""),
        ("Email", SourceKind.QUESTION, str(question_id(world.calendar, "E-mail")), ""),
        ("Company", SourceKind.FIXED, "", "Acme"),
        ("LeadSource", SourceKind.FIXED, "", "Web"),
    ]
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "salesforce_integration.created"))
    assert (event.actor_id, event.details["via"]) == (world.owner.id, "legacy import")


def test_a_file_naming_another_teams_calendar_imports_nothing_and_says_why(client, db_session, factory, world):
    other_team = factory.team()
    factory.calendar(other_team, created_by=factory.member(other_team, Role.OWNER), slug="someone-elses")
    db_session.commit()
    login(client, world.owner)

    response = check(client, page_url(world), legacy_file("legacy-page-cal", "someone-elses"))

    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Entry 2 (calendar &#39;someone-elses&#39;): no calendar of this team has this slug." in text
    assert "Not imported: nothing was imported." in text
    confirmed = client.post(
        page_url(world),
        data={
            "csrf_token": csrf_token(client),
            "document": legacy_file("legacy-page-cal", "someone-elses").decode(),
            "confirm": "Import",
        },
    )
    assert confirmed.status_code == 422 and integrations(db_session) == 0


def test_a_refused_file_explains_the_problem_where_it_is(client, db_session, world):
    login(client, world.owner)

    response = check(client, page_url(world), legacy_file("legacy-page-cal", rows=[("LastName", "question:Nope")]))

    assert response.status_code == 422
    assert "Entry 1 (calendar &#39;legacy-page-cal&#39;), row 1" in response.get_data(as_text=True)
    assert integrations(db_session) == 0


def test_each_faulty_entry_is_explained_at_once(client, db_session, factory, world):
    factory.calendar(world.team, created_by=world.owner, slug="legacy-page-two")
    db_session.commit()
    login(client, world.owner)
    document = json.loads(legacy_file("legacy-page-cal", "legacy-page-two", "no-such-calendar"))
    document[0]["object"] = "Contact"

    response = check(client, page_url(world), json.dumps(document).encode())

    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "Fix these 2 problems in the file" in text
    assert "<li>Entry 1 (calendar &#39;legacy-page-cal&#39;): the object must be" in text
    assert "<li>Entry 3 (calendar &#39;no-such-calendar&#39;): no calendar of this team has this slug.</li>" in text
    refusal = text.split('data-role="legacy-problem"')[1].split("</div>")[0]
    assert refusal.count("<li>") == 2 and "legacy-page-two" not in refusal  # the sound entry is not blamed
    assert integrations(db_session) == 0


@pytest.mark.parametrize("role", [Role.ADMIN_ASSISTANT, Role.MEMBER])
def test_only_owners_and_admins_import_on_the_team_page(client, db_session, factory, world, role):
    login(client, factory.member(world.team, role))

    assert client.get(page_url(world)).status_code == 403
    assert check(client, page_url(world), legacy_file("legacy-page-cal")).status_code == 403
    assert integrations(db_session) == 0


def test_staff_import_any_teams_calendar_from_the_support_console(client, db_session, factory, world):
    staff = factory.user(staff=True)
    db_session.commit()
    login(client, staff)
    assert "Import legacy settings" in client.get("/support/syncs").get_data(as_text=True)

    checked = check(client, "/support/legacy-import", legacy_file("legacy-page-cal"))
    confirmed = client.post(
        "/support/legacy-import",
        data={
            "csrf_token": csrf_token(client),
            "document": legacy_file("legacy-page-cal").decode(),
            "confirm": "Import",
        },
    )

    assert checked.status_code == 200 and "What will be created" in checked.get_data(as_text=True)
    assert confirmed.status_code == 302 and integrations(db_session) == 1


def test_a_refused_file_is_explained_in_the_viewers_language(client, db_session, world):
    """Issue 15: each problem (where in the file, and why) reads in Japanese for a Japanese owner; the file's own
    values (slugs, question labels) stay as typed."""
    world.owner.locale = "ja"
    db_session.commit()
    login(client, world.owner)
    rows = [("LastName", "question:Name"), ("Email", "question:No such question")]

    text = check(client, page_url(world), legacy_file("no-such-calendar", "legacy-page-cal", rows=rows)).get_data(
        as_text=True
    )

    assert (
        "<li>1 件目（日程調整カレンダー &#39;no-such-calendar&#39;）：このチームにこのスラッグの日程調整カレンダーはありません。</li>"
        in text
    )
    assert (
        "2 件目（日程調整カレンダー &#39;legacy-page-cal&#39;）、2 行目：この日程調整カレンダーに &#39;No such question&#39; "
        "というラベルの質問はありません。"
    ) in text
    assert integrations(db_session) == 0
