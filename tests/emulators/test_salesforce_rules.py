"""Record rules the org enforces on create and update, with the real error codes and messages."""

import pytest


def lead(**fields) -> dict:
    return {"LastName": "Tanaka", "Company": "Acme", "Email": "guest@example.com", **fields}


def only_error(response) -> dict:
    assert response.status_code == 400, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    return body[0]


def test_lead_requires_last_name_and_company(salesforce_rest):
    error = only_error(salesforce_rest.post("/sobjects/Lead", json={"Email": "a@example.com"}))
    assert error == {
        "message": "Required fields are missing: [LastName, Company]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName", "Company"],
    }


def test_contact_requires_last_name(salesforce_rest):
    assert only_error(salesforce_rest.post("/sobjects/Contact", json={"FirstName": "A"}))["fields"] == ["LastName"]


def test_blanking_a_required_field_on_update_is_refused(salesforce_rest):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    assert (
        only_error(salesforce_rest.patch(f"/sobjects/Lead/{lead_id}", json={"Company": ""}))["errorCode"]
        == "REQUIRED_FIELD_MISSING"
    )


def test_string_too_long_uses_the_real_message_format(salesforce_rest):
    error = only_error(salesforce_rest.post("/sobjects/Lead", json=lead(FirstName="x" * 41)))
    assert error == {
        "message": f"First Name: data value too large: {'x' * 41} (max length=40)",
        "errorCode": "STRING_TOO_LONG",
        "fields": ["FirstName"],
    }


def test_invalid_email_address(salesforce_rest):
    error = only_error(salesforce_rest.post("/sobjects/Lead", json=lead(Email="not an email")))
    assert error == {
        "message": "Email: invalid email address: not an email",
        "errorCode": "INVALID_EMAIL_ADDRESS",
        "fields": ["Email"],
    }


def test_restricted_picklist_refuses_unknown_values(salesforce_rest):
    error = only_error(salesforce_rest.post("/sobjects/Lead", json=lead(Status="Thinking about it")))
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error["message"] == "Status: bad value for restricted picklist field: Thinking about it"


def test_unrestricted_picklist_accepts_other_values(salesforce_rest):
    assert salesforce_rest.post("/sobjects/Lead", json=lead(LeadSource="Booking page")).status_code == 201


def test_read_only_field_is_invalid_field_for_insert_update(salesforce_rest):
    error = only_error(salesforce_rest.post("/sobjects/Lead", json=lead(IsConverted=True)))
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["IsConverted"]


def test_wrong_type_is_a_json_parser_error(salesforce_rest):
    assert (
        only_error(salesforce_rest.post("/sobjects/Lead", json=lead(NumberOfEmployees="many")))["errorCode"]
        == "JSON_PARSER_ERROR"
    )


def test_event_needs_an_end_or_a_duration(salesforce_rest):
    contact = salesforce_rest.post("/sobjects/Contact", json={"LastName": "C"}).json()["id"]
    error = only_error(
        salesforce_rest.post(
            "/sobjects/Event", json={"WhoId": contact, "StartDateTime": "2030-01-01T10:00:00Z", "Subject": "Meeting"}
        )
    )
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert error["fields"] == ["DurationInMinutes"]


def test_event_end_fills_in_duration(salesforce_rest, salesforce_control):
    contact = salesforce_rest.post("/sobjects/Contact", json={"LastName": "C"}).json()["id"]
    body = {
        "WhoId": contact,
        "StartDateTime": "2030-01-01T10:00:00Z",
        "EndDateTime": "2030-01-01T10:45:00Z",
        "Subject": "Meeting",
    }
    event_id = salesforce_rest.post("/sobjects/Event", json=body).json()["id"]
    stored = salesforce_control.get_record(event_id)
    assert stored["DurationInMinutes"] == 45
    assert stored["StartDateTime"] == "2030-01-01T10:00:00.000+0000"


def test_event_who_must_exist(salesforce_rest):
    body = {"WhoId": "0035g00000zzzzzAAA", "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30}
    assert only_error(salesforce_rest.post("/sobjects/Event", json=body))["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_event_who_of_the_wrong_type_is_refused(salesforce_rest):
    account = salesforce_rest.post("/sobjects/Account", json={"Name": "A"}).json()["id"]
    body = {"WhoId": account, "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30}
    assert only_error(salesforce_rest.post("/sobjects/Event", json=body))["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_owner_must_be_a_user(salesforce_rest, salesforce_control):
    host = salesforce_control.add_user("host@example-org.test", last_name="Host")
    assert salesforce_rest.post("/sobjects/Lead", json=lead(OwnerId=host)).status_code == 201
    assert (
        only_error(salesforce_rest.post("/sobjects/Lead", json=lead(OwnerId="not-an-id")))["errorCode"]
        == "MALFORMED_ID"
    )


def test_updating_a_converted_lead_is_refused(salesforce_rest, salesforce_control):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    contact_id = salesforce_control.convert_lead(lead_id)
    error = only_error(salesforce_rest.patch(f"/sobjects/Lead/{lead_id}", json={"Title": "x"}))
    assert error == {
        "message": "cannot reference converted lead",
        "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD",
        "fields": [],
    }
    contact = salesforce_rest.get(f"/sobjects/Contact/{contact_id}").json()
    assert contact["Email"] == "guest@example.com"
    assert salesforce_rest.get(f"/sobjects/Lead/{lead_id}").json()["ConvertedContactId"] == contact_id


def test_converted_lead_cannot_be_an_event_who(salesforce_rest, salesforce_control):
    lead_id = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    salesforce_control.convert_lead(lead_id)
    body = {"WhoId": lead_id, "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30}
    assert only_error(salesforce_rest.post("/sobjects/Event", json=body))["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_alert_duplicate_rule_reports_unless_allow_save_is_requested(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(duplicate_rules={"Lead": "alert"})
    existing = salesforce_rest.post("/sobjects/Lead", json=lead()).json()["id"]
    refused = salesforce_rest.post("/sobjects/Lead", json=lead(Email="GUEST@example.com"))
    error = only_error(refused)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["duplicateResult"]["allowSave"] is True
    match = error["duplicateResult"]["matchResults"][0]["matchRecords"][0]["record"]
    assert match["Id"] == existing
    saved = salesforce_rest.post(
        "/sobjects/Lead", json=lead(), headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"}
    )
    assert saved.status_code == 201


def test_blocking_duplicate_rule_refuses_even_with_allow_save(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(duplicate_rules={"Contact": "block"})
    salesforce_rest.post("/sobjects/Contact", json={"LastName": "A", "Email": "dup@example.com"})
    refused = salesforce_rest.post(
        "/sobjects/Contact",
        json={"LastName": "B", "Email": "dup@example.com"},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    error = only_error(refused)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["duplicateResult"]["allowSave"] is False


@pytest.mark.parametrize(
    ("sobject", "existing", "new", "duplicate"),
    [
        ("Lead", {"LastName": "Sato", "Company": "Acme"}, {"LastName": "SATO", "Company": "acme"}, True),
        ("Lead", {"LastName": "Sato", "Company": "Acme"}, {"LastName": "Sato", "Company": "Other"}, False),
        (
            "Lead",
            {"FirstName": "Ken", "LastName": "Sato", "Company": "Acme"},
            {"FirstName": "Yui", "LastName": "Sato", "Company": "Acme"},
            False,
        ),
        ("Contact", {"LastName": "Sato", "Phone": "03-1234"}, {"LastName": "Sato", "Phone": "03-1234"}, True),
        ("Contact", {"LastName": "Sato", "Phone": "03-1234"}, {"LastName": "Sato", "Phone": "03-9999"}, False),
    ],
)
def test_duplicate_rules_also_match_the_same_person_without_the_same_e_mail(
    salesforce_rest, salesforce_control, sobject, existing, new, duplicate
):
    salesforce_control.update_settings(duplicate_rules={sobject: "block"})
    salesforce_rest.post(f"/sobjects/{sobject}", json={**existing, "Email": "first@example.com"})

    response = salesforce_rest.post(f"/sobjects/{sobject}", json={**new, "Email": "second@example.com"})

    assert (response.status_code == 400) is duplicate
    if duplicate:
        assert only_error(response)["errorCode"] == "DUPLICATES_DETECTED"


def test_validation_rule_gives_its_own_message(salesforce_rest, salesforce_control):
    rule = {
        "object": "Lead",
        "field": "Phone",
        "message": "Phone is required for web leads",
        "condition": {"field": "Phone", "operator": "blank"},
    }
    salesforce_control.update_settings(validation_rules=[rule])
    error = only_error(salesforce_rest.post("/sobjects/Lead", json=lead()))
    assert error == {
        "message": "Phone is required for web leads",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": ["Phone"],
    }
    assert salesforce_rest.post("/sobjects/Lead", json=lead(Phone="+81 3 1234 5678")).status_code == 201


@pytest.mark.parametrize(
    "settings", [{"duplicate_rules": {"Lead": "sometimes"}}, {"no_such_setting": 1}, {"daily_api_limit": -5}]
)
def test_control_api_refuses_bad_settings_with_400(salesforce_control, settings):
    response = salesforce_control.session.patch(f"{salesforce_control.base_url}/settings", json=settings, timeout=10)
    assert response.status_code == 400
    assert "error" in response.json()
