"""The Salesforce client over real HTTP against the emulator, on committed data (its token transactions are its
own): REST calls, refresh-once on an expired session, rotation, invalid_grant, errors, usage and the trail."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal import create_app
from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import AuditEvent, ConnectionStatus, SalesforceConnection, Team
from portal.salesforce import signals
from portal.salesforce.client import client_for_connection
from portal.salesforce.errors import SalesforceAuthError, SalesforceRequestError, SalesforceUnavailable

from . import salesforce_helpers as rest
from .salesforce_flow import store_connection, token_requests


@pytest.fixture(scope="module")
def live_app(base_config, database_factory):
    application = create_app(
        {**base_config, "DATABASE_URL": database_factory("sfclient"), "SALESFORCE_TIMEOUT_SECONDS": 3.0}
    )
    with application.app_context():
        yield application
    application.extensions["database"].engine.dispose()


@pytest.fixture
def connection(live_app, salesforce_emulator, salesforce_control) -> SalesforceConnection:
    """A committed connection of a new premium team, from fresh emulator tokens (log cleared afterwards)."""
    team = Team(name="Client test team", plan="premium")
    db.session.add(team)
    db.session.commit()
    tokens = salesforce_control.issue_tokens()
    stored = store_connection(db.session, team.id, tokens, salesforce_emulator.production_url, token_cipher())
    salesforce_control.clear_log()
    yield stored
    db.session.remove()


def reloaded(connection_id: int) -> SalesforceConnection:
    db.session.remove()
    return db.session.get(SalesforceConnection, connection_id)


def test_query_url_encodes_the_soql_so_a_plus_in_an_email_matches(connection, salesforce_control):
    salesforce_control.seed_record("Lead", LastName="Plus", Company="Acme", Email="ann+sf@example.com")

    with client_for_connection(connection.id) as sf:
        result = sf.query("SELECT Id, Email FROM Lead WHERE Email = 'ann+sf@example.com'")

    assert [record["Email"] for record in result["records"]] == ["ann+sf@example.com"]
    assert "ann%2Bsf%40example.com" in salesforce_control.request_log()[0]["query"]


def test_create_get_update_and_delete_a_record(connection, salesforce_control):
    with client_for_connection(connection.id) as sf:
        lead_id = rest.create(sf, "Lead", {"LastName": "Round", "Company": "Trip"})
        rest.update(sf, "Lead", lead_id, {"Company": "Updated"})
        fetched = rest.get(sf, "Lead", lead_id, fields=["Company", "LastName"])
        rest.delete(sf, "Lead", lead_id)
        calls = sf.api_calls

    assert (fetched["Company"], fetched["LastName"]) == ("Updated", "Round")
    assert salesforce_control.get_record(lead_id)["IsDeleted"] is True
    assert calls == 4


def test_composite_returns_each_subrequest_result_and_costs_one_api_call(live_app, connection, salesforce_control):
    before = salesforce_control.api_calls()
    version = live_app.config["SALESFORCE_API_VERSION"]

    with client_for_connection(connection.id) as sf:
        results = rest.composite(
            sf,
            [
                {
                    "method": "POST",
                    "url": rest.data_path(version, "sobjects/Lead"),
                    "referenceId": "lead",
                    "body": {"LastName": "C", "Company": "D"},
                },
                {"method": "GET", "url": rest.data_path(version, "sobjects/Lead/@{lead.id}"), "referenceId": "again"},
            ],
            all_or_none=True,
        )
        calls = sf.api_calls

    assert [result["httpStatusCode"] for result in results] == [201, 200]
    assert results[1]["body"]["Id"] == results[0]["body"]["id"]
    assert calls == 1
    assert salesforce_control.api_calls() == before + 1


def test_describe_returns_the_objects_fields(connection):
    with client_for_connection(connection.id) as sf:
        described = sf.describe("Lead")

    assert {"LastName", "Company", "Email"} <= {field["name"] for field in described["fields"]}


def test_api_names_are_checked_before_any_request(connection, salesforce_control):
    with client_for_connection(connection.id) as sf, pytest.raises(ValueError):
        sf.describe("Lead/../x")

    assert salesforce_control.request_log() == []


def test_an_expired_access_token_is_refreshed_once_and_the_call_retried(connection, salesforce_control):
    cipher = token_cipher()
    old_access = cipher.decrypt(connection.access_token_encrypted)
    old_refresh = cipher.decrypt(connection.refresh_token_encrypted)
    salesforce_control.expire_access_tokens()

    with client_for_connection(connection.id) as sf:
        result = sf.query("SELECT Id FROM Lead")
        calls, refreshes = sf.api_calls, sf.refreshes

    assert result["totalSize"] == 0
    assert (calls, refreshes) == (1, 1)  # the request answered 401 is not an API call: Salesforce counts one
    assert len(token_requests(salesforce_control, "refresh_token")) == 1
    stored = reloaded(connection.id)
    assert stored.token_generation == connection.token_generation + 1
    assert cipher.decrypt(stored.access_token_encrypted) != old_access
    assert cipher.decrypt(stored.refresh_token_encrypted) == old_refresh  # no rotation: the old one is kept
    assert stored.status == ConnectionStatus.CONNECTED


def test_a_rotated_refresh_token_is_persisted_and_is_the_one_used_next_time(connection, salesforce_control):
    cipher = token_cipher()
    old_refresh = cipher.decrypt(connection.refresh_token_encrypted)
    salesforce_control.update_settings(refresh_token_rotation=True)
    salesforce_control.expire_access_tokens()

    with client_for_connection(connection.id) as sf:
        sf.query("SELECT Id FROM Lead")

    rotated = cipher.decrypt(reloaded(connection.id).refresh_token_encrypted)
    assert rotated != old_refresh
    salesforce_control.expire_access_tokens()
    with client_for_connection(connection.id) as sf:
        sf.query("SELECT Id FROM Lead")
    refreshes = token_requests(salesforce_control, "refresh_token")
    assert [entry["status"] for entry in refreshes] == [200, 200]
    assert rotated in refreshes[1]["body"]
    assert reloaded(connection.id).status == ConnectionStatus.CONNECTED


def test_a_token_another_process_just_obtained_is_used_instead_of_refreshing_again(connection, salesforce_control):
    first, second = client_for_connection(connection.id), client_for_connection(connection.id)
    salesforce_control.expire_access_tokens()

    first.query("SELECT Id FROM Lead")
    second.query("SELECT Id FROM Lead")
    first.close()
    second.close()

    assert len(token_requests(salesforce_control, "refresh_token")) == 1
    assert (first.refreshes, second.refreshes) == (1, 1)
    assert reloaded(connection.id).token_generation == connection.token_generation + 1


def test_a_session_refused_again_after_the_refresh_is_not_retried_a_second_time(connection, salesforce_control):
    salesforce_control.update_settings(access_token_max_calls=0)  # every access token is dead on arrival

    with client_for_connection(connection.id) as sf, pytest.raises(SalesforceRequestError) as refused:
        sf.query("SELECT Id FROM Lead")

    assert (refused.value.status, refused.value.code) == (401, "INVALID_SESSION_ID")
    assert sf.api_calls == 0  # both requests were answered 401: neither counts against the org
    assert len(token_requests(salesforce_control, "refresh_token")) == 1


def test_invalid_grant_marks_the_connection_needs_reconnect_audits_and_signals_it(connection, salesforce_control):
    salesforce_control.revoke_all_tokens()
    broken = []

    def receiver(app, **details):
        broken.append(details)

    with (
        signals.connection_broken.connected_to(receiver),
        client_for_connection(connection.id) as sf,
        pytest.raises(SalesforceAuthError) as refused,
    ):
        sf.query("SELECT Id FROM Lead")

    assert refused.value.code == "invalid_grant"
    stored = reloaded(connection.id)
    assert stored.status == ConnectionStatus.NEEDS_RECONNECT
    assert stored.status_reason == "invalid_grant: expired access/refresh token"
    assert stored.status_changed_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.team_id == connection.team_id)).one()
    assert (event.action, event.actor_id) == ("salesforce.needs_reconnect", None)
    assert event.details["org_id"] == connection.org_id
    assert broken == [{"team_id": connection.team_id, "connection_id": connection.id, "reason": stored.status_reason}]
    with pytest.raises(SalesforceAuthError) as again:
        client_for_connection(connection.id)
    assert again.value.code == "needs_reconnect"


def test_a_changed_instance_url_from_the_refresh_is_followed_and_stored(
    connection, salesforce_emulator, salesforce_control
):
    moved = salesforce_emulator.instance_url.replace("127.0.0.1", "localhost")
    db.session.execute(
        SalesforceConnection.__table__.update()
        .where(SalesforceConnection.id == connection.id)
        .values(instance_url=moved + "/")
    )
    db.session.commit()
    salesforce_control.expire_access_tokens()

    with client_for_connection(connection.id) as sf:
        sf.query("SELECT Id FROM Lead")
        assert sf.instance_url == salesforce_emulator.instance_url

    data_hosts = [entry["host"] for entry in salesforce_control.request_log() if entry["listener"] == "instance"]
    assert data_hosts == [urlsplit(moved).netloc, urlsplit(salesforce_emulator.instance_url).netloc]
    assert reloaded(connection.id).instance_url == salesforce_emulator.instance_url


def test_a_refused_write_raises_a_request_error_with_code_fields_and_the_raw_array(connection):
    with client_for_connection(connection.id) as sf, pytest.raises(SalesforceRequestError) as refused:
        rest.create(sf, "Lead", {"Company": "No last name"})

    assert (refused.value.status, refused.value.code) == (400, "REQUIRED_FIELD_MISSING")
    assert refused.value.fields == ["LastName"]
    assert refused.value.errors[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_a_503_page_is_unavailable_and_known_not_to_have_committed(connection, salesforce_control):
    salesforce_control.add_fault("service_unavailable", path="/sobjects/Lead$", count=1)

    with client_for_connection(connection.id) as sf, pytest.raises(SalesforceUnavailable) as failed:
        rest.create(sf, "Lead", {"LastName": "Down", "Company": "X"})

    assert (failed.value.status, failed.value.may_have_committed) == (503, False)
    assert salesforce_control.records("Lead") == []


def test_a_connection_dropped_after_a_write_was_committed_is_an_unknown_outcome(connection, salesforce_control):
    salesforce_control.add_fault("drop_after_commit", path="/sobjects/Lead$", method="POST", count=1)

    with client_for_connection(connection.id) as sf, pytest.raises(SalesforceUnavailable) as failed:
        rest.create(sf, "Lead", {"LastName": "Lost", "Company": "Answer"})

    assert failed.value.status is None
    assert failed.value.may_have_committed is True
    assert [lead["LastName"] for lead in salesforce_control.records("Lead")] == ["Lost"]


def test_a_read_that_times_out_is_unavailable_without_a_possible_commit(connection, salesforce_control):
    salesforce_control.update_settings(latency_ms=4000)
    try:
        with client_for_connection(connection.id) as sf, pytest.raises(SalesforceUnavailable) as failed:
            sf.query("SELECT Id FROM Lead")
    finally:
        salesforce_control.update_settings(latency_ms=0)

    assert "timed out" in failed.value.message
    assert failed.value.may_have_committed is False


def test_a_post_that_only_reads_and_loses_its_answer_is_a_failed_read_not_an_unknown_outcome(
    connection, salesforce_control
):
    salesforce_control.add_fault("drop_connection", path="/composite$", count=2)
    reads = {
        "allOrNone": False,
        "compositeRequest": [{"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "l"}],
    }
    trail: list[dict] = []

    with client_for_connection(connection.id, on_exchange=trail.append) as sf:
        with pytest.raises(SalesforceUnavailable) as as_read:
            sf.request("POST", "composite", json=reads, writes=False)
        with pytest.raises(SalesforceUnavailable) as by_method:
            sf.request("POST", "composite", json=reads)
        calls = sf.api_calls

    assert (as_read.value.read_failed, as_read.value.may_have_committed) == (True, False)
    assert (by_method.value.read_failed, by_method.value.may_have_committed) == (False, True)
    assert calls == 2 and [entry["api_call"] for entry in trail] == [True, True]  # sent: Salesforce may count them


def test_a_token_refresh_that_loses_its_answer_is_not_a_failed_read(connection, salesforce_control):
    salesforce_control.expire_access_tokens()
    salesforce_control.add_fault("drop_connection", path="/services/oauth2/token", count=1)

    with client_for_connection(connection.id) as sf, pytest.raises(SalesforceUnavailable) as failed:
        sf.query("SELECT Id FROM Lead")

    assert (failed.value.read_failed, failed.value.may_have_committed, sf.api_calls) == (False, False, 0)


def test_a_write_to_an_unreachable_instance_is_known_not_to_have_committed(connection):
    db.session.execute(
        SalesforceConnection.__table__.update()
        .where(SalesforceConnection.id == connection.id)
        .values(instance_url="http://127.0.0.1:9")
    )
    db.session.commit()

    with client_for_connection(connection.id) as sf, pytest.raises(SalesforceUnavailable) as failed:
        rest.create(sf, "Lead", {"LastName": "Nowhere", "Company": "X"})

    assert failed.value.may_have_committed is False


def test_api_usage_is_read_from_responses_and_stored_once_on_close(connection, salesforce_control):
    salesforce_control.set_api_calls(1200)

    with client_for_connection(connection.id) as sf:
        sf.query("SELECT Id FROM Lead")
        sf.query("SELECT Id FROM Contact")
        usage = sf.api_usage
        assert reloaded(connection.id).api_usage_used is None  # not written per request

    assert (usage.used, usage.limit) == (1202, 15000)
    stored = reloaded(connection.id)
    assert (stored.api_usage_used, stored.api_usage_limit) == (1202, 15000)
    assert stored.api_usage_seen_at is not None


def test_each_exchange_is_reported_with_secrets_redacted(connection, salesforce_control):
    cipher = token_cipher()
    secrets = [cipher.decrypt(connection.access_token_encrypted), cipher.decrypt(connection.refresh_token_encrypted)]
    salesforce_control.expire_access_tokens()
    trail: list[dict] = []

    with client_for_connection(connection.id, on_exchange=trail.append) as sf:
        rest.create(sf, "Lead", {"LastName": "Trail", "Company": "Co"})
        secrets.append(cipher.decrypt(reloaded(connection.id).access_token_encrypted))

    assert [(entry["method"], entry["target"], entry["status"]) for entry in trail] == [
        ("POST", "instance", 401),
        ("POST", "login", 200),
        ("POST", "instance", 201),
    ]
    data, refresh, created = trail
    assert data["path"] == "/services/data/v62.0/sobjects/Lead"
    assert data["request"] == {"LastName": "Trail", "Company": "Co"}
    assert data["response"][0]["errorCode"] == "INVALID_SESSION_ID"
    assert refresh["path"] == "/services/oauth2/token"
    assert refresh["request"]["refresh_token"] == "[redacted]"
    assert refresh["request"]["client_secret"] == "[redacted]"
    assert refresh["response"]["access_token"] == "[redacted]"
    assert created["response"]["success"] is True
    assert all(isinstance(entry["duration_ms"], int) and entry["error"] is None for entry in trail)
    text = json.dumps(trail)
    assert not [secret for secret in secrets + ["emulator-client-secret"] if secret in text]


def test_a_network_failure_is_reported_in_the_trail_with_its_error(connection, salesforce_control):
    salesforce_control.add_fault("drop_connection", path="/query", count=1)
    trail: list[dict] = []

    with client_for_connection(connection.id, on_exchange=trail.append) as sf, pytest.raises(SalesforceUnavailable):
        sf.query("SELECT Id FROM Lead")

    assert [(entry["status"], entry["response"]) for entry in trail] == [(None, None)]
    assert trail[0]["error"] == "ConnectionError"


def test_a_team_without_a_connection_cannot_get_a_client(live_app):
    with pytest.raises(SalesforceAuthError) as refused:
        client_for_connection(987654)

    assert refused.value.code == "not_connected"
