"""The mapping editor's in-place remedies for a field Salesforce requires that no row fills (issue 12): a new
calendar asks no company, and a Lead needs one. One click asks the question on the booking form, or fills the
field with a typed fixed value; either adds the row, which the editor then saves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, QuestionKind, SalesforceIntegration
from tests.auth_flow import csrf_token
from tests.factories import login
from tests.integration_support import connected_world, editor_form, editor_post, question_id


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    world = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    for question in [q for q in world.calendar.questions if q.kind == QuestionKind.COMPANY]:
        world.calendar.questions.remove(question)  # as a new calendar: no company question
    db_session.flush()
    return world


def name_and_email(calendar) -> list[tuple]:
    return [
        ("LastName", f"question:{question_id(calendar, 'Name')}"),
        ("Email", f"question:{question_id(calendar, 'E-mail')}"),
    ]


def test_the_editor_offers_both_remedies_for_a_leads_company_before_any_save(client, world):
    login(client, world.owner)

    page = client.get(f"{world.editor_url}/new").get_data(as_text=True)

    assert "Salesforce requires Company (Company) to create a Lead, and no row fills it." in page
    assert 'name="ask_question" value="Company"' in page and 'name="use_fixed" value="Company"' in page
    assert "Ask “Company” on the booking form (required)" in page


def test_asking_the_question_adds_it_required_and_maps_it_then_the_mapping_saves(client, db_session, world):
    login(client, world.owner)
    rows = name_and_email(world.calendar)

    data = editor_post(csrf_token(client), rows, button="ask_question")
    data["ask_question"] = "Company"

    page = client.post(f"{world.editor_url}/new", data=data)
    form = editor_form(page.get_data(as_text=True))
    db_session.refresh(world.calendar)
    company = next(q for q in world.calendar.questions if q.kind == QuestionKind.COMPANY)
    saved = client.post(f"{world.editor_url}/new", data={**form, "save": "y"})

    assert page.status_code == 200 and company.required and company.label == "Company"
    assert [q.kind for q in world.calendar.questions][:3] == [
        QuestionKind.FULL_NAME,
        QuestionKind.EMAIL,
        QuestionKind.COMPANY,
    ]
    assert (form["rows-2-sf_field"], form["rows-2-source"]) == ("Company", f"question:{company.id}")
    assert saved.status_code == 302
    integration = db_session.scalar(select(SalesforceIntegration))
    assert [m.sf_field for m in integration.mappings] == ["LastName", "Email", "Company"]
    assert db_session.scalar(select(AuditEvent.details).where(AuditEvent.action == "calendar.question_asked")) == {
        "question_id": company.id,
        "kind": "company",
        "reason": "required by the Salesforce mapping",
    }


def test_filling_with_a_typed_value_adds_a_fixed_row_and_nothing_is_saved_yet(client, db_session, world):
    login(client, world.owner)
    data = editor_post(csrf_token(client), name_and_email(world.calendar), button="use_fixed")
    data.update({"use_fixed": "Company", "remedy-Company": "Private person"})

    page = client.post(f"{world.editor_url}/new", data=data)
    form = editor_form(page.get_data(as_text=True))

    assert page.status_code == 200 and db_session.scalar(select(SalesforceIntegration)) is None
    assert (form["rows-2-sf_field"], form["rows-2-source"], form["rows-2-fixed_value"]) == (
        "Company",
        "fixed",
        "Private person",
    )
    assert "Salesforce requires Company" not in page.get_data(as_text=True)


def test_filling_without_a_value_says_to_type_one(client, world):
    login(client, world.owner)
    data = editor_post(csrf_token(client), name_and_email(world.calendar), button="use_fixed")
    data["use_fixed"] = "Company"

    page = client.post(f"{world.editor_url}/new", data=data).get_data(as_text=True)

    assert "Type the value to fill Company (Company) with" in page
