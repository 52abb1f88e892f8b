"""The Composite resource: references, allOrNone rollback, limits, and one API call per request."""

V = "/services/data/v59.0"


def create_lead(reference: str, **fields) -> dict:
    body = {"LastName": "Tanaka", "Company": "Acme", "Email": "guest@example.com", **fields}
    return {"method": "POST", "url": f"{V}/sobjects/Lead", "referenceId": reference, "body": body}


def create_event(reference: str, who: str) -> dict:
    body = {
        "WhoId": who,
        "Subject": "Meeting",
        "StartDateTime": "2030-01-01T10:00:00Z",
        "EndDateTime": "2030-01-01T10:30:00Z",
    }
    return {"method": "POST", "url": f"{V}/sobjects/Event", "referenceId": reference, "body": body}


def composite(salesforce_rest, subrequests: list[dict], all_or_none: bool = False):
    return salesforce_rest.post("/composite", json={"allOrNone": all_or_none, "compositeRequest": subrequests})


def test_reference_links_an_event_to_the_lead_created_before_it(salesforce_rest, salesforce_control):
    response = composite(
        salesforce_rest, [create_lead("newLead"), create_event("newEvent", "@{newLead.id}")], all_or_none=True
    )
    assert response.status_code == 200
    results = response.json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [201, 201]
    assert [r["referenceId"] for r in results] == ["newLead", "newEvent"]
    assert results[0]["httpHeaders"]["Location"].endswith(results[0]["body"]["id"])
    event = salesforce_control.get_record(results[1]["body"]["id"])
    assert event["WhoId"] == results[0]["body"]["id"]


def test_query_results_can_be_referenced(salesforce_rest, salesforce_control):
    lead_id = salesforce_control.seed_record("Lead", LastName="Known", Company="X", Email="known@example.com")
    query = {
        "method": "GET",
        "url": f"{V}/query/?q=SELECT+Id+FROM+Lead+WHERE+Email+%3D+'known%40example.com'",
        "referenceId": "lookup",
    }
    update = {
        "method": "PATCH",
        "url": f"{V}/sobjects/Lead/@{{lookup.records[0].Id}}",
        "referenceId": "update",
        "body": {"Title": "CTO"},
    }
    results = composite(salesforce_rest, [query, update]).json()["compositeResponse"]
    assert results[0]["body"]["records"][0]["Id"] == lead_id
    assert results[1]["httpStatusCode"] == 204
    assert results[1]["body"] is None
    assert salesforce_control.get_record(lead_id)["Title"] == "CTO"


def test_all_or_none_failure_rolls_back_and_halts_the_others(salesforce_rest, salesforce_control):
    subrequests = [
        create_lead("first"),
        create_lead("broken", Email="not an email"),
        create_event("event", "@{first.id}"),
    ]
    response = composite(salesforce_rest, subrequests, all_or_none=True)
    assert response.status_code == 200
    results = response.json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [400, 400, 400]
    halted = [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "The transaction was rolled back since another operation in the same transaction failed.",
        }
    ]
    assert results[0]["body"] == halted and results[2]["body"] == halted
    assert results[1]["body"][0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    assert salesforce_control.records("Lead") == []


def test_without_all_or_none_successes_stay_and_dependents_halt(salesforce_rest, salesforce_control):
    subrequests = [create_lead("good"), create_lead("broken", Company=None), create_event("event", "@{broken.id}")]
    results = composite(salesforce_rest, subrequests).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [201, 400, 400]
    assert results[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert len(salesforce_control.records("Lead")) == 1


def test_a_composite_request_counts_as_one_api_call(salesforce_rest, salesforce_control):
    response = composite(salesforce_rest, [create_lead(f"lead{i}", Email=f"g{i}@example.com") for i in range(5)])
    assert salesforce_control.api_calls() == 1
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=1/")


def test_more_than_25_subrequests_is_refused(salesforce_rest, salesforce_control):
    response = composite(salesforce_rest, [create_lead(f"lead{i}") for i in range(26)])
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert salesforce_control.records("Lead") == []


def test_more_than_5_queries_is_refused(salesforce_rest):
    queries = [{"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Lead", "referenceId": f"q{i}"} for i in range(6)]
    assert composite(salesforce_rest, queries).status_code == 400


def test_duplicate_reference_ids_are_refused(salesforce_rest):
    assert composite(salesforce_rest, [create_lead("same"), create_lead("same")]).status_code == 400


def test_allow_save_header_on_a_subrequest_saves_an_alerted_duplicate(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(duplicate_rules={"Lead": "alert"})
    salesforce_control.seed_record("Lead", LastName="Old", Company="X", Email="guest@example.com")
    refused = composite(salesforce_rest, [create_lead("plain")]).json()["compositeResponse"][0]
    allowed = {**create_lead("allowed"), "httpHeaders": {"Sforce-Duplicate-Rule-Header": "allowSave=true"}}
    saved = composite(salesforce_rest, [allowed]).json()["compositeResponse"][0]
    assert refused["httpStatusCode"] == 400 and refused["body"][0]["errorCode"] == "DUPLICATES_DETECTED"
    assert saved["httpStatusCode"] == 201
