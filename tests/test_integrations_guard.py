"""Guarding the Salesforce mapping from the calendar side (issue 12): a calendar edit that would leave a mapping row
unable to fill its field is shown before saving (which rows, why, a link to fix each), is saved only when confirmed
(audited, the integration marked "Needs attention"), and the mark goes when the mapping is valid again."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from portal.models import (
    AuditEvent,
    CalendarHost,
    FieldMapping,
    Question,
    QuestionKind,
    Role,
    SalesforceIntegration,
    SourceKind,
)
from portal.planner.fields import FieldInfo, ObjectFields
from portal.planner.inputs import MappingRow
from portal.planner.validation import check_host_owner
from tests.factories import login
from tests.integration_support import add_integration, connected_world, editor_form, question_id


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    world = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    company = next(q for q in world.calendar.questions if q.kind == QuestionKind.COMPANY)
    company.required = True
    db_session.add(
        Question(
            calendar_id=world.calendar.id,
            kind=QuestionKind.SINGLE_SELECT,
            label="Stage",
            required=True,
            options=["Open - Not Contacted", "Working - Contacted"],
            position=9,
        )
    )
    db_session.flush()
    db_session.refresh(world.calendar)
    add_integration(
        db_session,
        world.calendar,
        [
            ("LastName", "question", str(question_id(world.calendar, "Name"))),
            ("Email", "question", str(question_id(world.calendar, "E-mail"))),
            ("Company", "question", str(company.id)),
            ("Status", "question", str(question_id(world.calendar, "Stage"))),
        ],
    )
    db_session.commit()  # the editor rolls back a refused save; the test's own objects must survive it
    return world


def save_calendar(client, world, **changes):
    data = editor_form(client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True))
    data.update(changes)
    return client.post(f"/calendars/{world.calendar.id}/edit", data={k: v for k, v in data.items() if v is not None})


def stage_row(client, world) -> str:
    data = editor_form(client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True))
    return next(key.removesuffix("-label") for key, value in data.items() if value == "Stage")


def integration(db_session) -> SalesforceIntegration:
    db_session.expire_all()
    return db_session.scalar(select(SalesforceIntegration))


def actions(db_session) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


OPTIONAL_COMPANY = (
    "Row 3 (Company): Company (Company) is required by Salesforce but the question 'Company' is optional; make the "
    "question required or give this row a fallback value."
)


def test_making_a_mapped_required_question_optional_is_shown_before_saving(client, db_session, world):
    login(client, world.owner)

    response = save_calendar(client, world, company="optional")

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Not saved: this change would stop the Salesforce integration from filling fields." in page
    assert "The Salesforce integration (Lead) could no longer fill these fields:" in page
    assert OPTIONAL_COMPANY in page
    assert f'href="{world.editor_url}#row-3">Fix this row</a>' in page
    assert 'name="confirm_mapping_changes"' in page
    db_session.expire_all()
    assert next(q for q in world.calendar.questions if q.kind == QuestionKind.COMPANY).required is True
    assert integration(db_session).attention == "" and "calendar.updated" not in actions(db_session)


def test_saving_anyway_is_audited_and_marks_the_integration_until_the_mapping_is_valid_again(client, db_session, world):
    login(client, world.owner)

    confirmed = save_calendar(client, world, company="optional", confirm_mapping_changes="y")
    flagged = integration(db_session).attention
    restored = save_calendar(client, world, company="required")

    assert confirmed.status_code == 302 and flagged == OPTIONAL_COMPANY
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "salesforce_integration.flagged"))
    assert event.actor_id == world.owner.id
    assert event.details == {"calendar_id": world.calendar.id, "reason": OPTIONAL_COMPANY, "confirmed": True}
    assert restored.status_code == 302 and integration(db_session).attention == ""
    assert "salesforce_integration.attention_cleared" in actions(db_session)


def test_switching_the_name_format_is_shown_at_the_name_row(client, world):
    login(client, world.owner)

    page = save_calendar(client, world, name_format="family_given").get_data(as_text=True)

    assert "Row 1 (LastName): The booking question this row used no longer exists" in page


def test_changing_a_mapped_question_to_another_kind_is_shown(client, world):
    login(client, world.owner)

    response = save_calendar(client, world, **{f"{stage_row(client, world)}-kind": "short_text"})

    page = html.unescape(response.get_data(as_text=True))

    assert "Row 4 (Status): Guests type 'Stage' freely but Status (Status) accepts only its picklist values" in page


def test_a_change_the_mapping_does_not_care_about_saves_as_before(client, db_session, world):
    login(client, world.owner)

    response = save_calendar(client, world, name="Renamed call", phone="off")

    assert response.status_code == 302 and integration(db_session).attention == ""


def test_problems_the_mapping_already_had_do_not_block_other_edits(client, db_session, world):
    company = integration(db_session).mappings[2]
    company.sf_field = "NoLongerThere__c"  # e.g. deleted in Salesforce: the mapping editor shows it, not this one
    db_session.commit()
    login(client, world.owner)

    response = save_calendar(client, world, name="Renamed call")

    assert response.status_code == 302


@pytest.fixture
def owner_mapped(world, factory, db_session, salesforce_control):
    """Two hosts: the owner, a Salesforce user, and a member who is not; OwnerId takes the booking's host."""
    member = factory.member(world.team, Role.MEMBER, email=f"member{world.team.id}@example.test", name="Mo Member")
    world.calendar.hosts.append(CalendarHost(user_id=member.id, position=1))
    stored = integration(db_session)
    stored.mappings.append(
        FieldMapping(position=4, sf_field="OwnerId", source_kind=SourceKind.ITEM, source_key="participating_member")
    )
    db_session.commit()
    salesforce_control.add_user(f"sf-{world.owner.email}", email=world.owner.email, last_name="Owner")
    return member


def host_choice(data: dict[str, str], user_id: int, selected: bool) -> dict[str, str]:
    row = next(
        key.removesuffix("-user_id")
        for key, value in data.items()
        if key.endswith("-user_id") and value == str(user_id)
    )
    return {**data, f"{row}-selected": "y" if selected else None}


def test_removing_the_only_host_who_is_a_salesforce_user_is_shown_when_ownerid_takes_the_host(
    client, db_session, world, owner_mapped, salesforce_control
):
    login(client, world.owner)
    data = editor_form(client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True))
    salesforce_control.clear_log()

    without_owner = client.post(
        f"/calendars/{world.calendar.id}/edit",
        data={k: v for k, v in host_choice(data, world.owner.id, False).items() if v is not None},
    )
    without_member = client.post(
        f"/calendars/{world.calendar.id}/edit",
        data={k: v for k, v in host_choice(data, owner_mapped.id, False).items() if v is not None},
    )

    assert without_owner.status_code == 422
    assert (
        "Row 5 (OwnerId): No participating member is a Salesforce user, so Owner ID (OwnerId) cannot be set"
        in html.unescape(without_owner.get_data(as_text=True))
    )
    assert without_member.status_code == 302
    assert not [e for e in salesforce_control.request_log() if e["method"] != "GET"]  # only Users were read


def test_host_checks_are_pure_and_need_one_host_who_is_a_salesforce_user():
    fields = ObjectFields("Lead", (FieldInfo("OwnerId", "Owner ID", "reference", reference_to=("User",)),))
    rows = (MappingRow("OwnerId", "item", "participating_member"),)

    assert check_host_owner(fields, rows, ("a@example.com", "B@example.com"), frozenset({"b@example.com"})) == ()
    assert [p.row for p in check_host_owner(fields, rows, ("a@example.com",), frozenset({"b@example.com"}))] == [0]


def test_the_calendar_editor_says_which_built_in_limits_salesforce_sets(client, world):
    login(client, world.owner)
    client.get(world.editor_url)  # caches Lead's describe, as opening the mapping editor does

    page = client.get(f"/calendars/{world.calendar.id}/edit").get_data(as_text=True)

    assert 'id="built_in_limits-full_name-help">Up to 200; empty: 200. Its Salesforce field holds 80' in page
    assert 'id="built_in_limits-phone-help">Up to 40; empty: 40.</p>' in page  # Phone is not mapped here
