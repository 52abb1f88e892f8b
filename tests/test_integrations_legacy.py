"""The `import-legacy-settings FILE` command: legacy Lead-only settings carried over as Lead / Not register / Not
update with their rows unchanged; malformed files, unknown calendars or questions refused with nothing imported;
the mapping editor's own checks against the org's fields, a Premium and connected team, and a bounded file
(size, nesting, no control characters) before anything is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.crypto import token_cipher
from portal.models import (
    AuditEvent,
    Calendar,
    FieldMapping,
    Plan,
    SalesforceIntegration,
    SourceKind,
    Team,
    WriteRule,
)
from scripts.dev.demo_data import seed
from tests.integration_support import add_integration, connected_world, question_id
from tests.salesforce_flow import store_connection

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "legacy-settings-example.json"


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    """A Premium team connected to the emulator's org, with the calendar legacy-first."""
    made = connected_world(factory, db_session, salesforce_emulator, salesforce_control, slug="legacy-first")
    db_session.commit()
    return made


@pytest.fixture
def calendars(factory, db_session, world):
    second = factory.calendar(world.team, created_by=world.owner, slug="legacy-second")
    db_session.commit()  # the command rolls back its own work on refusal, never the test's
    return world.calendar, second


# A valid legacy mapping of the factory calendar's questions: the Lead's required fields and the guest's e-mail.
VALID = (("LastName", "question:Name"), ("Email", "question:E-mail"), ("Company", "fixed:Unknown company"))


def run_import(app, tmp_path, content):
    path = tmp_path / "legacy.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return app.test_cli_runner().invoke(args=["import-legacy-settings", str(path)])


def entry(slug: str, *rows: tuple[str, str]) -> dict:
    return {
        "calendar": slug,
        "object": "Lead",
        "information_to_be_retrieved": [{"lead_label": field, "source": source} for field, source in rows],
    }


def integration_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(SalesforceIntegration))


def test_legacy_settings_become_lead_not_register_not_update_with_rows_unchanged(app, db_session, tmp_path, calendars):
    first, second = calendars
    document = [
        entry(
            "legacy-first",
            ("LastName", "question:Name"),
            ("Email", "question:e-mail "),
            ("Company", "fixed:Unknown company"),
            ("LeadSource", "fixed:Web"),
            ("OwnerId", "item:participating_member"),
            ("Description", "item:Booking date and time (text)"),
        ),
        entry("legacy-second", *VALID),
    ]

    result = run_import(app, tmp_path, document)

    assert result.exit_code == 0, result.output
    assert "Imported 2 calendar settings." in result.output
    imported = db_session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == first.id))
    assert (imported.object_name.value, imported.register_event, imported.overwrite) == ("Lead", False, False)
    assert [(m.sf_field, m.source_kind, m.source_key, m.fixed_value) for m in imported.mappings] == [
        ("LastName", SourceKind.QUESTION, str(question_id(first, "Name")), ""),
        ("Email", SourceKind.QUESTION, str(question_id(first, "E-mail")), ""),
        ("Company", SourceKind.FIXED, "", "Unknown company"),
        ("LeadSource", SourceKind.FIXED, "", "Web"),
        ("OwnerId", SourceKind.ITEM, "participating_member", ""),
        ("Description", SourceKind.ITEM, "booking_datetime_text", ""),
    ]
    assert {m.write_rule for m in imported.mappings} == {WriteRule.ON_CREATE}, "legacy rows are create-only"
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "salesforce_integration.created")).all()
    assert sorted(event.details["calendar_id"] for event in audit) == sorted([first.id, second.id])
    assert all(event.details["via"] == "legacy import" and event.actor_id is None for event in audit)


def test_the_example_file_in_docs_imports_into_the_demo_calendar(
    app, db_session, tmp_path, salesforce_emulator, salesforce_control
):
    seed()
    team = db_session.scalar(select(Team).join(Calendar).where(Calendar.slug == "acme-intro"))
    tokens = salesforce_control.issue_tokens()
    store_connection(db_session, team.id, tokens, salesforce_emulator.production_url, token_cipher())
    db_session.commit()

    result = run_import(app, tmp_path, EXAMPLE.read_bytes())

    assert result.exit_code == 0, result.output
    calendar = db_session.scalar(select(Calendar).where(Calendar.slug == "acme-intro"))
    imported = db_session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == calendar.id))
    assert len(imported.mappings) == len(json.loads(EXAMPLE.read_text())[0]["information_to_be_retrieved"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b"\xff\xfe\x00garbage", "Nothing was imported."),
        ({"calendar": "legacy-first"}, "must hold a non-empty JSON list"),
        ([], "must hold a non-empty JSON list"),
        (["legacy-first"], "Entry 1 is not an object."),
        ([{"object": "Lead", "information_to_be_retrieved": []}], "Entry 1 has no calendar slug."),
        ([{**entry("legacy-first", ("LastName", "question:Name")), "object": "Contact"}], 'must be "Lead"'),
        ([{**entry("legacy-first", ("LastName", "question:Name")), "extra": 1}], "unknown keys: extra"),
        ([entry("legacy-first")], '"information_to_be_retrieved" must be a non-empty list'),
        ([entry("legacy-first", ("LastName", "Name"))], "must start with question:, item: or fixed:"),
        ([entry("legacy-first", ("", "question:Name"))], "must be a Salesforce field's API name"),
        (
            [{**entry("legacy-first"), "information_to_be_retrieved": [{"lead_label": "LastName"}]}],
            'exactly "lead_label" and "source"',
        ),
        ([entry("legacy-first", ("LastName", "item:weather"))], "unknown system item 'weather'"),
        ([entry("legacy-first", *[(f"F{n}__c", "fixed:x") for n in range(101)])], "more than 100 rows"),
        (
            [entry("legacy-first", *VALID, ("lastname", "fixed:x"))],
            "row 4: lastname is already mapped in row 1",
        ),
        (
            [entry("legacy-first", ("LastName", "question:Name")), entry("legacy-first", ("Email", "question:E-mail"))],
            "legacy-first appears more than once",
        ),
    ],
)
def test_a_malformed_file_is_refused_clearly(app, db_session, tmp_path, calendars, content, message):
    result = run_import(app, tmp_path, content)

    assert result.exit_code != 0
    assert message in result.output and "Nothing was imported." in result.output
    assert "Traceback" not in result.output
    assert integration_count(db_session) == 0


def test_an_unknown_calendar_is_refused_and_nothing_is_imported(app, db_session, tmp_path, calendars):
    document = [entry("legacy-first", *VALID), entry("nowhere", *VALID)]

    result = run_import(app, tmp_path, document)

    assert result.exit_code != 0
    assert "Entry 2 (calendar 'nowhere'): no calendar has this slug." in result.output
    assert integration_count(db_session) == 0


def test_an_unknown_question_is_refused_and_nothing_is_imported(app, db_session, tmp_path, calendars):
    document = [
        entry("legacy-first", *VALID),
        entry("legacy-second", *VALID, ("Title", "question:Job title")),
    ]

    result = run_import(app, tmp_path, document)

    assert result.exit_code != 0
    assert "Entry 2 (calendar 'legacy-second'), row 4: the calendar has no question labelled 'Job title'." in (
        result.output
    )
    assert integration_count(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(FieldMapping)) == 0


def test_a_calendar_that_already_has_an_integration_is_refused(app, db_session, tmp_path, calendars):
    first, _ = calendars
    add_integration(db_session, first, [("LastName", "fixed", "Existing")])
    db_session.commit()

    result = run_import(app, tmp_path, [entry("legacy-first", ("LastName", "question:Name"))])

    assert result.exit_code != 0 and "already has a Salesforce integration" in result.output
    existing = db_session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == first.id))
    assert [m.fixed_value for m in existing.mappings] == ["Existing"]


def test_a_missing_file_is_refused_by_the_command(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["import-legacy-settings", str(tmp_path / "missing.json")])

    assert result.exit_code != 0 and "No such file or directory" in result.output


# -- issue 17: the file is untrusted, and its mapping is checked as the editor checks it -----------------------------


def refused(app, tmp_path, db_session, content) -> str:
    result = run_import(app, tmp_path, content)
    assert result.exit_code != 0
    assert "Nothing was imported." in result.output and "Traceback" not in result.output
    assert integration_count(db_session) == 0
    return result.output


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ("Budget__c", "fixed:Large"),
            "row 4: Budget__c no longer exists in Salesforce or the connected user cannot see it",
        ),
        (("NumberOfEmployees", "fixed:many"), "row 4: The fixed value does not fit. Employees (NumberOfEmployees)"),
        (("LeadSource", "fixed:Carrier pigeon"), "row 4: The fixed value 'Carrier pigeon' is not an active value"),
        (("Title", "fixed:" + "x" * 1001), "row 4: The fixed value has 1001 characters; at most 1000 are accepted."),
        (
            ("NumberOfEmployees", "question:Company"),
            "row 4: A company question (Company) cannot fill Employees (NumberOfEmployees)",
        ),
    ],
)
def test_rows_that_would_fail_every_sync_are_refused_as_the_editor_refuses_them(
    app, db_session, tmp_path, calendars, row, message
):
    output = refused(app, tmp_path, db_session, [entry("legacy-first", *VALID, row)])

    assert "Entry 1 (calendar 'legacy-first'): " + message in output


def test_a_mapping_without_the_leads_required_fields_is_refused(app, db_session, tmp_path, calendars):
    output = refused(app, tmp_path, db_session, [entry("legacy-first", ("LastName", "question:Name"))])

    assert "Company (Company) is required by Salesforce" in output
    assert "Map the guest's e-mail to Email (Email)" in output


def test_a_calendar_of_a_team_without_premium_is_refused(app, db_session, tmp_path, world):
    world.team.plan = Plan.FREE
    db_session.commit()

    output = refused(app, tmp_path, db_session, [entry("legacy-first", *VALID)])

    assert "Salesforce integration is part of the Premium plan." in output


def test_a_calendar_of_a_team_without_a_salesforce_connection_is_refused(app, db_session, tmp_path, factory):
    team = factory.team()
    factory.calendar(team, slug="legacy-unconnected")
    db_session.commit()

    output = refused(app, tmp_path, db_session, [entry("legacy-unconnected", *VALID)])

    assert "This team has not connected Salesforce yet" in output


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(app, db_session, tmp_path, calendars):
    one_slug = json.dumps([entry("legacy-first", *VALID)] * 20_000).encode()  # 1.3 MB, every entry the same
    assert len(one_slug) > app.config["LEGACY_IMPORT_MAX_BYTES"]

    output = refused(app, tmp_path, db_session, one_slug)

    assert "The file is larger than 1,048,576 bytes, the most accepted (setting LEGACY_IMPORT_MAX_BYTES)" in output


def test_a_million_character_value_is_refused(app, db_session, tmp_path, calendars):
    output = refused(
        app, tmp_path, db_session, [entry("legacy-first", *VALID, ("Description", "fixed:" + "x" * 10**6))]
    )

    assert "row 4: The fixed value has 1000000 characters; at most 1000 are accepted." in output


def test_the_same_calendar_repeated_is_refused_at_its_second_entry(app, db_session, tmp_path, calendars):
    output = refused(app, tmp_path, db_session, [entry("legacy-first", *VALID)] * 1_000)

    assert "Calendar legacy-first appears more than once in the file." in output


@pytest.mark.parametrize("depth", [9, 100_000])
def test_deeply_nested_json_is_refused_with_a_message(app, db_session, tmp_path, calendars, depth):
    output = refused(app, tmp_path, db_session, b"[" * depth + b"]" * depth)

    assert "The file nests lists or objects more than 8 deep" in output


@pytest.mark.parametrize(
    "document",
    [
        [entry("legacy-first\u0000", *VALID)],
        [entry("legacy-first", *VALID, ("Title", "fixed:Buyer\u0000"))],
        [entry("legacy-first", *VALID, ("Title\u001b", "fixed:Buyer"))],
    ],
)
def test_control_characters_anywhere_are_refused_before_the_database(app, db_session, tmp_path, calendars, document):
    output = refused(app, tmp_path, db_session, document)

    assert "The file contains invisible control characters (such as NUL)" in output


def test_a_bad_second_entry_leaves_the_first_unimported(app, db_session, tmp_path, calendars):
    document = [entry("legacy-first", *VALID), entry("legacy-second", *VALID, ("LeadSource", "fixed:Nope"))]

    output = refused(app, tmp_path, db_session, document)

    assert "Entry 2 (calendar 'legacy-second'): row 4:" in output
