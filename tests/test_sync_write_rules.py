"""Write rules, table-driven (issue 13, design §5 "Write rules"): each rule against each state of the guest's record,
the names that stay whole, the e-mail that is not rewritten for case, and the read that fetches what the rules need.
Pure planner, Salesforce's answers in the samples' shapes (helpers of tests/test_sync_plan.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from portal.models import NameFormat, SalesforceObject, SourceKind, WriteRule
from portal.planner.inputs import MappingRow
from portal.planner.names import display_name
from portal.planner.plan import event_subject
from portal.planner.rules import RULE_HELP, same_value, update_decisions
from portal.planner.sources import default_mapping, default_write_rule
from tests.test_sync_plan import (
    CONTACT_ID,
    EMAIL,
    FAMILY,
    GIVEN,
    GUEST_EMAIL,
    LEAD_FIELDS,
    LEAD_ID,
    NAME,
    QUESTIONS,
    QuestionSnapshot,
    booking,
    contact,
    lead,
    reads,
    run,
    sync,
    writes_ok,
)

COMPANY_ANSWER = "Acme"
STATES = {
    "absent": dict(leads=[]),
    "present, field empty": dict(leads=[{**lead(), "Company": None}]),
    "present, same value": dict(leads=[{**lead(), "Company": COMPANY_ANSWER}]),
    "present, other value": dict(leads=[{**lead(), "Company": "Oldco"}]),
    "converted Lead": dict(leads=[lead(converted_to=CONTACT_ID)]),
    "contact-first": dict(leads=[{**lead(), "Company": "Oldco"}], contacts=[contact()]),
}
# rule -> state -> what happens to Company: "create", "update", or "" (not written)
EXPECTED = {
    WriteRule.ALWAYS: {
        "absent": "create",
        "present, field empty": "update",
        "present, same value": "",
        "present, other value": "update",
        "converted Lead": "",
        "contact-first": "",
    },
    WriteRule.ON_CREATE: {
        "absent": "create",
        "present, field empty": "",
        "present, same value": "",
        "present, other value": "",
        "converted Lead": "",
        "contact-first": "",
    },
    WriteRule.IF_EMPTY: {
        "absent": "create",
        "present, field empty": "update",
        "present, same value": "",
        "present, other value": "",
        "converted Lead": "",
        "contact-first": "",
    },
}
CASES = [(rule, state, expected) for rule, by_state in EXPECTED.items() for state, expected in by_state.items()]


def company_row(rule: str) -> MappingRow:
    return MappingRow("Company", SourceKind.QUESTION, "3", write_rule=rule)


LAST_NAME = MappingRow("LastName", SourceKind.QUESTION, str(NAME))  # required to create a Lead or Contact


def _company_write(sent) -> str:
    """How the last Composite write sent Company: "create", "update" or ""."""
    for sub in sent[-1].subrequests if len(sent) > 1 else ():
        body = dict(sub.body or ())
        if sub.reference_id == "record" and "Company" in body:
            assert body["Company"] == COMPANY_ANSWER
            return "create" if sub.method == "POST" else "update"
    return ""


@pytest.mark.parametrize(("rule", "state", "expected"), CASES, ids=[f"{r}-{s}" for r, s, _ in CASES])
def test_each_rule_against_each_state_of_the_record(rule, state, expected):
    mappings = (
        MappingRow("LastName", SourceKind.QUESTION, str(NAME)),
        MappingRow("Email", SourceKind.QUESTION, str(EMAIL)),
    )
    request = sync(overwrite=True, contact_first=state == "contact-first", mappings=(*mappings, company_row(rule)))
    outcome, sent = run(request, [reads(**STATES[state]), writes_ok()])
    assert outcome.error is None
    assert _company_write(sent) == expected
    assert len(sent) <= 2


@pytest.mark.parametrize("rule", [WriteRule.ALWAYS, WriteRule.IF_EMPTY, WriteRule.ON_CREATE])
def test_not_update_is_the_master_switch_every_rule_is_create_only(rule):
    request = sync(overwrite=False, register_event=False, mappings=(LAST_NAME, company_row(rule)))
    outcome, sent = run(request, [reads(leads=[{**lead(), "Company": None}])])
    assert (len(sent), outcome.actions) == (1, ("linked existing Lead (not updated)",))


def test_the_read_fetches_the_fields_an_update_decides_on_and_no_others():
    rows = (
        MappingRow(
            "LastName", SourceKind.QUESTION, str(NAME), write_rule=WriteRule.ALWAYS
        ),  # a full name: create-only whatever the rule
        MappingRow("Email", SourceKind.QUESTION, str(EMAIL), write_rule=WriteRule.ALWAYS),
        MappingRow("Company", SourceKind.QUESTION, "3", write_rule=WriteRule.IF_EMPTY),
        MappingRow("Phone", SourceKind.QUESTION, "4", write_rule=WriteRule.ON_CREATE),
    )
    read = run(sync(overwrite=True, mappings=rows), [reads(), writes_ok()])[1][0]
    leads = next(sub for sub in read.subrequests if sub.reference_id == "leads")
    soql = dict(parse_qsl(urlsplit(leads.url).query))["q"]
    assert soql.startswith("SELECT Id, Email, IsConverted, ConvertedContactId, LastModifiedDate, Company FROM Lead")
    off = run(sync(overwrite=False, mappings=rows), [reads(), writes_ok()])[1][0]
    assert "Company" not in dict(parse_qsl(urlsplit(off.subrequests[0].url).query))["q"]


def test_an_update_that_changes_nothing_is_not_sent():
    rows = (LAST_NAME, MappingRow("Email", SourceKind.QUESTION, str(EMAIL)), company_row(WriteRule.ALWAYS))
    found = {**lead(email=f"  {GUEST_EMAIL.upper()} "), "Company": COMPANY_ANSWER}
    outcome, sent = run(sync(overwrite=True, register_event=False, mappings=rows), [reads(leads=[found])])
    assert (len(sent), outcome.actions) == (1, ("linked existing Lead (nothing to update)",))


def test_an_email_differing_only_in_case_or_spaces_is_not_rewritten_but_another_address_is():
    email_field = LEAD_FIELDS.get("Email")
    assert same_value(email_field, " Mary@Example.COM ", "mary@example.com")
    assert not same_value(email_field, "mary.old@example.com", "mary@example.com")


# -- names ---------------------------------------------------------------------------------------------------------

ERIN = {**lead(email="erin@example.com"), "FirstName": "Erin", "LastName": "Existing", "OwnerId": "005000000000777AAA"}


@pytest.mark.parametrize("rule", [WriteRule.ALWAYS, WriteRule.IF_EMPTY, WriteRule.ON_CREATE])
def test_a_full_name_never_overwrites_an_existing_records_names_whatever_the_rule(rule):
    snapshot = booking(
        guest_email="erin@example.com",
        answers=((NAME, "Eric Existing"), (EMAIL, "erin@example.com"), (3, "Acme")),
    )
    rows = (
        MappingRow("LastName", SourceKind.QUESTION, str(NAME), write_rule=rule),
        MappingRow("FirstName", SourceKind.QUESTION, str(NAME), write_rule=WriteRule.ALWAYS),
        company_row(WriteRule.ON_CREATE),
    )
    outcome, sent = run(
        sync(overwrite=True, register_event=False, mappings=rows, snapshot=snapshot), [reads(leads=[ERIN])]
    )
    assert len(sent) == 1 and outcome.actions == ("linked existing Lead (nothing to update)",)


def test_a_full_name_creates_a_whole_last_name_never_split():
    rows = (LAST_NAME, MappingRow("Email", SourceKind.QUESTION, str(EMAIL)), company_row(WriteRule.ALWAYS))
    _, sent = run(sync(register_event=False, mappings=rows), [reads(), writes_ok()])
    body = {"LastName": "Mary Ann O'Brien", "Email": GUEST_EMAIL, "Company": COMPANY_ANSWER}
    assert dict(sent[-1].subrequests[0].body) == body


def test_family_and_given_names_map_to_last_and_first_name_by_default_and_only_when_creating():
    questions = (
        QuestionSnapshot(FAMILY, "family_name", "Family name", required=True),
        QuestionSnapshot(GIVEN, "given_name", "Given name"),
        *QUESTIONS[1:],
    )
    rows = default_mapping(questions, LEAD_FIELDS)
    by_field = {row.sf_field: row for row in rows}
    assert (by_field["LastName"].source_key, by_field["FirstName"].source_key) == (str(FAMILY), str(GIVEN))
    assert by_field["LastName"].write_rule == by_field["FirstName"].write_rule == WriteRule.ON_CREATE
    assert (by_field["Email"].write_rule, by_field["Company"].write_rule) == (WriteRule.ALWAYS, WriteRule.ON_CREATE)


def test_separate_names_follow_their_rules_on_an_existing_record():
    questions = (QuestionSnapshot(FAMILY, "family_name", "Family name"), QuestionSnapshot(GIVEN, "given_name", "Given"))
    snapshot = booking(
        questions=questions, answers=((FAMILY, "Yamada"), (GIVEN, "Taro")), name_format=NameFormat.FAMILY_GIVEN
    )
    rows = (
        MappingRow("LastName", SourceKind.QUESTION, str(FAMILY), write_rule=WriteRule.ON_CREATE),
        MappingRow("FirstName", SourceKind.QUESTION, str(GIVEN), write_rule=WriteRule.IF_EMPTY),
    )
    decisions = update_decisions(LEAD_FIELDS, rows, snapshot, "", {"LastName": "Yamada-Old", "FirstName": None})
    assert [(d.field, d.written) for d in decisions] == [("LastName", False), ("FirstName", True)]


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("OwnerId", WriteRule.ON_CREATE),
        ("LeadSource", WriteRule.ON_CREATE),
        ("Company", WriteRule.ON_CREATE),
        ("FirstName", WriteRule.ON_CREATE),
    ]
    + [
        ("LastName", WriteRule.ON_CREATE),
        ("Email", WriteRule.ALWAYS),
        ("Phone", WriteRule.ALWAYS),
        ("Title", WriteRule.ALWAYS),
    ],
)
def test_default_rules_for_new_rows(field, rule):
    assert default_write_rule(field) == rule


def test_the_owner_is_not_reassigned_by_default():
    owner = MappingRow("OwnerId", "item", "participating_member", write_rule=default_write_rule("OwnerId"))
    rows = (LAST_NAME, company_row(WriteRule.ON_CREATE), owner)
    erin = booking(guest_email="erin@example.com")
    outcome, sent = run(sync(overwrite=True, register_event=False, mappings=rows, snapshot=erin), [reads(leads=[ERIN])])
    assert len(sent) == 1 and outcome.record_id == LEAD_ID


def test_every_rule_explains_itself_in_one_line():
    assert set(RULE_HELP) == {WriteRule.ALWAYS, WriteRule.ON_CREATE, WriteRule.IF_EMPTY}
    assert all("\n" not in text and text.endswith(".") for text in RULE_HELP.values())


def test_a_contact_integration_reads_current_values_from_the_contact_query():
    rows = (LAST_NAME, MappingRow("Phone", SourceKind.QUESTION, "4"))
    snapshot = booking(answers=((NAME, "Mary"), (4, "+1 555")))
    request = sync(
        object_name=SalesforceObject.CONTACT, overwrite=True, register_event=False, mappings=rows, snapshot=snapshot
    )
    found = {**contact(), "Phone": "+1 555"}
    outcome, sent = run(request, [reads(contacts=[found])])
    assert len(sent) == 1 and outcome.actions == ("linked existing Contact (nothing to update)",)


@pytest.mark.parametrize(
    ("full", "family", "given", "shown"),
    [
        ("Mary Ann O'Brien", "", "", "Mary Ann O'Brien"),  # a full name as typed, never reordered or split
        ("", "Yamada", "Taro", "Taro Yamada"),
        ("", "山田", "太郎", "山田 太郎"),  # Japanese: family name first
        ("", "やまだ", "たろう", "やまだ たろう"),
        ("", "김", "민준", "김 민준"),
        ("", "Yamada", "", "Yamada"),
    ],
)
def test_names_are_shown_in_their_cultures_order(full, family, given, shown):
    assert display_name(full, family, given) == shown
    snapshot = booking(guest_name=full, guest_family_name=family, guest_given_name=given, answers=())
    assert event_subject(sync(snapshot=snapshot)) == f"Acme intro: {shown}"
