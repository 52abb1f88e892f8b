"""Value conversion by Salesforce field type, fallbacks and required fields: pure, no app, database or network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from emulators.salesforce.metadata import STANDARD_FIELDS, custom_field_from_spec, describe_object
from portal.calendars.forms import KIND_MAX_LENGTH
from portal.enums import SourceKind
from portal.planner.fields import FieldInfo, fields_from_describe
from portal.planner.inputs import BookingSnapshot, MappingRow, QuestionSnapshot
from portal.planner.sources import QUESTION_KINDS, SYSTEM_ITEMS, Host, checkbox_checked, default_mapping, source_value
from portal.planner.validation import check_mapping, mapped_limits
from portal.planner.values import SyncRefused, check_required, convert, record_values

LEAD = fields_from_describe(describe_object("Lead", STANDARD_FIELDS["Lead"], "62.0"))
CONTACT = fields_from_describe(describe_object("Contact", STANDARD_FIELDS["Contact"], "62.0"))


def field(name: str) -> FieldInfo:
    found = LEAD.get(name)
    assert found is not None
    return found


def custom(spec: dict) -> FieldInfo:
    described = describe_object("Lead", [custom_field_from_spec(spec)], "62.0")
    return fields_from_describe(described).fields[0]


BERLIN = timezone(timedelta(hours=1))
MOMENT = datetime(2025, 3, 4, 23, 30, tzinfo=BERLIN)  # 22:30 UTC, still the 4th in the calendar's zone
SURVEY = custom(
    {"name": "Survey__c", "type": "multipicklist", "picklistValues": ["A", "B"], "restrictedPicklist": True}
)


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        (field("LastName"), "  Mary Ann O'Brien ", "Mary Ann O'Brien"),
        (field("LastName"), "x" * 80, "x" * 80),
        (field("Email"), "o'brien+test@example.com", "o'brien+test@example.com"),
        (field("Phone"), "+1 (555) 010-0100", "+1 (555) 010-0100"),
        (field("Website"), "https://example.com/a?b=c", "https://example.com/a?b=c"),
        (field("Description"), "line one\nline two", "line one\nline two"),
        (field("Description"), True, "Yes"),
        (field("Description"), MOMENT, "2025-03-04T22:30:00Z"),
        (field("LeadSource"), "Web", "Web"),
        (field("LeadSource"), "Trade fair", "Trade fair"),  # not restricted: any text
        (field("Status"), "Working - Contacted", "Working - Contacted"),
        (SURVEY, "A; B", "A;B"),
        (field("NumberOfEmployees"), "250", 250),
        (field("NumberOfEmployees"), 42, 42),
        (field("AnnualRevenue"), "1250.50", 1250.5),
        (field("AnnualRevenue"), "300", 300),
        (custom({"name": "Opt_In__c", "type": "boolean"}), True, True),
        (custom({"name": "Opt_In__c", "type": "boolean"}), False, False),
        (custom({"name": "Opt_In__c", "type": "boolean"}), "yes", True),
        (custom({"name": "Opt_In__c", "type": "boolean"}), "False", False),
        (custom({"name": "Visit__c", "type": "date"}), MOMENT, "2025-03-04"),
        (custom({"name": "Visit__c", "type": "date"}), "2025-12-31", "2025-12-31"),
        (custom({"name": "Seen__c", "type": "datetime"}), MOMENT, "2025-03-04T22:30:00Z"),
        (custom({"name": "Seen__c", "type": "datetime"}), "2025-03-04T10:00:00+09:00", "2025-03-04T01:00:00Z"),
        (field("OwnerId"), Host("host@acme.test", "Hana Host", "005000000000001AAA"), "005000000000001AAA"),
        (field("Email"), Host("host@acme.test", "Hana Host"), "host@acme.test"),
        (field("Title"), Host("host@acme.test", "Hana Host"), "Hana Host"),
        (field("LastName"), "   ", None),
        (field("OwnerId"), Host("host@acme.test", "Hana Host"), None),  # no Salesforce User: blank, not sent
    ],
)
def test_convert_gives_what_the_field_accepts(target, value, expected):
    assert convert(target, value) == expected


@pytest.mark.parametrize(
    ("target", "value", "code"),
    [
        (field("LastName"), "x" * 81, "STRING_TOO_LONG"),
        (field("FirstName"), "y" * 41, "STRING_TOO_LONG"),
        (field("Email"), "not an email", "INVALID_EMAIL_ADDRESS"),
        (field("Email"), "back\\slash@example.com", "INVALID_EMAIL_ADDRESS"),
        (field("Status"), "Maybe later", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        (SURVEY, "A;C", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        (field("NumberOfEmployees"), "about ten", "VALUE_DOES_NOT_FIT"),
        (field("NumberOfEmployees"), "2.5", "VALUE_DOES_NOT_FIT"),
        (field("NumberOfEmployees"), True, "VALUE_DOES_NOT_FIT"),  # a checkbox is not a number
        (field("AnnualRevenue"), "NaN", "VALUE_DOES_NOT_FIT"),
        (field("AnnualRevenue"), "1,000", "VALUE_DOES_NOT_FIT"),
        (custom({"name": "Opt_In__c", "type": "boolean"}), "perhaps", "VALUE_DOES_NOT_FIT"),
        (custom({"name": "Visit__c", "type": "date"}), "next Tuesday", "VALUE_DOES_NOT_FIT"),
        (custom({"name": "Visit__c", "type": "date"}), "2025-02-30", "VALUE_DOES_NOT_FIT"),
        (custom({"name": "Seen__c", "type": "datetime"}), "2025-03-04T10:00:00", "VALUE_DOES_NOT_FIT"),
        (field("OwnerId"), "Hana Host", "VALUE_DOES_NOT_FIT"),
        (FieldInfo("BillingAddress", "Billing Address", "address"), "1 Main St", "VALUE_DOES_NOT_FIT"),
    ],
)
def test_convert_refuses_a_value_that_cannot_fit_naming_the_field(target, value, code):
    with pytest.raises(SyncRefused) as refused:
        convert(target, value)
    assert refused.value.error.code == code
    assert refused.value.error.fields == (target.name,)
    assert target.name in refused.value.error.message
    assert refused.value.error.retryable is False
    assert refused.value.error.remedy


def test_too_long_value_is_never_truncated():
    with pytest.raises(SyncRefused) as refused:
        convert(field("LastName"), "z" * 100)
    assert "100 characters" in refused.value.error.message and "80" in refused.value.error.message


@pytest.mark.parametrize(
    ("answer", "checked"),
    [("yes", True), ("Yes", True), ("on", True), ("true", True), ("1", True), ("", False), ("no", False)],
)
def test_checkbox_answers(answer, checked):
    assert checkbox_checked(answer) is checked


NAME, FAMILY, GIVEN, EMAIL, COMPANY, PHONE, SIZE, AGREE = range(1, 9)
QUESTIONS = (
    QuestionSnapshot(NAME, "full_name", "Name", required=True, max_length=80),
    QuestionSnapshot(EMAIL, "email", "E-mail", required=True, max_length=80),
    QuestionSnapshot(COMPANY, "company", "Company", required=False, max_length=80),
    QuestionSnapshot(PHONE, "phone", "Phone"),
    QuestionSnapshot(SIZE, "short_text", "Team size"),
    QuestionSnapshot(AGREE, "checkbox", "Send me news"),
)


def booking(**changes) -> BookingSnapshot:
    base = dict(
        booking_id=7,
        calendar_name="Acme intro",
        start_at=datetime(2025, 3, 4, 9, 0, tzinfo=UTC),
        end_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        guest_email="mary@example.com",
        guest_name="Mary Ann O'Brien",
        guest_company="",
        host_email="host@acme.test",
        host_name="Hana Host",
        questions=QUESTIONS,
        answers=((NAME, "Mary Ann O'Brien"), (EMAIL, "mary@example.com"), (SIZE, "12"), (AGREE, "yes")),
    )
    return BookingSnapshot(**{**base, **changes})


def q(field_name: str, question_id: int, fallback: str = "") -> MappingRow:
    return MappingRow(field_name, SourceKind.QUESTION, str(question_id), fallback_value=fallback)


@pytest.mark.parametrize(
    ("rows", "snapshot", "expected"),
    [
        (  # a full name goes whole into LastName: never a guessed split
            (q("LastName", NAME), q("Email", EMAIL)),
            booking(),
            (("LastName", "Mary Ann O'Brien"), ("Email", "mary@example.com")),
        ),
        (  # family and given names asked separately land in their own fields
            (q("LastName", FAMILY), q("FirstName", GIVEN)),
            booking(
                name_format="family_given",
                guest_name="",
                guest_family_name="O'Brien",
                guest_given_name="Mary",
                questions=(
                    QuestionSnapshot(FAMILY, "family_name", "Family name", required=True),
                    QuestionSnapshot(GIVEN, "given_name", "Given name", required=True),
                ),
                answers=(),
            ),
            (("LastName", "O'Brien"), ("FirstName", "Mary")),
        ),
        (  # a blank optional answer takes the row's fallback
            (q("LastName", NAME), q("Company", COMPANY, fallback="Private person")),
            booking(),
            (("LastName", "Mary Ann O'Brien"), ("Company", "Private person")),
        ),
        (  # blank without fallback: simply not sent
            (q("LastName", NAME), q("Phone", PHONE)),
            booking(),
            (("LastName", "Mary Ann O'Brien"),),
        ),
        (  # fixed values and system items
            (
                MappingRow("LeadSource", SourceKind.FIXED, fixed_value="Web"),
                MappingRow("Description", SourceKind.ITEM, "booking_datetime_text"),
                MappingRow("NumberOfEmployees", SourceKind.QUESTION, str(SIZE)),
            ),
            booking(time_zone="Europe/Berlin"),
            (
                ("LeadSource", "Web"),
                ("Description", "2025-03-04 10:00-10:30 (Europe/Berlin)"),
                ("NumberOfEmployees", 12),
            ),
        ),
        (  # OwnerId from the participating member: the host's Salesforce User
            (q("LastName", NAME), MappingRow("OwnerId", SourceKind.ITEM, "participating_member")),
            booking(),
            (("LastName", "Mary Ann O'Brien"), ("OwnerId", "005000000000001AAA")),
        ),
    ],
)
def test_record_values_apply_the_mapping_with_fallbacks(rows, snapshot, expected):
    assert record_values(LEAD, rows, snapshot, "005000000000001AAA", creating=True) == expected


@pytest.mark.parametrize(
    ("rows", "code", "fields"),
    [
        (
            (q("LastName", NAME), MappingRow("Gone__c", SourceKind.FIXED, fixed_value="x")),
            "INVALID_FIELD",
            ("Gone__c",),
        ),
        ((q("LastName", 99),), "MAPPING_SOURCE_MISSING", ("LastName",)),
        ((MappingRow("LastName", SourceKind.ITEM, "no_such_item"),), "MAPPING_SOURCE_MISSING", ("LastName",)),
        (
            (MappingRow("IsConverted", SourceKind.FIXED, fixed_value="true"),),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ("IsConverted",),
        ),
        ((q("NumberOfEmployees", NAME),), "VALUE_DOES_NOT_FIT", ("NumberOfEmployees",)),
    ],
)
def test_record_values_refuse_rows_that_no_longer_work(rows, code, fields):
    with pytest.raises(SyncRefused) as refused:
        record_values(LEAD, rows, booking(), creating=True)
    assert (refused.value.error.code, refused.value.error.fields) == (code, fields)


def test_fallback_that_cannot_fit_is_refused_too():
    with pytest.raises(SyncRefused) as refused:
        record_values(LEAD, (q("NumberOfEmployees", PHONE, fallback="several"),), booking(), creating=True)
    assert refused.value.error.code == "VALUE_DOES_NOT_FIT"


@pytest.mark.parametrize(
    ("fields", "values", "creating", "missing"),
    [
        (LEAD, (("LastName", "O'Brien"), ("Company", "Acme")), True, None),
        (LEAD, (("LastName", "O'Brien"),), True, ("Company",)),
        (LEAD, (), True, ("LastName", "Company")),
        (CONTACT, (("LastName", "O'Brien"),), True, None),
        (LEAD, (("Phone", "1"),), False, None),  # an update sends only what it has
        (LEAD, (("LastName", ""),), False, ("LastName",)),
    ],
)
def test_check_required(fields, values, creating, missing):
    problem = check_required(fields, values, creating=creating)
    if missing is None:
        assert problem is None
    else:
        assert problem is not None and problem.code == "REQUIRED_FIELD_MISSING" and problem.fields == missing


def test_required_on_create_is_createable_not_nillable_not_defaulted():
    assert [f.name for f in LEAD.required_on_create] == ["LastName", "Company"]
    assert [f.name for f in CONTACT.required_on_create] == ["LastName"]


def test_source_value_of_a_built_in_question_falls_back_to_the_guest_columns():
    row = q("Company", COMPANY)
    assert source_value(row, booking(guest_company="Acme", answers=())) == "Acme"


def test_default_mapping_never_splits_a_full_name():
    rows = default_mapping(QUESTIONS, LEAD)
    assert [(r.sf_field, r.source_key) for r in rows] == [
        ("LastName", str(NAME)),
        ("Email", str(EMAIL)),
        ("Company", str(COMPANY)),
        ("Phone", str(PHONE)),
    ]


def test_default_mapping_with_family_and_given_names():
    questions = (QuestionSnapshot(FAMILY, "family_name", "Family"), QuestionSnapshot(GIVEN, "given_name", "Given"))
    assert [(r.sf_field, r.source_key) for r in default_mapping(questions, CONTACT)] == [
        ("LastName", str(FAMILY)),
        ("FirstName", str(GIVEN)),
    ]


# -- the editor's mapping checks -----------------------------------------------------------------------------------

TOPIC, VISIT, SEATS, PLAN_CHOICE, STATUS_CHOICE, UNLIMITED_NAME = 20, 21, 22, 23, 24, 25
EDITOR_QUESTIONS = (
    *QUESTIONS,
    QuestionSnapshot(TOPIC, "long_text", "Topic"),
    QuestionSnapshot(VISIT, "short_text", "Preferred date", max_length=20),
    QuestionSnapshot(SEATS, "checkbox", "Team plan?"),
    QuestionSnapshot(PLAN_CHOICE, "single_select", "Rating", required=True, options=("Hot", "Warm")),
    QuestionSnapshot(STATUS_CHOICE, "single_select", "Stage", required=True, options=("Working - Contacted", "Later")),
    QuestionSnapshot(UNLIMITED_NAME, "full_name", "Name (no limit)", required=True),
)
GOOD = (q("LastName", NAME), q("Email", EMAIL), q("Company", COMPANY, fallback="Private person"), q("Phone", PHONE))
LEAD_WITH_VISIT = fields_from_describe(
    describe_object(
        "Lead", [*STANDARD_FIELDS["Lead"], custom_field_from_spec({"name": "Visit__c", "type": "date"})], "62.0"
    )
)
LOCKED_AFTER_CREATE = type(LEAD)(
    "Lead", (*LEAD.fields, FieldInfo("Region__c", "Region", "string", length=40, createable=True, updateable=False))
)
ACCOUNT_REF = type(LEAD)(
    "Lead",
    (*LEAD.fields, FieldInfo("Partner__c", "Partner", "reference", length=18, reference_to=("Account",))),
)


@pytest.mark.parametrize(
    ("name", "fields", "rows", "overwrite", "expected"),
    [
        ("a sound mapping may be saved", LEAD, GOOD, True, []),
        (
            "the same field twice",
            LEAD,
            (*GOOD, q("lastname", UNLIMITED_NAME)),
            False,
            [(4, "lastname", "already mapped in row 1")],
        ),
        (
            "a required field unmapped",
            LEAD,
            (q("LastName", NAME), q("Email", EMAIL)),
            False,
            [(None, "Company", "required by Salesforce: add a row")],
        ),
        (
            "a required field mapped to an optional question without fallback",
            LEAD,
            (q("LastName", NAME), q("Email", EMAIL), q("Company", COMPANY)),
            False,
            [(2, "Company", "make the question required or give this row a fallback")],
        ),
        (
            "free text into a date field",
            LEAD_WITH_VISIT,
            (*GOOD, q("Visit__c", VISIT)),
            False,
            [(4, "Visit__c", "cannot fill Visit (Visit__c), a date field")],
        ),
        (
            "a checkbox into a number",
            LEAD,
            (*GOOD, q("NumberOfEmployees", SEATS)),
            False,
            [(4, "NumberOfEmployees", "checkbox question")],
        ),
        (
            "a long-text question into a short string field: the booking form takes the field's limit",
            LEAD,
            (*GOOD, q("Title", TOPIC)),
            False,
            [],
        ),
        (
            "a name question without a limit into LastName: the booking form takes the field's limit",
            LEAD,
            (q("LastName", UNLIMITED_NAME), *GOOD[1:]),
            False,
            [],
        ),
        (
            "a choice whose option is longer than the field: options cannot be limited on the form",
            type(LEAD)("Lead", (*LEAD.fields, FieldInfo("Stage__c", "Stage", "string", length=10))),
            (*GOOD, q("Stage__c", STATUS_CHOICE)),
            False,
            [(4, "Stage__c", "allows 19 characters but Stage (Stage__c) holds 10; shorten the options")],
        ),
        (
            "a fixed value that is not an active picklist value",
            LEAD,
            (*GOOD, MappingRow("LeadSource", SourceKind.FIXED, fixed_value="Trade Show")),
            False,
            [(4, "LeadSource", "'Trade Show' is not an active value")],
        ),
        (
            "an active fixed picklist value",
            LEAD,
            (*GOOD, MappingRow("LeadSource", SourceKind.FIXED, fixed_value="Web")),
            False,
            [],
        ),
        (
            "a fixed value of the wrong type",
            LEAD,
            (*GOOD, MappingRow("NumberOfEmployees", SourceKind.FIXED, fixed_value="lots")),
            False,
            [(4, "NumberOfEmployees", "is not a whole number")],
        ),
        (
            "a field that no longer exists",
            LEAD,
            (*GOOD, MappingRow("Gone__c", SourceKind.FIXED, fixed_value="x")),
            False,
            [(4, "Gone__c", "no longer exists in Salesforce")],
        ),
        (
            "a field that is not createable",
            LEAD,
            (*GOOD, MappingRow("IsConverted", SourceKind.FIXED, fixed_value="true")),
            False,
            [(4, "IsConverted", "may not set Converted (IsConverted) on new records")],
        ),
        (
            "a field not updateable while overwrite is on",
            LOCKED_AFTER_CREATE,
            (*GOOD, MappingRow("Region__c", SourceKind.FIXED, fixed_value="EMEA")),
            True,
            [(4, "Region__c", "may not update Region (Region__c), and overwrite is on")],
        ),
        (
            "the same field is fine when overwrite is off",
            LOCKED_AFTER_CREATE,
            (*GOOD, MappingRow("Region__c", SourceKind.FIXED, fixed_value="EMEA")),
            False,
            [],
        ),
        (
            "a deleted question",
            LEAD,
            (*GOOD, q("Title", 99)),
            False,
            [(4, "Title", "no longer exists; choose another source")],
        ),
        (
            "the participating member owns the record",
            LEAD,
            (*GOOD, MappingRow("OwnerId", SourceKind.ITEM, "participating_member")),
            False,
            [],
        ),
        (
            "the participating member cannot fill a reference to Accounts",
            ACCOUNT_REF,
            (*GOOD, MappingRow("Partner__c", SourceKind.ITEM, "participating_member")),
            False,
            [(4, "Partner__c", "does not refer to Users")],
        ),
        ("choice options that are picklist values", LEAD, (*GOOD, q("Rating", PLAN_CHOICE)), False, []),
        (
            "choice options outside a restricted picklist",
            LEAD,
            (*GOOD, q("Status", STATUS_CHOICE)),
            False,
            [(4, "Status", "The options Later of 'Stage' are not values of Status")],
        ),
        (
            "free text into a restricted picklist",
            LEAD,
            (*GOOD, q("Status", VISIT)),
            False,
            [(4, "Status", "accepts only its picklist values")],
        ),
        (
            "a fallback that does not fit",
            LEAD,
            (*GOOD[:2], q("Company", COMPANY, fallback="C" * 300), GOOD[3]),
            False,
            [(2, "Company", "The fallback value does not fit")],
        ),
        (
            "the guest's e-mail must be mapped so the record can be found again",
            LEAD,
            (GOOD[0], GOOD[2]),
            False,
            [(None, "Email", "Map the guest's e-mail")],
        ),
        (
            "system items of fitting types",
            LEAD_WITH_VISIT,
            (
                *GOOD,
                MappingRow("Visit__c", SourceKind.ITEM, "booking_start"),
                MappingRow("Description", SourceKind.ITEM, "booking_datetime_text"),
                MappingRow("Website", SourceKind.ITEM, "booking_page_url"),
            ),
            False,
            [],
        ),
        (
            "a system item longer than the field",
            LEAD,
            (*GOOD, MappingRow("Website", SourceKind.ITEM, "meeting_url")),
            False,
            [(4, "Website", "Web meeting URL allows 500 characters but Website (Website) holds 255")],
        ),
        (
            "a system item that cannot fit",
            LEAD,
            (*GOOD, MappingRow("NumberOfEmployees", SourceKind.ITEM, "meeting_url")),
            False,
            [(4, "NumberOfEmployees", "Web meeting URL cannot fill")],
        ),
    ],
)
def test_check_mapping(name, fields, rows, overwrite, expected):
    problems = check_mapping(fields, EDITOR_QUESTIONS, rows, overwrite=overwrite)
    assert [(p.row, p.field) for p in problems] == [(row, field_name) for row, field_name, _ in expected], name
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message


def test_a_typed_question_is_limited_to_the_shortest_field_it_fills_and_choices_are_not():
    rows = (
        q("LastName", UNLIMITED_NAME),
        q("Title", UNLIMITED_NAME),
        q("Description", TOPIC),
        q("Rating", PLAN_CHOICE),
        q("Email", EMAIL),
        MappingRow("Company", SourceKind.FIXED, fixed_value="Acme"),
    )

    limits = mapped_limits(LEAD, EDITOR_QUESTIONS, rows)

    assert limits == {UNLIMITED_NAME: 80, EMAIL: LEAD.get("Email").length, TOPIC: LEAD.get("Description").length}


def test_every_system_item_has_a_stable_key_a_label_and_a_value():
    snapshot = booking(meeting_url="https://meet.example.com/x", booking_page_url="https://portal.example.com/c/x")
    for key, item in SYSTEM_ITEMS.items():
        assert item.key == key and item.label and item.fits
        assert item.value_of(snapshot) is not None


def test_answer_caps_match_the_booking_form():
    assert {kind: info.answer_cap for kind, info in QUESTION_KINDS.items()} == {
        str(kind): cap for kind, cap in KIND_MAX_LENGTH.items()
    }
