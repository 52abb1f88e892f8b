"""SOQL over the query resource: lookups, escaping, operators, ordering, errors and paging."""

import pytest

ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def soql_literal(value: str) -> str:
    """Escape a string literal as the portal must (design §5)."""
    return "'" + "".join(ESCAPES.get(char, char) for char in value) + "'"


def ids_of(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["Id"] for record in response.json()["records"]]


@pytest.fixture
def leads(salesforce_control) -> dict[str, str]:
    seeded = {
        "apostrophe": {"LastName": "O'Brien", "Company": "A", "Email": "o'brien@example.com", "Rating": "Hot"},
        "backslash": {"LastName": "Back", "Company": "B", "Email": "back\\slash@example.com"},
        "plus": {"LastName": "Plus", "Company": "C", "Email": "guest+tag@example.com", "NumberOfEmployees": 50},
        "upper": {"LastName": "Upper", "Company": "D", "Email": "MiXeD@Example.COM", "LeadSource": "Web"},
        "converted": {"LastName": "Conv", "Company": "E", "Email": "conv@example.com", "IsConverted": True},
    }
    return {key: salesforce_control.seed_record("Lead", **fields) for key, fields in seeded.items()}


@pytest.mark.parametrize(
    "key,email",
    [
        ("apostrophe", "o'brien@example.com"),
        ("backslash", "back\\slash@example.com"),
        ("plus", "guest+tag@example.com"),
    ],
)
def test_email_lookup_with_special_characters(salesforce_rest, leads, key, email):
    response = salesforce_rest.query(f"SELECT Id, Email FROM Lead WHERE Email = {soql_literal(email)}")
    assert ids_of(response) == [leads[key]]
    assert response.json()["records"][0]["Email"] == email


def test_plus_sent_unencoded_in_the_url_reads_as_a_space(salesforce_rest, leads):
    url = f"{salesforce_rest.base_url}/query?q=SELECT+Id+FROM+Lead+WHERE+Email+=+'guest+tag@example.com'"
    assert salesforce_rest.session.get(url, timeout=10).json()["totalSize"] == 0


def test_email_match_is_case_insensitive(salesforce_rest, leads):
    assert ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE Email = 'mixed@example.com'")) == [leads["upper"]]


def test_unescaped_apostrophe_is_malformed(salesforce_rest, leads):
    response = salesforce_rest.query("SELECT Id FROM Lead WHERE Email = 'o'brien@example.com'")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_an_illegal_escape_sequence_is_malformed(salesforce_rest, leads):
    response = salesforce_rest.query("SELECT Id FROM Lead WHERE Email = 'back\\slash@example.com'")
    assert response.status_code == 400
    body = response.json()
    assert body[0]["errorCode"] == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\s'" in body[0]["message"]
    assert "ERROR at Row:1:Column:" in body[0]["message"]


def test_percent_escape_outside_like_is_malformed(salesforce_rest, leads):
    assert (
        salesforce_rest.query("SELECT Id FROM Lead WHERE LastName = '100\\%'").json()[0]["errorCode"]
        == "MALFORMED_QUERY"
    )


def test_missing_q_is_malformed(salesforce_rest):
    response = salesforce_rest.get("/query")
    assert response.json() == [{"message": "A query string has to be specified", "errorCode": "MALFORMED_QUERY"}]


def test_unknown_column_is_invalid_field(salesforce_rest):
    response = salesforce_rest.query("SELECT Id, Shoe__c FROM Lead")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Shoe__c' on entity 'Lead'" in response.json()[0]["message"]


def test_unknown_object_is_invalid_type(salesforce_rest):
    assert salesforce_rest.query("SELECT Id FROM Banana").json()[0]["errorCode"] == "INVALID_TYPE"


def test_quoted_boolean_is_invalid_field(salesforce_rest):
    response = salesforce_rest.query("SELECT Id FROM Lead WHERE IsConverted = 'false'")
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"


def test_empty_result_shape(salesforce_rest):
    assert salesforce_rest.query("SELECT Id FROM Lead").json() == {"totalSize": 0, "done": True, "records": []}


def test_booleans_and_or_with_parentheses(salesforce_rest, leads):
    soql = "SELECT Id FROM Lead WHERE IsConverted = false AND (Rating = 'Hot' OR LeadSource = 'Web') ORDER BY LastName"
    assert ids_of(salesforce_rest.query(soql)) == [leads["apostrophe"], leads["upper"]]


def test_mixing_and_with_or_without_parentheses_is_malformed(salesforce_rest, leads):
    response = salesforce_rest.query(
        "SELECT Id FROM Lead WHERE IsConverted = false AND Rating = 'Hot' OR LeadSource = 'Web'"
    )
    assert response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_in_not_in_and_not_equal(salesforce_rest, leads):
    in_query = "SELECT Id FROM Lead WHERE LastName IN ('Plus', 'Back') ORDER BY LastName"
    assert ids_of(salesforce_rest.query(in_query)) == [leads["backslash"], leads["plus"]]
    not_in = "SELECT Id FROM Lead WHERE LastName NOT IN ('Plus', 'Back', 'Upper', 'Conv')"
    assert ids_of(salesforce_rest.query(not_in)) == [leads["apostrophe"]]
    assert len(ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE LastName != 'Plus'"))) == 4


def test_like_with_wildcards_and_escaped_underscore(salesforce_rest, salesforce_control, leads):
    underscored = salesforce_control.seed_record("Lead", LastName="a_b", Company="X")
    salesforce_control.seed_record("Lead", LastName="axb", Company="X")
    assert ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE LastName LIKE 'a\\_b'")) == [underscored]
    assert len(ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE LastName LIKE 'a_b'"))) == 2
    assert ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE Email LIKE '%+TAG@%'")) == [leads["plus"]]


def test_null_comparisons(salesforce_rest, leads):
    assert ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE NumberOfEmployees != null")) == [leads["plus"]]
    assert len(ids_of(salesforce_rest.query("SELECT Id FROM Lead WHERE Rating = null"))) == 4


def test_datetime_comparison_and_order_by_last_modified(salesforce_rest, salesforce_control):
    old = salesforce_control.seed_record(
        "Lead", LastName="Old", Company="X", Email="same@example.com", LastModifiedDate="2020-01-01T00:00:00Z"
    )
    new = salesforce_control.seed_record(
        "Lead", LastName="New", Company="X", Email="same@example.com", LastModifiedDate="2024-06-01T12:00:00+09:00"
    )
    newest_first = "SELECT Id FROM Lead WHERE Email = 'same@example.com' ORDER BY LastModifiedDate DESC LIMIT 1"
    assert ids_of(salesforce_rest.query(newest_first)) == [new]
    since = "SELECT Id FROM Lead WHERE LastModifiedDate > 2023-01-01T00:00:00Z AND LastName IN ('Old','New')"
    assert ids_of(salesforce_rest.query(since)) == [new]
    assert ids_of(
        salesforce_rest.query("SELECT Id FROM Lead WHERE LastModifiedDate < 2021-01-01T00:00:00.000+0000")
    ) == [old]


def test_quoted_datetime_is_invalid_field(salesforce_rest):
    response = salesforce_rest.query("SELECT Id FROM Lead WHERE CreatedDate > '2020-01-01T00:00:00Z'")
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"


def test_order_by_nulls_and_limit_offset(salesforce_rest, leads):
    ordered = ids_of(
        salesforce_rest.query(
            "SELECT Id FROM Lead ORDER BY NumberOfEmployees DESC NULLS FIRST, LastName ASC LIMIT 2 OFFSET 1"
        )
    )
    assert ordered == [leads["converted"], leads["apostrophe"]]  # nulls (by LastName) first, then 50


def test_converted_lead_fields_are_queryable(salesforce_rest, salesforce_control, leads):
    contact_id = salesforce_control.convert_lead(leads["plus"])
    records = salesforce_rest.query(
        "SELECT Id, IsConverted, ConvertedContactId FROM Lead WHERE Email = 'guest+tag@example.com'"
    ).json()["records"]
    assert records[0]["IsConverted"] is True
    assert records[0]["ConvertedContactId"] == contact_id


def test_records_carry_attributes_and_selected_fields_in_order(salesforce_rest, leads):
    record = salesforce_rest.query("SELECT Email, Id FROM Lead WHERE LastName = 'Plus'").json()["records"][0]
    assert list(record) == ["attributes", "Email", "Id"]
    assert record["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{leads['plus']}"}


def test_count_query(salesforce_rest, leads):
    assert salesforce_rest.query("SELECT COUNT() FROM Lead WHERE IsConverted = false").json()["totalSize"] == 4


def test_paging_with_next_records_url(salesforce_rest, salesforce_control, leads):
    salesforce_control.update_settings(query_batch_size=2)
    first = salesforce_rest.query("SELECT Id FROM Lead ORDER BY LastName").json()
    assert first["done"] is False and first["totalSize"] == 5 and len(first["records"]) == 2
    locator_path = first["nextRecordsUrl"].removeprefix("/services/data/v59.0")
    second = salesforce_rest.get(locator_path).json()
    third = salesforce_rest.get(second["nextRecordsUrl"].removeprefix("/services/data/v59.0")).json()
    assert third["done"] is True and "nextRecordsUrl" not in third
    assert len(first["records"] + second["records"] + third["records"]) == 5
    assert salesforce_rest.get(locator_path).json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_user_lookup_by_email(salesforce_rest, salesforce_control):
    host = salesforce_control.add_user("host@example-org.test", email="Host@Example.com", last_name="Host")
    assert ids_of(
        salesforce_rest.query("SELECT Id FROM User WHERE Email = 'host@example.com' AND IsActive = true")
    ) == [host]
