"""Each booking's sync state on the calendar's bookings list, with the way to its Salesforce record."""

from __future__ import annotations

from portal.models import Role, SalesforceConnection, SalesforceLink, SyncStatus
from tests.factories import login
from tests.statements import counting_statements
from tests.sync_factories import make_booking, make_sync


def _connect(db_session, team, instance_url: str) -> SalesforceConnection:
    connection = SalesforceConnection(
        team_id=team.id, login_url="https://login.salesforce.com", instance_url=instance_url
    )
    db_session.add(connection)
    db_session.flush()
    return connection


def test_bookings_list_shows_each_bookings_latest_sync_state_and_salesforce_link(client, factory, db_session):
    team, people = factory.team_with_roles()
    _connect(db_session, team, "https://acme.my.salesforce.com")
    calendar = factory.calendar(team, created_by=people[Role.OWNER], hosts=[people[Role.MEMBER]])
    synced, waiting, unsynced = (make_booking(db_session, calendar) for _ in range(3))
    make_sync(db_session, synced, status=SyncStatus.FAILED, error_code="SERVER_UNAVAILABLE")
    make_sync(db_session, synced, status=SyncStatus.SYNCED, error_code="")
    db_session.add(SalesforceLink(booking_id=synced.id, sf_object="Lead", record_id="00Q000000000001AAA"))
    make_sync(db_session, waiting, status=SyncStatus.WAITING, error_code="", reason="needs_reconnect")
    db_session.flush()

    page = login(client, people[Role.OWNER]).get(f"/calendars/{calendar.id}/bookings").get_data(as_text=True)

    assert page.count("badge-synced") == 1 and "badge-failed" not in page
    assert 'href="https://acme.my.salesforce.com/00Q000000000001AAA"' in page
    assert "badge-waiting" in page and "Salesforce stopped accepting the portal&#39;s access" in page
    assert page.count('<span class="muted">—</span>') == 1  # the booking that has no sync job


def test_after_the_org_moves_instance_every_record_link_opens_the_new_host(client, factory, db_session):
    team, people = factory.team_with_roles()
    connection = _connect(db_session, team, "https://na1.salesforce.com")
    calendar = factory.calendar(team, created_by=people[Role.OWNER], hosts=[people[Role.MEMBER]])
    linked, failed_after_create = make_booking(db_session, calendar), make_booking(db_session, calendar)
    make_sync(db_session, linked, status=SyncStatus.SYNCED, error_code="", sf_record_id="00Q000000000001AAA")
    db_session.add(SalesforceLink(booking_id=linked.id, sf_object="Lead", record_id="00Q000000000001AAA"))
    failed = make_sync(db_session, failed_after_create, sf_record_id="00Q000000000002AAA")
    db_session.flush()
    login(client, people[Role.OWNER])
    assert "https://na1.salesforce.com/00Q000000000001AAA" in client.get(f"/calendars/{calendar.id}/bookings").text

    connection.instance_url = "https://acme.my.salesforce.com/"  # what a token refresh stores after the move
    db_session.flush()

    bookings_page = client.get(f"/calendars/{calendar.id}/bookings").get_data(as_text=True)
    detail_page = client.get(f"/teams/{team.id}/salesforce/syncs/{failed.id}").get_data(as_text=True)
    assert 'href="https://acme.my.salesforce.com/00Q000000000001AAA"' in bookings_page
    assert 'href="https://acme.my.salesforce.com/00Q000000000002AAA"' in detail_page
    assert "na1.salesforce.com" not in bookings_page + detail_page


def test_bookings_list_makes_two_sync_queries_whatever_the_number_of_bookings(client, factory, db_session):

    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people[Role.OWNER])
    for _ in range(12):
        make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.SYNCED, error_code="")
    with counting_statements() as statements:
        login(client, people[Role.OWNER]).get(f"/calendars/{calendar.id}/bookings")

    assert sum("FROM sync_jobs" in s for s in statements) == 1
    assert sum("FROM salesforce_links" in s for s in statements) == 1


def test_team_salesforce_page_says_how_many_syncs_wait_and_failed(client, factory, db_session):
    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people[Role.OWNER])
    for status in (SyncStatus.WAITING, SyncStatus.WAITING, SyncStatus.FAILED, SyncStatus.SYNCED):
        make_sync(db_session, make_booking(db_session, calendar), status=status, reason="not_connected")

    page = login(client, people[Role.OWNER]).get(f"/teams/{team.id}/settings/integrations/salesforce")

    text = page.get_data(as_text=True)
    assert "2 waiting" in text and "1 failed" in text
    assert "go out by themselves once Salesforce is connected" in text


def test_dashboard_shows_the_salesforce_connection_and_failed_syncs_at_a_glance(client, factory, db_session):
    from portal.models import ConnectionStatus, SalesforceConnection

    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people[Role.OWNER])
    make_sync(db_session, make_booking(db_session, calendar), status=SyncStatus.FAILED)
    db_session.add(
        SalesforceConnection(
            team_id=team.id,
            login_url="https://login.salesforce.com",
            instance_url="https://acme.my.salesforce.com",
            status=ConnectionStatus.NEEDS_RECONNECT,
            username="admin@acme.example",
        )
    )
    db_session.flush()

    page = login(client, people[Role.OWNER]).get("/dashboard").get_data(as_text=True)

    assert "Needs reconnecting" in page and "You can reconnect it" in page
    assert f'href="/teams/{team.id}/salesforce/errors">1 booking failed to reach Salesforce, 0 waiting' in page


def test_bookings_list_shows_japanese_names_family_name_first(client, factory, db_session):
    team, people = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=people[Role.OWNER], hosts=[people[Role.MEMBER]])
    make_booking(db_session, calendar, guest_name="", guest_family_name="山田", guest_given_name="太郎")
    make_booking(db_session, calendar, guest_name="", guest_family_name="Smith", guest_given_name="Jane")
    db_session.flush()

    page = login(client, people[Role.OWNER]).get(f"/calendars/{calendar.id}/bookings").get_data(as_text=True)

    assert "山田 太郎" in page and "Jane Smith" in page
