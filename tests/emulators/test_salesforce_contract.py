"""Contract: the response shapes the portal relies on (portal/salesforce/schemas) hold for the
emulator's real responses over HTTP and for every matching real Salesforce sample.

Samples live in tests/data/salesforce-samples (SOURCES.md there lists where each came from); the test reads
nothing outside the repository.
"""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import requests

from emulators.salesforce.testing import complete_authorize_page

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "portal" / "salesforce" / "schemas"
DOCS = REPO / "docs" / "emulators.md"
V = "/services/data/v59.0"

# Every sample file: the schema it must satisfy, or None when the portal relies on no such shape.
SAMPLE_SCHEMAS = {
    "collections_create_allornone_rolled_back_doc.json": "collection_save_results.json",
    "collections_create_duplicate_partial_doc.json": "collection_save_results.json",
    "collections_create_request_doc.json": None,
    "collections_create_success_doc.json": "collection_save_results.json",
    "composite_subrequest_error_body_doc.json": "rest_errors.json",
    "composite_subrequest_result_success_doc.json": "composite_subrequest_result.json",
    "create_success_compact_real_v51.json": "create_response.json",
    "create_success_pretty_real.json": "create_response.json",
    "describe_account_excerpt_real_v28.json": "describe.json",
    "error_api_disabled_for_org.json": "rest_errors.json",
    "error_cannot_update_converted_lead.json": "rest_errors.json",
    "error_duplicates_detected_contact.json": "duplicates_detected_error.json",
    "error_entity_is_deleted_real_v49.json": "rest_errors.json",
    "error_invalid_auth_header.json": "rest_errors.json",
    "error_invalid_email_address_real.json": "rest_errors.json",
    "error_invalid_field_write.json": "rest_errors.json",
    "error_invalid_query_locator_real.json": "rest_errors.json",
    "error_invalid_session.json": "rest_errors.json",
    "error_malformed_query_missing_q.json": "rest_errors.json",
    "error_malformed_query_real.json": "rest_errors.json",
    "error_malformed_query_with_position.json": "rest_errors.json",
    "error_not_found_bad_lead_id_real.json": "rest_errors.json",
    "error_not_found_describe.json": "rest_errors.json",
    "error_not_found_errorcode_first_v51.json": "rest_errors.json",
    "error_not_found_external_id_field.json": "rest_errors.json",
    "error_request_limit_exceeded.json": "rest_errors.json",
    "error_required_field_missing_real.json": "rest_errors.json",
    "error_restricted_picklist_real.json": "rest_errors.json",
    "error_string_too_long_real.json": "rest_errors.json",
    "get_contact_selected_fields_real.json": "sobject_record.json",
    "get_lead_full_real_v51.json": "sobject_record.json",
    "identity_url_response_2014_sandbox.json": "identity.json",
    "oauth_error_authentication_failure_password_flow.json": "oauth_error.json",
    "oauth_error_expired_authorization_code.json": "oauth_error.json",
    "oauth_error_expired_refresh_token.json": "oauth_error.json",
    "oauth_error_invalid_client_id.json": "oauth_error.json",
    "query_account_compact_real_v51.json": "query_response.json",
    "query_empty.json": "query_response.json",
    "query_paginated_first_page.json": "query_response.json",
    "query_paginated_last_page.json": "query_response.json",
    "query_product2_real.json": "query_response.json",
    "query_with_subquery_real.json": "query_response.json",
    "token_response_auth_code_2013_openidm.json": "token_response.json",
    "token_response_password_flow_databasedotcom.json": "token_response.json",
    "token_response_refresh_cloudsfdc_2024.json": "token_response.json",
    "token_response_refresh_doc.json": "token_response.json",
    "token_response_web_server_doc.json": "token_response.json",
    "token_response_web_server_real_nango.json": "token_response.json",
    "upsert_created_201.json": None,
    "upsert_multiple_matches_300.json": None,
    "upsert_multiple_matches_300_v60.json": None,
}


SAMPLES = REPO / "tests" / "data" / "salesforce-samples"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def check(name: str, instance: object) -> None:
    jsonschema.validate(instance, schema(name), cls=jsonschema.Draft202012Validator)


def sample_files() -> list[str]:
    return sorted(path.name for path in SAMPLES.glob("*.json"))


# -- schemas against the samples -----------------------------------------------------------------


def test_the_samples_folder_is_present_and_every_sample_is_classified():
    found = sample_files()
    assert found, f"no samples in {SAMPLES}"
    assert set(found) == set(SAMPLE_SCHEMAS), "classify each new sample in SAMPLE_SCHEMAS and docs/emulators.md"


def test_every_schema_is_a_valid_json_schema():
    for path in SCHEMAS.glob("*.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("sample", sorted(name for name, schema_name in SAMPLE_SCHEMAS.items() if schema_name))
def test_schema_accepts_the_real_sample(sample):
    check(SAMPLE_SCHEMAS[sample], json.loads((SAMPLES / sample).read_text()))


def test_docs_list_each_sample_as_covered_or_not_with_the_schema():
    docs = DOCS.read_text()
    for sample, schema_name in SAMPLE_SCHEMAS.items():
        lines = [line for line in docs.splitlines() if f"`{sample}`" in line]
        assert lines, f"{sample} missing from docs/emulators.md"
        expected = f"covered by `{schema_name}`" if schema_name else "not covered"
        assert expected in lines[0], f"{sample}: docs should say {expected!r}"


# -- schemas against the emulator's responses ----------------------------------------------------


@pytest.fixture
def tokens(salesforce_emulator, salesforce_control) -> dict:
    callback = "http://127.0.0.1:5000/callback"
    query = f"response_type=code&client_id=emulator-client-id&redirect_uri={callback}&scope=api+id+refresh_token+openid"
    location = complete_authorize_page(f"{salesforce_emulator.production_url}/services/oauth2/authorize?{query}")
    code = re.search(r"code=([^&]+)", location).group(1)
    form = {"grant_type": "authorization_code", "code": requests.utils.unquote(code), "redirect_uri": callback}
    response = token_call(salesforce_emulator, form)
    assert response.status_code == 200
    check("token_response.json", response.json())
    return response.json()


def token_call(emulator, form: dict) -> requests.Response:
    credentials = {"client_id": "emulator-client-id", "client_secret": "emulator-client-secret"}
    return requests.post(f"{emulator.production_url}/services/oauth2/token", data={**credentials, **form}, timeout=10)


@pytest.fixture
def api(tokens):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        response = session.request(method, tokens["instance_url"] + V + path, timeout=10, **kwargs)
        if response.status_code != 401 and response.status_code < 500:  # 5xx faults come from the front end
            check("sforce_limit_info.json", response.headers["Sforce-Limit-Info"])
        return response

    return call


def test_oauth_responses_match(salesforce_emulator, tokens, salesforce_control):
    refreshed = token_call(
        salesforce_emulator, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    check("token_response.json", refreshed.json())
    reused = token_call(salesforce_emulator, {"grant_type": "authorization_code", "code": "nope", "redirect_uri": "x"})
    check("oauth_error.json", reused.json())
    salesforce_control.revoke_all_tokens()
    expired = token_call(salesforce_emulator, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    check("oauth_error.json", expired.json())
    revoke = requests.post(
        f"{salesforce_emulator.production_url}/services/oauth2/revoke", data={"token": "nope"}, timeout=10
    )
    check("oauth_error.json", revoke.json())


def test_identity_response_matches(tokens):
    response = requests.get(tokens["id"], headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    check("identity.json", response.json())


def test_record_responses_match(api, salesforce_control):
    created = api("POST", "/sobjects/Lead", json={"LastName": "L", "Company": "C", "Email": "l@example.com"})
    assert created.status_code == 201
    check("create_response.json", created.json())
    check("sobject_record.json", api("GET", f"/sobjects/Lead/{created.json()['id']}").json())
    check("query_response.json", api("GET", "/query", params={"q": "SELECT Id, Email, IsConverted FROM Lead"}).json())
    check("query_response.json", api("GET", "/query", params={"q": "SELECT Id FROM Contact"}).json())
    salesforce_control.update_settings(query_batch_size=1)
    api("POST", "/sobjects/Lead", json={"LastName": "M", "Company": "C"})
    first = api("GET", "/query", params={"q": "SELECT Id FROM Lead"}).json()
    check("query_response.json", first)
    check("query_response.json", api("GET", first["nextRecordsUrl"].removeprefix(V)).json())


@pytest.mark.parametrize("sobject", ["Lead", "Contact", "Event", "User", "Account"])
def test_describe_responses_match(api, sobject):
    check("describe.json", api("GET", f"/sobjects/{sobject}/describe").json())


def test_composite_responses_match(api):
    lead = {
        "method": "POST",
        "url": f"{V}/sobjects/Lead",
        "referenceId": "lead",
        "body": {"LastName": "L", "Company": "C"},
    }
    event = {
        "method": "POST",
        "url": f"{V}/sobjects/Event",
        "referenceId": "event",
        "body": {"WhoId": "@{lead.id}", "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30},
    }
    bad = {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "bad", "body": {"Email": "x"}}
    for subrequests in ([lead, event], [lead, bad, event]):
        response = api("POST", "/composite", json={"allOrNone": True, "compositeRequest": subrequests})
        assert response.status_code == 200
        check("composite_response.json", response.json())
        for result in response.json()["compositeResponse"]:
            check("composite_subrequest_result.json", result)
            if result["httpStatusCode"] >= 400:
                check("rest_errors.json", result["body"])


def error_situations(api, salesforce_control) -> list[requests.Response]:
    """Drive each REST error the portal handles and return the responses."""
    lead = api("POST", "/sobjects/Lead", json={"LastName": "L", "Company": "C", "Email": "dup@example.com"}).json()[
        "id"
    ]
    converted = salesforce_control.seed_record("Lead", LastName="K", Company="C", IsConverted=True)
    situations = [
        api("POST", "/sobjects/Lead", json={"Email": "a@example.com"}),
        api("POST", "/sobjects/Lead", json={"LastName": "x" * 81, "Company": "C"}),
        api("POST", "/sobjects/Lead", json={"LastName": "L", "Company": "C", "Email": "nope"}),
        api("POST", "/sobjects/Lead", json={"LastName": "L", "Company": "C", "Status": "Maybe"}),
        api("POST", "/sobjects/Lead", json={"LastName": "L", "Company": "C", "Name": "x"}),
        api("POST", "/sobjects/Lead", json={"LastName": "L", "Company": "C", "Nope__c": "x"}),
        api("PATCH", f"/sobjects/Lead/{converted}", json={"Title": "x"}),
        api("GET", "/query", params={"q": "SELECT Id FROM Lead WHERE Email = 'a\\qb'"}),
        api("GET", "/query", params={"q": "SELECT Nope FROM Lead"}),
        api("GET", "/query"),
        api("GET", "/query/01gnope-2000"),
        api("GET", "/sobjects/Nope/describe"),
        api("GET", "/sobjects/Lead/00Q5g00000zzzzzAAA"),
        api("POST", "/sobjects/Event", json={"WhoId": lead, "StartDateTime": "2030-01-01T10:00:00Z"}),
    ]
    api("DELETE", f"/sobjects/Lead/{lead}")
    situations.append(api("DELETE", f"/sobjects/Lead/{lead}"))
    salesforce_control.update_settings(
        validation_rules=[{"object": "Contact", "message": "No", "condition": {"field": "Phone"}}]
    )
    situations.append(api("POST", "/sobjects/Contact", json={"LastName": "C"}))
    salesforce_control.add_fault("unable_to_lock_row", count=1)
    situations.append(api("POST", "/sobjects/Account", json={"Name": "A"}))
    salesforce_control.add_fault("unknown_exception", count=1)
    situations.append(api("GET", "/limits"))
    salesforce_control.update_settings(daily_api_limit=0)
    situations.append(api("GET", "/limits"))
    salesforce_control.update_settings(daily_api_limit=100, api_enabled=False)
    situations.append(api("GET", "/limits"))
    return situations


def test_error_responses_match(api, salesforce_control):
    for response in error_situations(api, salesforce_control):
        assert response.status_code >= 400
        check("rest_errors.json", response.json())


def test_session_errors_match(salesforce_emulator, salesforce_control):
    base = f"{salesforce_emulator.instance_url}{V}/limits"
    for headers in ({}, {"Authorization": "Bearer expired"}, {"Authorization": "Basic x"}):
        response = requests.get(base, headers=headers, timeout=10)
        assert response.status_code == 401
        check("rest_errors.json", response.json())


def test_duplicate_responses_match(api, salesforce_control):
    for mode in ("alert", "block"):
        salesforce_control.update_settings(duplicate_rules={"Contact": mode})
        body = {"LastName": "D", "Email": f"{mode}@example.com"}
        salesforce_control.seed_record("Contact", **body)
        response = api("POST", "/sobjects/Contact", json=body)
        assert response.status_code == 400
        check("duplicates_detected_error.json", response.json())
        check("rest_errors.json", response.json())


def test_collection_responses_match_the_documented_samples(api, salesforce_control):
    request = json.loads((SAMPLES / "collections_create_request_doc.json").read_text())
    created = api("POST", "/composite/sobjects", json=request)
    assert created.status_code == 200
    check("collection_save_results.json", created.json())
    assert [result["success"] for result in created.json()] == [True, True]
    salesforce_control.update_settings(duplicate_rules={"Contact": "block"})
    salesforce_control.seed_record("Contact", LastName="D", Email="dup@example.com")
    for all_or_none in (False, True):
        records = [
            {"attributes": {"type": "Contact"}, "LastName": "D", "Email": "dup@example.com"},
            {"attributes": {"type": "Contact"}, "LastName": "New", "Email": f"new-{all_or_none}@example.com"},
        ]
        answer = api("POST", "/composite/sobjects", json={"allOrNone": all_or_none, "records": records})
        check("collection_save_results.json", answer.json())
        assert answer.json()[0]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"
    assert answer.json()[1]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    updated = api("PATCH", "/composite/sobjects", json={"records": [{"attributes": {"type": "Contact"}, "id": "x"}]})
    check("collection_save_results.json", updated.json())
    retrieved = api("GET", "/composite/sobjects/Contact", params={"ids": created.json()[1]["id"], "fields": "Id"})
    check("sobject_record.json", retrieved.json()[0])
