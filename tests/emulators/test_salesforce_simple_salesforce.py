"""simple-salesforce, a widely used third-party client, works against the emulator unmodified."""

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest


class PlainHttpAdapter(HTTPAdapter):
    """simple-salesforce always builds https:// URLs; the emulator listens on plain HTTP, so only the
    scheme is rewritten at the transport layer. The client's code and requests are untouched."""

    def send(self, request, *args, **kwargs):
        request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


@pytest.fixture
def sf(salesforce_emulator, salesforce_tokens) -> Salesforce:
    session = requests.Session()
    session.mount(salesforce_emulator.instance_url.replace("http://", "https://"), PlainHttpAdapter())
    return Salesforce(
        instance_url=salesforce_tokens["instance_url"], session_id=salesforce_tokens["access_token"], session=session
    )


def test_simple_salesforce_creates_queries_and_updates_a_lead(sf, salesforce_control):
    created = sf.Lead.create({"LastName": "O'Hara", "Company": "Acme", "Email": "o'hara+demo@example.com"})
    assert created["success"] is True
    found = sf.query("SELECT Id, Email FROM Lead WHERE Email = 'o\\'hara+demo@example.com'")
    assert found["totalSize"] == 1 and found["records"][0]["Id"] == created["id"]
    assert sf.Lead.update(created["id"], {"Title": "Director"}) == 204
    assert sf.Lead.get(created["id"])["Title"] == "Director"
    assert salesforce_control.get_record(created["id"])["Title"] == "Director"


def test_simple_salesforce_reads_describe_and_pages_with_query_all(sf, salesforce_control):
    salesforce_control.update_settings(query_batch_size=2)
    for number in range(5):
        salesforce_control.seed_record("Contact", LastName=f"Guest {number}")
    assert len(sf.query_all("SELECT Id FROM Contact")["records"]) == 5
    assert "Email" in {field["name"] for field in sf.Contact.describe()["fields"]}


def test_simple_salesforce_raises_its_own_error_for_record_rules(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "No company"})
    assert raised.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
