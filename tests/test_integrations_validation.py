"""Saving a Salesforce integration through the editor form (no JavaScript): the default mapping of a new
integration, each validation rule shown at its row with nothing saved, adding and removing rows, and the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import (
    AuditEvent,
    NameFormat,
    Question,
    QuestionKind,
    SalesforceIntegration,
    SourceKind,
    WriteRule,
)
from tests.auth_flow import csrf_token
from tests.booking_support import field_name, free_slot, post_booking
from tests.factories import login
from tests.integration_support import (
    add_integration,
    connected_world,
    editor_form,
    editor_post,
    question_id,
    row_errors,
)


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    return connected_world(factory, db_session, salesforce_emulator, salesforce_control)


def add_question(db_session, calendar, kind: QuestionKind, label: str, *, required=False, max_length=None, options=()):
    question = Question(
        calendar_id=calendar.id,
        kind=kind,
        label=label,
        required=required,
        max_length=max_length,
        options=list(options),
        position=len(calendar.questions),
    )
    db_session.add(question)
    db_session.flush()
    db_session.refresh(calendar)
    return question.id


def base_rows(calendar) -> list[tuple]:
    """A valid Lead mapping for the factory calendar (full name, e-mail, optional company and phone)."""
    return [
        ("LastName", f"question:{question_id(calendar, 'Name')}"),
        ("Email", f"question:{question_id(calendar, 'E-mail')}"),
        ("Company", f"question:{question_id(calendar, 'Company')}", "Unknown company"),
    ]


def save(client, world, rows, **settings):
    return client.post(f"{world.editor_url}/new", data=editor_post(csrf_token(client), rows, **settings))


def mapping_errors(page: str) -> str:
    match = re.search(r'<ul class="field-error mapping-errors"[^>]*>(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


def saved(db_session) -> SalesforceIntegration | None:
    return db_session.scalar(select(SalesforceIntegration))


# -- the default mapping and a successful save ---------------------------------------------------------------------


def test_a_new_integration_starts_from_the_default_mapping(client, world):
    login(client, world.owner)

    data = editor_form(client.get(f"{world.editor_url}/new").get_data(as_text=True))

    rows = [(data[f"rows-{i}-sf_field"], data[f"rows-{i}-source"]) for i in range(4)]
    assert rows == [
        ("LastName", f"question:{question_id(world.calendar, 'Name')}"),
        ("Email", f"question:{question_id(world.calendar, 'E-mail')}"),
        ("Company", f"question:{question_id(world.calendar, 'Company')}"),
        ("Phone", f"question:{question_id(world.calendar, 'Phone')}"),
    ]
    assert data["rows-4-sf_field"] == data["rows-5-sf_field"] == ""  # blank rows to fill without JavaScript
    assert data["object_name"] == "Lead" and data["contact_first"] == "y"


def test_separate_name_questions_map_family_to_last_and_given_to_first_name(
    client, factory, db_session, salesforce_emulator, salesforce_control
):
    world = connected_world(
        factory, db_session, salesforce_emulator, salesforce_control, name_format=NameFormat.FAMILY_GIVEN
    )
    login(client, world.owner)

    data = editor_form(client.get(f"{world.editor_url}/new").get_data(as_text=True))

    assert (data["rows-0-sf_field"], data["rows-0-source"]) == (
        "LastName",
        f"question:{question_id(world.calendar, 'Family name')}",
    )
    assert (data["rows-1-sf_field"], data["rows-1-source"]) == (
        "FirstName",
        f"question:{question_id(world.calendar, 'Given name')}",
    )


def test_a_valid_mapping_is_saved_with_the_integration_button_and_audited(client, db_session, world):
    login(client, world.owner)
    rows = [*base_rows(world.calendar), ("LeadSource", "fixed", "Web"), ("OwnerId", "item:participating_member")]

    response = save(client, world, rows, register_event="not_register", overwrite="update", on_cancel="mark_cancelled")

    assert response.status_code == 302 and response.headers["Location"].endswith(world.editor_url)
    integration = saved(db_session)
    assert (integration.register_event, integration.overwrite, integration.on_cancel.value) == (
        False,
        True,
        "mark_cancelled",
    )
    assert [
        (m.sf_field, m.source_kind, m.source_key, m.fixed_value, m.fallback_value) for m in integration.mappings
    ] == [
        ("LastName", SourceKind.QUESTION, str(question_id(world.calendar, "Name")), "", ""),
        ("Email", SourceKind.QUESTION, str(question_id(world.calendar, "E-mail")), "", ""),
        ("Company", SourceKind.QUESTION, str(question_id(world.calendar, "Company")), "", "Unknown company"),
        ("LeadSource", SourceKind.FIXED, "", "Web", ""),
        ("OwnerId", SourceKind.ITEM, "participating_member", "", ""),
    ]
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "salesforce_integration.created"))
    assert event.actor_id == world.owner.id and event.team_id == world.team.id
    assert event.details["overwrite"] is True
    assert event.details["mapping"][3] == {"field": "LeadSource", "source": "fixed:Web"}


def test_editing_replaces_the_rows_and_is_audited_as_an_update(client, db_session, world):
    add_integration(db_session, world.calendar, [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")])
    login(client, world.owner)

    response = client.post(world.editor_url, data=editor_post(csrf_token(client), base_rows(world.calendar)))

    assert response.status_code == 302
    assert [m.sf_field for m in saved(db_session).mappings] == ["LastName", "Email", "Company"]
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.team_id == world.team.id)) == (
        "salesforce_integration.updated"
    )


def test_contact_first_is_kept_off_for_contact_integrations(client, db_session, world):
    login(client, world.owner)
    rows = [("LastName", f"question:{question_id(world.calendar, 'Name')}"), base_rows(world.calendar)[1]]

    response = save(client, world, rows, object_name="Contact", contact_first="y")

    assert response.status_code == 302
    assert saved(db_session).contact_first is False


# -- each validation rule, at its row, nothing saved ---------------------------------------------------------------


def refused(response, db_session) -> str:
    assert response.status_code == 422
    assert saved(db_session) is None
    return response.get_data(as_text=True)


def test_the_same_field_mapped_twice_is_refused_at_the_second_row(client, db_session, world):
    login(client, world.owner)
    rows = [*base_rows(world.calendar), ("LastName", "fixed", "Again")]

    page = refused(save(client, world, rows), db_session)

    errors = row_errors(page)
    assert errors[:3] == [[], [], []]
    assert errors[3] == ["LastName is already mapped in row 1; remove one of the two rows."]


def test_a_required_field_left_unmapped_is_refused_saying_how_to_fix_it(client, db_session, world):
    login(client, world.owner)

    page = refused(save(client, world, base_rows(world.calendar)[:2]), db_session)

    assert "Company (Company) is required by Salesforce: add a row for it" in mapping_errors(page)
    assert all(not errors for errors in row_errors(page))


def test_a_required_field_from_an_optional_question_needs_a_fallback(client, db_session, world):
    login(client, world.owner)
    rows = [*base_rows(world.calendar)[:2], ("Company", f"question:{question_id(world.calendar, 'Company')}")]

    page = refused(save(client, world, rows), db_session)
    with_fallback = save(client, world, base_rows(world.calendar))

    assert row_errors(page)[2] == [
        "Company (Company) is required by Salesforce but the question 'Company' is optional; make the question "
        "required or give this row a fallback value."
    ]
    assert with_fallback.status_code == 302


def test_free_text_into_a_date_field_is_refused(client, db_session, world, salesforce_control):
    salesforce_control.update_settings(custom_fields=[{"object": "Lead", "name": "Visit_Date__c", "type": "date"}])
    topic = add_question(db_session, world.calendar, QuestionKind.SHORT_TEXT, "Preferred day")
    login(client, world.owner)

    page = refused(
        save(client, world, [*base_rows(world.calendar), ("Visit_Date__c", f"question:{topic}")]), db_session
    )

    assert row_errors(page)[3] == [
        "A short text question (Preferred day) cannot fill Visit Date (Visit_Date__c), a date field; choose a "
        "question or system item of a fitting type, or a fixed value."
    ]


def test_a_checkbox_into_a_number_field_is_refused(client, db_session, world):
    newsletter = add_question(db_session, world.calendar, QuestionKind.CHECKBOX, "Newsletter")
    login(client, world.owner)

    page = refused(
        save(client, world, [*base_rows(world.calendar), ("NumberOfEmployees", f"question:{newsletter}")]), db_session
    )

    assert (
        "A checkbox question (Newsletter) cannot fill Employees (NumberOfEmployees), a int field"
        in row_errors(page)[3][0]
    )


def test_a_long_text_question_into_a_40_character_field_is_saved_and_limits_the_booking_form(client, db_session, world):
    notes = add_question(db_session, world.calendar, QuestionKind.LONG_TEXT, "Notes", max_length=2000)
    login(client, world.owner)

    response = save(client, world, [*base_rows(world.calendar), ("FirstName", f"question:{notes}")])
    form = client.get(f"/book/{world.calendar.slug}/confirm").get_data(as_text=True)

    assert response.status_code == 302 and saved(db_session) is not None
    assert re.search(rf'<textarea[^>]*id="q{notes}"[^>]*maxlength="40"', form)
    assert "At most 40 characters." in form


def test_a_new_calendars_default_mapping_saves_unchanged_with_built_in_limits_from_salesforce(
    client, db_session, world
):
    for question in world.calendar.questions:
        question.max_length = None  # as the calendar editor creates them: the kind's own cap (Name 200)
    db_session.flush()
    login(client, world.owner)
    data = editor_form(client.get(f"{world.editor_url}/new").get_data(as_text=True))
    data["rows-2-fallback_value"] = "Private person"  # Company is optional in the factory calendar
    data["save"] = "y"

    response = client.post(f"{world.editor_url}/new", data=data)
    form = client.get(f"/book/{world.calendar.slug}/confirm").get_data(as_text=True)

    assert response.status_code == 302
    assert [m.sf_field for m in saved(db_session).mappings] == ["LastName", "Email", "Company", "Phone"]
    name = question_id(world.calendar, "Name")
    assert re.search(rf'<input[^>]*id="q{name}"[^>]*maxlength="80"', form)


def test_a_booking_answer_longer_than_its_mapped_field_is_refused_on_the_form(client, db_session, world):
    for question in world.calendar.questions:
        question.max_length = None
    add_integration(db_session, world.calendar, [("LastName", "question", str(question_id(world.calendar, "Name")))])
    name = next(q for q in world.calendar.questions if q.kind == QuestionKind.FULL_NAME)
    login(client, world.owner)
    assert client.get(world.editor_url).status_code == 200  # the editor caches Lead's describe, as it does for real

    page = post_booking(client, world.calendar, free_slot(world.calendar), **{field_name(name): "x" * 81})

    assert page.status_code == 422
    assert "Use at most 80 characters." in page.get_data(as_text=True)


def test_a_fixed_value_that_is_not_an_active_picklist_value_is_refused(client, db_session, world):
    login(client, world.owner)

    page = refused(save(client, world, [*base_rows(world.calendar), ("LeadSource", "fixed", "Trade Show")]), db_session)

    assert row_errors(page)[3] == [
        "The fixed value 'Trade Show' is not an active value of Lead Source (LeadSource); choose one of Web, "
        "Phone Inquiry, Partner Referral, Purchased List, Other."
    ]


def test_a_fixed_value_of_the_wrong_type_is_refused(client, db_session, world):
    login(client, world.owner)

    page = refused(
        save(client, world, [*base_rows(world.calendar), ("NumberOfEmployees", "fixed", "many")]), db_session
    )

    assert row_errors(page)[3] == [
        "The fixed value does not fit. Employees (NumberOfEmployees): 'many' is not a whole number."
    ]


def test_a_field_gone_from_salesforce_after_a_refresh_is_refused_at_its_row(
    client, db_session, world, salesforce_control
):
    salesforce_control.update_settings(custom_fields=[{"object": "Lead", "name": "Budget__c", "type": "string"}])
    login(client, world.owner)
    rows = [*base_rows(world.calendar), ("Budget__c", "fixed", "Large")]
    assert save(client, world, rows).status_code == 302
    salesforce_control.update_settings(custom_fields=[])
    client.post(f"{world.editor_url}/refresh-fields", data={"csrf_token": csrf_token(client), "object_name": "Lead"})

    response = client.post(world.editor_url, data=editor_post(csrf_token(client), rows))

    assert response.status_code == 422
    assert row_errors(response.get_data(as_text=True))[3] == [
        "Budget__c no longer exists in Salesforce or the connected user cannot see it; choose another field or "
        "remove the row."
    ]


def test_a_field_no_longer_writable_after_a_refresh_is_refused_at_its_row(
    client, db_session, world, salesforce_control
):
    login(client, world.owner)
    rows = [*base_rows(world.calendar), ("Title", "fixed", "Buyer")]
    assert save(client, world, rows, overwrite="update").status_code == 302
    salesforce_control.update_settings(field_permissions={"Lead.Title": {"updateable": False}})
    client.post(f"{world.editor_url}/refresh-fields", data={"csrf_token": csrf_token(client), "object_name": "Lead"})

    response = client.post(world.editor_url, data=editor_post(csrf_token(client), rows, overwrite="update"))
    turned_off = client.post(world.editor_url, data=editor_post(csrf_token(client), rows, overwrite="not_update"))

    assert row_errors(response.get_data(as_text=True))[3] == [
        "The connected Salesforce user may not update Title (Title), and overwrite is on; choose “Only when "
        "creating” for this row, turn overwrite off, grant access to the field, or remove the row."
    ]
    assert turned_off.status_code == 302
    create_only = editor_post(csrf_token(client), rows, overwrite="update")
    create_only["rows-3-write_rule"] = "on_create"
    assert client.post(world.editor_url, data=create_only).status_code == 302


def test_a_row_without_field_or_source_is_refused_at_its_row(client, db_session, world):
    login(client, world.owner)

    page = refused(save(client, world, [*base_rows(world.calendar), ("", "fixed", "Orphan value")]), db_session)

    assert row_errors(page)[3] == ["Choose a Salesforce field for this row."]


def test_a_field_name_with_spaces_around_it_is_refused_at_its_row(client, db_session, world):
    # Salesforce answers INVALID_FIELD for " LastName ", so a forged or hand-made name must not be stored as is.
    login(client, world.owner)
    rows = [(" LastName ", *base_rows(world.calendar)[0][1:]), *base_rows(world.calendar)[1:]]

    page = refused(save(client, world, rows), db_session)

    assert row_errors(page)[0] == [
        "' LastName ' is not a Salesforce field name: field names have no spaces around them. Choose the field "
        "from the list."
    ]


def test_forged_values_are_refused_without_a_server_error(client, db_session, world):
    login(client, world.owner)
    rows = [*base_rows(world.calendar), ("Bogus\x00Field", "item:no_such_item"), ("Website", "question:99999999")]

    response = save(client, world, rows, object_name="Account", on_cancel="explode", register_event="\u202e")

    page = refused(response, db_session)
    assert "no longer exists" in row_errors(page)[3][0]
    assert row_errors(page)[4] == [
        "The booking question this row used no longer exists; choose another source or remove the row."
    ]


def test_control_characters_in_typed_values_are_refused_at_their_field(client, db_session, world):
    login(client, world.owner)
    data = editor_post(csrf_token(client), [*base_rows(world.calendar), ("Title", "fixed", "Buyer\x00")])

    page = refused(client.post(f"{world.editor_url}/new", data=data), db_session)

    assert "Remove the control characters (such as NUL) from this field." in page


# -- adding and removing rows without JavaScript -------------------------------------------------------------------


def test_add_row_shows_another_blank_row_and_saves_nothing(client, db_session, world):
    login(client, world.owner)
    rows = base_rows(world.calendar)

    response = client.post(f"{world.editor_url}/new", data=editor_post(csrf_token(client), rows, button="add_row"))

    data = editor_form(response.get_data(as_text=True))
    assert response.status_code == 200 and saved(db_session) is None
    assert [data[f"rows-{i}-sf_field"] for i in range(3)] == ["LastName", "Email", "Company"]
    assert data["rows-3-sf_field"] == data["rows-4-sf_field"] == data["rows-5-sf_field"] == ""
    assert "rows-6-sf_field" not in data


def test_a_row_marked_for_removal_is_not_saved(client, db_session, world):
    login(client, world.owner)
    data = editor_post(csrf_token(client), [*base_rows(world.calendar), ("Phone", "fixed", "+1 555 0101")])
    data["rows-3-remove"] = "y"

    response = client.post(f"{world.editor_url}/new", data=data)

    assert response.status_code == 302
    assert [m.sf_field for m in saved(db_session).mappings] == ["LastName", "Email", "Company"]


def test_each_row_keeps_its_when_to_write_choice_and_an_unchosen_one_gets_the_fields_default(client, db_session, world):
    login(client, world.owner)
    rows = [*base_rows(world.calendar), ("Phone", f"question:{question_id(world.calendar, 'Phone')}")]
    data = editor_post(csrf_token(client), rows, overwrite="update")
    data.update({"rows-1-write_rule": "if_empty", "rows-3-write_rule": "on_create"})  # rows 0 and 2 left unchosen

    response = client.post(f"{world.editor_url}/new", data=data)

    assert response.status_code == 302
    assert [(m.sf_field, m.write_rule) for m in saved(db_session).mappings] == [
        ("LastName", WriteRule.ON_CREATE),
        ("Email", WriteRule.IF_EMPTY),
        ("Company", WriteRule.ON_CREATE),
        ("Phone", WriteRule.ON_CREATE),
    ]
    page = client.get(world.editor_url).get_data(as_text=True)
    assert editor_form(page)["rows-1-write_rule"] == "if_empty"
    assert "Only if empty in Salesforce: Written to new records, and to an existing record only while" in page


def test_an_unknown_when_to_write_value_is_refused_next_to_its_row(client, db_session, world):
    login(client, world.owner)
    data = editor_post(csrf_token(client), base_rows(world.calendar))
    data["rows-0-write_rule"] = "sometimes"

    response = client.post(f"{world.editor_url}/new", data=data)

    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert saved(db_session) is None
