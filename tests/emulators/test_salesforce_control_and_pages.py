"""The control API's robustness, the records page, and concurrent requests."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from emulators.salesforce.control import EmulatorControlError

BAD_CONTROL_REQUESTS = [
    ("POST", "/records", {"object": "Lead", "fields": ["not", "a", "dict"]}),
    ("POST", "/records", {"object": "Banana", "fields": {}}),
    ("POST", "/records", {"object": "Lead", "fields": {"NumberOfEmployees": "many"}}),
    ("POST", "/users", {"username": 42}),
    ("POST", "/apps", {"client_id": "a", "client_secret": "b", "callback_urls": "http://x"}),
    ("POST", "/tokens", {"username": "nobody@example.com"}),
    ("POST", "/faults", {"fault": "service_unavailable", "count": 0}),
    ("PATCH", "/settings", {"validation_rules": "all of them"}),
    ("PUT", "/usage", {"api_calls": -1}),
    ("POST", "/leads/00Q5g00000zzzzzAAA/convert", None),
    ("DELETE", "/records/00Q5g00000zzzzzAAA", None),
    ("POST", "/records/00Q5g00000zzzzzAAA/merge", {"victims": ["00Q5g00000zzzzyAAA"]}),
    ("POST", "/records/00Q5g00000zzzzzAAA/merge", {"victims": "00Q5g00000zzzzyAAA"}),
]


@pytest.mark.parametrize("method,path,body", BAD_CONTROL_REQUESTS)
def test_bad_control_requests_are_refused_without_a_server_error(salesforce_control, method, path, body):
    response = requests.request(method, salesforce_control.base_url + path, json=body, timeout=10)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_non_json_control_body_is_a_400(salesforce_control):
    response = requests.post(
        salesforce_control.base_url + "/records", data="{oops", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400


def test_records_page_lists_leads_contacts_events_and_users(salesforce_emulator, salesforce_rest, salesforce_control):
    lead = salesforce_rest.post(
        "/sobjects/Lead", json={"LastName": "<Tanaka>", "Company": "Acme", "Email": "t@example.com"}
    ).json()["id"]
    contact = salesforce_control.seed_record("Contact", LastName="Sato")
    salesforce_rest.post(
        "/sobjects/Event",
        json={
            "WhoId": contact,
            "Subject": "Demo call",
            "StartDateTime": "2030-01-01T10:00:00Z",
            "DurationInMinutes": 30,
        },
    )
    page = requests.get(f"{salesforce_emulator.production_url}/__emulator__/records", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    for text in (lead, contact, "Demo call", "admin@example-org.test", 'id="Lead"', 'id="Event"', 'id="User"'):
        assert text in page.text
    assert "&lt;Tanaka&gt;" in page.text and "<Tanaka>" not in page.text


def test_odd_but_parseable_values_never_cause_a_server_error(salesforce_rest):
    contact = salesforce_rest.post("/sobjects/Contact", json={"LastName": "C"}).json()["id"]
    bodies = [
        ("/sobjects/Lead", '{"LastName": "L", "Company": "C", "NumberOfEmployees": 1e400}'),
        ("/sobjects/Lead", {"LastName": {"nested": True}, "Company": "C"}),
        ("/sobjects/Event", {"WhoId": contact, "StartDateTime": "9999-12-31T23:00:00Z", "DurationInMinutes": 20000}),
        ("/sobjects/Event", {"WhoId": contact, "StartDateTime": "not a date", "DurationInMinutes": 30}),
        ("/sobjects/Lead", ["a", "list"]),
        (
            "/composite",
            {
                "compositeRequest": [
                    {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "a", "httpHeaders": []}
                ]
            },
        ),
        ("/composite", {"compositeRequest": "nope"}),
    ]
    for path, body in bodies:
        sent = (
            {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, str) else {"json": body}
        )
        assert salesforce_rest.post(path, **sent).status_code < 500
    for soql in (
        "SELECT",
        "SELECT Id FROM Lead WHERE CreatedDate > 2024-13-45T00:00:00Z",
        "SELECT Id FROM Lead LIMIT -1",
        "SELECT Id FROM Lead WHERE (Email = 'a'",
    ):
        assert salesforce_rest.query(soql).status_code == 400


def test_concurrent_creates_are_all_stored_and_counted(salesforce_rest, salesforce_control):
    def create(number: int) -> int:
        body = {"LastName": f"Guest {number}", "Company": "Acme", "Email": f"g{number}@example.com"}
        return salesforce_rest.post("/sobjects/Lead", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(40)))
    assert statuses == [201] * 40
    assert len({lead["Id"] for lead in salesforce_control.records("Lead")}) == 40
    assert salesforce_control.api_calls() == 40


def test_a_deleted_record_refuses_updates_and_references_as_salesforce_does(salesforce_rest, salesforce_control):
    lead = salesforce_control.seed_record("Lead", LastName="Gone", Company="Goneco")
    salesforce_control.delete_record(lead)

    patch = salesforce_rest.patch(f"/sobjects/Lead/{lead}", json={"Company": "Back"})
    event = salesforce_rest.post(
        "/sobjects/Event", json={"WhoId": lead, "StartDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30}
    )

    assert (patch.status_code, patch.json()[0]["errorCode"]) == (404, "ENTITY_IS_DELETED")
    assert (event.status_code, event.json()[0]["errorCode"]) == (400, "ENTITY_IS_DELETED")


def test_a_merge_deletes_the_victims_and_moves_their_events_to_the_master(salesforce_rest, salesforce_control):
    master = salesforce_control.seed_record("Contact", LastName="Master")
    victim = salesforce_control.seed_record("Contact", LastName="Victim")
    event = salesforce_control.seed_record(
        "Event", WhoId=victim, StartDateTime="2030-01-01T10:00:00Z", EndDateTime="2030-01-01T10:30:00Z"
    )
    lead, other_lead = (salesforce_control.seed_record("Lead", LastName=n, Company="C") for n in ("L1", "L2"))

    salesforce_control.merge_records(master, victim)

    record = salesforce_control.get_record(victim)
    assert (record["IsDeleted"], record["MasterRecordId"]) == (True, master)
    assert salesforce_control.get_record(event)["WhoId"] == master
    assert salesforce_rest.patch(f"/sobjects/Contact/{victim}", json={"LastName": "X"}).status_code == 404
    salesforce_control.convert_lead(lead)
    with pytest.raises(EmulatorControlError, match="converted leads cannot be merged"):
        salesforce_control.merge_records(other_lead, lead)
