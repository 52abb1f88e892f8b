"""Connect, reconnect and disconnect through the Salesforce page, over real HTTP against the emulator."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from emulators.salesforce.testing import complete_authorize_page
from portal.crypto import token_cipher
from portal.models import AuditEvent, ConnectionStatus, DescribeCache, Role, SalesforceConnection
from portal.salesforce import signals
from portal.salesforce.client import client_for_connection
from portal.salesforce.errors import SalesforceAuthError

from .factories import login
from .salesforce_flow import (
    connect_via_emulator,
    disconnect,
    follow_callback,
    page_url,
    start_connect,
    token_requests,
)

ADMIN = "admin@example-org.test"


@pytest.fixture
def owner_client(client, factory):
    team, people = factory.team_with_roles()
    login(client, people[Role.OWNER])
    client.team = team
    client.user = people[Role.OWNER]
    return client


def connection_of(db_session, team_id: int) -> SalesforceConnection | None:
    db_session.expire_all()
    return db_session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == team_id))


def audit_actions(db_session, team_id: int) -> list[str]:
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.team_id == team_id).order_by(AuditEvent.id))
    return [event.action for event in events]


def login_host(emulator, environment: str) -> str:
    return {"production": emulator.production_url, "sandbox": emulator.sandbox_url, "mydomain": emulator.mydomain_url}[
        environment
    ]


@pytest.mark.parametrize("environment", ["production", "sandbox", "mydomain"])
def test_connect_through_each_login_host_stores_the_org_and_encrypted_tokens(
    owner_client, db_session, salesforce_emulator, salesforce_control, environment
):
    host = login_host(salesforce_emulator, environment)
    my_domain = urlsplit(host).netloc if environment == "mydomain" else ""

    answer = connect_via_emulator(owner_client, owner_client.team.id, environment=environment, my_domain=my_domain)

    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(page_url(owner_client.team.id))
    connection = connection_of(db_session, owner_client.team.id)
    org_id = salesforce_control.summary()["org_id"]
    assert connection.login_url == host
    assert connection.instance_url == salesforce_emulator.instance_url
    assert (connection.org_id, connection.username) == (org_id, ADMIN)
    assert connection.sf_user_id.startswith("005")
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.connected_by_id == owner_client.user.id
    assert connection.api_usage_limit == 15000
    cipher = token_cipher()
    assert cipher.decrypt(connection.access_token_encrypted).startswith(org_id[:15] + "!")
    assert cipher.decrypt(connection.refresh_token_encrypted)
    page = owner_client.get(page_url(owner_client.team.id)).get_data(as_text=True)
    assert f"Connected to Salesforce org {org_id} as {ADMIN}." in page
    assert "Disconnect" in page


@pytest.mark.parametrize("environment", ["production", "sandbox", "mydomain"])
def test_oauth_calls_go_to_the_chosen_login_host_and_data_calls_to_the_instance(
    owner_client, salesforce_emulator, salesforce_control, environment
):
    host = login_host(salesforce_emulator, environment)
    my_domain = urlsplit(host).netloc if environment == "mydomain" else ""

    connect_via_emulator(owner_client, owner_client.team.id, environment=environment, my_domain=my_domain)

    log = salesforce_control.request_log()
    listeners = {entry["path"].split("/")[1] + ":" + entry["listener"] for entry in log}
    assert {f"services:{environment}", f"id:{environment}", "services:instance"} == listeners
    authorize = next(entry for entry in log if entry["path"] == "/services/oauth2/authorize")
    params = parse_qs(authorize["query"])
    assert params["scope"] == ["api id refresh_token"]
    assert params["code_challenge_method"] == ["S256"]
    assert params["state"][0]


def test_deny_on_salesforce_leaves_the_team_unconnected_and_says_so(owner_client, db_session, salesforce_control):
    answer = connect_via_emulator(owner_client, owner_client.team.id, decision="deny")

    assert answer.status_code == 302
    assert connection_of(db_session, owner_client.team.id) is None
    page = owner_client.get(page_url(owner_client.team.id)).get_data(as_text=True)
    assert "You chose Deny on Salesforce, so nothing was connected." in page
    assert token_requests(salesforce_control) == []


def test_a_replayed_callback_changes_nothing_and_says_the_sign_in_was_already_used(
    owner_client, db_session, salesforce_control
):
    start = start_connect(owner_client, owner_client.team.id)
    callback = complete_authorize_page(start.headers["Location"])
    follow_callback(owner_client, callback)
    first = connection_of(db_session, owner_client.team.id)
    generation = first.token_generation

    replay = follow_callback(owner_client, callback)

    assert replay.status_code == 302
    page = owner_client.get(replay.headers["Location"]).get_data(as_text=True)
    assert "This Salesforce sign-in was already used or has expired" in page
    assert connection_of(db_session, owner_client.team.id).token_generation == generation
    assert len(token_requests(salesforce_control, "authorization_code")) == 1


def test_a_callback_with_another_state_is_refused_without_exchanging_the_code(
    owner_client, db_session, salesforce_control
):
    start = start_connect(owner_client, owner_client.team.id)
    callback = complete_authorize_page(start.headers["Location"])
    forged = callback.replace("state=", "state=forged")

    answer = follow_callback(owner_client, forged)

    assert answer.status_code == 302
    assert connection_of(db_session, owner_client.team.id) is None
    assert token_requests(salesforce_control) == []


@pytest.mark.parametrize(
    "typed",
    [
        "evil.example.com",
        "acme.my.salesforce.com.evil.example",
        "acme.salesforce.com",
        "https://acme.my.salesforce.com/services/oauth2/authorize",
        "user@acme.my.salesforce.com",
        "acme.my.salesforce.com:8443",
        "127.0.0.1:1",
        "http://169.254.169.254",
        "acme my.salesforce.com",
    ],
)
def test_a_my_domain_host_outside_the_allow_list_is_refused_before_anything_is_fetched(
    owner_client, salesforce_control, typed
):
    answer = start_connect(owner_client, owner_client.team.id, "mydomain", typed)

    assert answer.status_code == 400
    assert 'class="field-error"' in answer.get_data(as_text=True)
    assert salesforce_control.request_log() == []
    with owner_client.session_transaction() as session:
        assert not session.get("salesforce_connect")


def test_allowed_my_domain_hosts_are_sent_to_that_host_over_https(owner_client, salesforce_control):
    for typed, expected in [
        ("acme.my.salesforce.com", "https://acme.my.salesforce.com/services/oauth2/authorize?"),
        ("https://Acme--UAT.sandbox.my.salesforce.com/", "https://acme--uat.sandbox.my.salesforce.com/services/"),
    ]:
        answer = start_connect(owner_client, owner_client.team.id, "mydomain", typed)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(expected)


def test_reconnecting_replaces_the_tokens_revokes_the_old_grant_and_is_audited_as_a_reconnect(
    owner_client, db_session, salesforce_emulator, salesforce_control
):
    connect_via_emulator(owner_client, owner_client.team.id)
    first = connection_of(db_session, owner_client.team.id)
    cipher = token_cipher()
    old_refresh = cipher.decrypt(first.refresh_token_encrypted)
    old_access = cipher.decrypt(first.access_token_encrypted)

    connect_via_emulator(owner_client, owner_client.team.id, environment="sandbox")

    again = connection_of(db_session, owner_client.team.id)
    assert again.id == first.id
    assert again.login_url == salesforce_emulator.sandbox_url
    assert cipher.decrypt(again.refresh_token_encrypted) != old_refresh
    assert cipher.decrypt(again.access_token_encrypted) != old_access
    assert audit_actions(db_session, owner_client.team.id) == ["salesforce.connect", "salesforce.reconnect"]
    refused = requests.post(
        f"{salesforce_emulator.production_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": old_refresh,
            "client_id": "emulator-client-id",
            "client_secret": "emulator-client-secret",
        },
        timeout=10,
    )
    assert refused.json()["error"] == "invalid_grant"


def test_reconnect_after_needs_reconnect_restores_the_connection_and_signals_it(
    owner_client, db_session, salesforce_control
):
    connect_via_emulator(owner_client, owner_client.team.id)
    connection = connection_of(db_session, owner_client.team.id)
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_reason = "invalid_grant: expired access/refresh token"
    db_session.commit()
    page = owner_client.get(page_url(owner_client.team.id)).get_data(as_text=True)
    assert "Needs reconnect" in page and "expired access/refresh token" in page
    restored = []

    def receiver(app, **details):
        restored.append(details)

    with signals.connection_restored.connected_to(receiver):
        connect_via_emulator(owner_client, owner_client.team.id)

    connection = connection_of(db_session, owner_client.team.id)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.status_reason == ""
    assert restored == [{"team_id": owner_client.team.id, "connection_id": connection.id}]


def test_reconnecting_to_another_org_forgets_the_cached_describes(owner_client, db_session, salesforce_control):
    connect_via_emulator(owner_client, owner_client.team.id)
    connection = connection_of(db_session, owner_client.team.id)
    db_session.add(DescribeCache(connection_id=connection.id, object_name="Lead", payload={"fields": []}))
    connection.org_id = "00D000000000001AAA"
    db_session.commit()

    connect_via_emulator(owner_client, owner_client.team.id)

    assert db_session.scalars(select(DescribeCache).where(DescribeCache.connection_id == connection.id)).all() == []


def test_disconnect_asks_for_confirmation_first(owner_client, db_session, salesforce_control):
    connect_via_emulator(owner_client, owner_client.team.id)

    confirm = owner_client.get(page_url(owner_client.team.id, "/disconnect"))

    assert confirm.status_code == 200
    assert "Disconnect Salesforce?" in confirm.get_data(as_text=True)
    assert connection_of(db_session, owner_client.team.id) is not None


def test_disconnect_revokes_the_refresh_token_deletes_the_connection_and_is_audited(
    owner_client, db_session, salesforce_control
):
    connect_via_emulator(owner_client, owner_client.team.id)
    connection = connection_of(db_session, owner_client.team.id)
    db_session.add(DescribeCache(connection_id=connection.id, object_name="Lead", payload={"fields": []}))
    db_session.commit()
    refresh_token = token_cipher().decrypt(connection.refresh_token_encrypted)
    org_id = connection.org_id

    answer = disconnect(owner_client, owner_client.team.id)

    assert answer.status_code == 302
    assert connection_of(db_session, owner_client.team.id) is None
    assert db_session.scalars(select(DescribeCache)).all() == []
    revoke = [entry for entry in salesforce_control.request_log() if entry["path"] == "/services/oauth2/revoke"]
    assert [entry["status"] for entry in revoke] == [200]
    assert refresh_token in revoke[0]["body"]
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "salesforce.disconnect")).one()
    assert event.actor_id == owner_client.user.id
    assert event.details == {"org_id": org_id, "username": ADMIN, "revoked": True}
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "access was revoked in Salesforce" in page
    assert "Disconnected" in page and "Salesforce was disconnected from this team" in page


def test_disconnect_with_salesforce_unreachable_disconnects_locally_and_says_the_revoke_did_not_happen(
    owner_client, db_session, salesforce_control
):
    connect_via_emulator(owner_client, owner_client.team.id)
    salesforce_control.add_fault("drop_connection", path="^/services/oauth2/revoke$")

    answer = disconnect(owner_client, owner_client.team.id)

    assert connection_of(db_session, owner_client.team.id) is None
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "salesforce.disconnect")).one()
    assert event.details["revoked"] is False
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "could not be reached to revoke" in page


def test_an_org_without_api_access_gets_the_admin_explanation_and_nothing_is_stored(
    owner_client, db_session, salesforce_control
):
    salesforce_control.update_settings(api_enabled=False)

    answer = connect_via_emulator(owner_client, owner_client.team.id)

    assert connection_of(db_session, owner_client.team.id) is None
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "has no API access" in page
    assert "Enterprise, Unlimited, Developer and Performance" in page
    assert "API_DISABLED_FOR_ORG" not in page
    revoked = [entry for entry in salesforce_control.request_log() if entry["path"] == "/services/oauth2/revoke"]
    assert [entry["status"] for entry in revoked] == [200]


def test_a_failing_token_exchange_is_explained_and_nothing_is_stored(owner_client, db_session, salesforce_control):
    salesforce_control.add_fault("service_unavailable", path="^/services/oauth2/token$")

    answer = connect_via_emulator(owner_client, owner_client.team.id)

    assert connection_of(db_session, owner_client.team.id) is None
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Salesforce could not be reached to finish connecting" in page


def test_a_failing_identity_call_is_explained_and_nothing_is_stored(owner_client, db_session, salesforce_control):
    salesforce_control.add_fault("unknown_exception", path="^/id/")

    answer = connect_via_emulator(owner_client, owner_client.team.id)

    assert connection_of(db_session, owner_client.team.id) is None
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "its identity service did not answer" in page


def test_an_expired_authorization_code_is_explained(owner_client, db_session, salesforce_control):
    salesforce_control.update_settings(authorization_code_ttl_seconds=0)

    answer = connect_via_emulator(owner_client, owner_client.team.id)

    assert connection_of(db_session, owner_client.team.id) is None
    page = owner_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Salesforce refused to finish the connection (invalid_grant)" in page


def test_a_callback_finished_by_another_user_is_refused(client, factory, db_session, salesforce_control):
    team, people = factory.team_with_roles()
    login(client, people[Role.OWNER])
    start = start_connect(client, team.id)
    callback = complete_authorize_page(start.headers["Location"])
    with client.session_transaction() as session:
        waiting = session["salesforce_connect"]
    login(client, people[Role.ADMIN])
    with client.session_transaction() as session:
        session["salesforce_connect"] = waiting

    answer = follow_callback(client, callback)

    assert answer.status_code == 403
    assert connection_of(db_session, team.id) is None


def test_invalid_grant_moves_the_connection_to_needs_reconnect_and_reconnecting_brings_it_back(
    owner_client, db_session, salesforce_control
):
    connect_via_emulator(owner_client, owner_client.team.id)
    connection_id = connection_of(db_session, owner_client.team.id).id
    salesforce_control.revoke_all_tokens()  # e.g. an admin revoked the app's OAuth usage in Salesforce

    with client_for_connection(connection_id) as sf, pytest.raises(SalesforceAuthError):
        sf.query("SELECT Id FROM Lead")

    assert connection_of(db_session, owner_client.team.id).status == ConnectionStatus.NEEDS_RECONNECT
    page = owner_client.get(page_url(owner_client.team.id)).get_data(as_text=True)
    assert "Needs reconnect" in page
    assert "refresh token policy" in page

    connect_via_emulator(owner_client, owner_client.team.id)

    assert connection_of(db_session, owner_client.team.id).status == ConnectionStatus.CONNECTED
    with client_for_connection(connection_id) as sf:
        assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0
    actions = audit_actions(db_session, owner_client.team.id)
    assert actions == ["salesforce.connect", "salesforce.needs_reconnect", "salesforce.reconnect"]
