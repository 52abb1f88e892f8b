"""The REST data API on the instance host: sessions, CRUD, describe, limits."""

import requests

from emulators.salesforce.ids import case_safe_suffix


def lead(**fields) -> dict:
    return {"LastName": "Tanaka", "Company": "Acme", "Email": "guest@example.com", **fields}


def test_versions_list_needs_no_session(salesforce_emulator):
    response = requests.get(f"{salesforce_emulator.instance_url}/services/data/", timeout=10)
    assert response.status_code == 200
    assert {"label": "v59.0", "url": "/services/data/v59.0", "version": "59.0"} in response.json()


def test_data_calls_without_a_session_are_invalid_session(salesforce_emulator, salesforce_control):
    response = requests.get(
        f"{salesforce_emulator.instance_url}/services/data/v59.0/sobjects/Lead/describe", timeout=10
    )
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_a_non_bearer_authorization_header_is_invalid_auth_header(salesforce_emulator, salesforce_control):
    response = requests.get(
        f"{salesforce_emulator.instance_url}/services/data/v59.0/limits",
        headers={"Authorization": "Basic abc"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == [{"message": "INVALID_HEADER_TYPE", "errorCode": "INVALID_AUTH_HEADER"}]


def test_data_calls_are_not_served_on_login_hosts(salesforce_emulator, salesforce_tokens):
    response = requests.get(
        f"{salesforce_emulator.production_url}/services/data/v59.0/limits",
        headers={"Authorization": f"Bearer {salesforce_tokens['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 404


def test_create_returns_201_with_id_success_errors(salesforce_rest):
    response = salesforce_rest.post("/sobjects/Lead", json=lead())
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["id", "success", "errors"]
    assert body["success"] is True and body["errors"] == []
    assert body["id"].startswith("00Q") and len(body["id"]) == 18
    assert body["id"][15:] == case_safe_suffix(body["id"][:15])


def test_ids_carry_the_object_key_prefix(salesforce_rest, salesforce_control):
    contact = salesforce_rest.post("/sobjects/Contact", json={"LastName": "C"}).json()["id"]
    account = salesforce_rest.post("/sobjects/Account", json={"Name": "A"}).json()["id"]
    event = salesforce_rest.post(
        "/sobjects/Event", json={"WhoId": contact, "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30}
    ).json()["id"]
    assert (contact[:3], account[:3], event[:3]) == ("003", "001", "00U")
    assert salesforce_control.summary()["admin_user_id"].startswith("005")
    assert salesforce_control.summary()["org_id"].startswith("00D")


def test_get_returns_attributes_and_fields(salesforce_rest):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead(FirstName="Aiko")).json()["id"]
    record = salesforce_rest.get(f"/sobjects/Lead/{lead_id}").json()
    assert record["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{lead_id}"}
    assert record["Name"] == "Aiko Tanaka"
    assert record["Status"] == "Open - Not Contacted"
    assert record["IsConverted"] is False


def test_get_with_fields_returns_only_those(salesforce_rest):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    record = salesforce_rest.get(f"/sobjects/Lead/{lead_id}", params={"fields": "Email,Company"}).json()
    assert list(record) == ["attributes", "Email", "Company"]


def test_fifteen_character_ids_are_accepted(salesforce_rest):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    assert salesforce_rest.get(f"/sobjects/Lead/{lead_id[:15]}").json()["Id"] == lead_id


def test_patch_returns_204_with_an_empty_body_and_updates_last_modified(salesforce_rest, salesforce_control):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    salesforce_control.seed_record("Account", Name="unrelated")  # time passes between create and update
    before = salesforce_control.get_record(lead_id)
    response = salesforce_rest.patch(f"/sobjects/Lead/{lead_id}", json={"Title": "CTO"})
    assert response.status_code == 204
    assert response.content == b""
    after = salesforce_control.get_record(lead_id)
    assert after["Title"] == "CTO"
    assert after["CreatedDate"] == before["CreatedDate"]
    assert after["LastModifiedDate"] >= before["LastModifiedDate"]


def test_delete_then_reads_and_writes_report_deletion(salesforce_rest):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    assert salesforce_rest.delete(f"/sobjects/Lead/{lead_id}").status_code == 204
    again = salesforce_rest.delete(f"/sobjects/Lead/{lead_id}")
    assert again.status_code == 404
    assert again.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
    assert (
        salesforce_rest.patch(f"/sobjects/Lead/{lead_id}", json={"Title": "x"}).json()[0]["errorCode"]
        == "ENTITY_IS_DELETED"
    )
    assert salesforce_rest.get(f"/sobjects/Lead/{lead_id}").status_code == 404
    assert salesforce_rest.query(f"SELECT Id FROM Lead WHERE Id = '{lead_id}'").json()["totalSize"] == 0


def test_unknown_record_and_object_are_not_found(salesforce_rest):
    missing = salesforce_rest.get("/sobjects/Lead/00Q5g00000zzzzzAAA")
    assert missing.status_code == 404
    assert missing.json()[0]["errorCode"] == "NOT_FOUND"
    unknown = salesforce_rest.get("/sobjects/Banana/describe")
    assert unknown.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_wrong_method_is_method_not_allowed(salesforce_rest):
    response = salesforce_rest.request("PUT", "/sobjects/Lead/00Q5g00000zzzzzAAA", json={})
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_malformed_json_is_a_json_parser_error_not_a_crash(salesforce_rest):
    response = salesforce_rest.post("/sobjects/Lead", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_limit_info_header_counts_calls(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(daily_api_limit=500)
    first = salesforce_rest.get("/limits")
    second = salesforce_rest.get("/limits")
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/500"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/500"
    assert second.json()["DailyApiRequests"] == {"Max": 500, "Remaining": 498}
    assert salesforce_control.api_calls() == 2


def test_daily_limit_reached_is_request_limit_exceeded(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(daily_api_limit=10)
    salesforce_control.set_api_calls(10)
    response = salesforce_rest.get("/sobjects/Lead/describe")
    assert response.status_code == 403
    assert response.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert salesforce_control.api_calls() == 10


def test_org_without_api_access_is_api_disabled(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(api_enabled=False)
    response = salesforce_rest.get("/limits")
    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "API_DISABLED_FOR_ORG"


def test_describe_lead_has_realistic_field_metadata(salesforce_rest):
    describe = salesforce_rest.get("/sobjects/Lead/describe").json()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["name"] == "Lead" and describe["keyPrefix"] == "00Q"
    assert fields["LastName"]["nillable"] is False and fields["LastName"]["createable"] is True
    assert fields["Company"]["length"] == 255
    assert fields["Email"]["type"] == "email"
    assert fields["Name"]["createable"] is False
    assert fields["Status"]["defaultedOnCreate"] is True
    assert {
        "value": "Trade Show",
        "label": "Trade Show",
        "active": False,
        "defaultValue": False,
        "validFor": None,
    } in fields["LeadSource"]["picklistValues"]
    assert fields["Status"]["restrictedPicklist"] is True
    required = sorted(
        name for name, f in fields.items() if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]
    )
    assert required == ["Company", "LastName"]


def test_describe_covers_contact_event_user_account(salesforce_rest):
    for name, field in [("Contact", "Email"), ("Event", "WhoId"), ("User", "Username"), ("Account", "Name")]:
        describe = salesforce_rest.get(f"/sobjects/{name}/describe").json()
        assert field in {f["name"] for f in describe["fields"]}


def test_field_permissions_change_describe_and_writes(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(
        field_permissions={
            "Lead.Title": {"createable": False, "updateable": False},
            "Lead.Industry": {"readable": False},
        }
    )
    fields = {f["name"]: f for f in salesforce_rest.get("/sobjects/Lead/describe").json()["fields"]}
    assert fields["Title"]["createable"] is False and fields["Title"]["updateable"] is False
    assert "Industry" not in fields
    refused = salesforce_rest.post("/sobjects/Lead", json=lead(Title="CEO"))
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert refused.json()[0]["fields"] == ["Title"]
    hidden = salesforce_rest.post("/sobjects/Lead", json=lead(Industry="Banking"))
    assert hidden.json()[0]["errorCode"] == "INVALID_FIELD"


def test_custom_fields_appear_in_describe_and_accept_values(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(
        custom_fields=[
            {"object": "Lead", "name": "Booking_Id__c", "type": "string", "length": 20, "label": "Booking Id"},
            {
                "object": "Lead",
                "name": "Plan__c",
                "type": "picklist",
                "picklistValues": ["Gold", {"value": "Old", "active": False}],
                "restrictedPicklist": True,
            },
        ]
    )
    fields = {f["name"]: f for f in salesforce_rest.get("/sobjects/Lead/describe").json()["fields"]}
    assert fields["Booking_Id__c"]["custom"] is True and fields["Booking_Id__c"]["length"] == 20
    assert [v["active"] for v in fields["Plan__c"]["picklistValues"]] == [True, False]
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead(Booking_Id__c="b-1", Plan__c="Gold")).json()["id"]
    assert salesforce_rest.get(f"/sobjects/Lead/{lead_id}").json()["Booking_Id__c"] == "b-1"
    inactive = salesforce_rest.post("/sobjects/Lead", json=lead(Plan__c="Old"))
    assert inactive.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_unknown_field_on_create_is_invalid_field(salesforce_rest):
    response = salesforce_rest.post("/sobjects/Lead", json=lead(Shoe_Size__c=42))
    assert response.status_code == 400
    assert response.json() == [
        {"message": "No such column 'Shoe_Size__c' on sobject of type Lead", "errorCode": "INVALID_FIELD"}
    ]


def test_a_token_without_the_api_scope_cannot_call_the_data_api(salesforce_emulator, salesforce_control):
    tokens = salesforce_control.issue_tokens(scope="id refresh_token")
    response = requests.get(
        f"{tokens['instance_url']}/services/data/v59.0/limits",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 403
