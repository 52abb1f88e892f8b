"""sObject Collections: create, update and retrieve many records in one API call, per-record results, allOrNone,
limits, and fault rules applying to them."""

V = "/services/data/v59.0"


def lead(email: str, **fields) -> dict:
    return {"attributes": {"type": "Lead"}, "LastName": "Tanaka", "Company": "Acme", "Email": email, **fields}


def save(salesforce_rest, method: str, records: list[dict], all_or_none: bool = False):
    return salesforce_rest.request(method, "/composite/sobjects", json={"allOrNone": all_or_none, "records": records})


def test_create_saves_each_valid_record_and_reports_the_others_by_position(salesforce_rest, salesforce_control):
    response = save(
        salesforce_rest, "POST", [lead("a@example.com"), lead("b@example.com", LastName=""), lead("c@x.test")]
    )
    assert response.status_code == 200
    first, second, third = response.json()
    assert first["success"] and third["success"]
    assert second == {
        "success": False,
        "errors": [
            {"statusCode": "REQUIRED_FIELD_MISSING", "message": second["errors"][0]["message"], "fields": ["LastName"]}
        ],
    }
    assert salesforce_control.get_record(first["id"])["Email"] == "a@example.com"
    assert {r["Email"] for r in salesforce_control.records("Lead")} == {"a@example.com", "c@x.test"}


def test_all_or_none_rolls_every_record_back_when_one_fails(salesforce_rest, salesforce_control):
    results = save(salesforce_rest, "POST", [lead("a@example.com"), lead("bad", Email="nope")], True).json()
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert salesforce_control.records("Lead") == []


def test_update_changes_each_record_by_id_and_refuses_a_missing_id(salesforce_rest, salesforce_control):
    lead_id = salesforce_control.seed_record("Lead", LastName="T", Company="A", Email="t@example.com")
    records = [{"attributes": {"type": "Lead"}, "id": lead_id, "Title": "CTO"}, {"attributes": {"type": "Lead"}}]
    results = save(salesforce_rest, "PATCH", records).json()
    assert results[0] == {"id": lead_id, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert salesforce_control.get_record(lead_id)["Title"] == "CTO"


def test_a_collection_is_one_api_call_and_holds_at_most_200_records(salesforce_rest, salesforce_control):
    before = salesforce_control.api_calls()
    assert save(salesforce_rest, "POST", [lead(f"g{n}@example.com") for n in range(200)]).status_code == 200
    assert salesforce_control.api_calls() == before + 1
    refused = save(salesforce_rest, "POST", [lead(f"h{n}@example.com") for n in range(201)])
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert len(salesforce_control.records("Lead")) == 200


def test_records_need_a_type_and_at_most_ten_runs_of_one_type(salesforce_rest):
    untyped = save(salesforce_rest, "POST", [{"LastName": "X"}])
    assert (untyped.status_code, untyped.json()[0]["errorCode"]) == (400, "INVALID_TYPE")
    contact = {"attributes": {"type": "Contact"}, "LastName": "C"}
    alternating = [lead(f"a{n}@example.com") if n % 2 else contact for n in range(11)]
    refused = save(salesforce_rest, "POST", alternating)
    assert (refused.status_code, refused.json()[0]["errorCode"]) == (400, "EXCEEDED_MAX_TYPES_LIMIT")
    assert save(salesforce_rest, "POST", alternating[:10]).status_code == 200


def test_retrieve_returns_records_in_order_and_null_for_unknown_ids(salesforce_rest, salesforce_control):
    first = salesforce_control.seed_record("Lead", LastName="A", Company="C", Email="a@example.com")
    second = salesforce_control.seed_record("Lead", LastName="B", Company="C", Email="b@example.com")
    contact = salesforce_control.seed_record("Contact", LastName="C")
    ids = ",".join([second, contact, first])
    got = salesforce_rest.get("/composite/sobjects/Lead", params={"ids": ids, "fields": "Id,Email"}).json()
    assert [row and row["Email"] for row in got] == ["b@example.com", None, "a@example.com"]
    posted = salesforce_rest.post("/composite/sobjects/Lead", json={"ids": [first], "fields": ["LastName"]}).json()
    assert posted[0]["LastName"] == "A"
    bad = salesforce_rest.get("/composite/sobjects/Lead", params={"ids": first, "fields": "Nope"})
    assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "INVALID_FIELD")


def test_lock_faults_fail_single_records_and_transport_faults_the_request(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("unable_to_lock_row", count=1)
    results = save(salesforce_rest, "POST", [lead("a@example.com"), lead("b@example.com")]).json()
    assert [r["success"] for r in results] == [False, True]
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    salesforce_control.add_fault("service_unavailable", path="composite/sobjects$", count=1)
    assert save(salesforce_rest, "POST", [lead("c@example.com")]).status_code == 503
    assert {r["Email"] for r in salesforce_control.records("Lead")} == {"b@example.com"}


def test_the_duplicate_rule_header_of_the_request_saves_alerted_duplicates(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(duplicate_rules={"Lead": "alert"})
    salesforce_control.seed_record("Lead", LastName="T", Company="A", Email="a@example.com")
    body = {"allOrNone": False, "records": [lead("a@example.com")]}
    refused = salesforce_rest.post("/composite/sobjects", json=body).json()
    assert refused[0]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"
    headers = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
    assert salesforce_rest.post("/composite/sobjects", json=body, headers=headers).json()[0]["success"]
