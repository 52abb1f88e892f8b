"""The `import-legacy-settings FILE` command: legacy Lead-only settings carried over as Lead / Not register / Not
update with their rows unchanged; malformed files, unknown calendars or questions refused with nothing imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Calendar, FieldMapping, Role, SalesforceIntegration, SourceKind, WriteRule
from scripts.dev.demo_data import seed
from tests.integration_support import add_integration, question_id

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "legacy-settings-example.json"


@pytest.fixture
def calendars(factory, db_session):
    team = factory.team()
    owner = factory.member(team, Role.OWNER)
    first = factory.calendar(team, created_by=owner, slug="legacy-first")
    second = factory.calendar(team, created_by=owner, slug="legacy-second")
    db_session.commit()  # the command rolls back its own work on refusal, never the test's
    return first, second


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
            ("LeadSource", "fixed:Web: the site"),
            ("OwnerId", "item:participating_member"),
            ("Description", "item:Booking date and time (text)"),
        ),
        entry("legacy-second", ("LastName", "question:Name"), ("Company", "fixed:")),
    ]

    result = run_import(app, tmp_path, document)

    assert result.exit_code == 0, result.output
    assert "Imported 2 calendar settings." in result.output
    imported = db_session.scalar(select(SalesforceIntegration).where(SalesforceIntegration.calendar_id == first.id))
    assert (imported.object_name.value, imported.register_event, imported.overwrite) == ("Lead", False, False)
    assert [(m.sf_field, m.source_kind, m.source_key, m.fixed_value) for m in imported.mappings] == [
        ("LastName", SourceKind.QUESTION, str(question_id(first, "Name")), ""),
        ("Email", SourceKind.QUESTION, str(question_id(first, "E-mail")), ""),
        ("LeadSource", SourceKind.FIXED, "", "Web: the site"),
        ("OwnerId", SourceKind.ITEM, "participating_member", ""),
        ("Description", SourceKind.ITEM, "booking_datetime_text", ""),
    ]
    assert {m.write_rule for m in imported.mappings} == {WriteRule.ON_CREATE}, "legacy rows are create-only"
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "salesforce_integration.created")).all()
    assert sorted(event.details["calendar_id"] for event in audit) == sorted([first.id, second.id])
    assert all(event.details["via"] == "legacy import" and event.actor_id is None for event in audit)


def test_the_example_file_in_docs_imports_into_the_demo_calendar(app, db_session, tmp_path):
    seed()

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
            [entry("legacy-first", ("LastName", "question:Name"), ("lastname", "fixed:x"))],
            "LastName is mapped more than once",
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
    document = [entry("legacy-first", ("LastName", "question:Name")), entry("nowhere", ("LastName", "question:Name"))]

    result = run_import(app, tmp_path, document)

    assert result.exit_code != 0
    assert "Entry 2 (calendar 'nowhere'): no calendar has this slug." in result.output
    assert integration_count(db_session) == 0


def test_an_unknown_question_is_refused_and_nothing_is_imported(app, db_session, tmp_path, calendars):
    document = [
        entry("legacy-first", ("LastName", "question:Name")),
        entry("legacy-second", ("LastName", "question:Name"), ("Title", "question:Job title")),
    ]

    result = run_import(app, tmp_path, document)

    assert result.exit_code != 0
    assert "Entry 2 (calendar 'legacy-second'), row 2: the calendar has no question labelled 'Job title'." in (
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
