"""Injected faults, latency and the request log, observed over real HTTP."""

import pytest
import requests

from emulators.salesforce.control import EmulatorControlError

LEAD = {"LastName": "Tanaka", "Company": "Acme", "Email": "guest@example.com"}


def test_service_unavailable_is_503_with_an_html_body(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("service_unavailable", count=1)
    response = salesforce_rest.get("/limits")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.text
    assert salesforce_rest.get("/limits").status_code == 200


def test_unknown_exception_is_500_with_an_error_array(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("unknown_exception", count=1)
    response = salesforce_rest.get("/limits")
    assert response.status_code == 500
    assert response.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_unable_to_lock_row_refuses_the_write(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("unable_to_lock_row", path="/sobjects/Lead", count=1)
    refused = salesforce_rest.post("/sobjects/Lead", json=LEAD)
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert salesforce_control.records("Lead") == []
    assert salesforce_rest.post("/sobjects/Lead", json=LEAD).status_code == 201


def test_unable_to_lock_row_inside_composite_rolls_back(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("unable_to_lock_row", path="/sobjects/Event", count=1)
    subrequests = [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "lead", "body": LEAD},
        {
            "method": "POST",
            "url": "/services/data/v59.0/sobjects/Event",
            "referenceId": "event",
            "body": {"WhoId": "@{lead.id}", "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30},
        },
    ]
    response = salesforce_rest.post("/composite", json={"allOrNone": True, "compositeRequest": subrequests})
    results = response.json()["compositeResponse"]
    assert response.status_code == 200
    assert results[1]["body"][0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert salesforce_control.records("Lead") == []


def test_dropped_connection_before_processing_commits_nothing(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("drop_connection", path="/sobjects/Lead$", method="POST", count=1)
    with pytest.raises(requests.ConnectionError):
        salesforce_rest.post("/sobjects/Lead", json=LEAD)
    assert salesforce_control.records("Lead") == []


def test_dropped_connection_after_commit_leaves_the_record_written(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("drop_after_commit", path="/composite$", count=1)
    subrequests = [{"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "lead", "body": LEAD}]
    with pytest.raises(requests.ConnectionError):
        salesforce_rest.post("/composite", json={"allOrNone": True, "compositeRequest": subrequests})
    leads = salesforce_control.records("Lead")
    assert [lead["Email"] for lead in leads] == ["guest@example.com"]
    entry = salesforce_control.request_log()[-1]
    assert (entry["fault"], entry["status"], entry["api_call"]) == ("drop_after_commit", 200, True)


def test_a_fault_can_aim_at_a_composite_subrequest_and_spare_other_composites(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("drop_after_commit", path="sobjects/Lead$", method="POST", count=1)
    read = [{"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead", "referenceId": "leads"}]
    write = [{"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "lead", "body": LEAD}]

    assert salesforce_rest.post("/composite", json={"allOrNone": False, "compositeRequest": read}).status_code == 200
    with pytest.raises(requests.ConnectionError):
        salesforce_rest.post("/composite", json={"allOrNone": True, "compositeRequest": write})
    assert [lead["Email"] for lead in salesforce_control.records("Lead")] == ["guest@example.com"]


def test_counted_faults_hit_only_the_next_k_matching_requests(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("unknown_exception", path="/limits", count=2)
    statuses = [salesforce_rest.get("/sobjects/Lead/describe").status_code] + [
        salesforce_rest.get("/limits").status_code for _ in range(3)
    ]
    assert statuses == [200, 500, 500, 200]
    assert salesforce_control.faults() == []


def test_rate_faults_hit_a_share_of_requests(salesforce_rest, salesforce_control):
    salesforce_control.add_fault("service_unavailable", path="/limits", rate=0.5)
    statuses = {salesforce_rest.get("/limits").status_code for _ in range(40)}
    assert statuses == {200, 503}
    salesforce_control.clear_faults()
    assert salesforce_rest.get("/limits").status_code == 200


def test_bad_fault_specs_are_refused(salesforce_control):
    with pytest.raises(EmulatorControlError):
        salesforce_control.add_fault("meteor_strike")
    with pytest.raises(EmulatorControlError):
        salesforce_control.add_fault("unknown_exception", path="(unclosed")


def test_request_log_records_bodies_listeners_and_api_calls(salesforce_emulator, salesforce_rest, salesforce_control):
    salesforce_control.clear_log()
    salesforce_rest.post("/sobjects/Lead", json=LEAD)
    requests.get(f"{salesforce_emulator.instance_url}/services/data/", timeout=10)
    log = salesforce_control.request_log()
    create, versions = log[-2], log[-1]
    assert (create["method"], create["path"], create["status"], create["api_call"], create["listener"]) == (
        "POST",
        "/services/data/v59.0/sobjects/Lead",
        201,
        True,
        "instance",
    )
    assert '"Company": "Acme"' in create["body"]
    assert versions["api_call"] is False
    salesforce_control.clear_log()
    assert salesforce_control.request_log() == []


def test_latency_setting_still_serves_requests(salesforce_rest, salesforce_control):
    salesforce_control.update_settings(latency_ms=20)
    assert salesforce_rest.get("/limits").status_code == 200


def test_control_api_is_never_faulted(salesforce_control):
    salesforce_control.add_fault("service_unavailable", path=".*")
    assert salesforce_control.api_calls() == 0


def test_a_record_url_on_the_instance_opens_its_row_on_the_records_page(salesforce_emulator, salesforce_control):
    lead_id = salesforce_control.seed_record("Lead", **LEAD)

    response = requests.get(f"{salesforce_emulator.instance_url}/{lead_id}", allow_redirects=False, timeout=10)
    page = requests.get(f"{salesforce_emulator.instance_url}/{lead_id}", timeout=10)

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/__emulator__/records#{lead_id}")
    assert f'<tr id="{lead_id}">' in page.text
