"""Deleting a booking question that the Salesforce mapping uses: the calendar editor warns first (integrations.guard),
then, confirmed, deletes it and leaves the integration flagged until the mapping row is fixed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Question, QuestionKind, Role, SalesforceIntegration
from tests.auth_flow import csrf_token
from tests.factories import login
from tests.integration_support import add_integration, connected_world, editor_form, question_id, row_errors


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    world = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    db_session.add(
        Question(
            calendar_id=world.calendar.id, kind=QuestionKind.SHORT_TEXT, label="Job title", max_length=100, position=9
        )
    )
    db_session.flush()
    db_session.refresh(world.calendar)
    rows = [
        ("LastName", "question", str(question_id(world.calendar, "Name"))),
        ("Email", "question", str(question_id(world.calendar, "E-mail"))),
        ("Company", "fixed", "Acme"),
        ("Title", "question", str(question_id(world.calendar, "Job title"))),
    ]
    add_integration(db_session, world.calendar, rows)
    db_session.commit()  # the editor rolls back a refused save; the test's own objects must survive it
    return world


def calendar_form(client, world, **changes) -> dict[str, str]:
    """The calendar editor's form as shown, with a custom question row marked for removal or other changes."""
    data = editor_form(client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True))
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def job_title_row(data: dict[str, str]) -> str:
    return next(key.removesuffix("-label") for key, value in data.items() if value == "Job title")


def question_labels(db_session, world) -> list[str]:
    return list(
        db_session.scalars(
            select(Question.label).where(Question.calendar_id == world.calendar.id).order_by(Question.id)
        )
    )


def integration(db_session) -> SalesforceIntegration:
    db_session.expire_all()
    return db_session.scalar(select(SalesforceIntegration))


GONE = "Row 4 (Title): The booking question this row used no longer exists; choose another source or remove the row."


def test_removing_a_mapped_question_asks_first_and_deletes_nothing(client, db_session, world):
    login(client, world.owner)
    data = calendar_form(client, world)
    data[f"{job_title_row(data)}-remove"] = "y"

    response = client.post(f"/calendars/{world.calendar.id}/edit", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The booking question this row used no longer exists" in page
    assert f'href="{world.editor_url}#row-4">Fix this row</a>' in page
    assert 'name="confirm_mapping_changes"' in page
    assert "Job title" in question_labels(db_session, world)
    assert integration(db_session).attention == ""


def test_confirming_deletes_the_question_and_flags_the_integration_until_fixed(client, db_session, world):
    login(client, world.owner)
    data = calendar_form(client, world, confirm_mapping_changes="y")
    data[f"{job_title_row(data)}-remove"] = "y"

    response = client.post(f"/calendars/{world.calendar.id}/edit", data=data)

    assert response.status_code == 302
    assert "Job title" not in question_labels(db_session, world)
    flagged = integration(db_session)
    assert flagged.attention == GONE
    assert [m.sf_field for m in flagged.mappings] == ["LastName", "Email", "Company", "Title"]
    assert db_session.scalar(
        select(AuditEvent.details).where(AuditEvent.action == "salesforce_integration.flagged")
    ) == {"calendar_id": world.calendar.id, "reason": flagged.attention, "confirmed": True}
    section = client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True)
    editor_page = client.get(world.editor_url).get_data(as_text=True)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"This mapping needs fixing: {GONE}" in section
    assert "Needs attention" in section and "Needs attention" in editor_page and "Needs attention" in dashboard


def test_the_flag_stays_until_the_row_is_fixed(client, db_session, world):
    integration(db_session).attention = GONE
    world.calendar.questions.remove(next(q for q in world.calendar.questions if q.label == "Job title"))
    db_session.commit()
    login(client, world.owner)
    stale = editor_form(client.get(world.editor_url).get_data(as_text=True))

    unchanged = client.post(world.editor_url, data={**stale, "save": "Integration"})
    fixed = client.post(
        world.editor_url,
        data={**stale, "save": "Integration", "rows-3-source": "fixed", "rows-3-fixed_value": "Buyer"},
    )

    assert unchanged.status_code == 422
    assert row_errors(unchanged.get_data(as_text=True))[3] == [
        "The booking question this row used no longer exists; choose another source or remove the row."
    ]
    assert fixed.status_code == 302
    assert integration(db_session).attention == ""


def test_switching_off_a_mapped_built_in_question_asks_too(client, db_session, world):
    integration_row = integration(db_session)
    integration_row.mappings[2].source_kind = "question"
    integration_row.mappings[2].source_key = str(question_id(world.calendar, "Company"))
    integration_row.mappings[2].fixed_value = ""
    db_session.commit()
    login(client, world.owner)

    response = client.post(f"/calendars/{world.calendar.id}/edit", data=calendar_form(client, world, company="off"))

    assert response.status_code == 422
    assert "Row 3 (Company): The booking question this row used no longer exists" in response.get_data(as_text=True)
    assert "Company" in question_labels(db_session, world)


def test_removing_an_unmapped_question_is_not_asked_about(client, db_session, world):
    login(client, world.owner)

    response = client.post(f"/calendars/{world.calendar.id}/edit", data=calendar_form(client, world, phone="off"))

    assert response.status_code == 302
    assert "Phone" not in question_labels(db_session, world)
    assert integration(db_session).attention == ""


def test_saving_a_calendar_without_an_integration_is_unaffected(client, factory, db_session):
    team = factory.team()
    owner = factory.member(team, Role.OWNER)
    calendar = factory.calendar(team, created_by=owner)
    db_session.commit()
    login(client, owner)
    data = editor_form(client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True))

    response = client.post(f"/calendars/{calendar.id}/edit", data={**data, "company": "off"})

    assert response.status_code == 302
    assert db_session.scalar(select(SalesforceIntegration)) is None


def test_the_integration_editor_form_round_trips_as_shown(client, world):
    login(client, world.owner)
    data = editor_form(client.get(world.editor_url).get_data(as_text=True))

    response = client.post(world.editor_url, data={**data, "save": "Integration", "csrf_token": csrf_token(client)})

    assert response.status_code == 302
