"""Eight processes share one connection whose access token expired, with refresh-token rotation on: the row
lock lets exactly one of them refresh; the others use the token it stored, and every call succeeds."""

from __future__ import annotations

import multiprocessing

from portal import create_app
from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import ConnectionStatus, SalesforceConnection, Team
from portal.salesforce.client import client_for_connection

from .salesforce_flow import store_connection, token_requests

PROCESSES = 8


def query_after_everyone_loaded(config: dict, connection_id: int, barrier, results) -> None:
    """One worker: build the client (old token), wait until all have, then make one call."""
    app = create_app(config)
    with app.app_context():
        try:
            with client_for_connection(connection_id) as sf:
                barrier.wait(timeout=60)
                answer = sf.query("SELECT Id FROM Lead")
                results.put(("ok", answer["totalSize"], sf.refreshes))
        except Exception as failure:  # reported to the parent, which fails the test with it
            results.put(("error", repr(failure), None))
        finally:
            db.engine.dispose()


def test_eight_processes_with_an_expired_token_refresh_it_exactly_once(
    base_config, database_factory, salesforce_emulator, salesforce_control
):
    config = {**base_config, "DATABASE_URL": database_factory("sfrace")}
    app = create_app(config)
    with app.app_context():
        team = Team(name="Race team", plan="premium")
        db.session.add(team)
        db.session.commit()
        tokens = salesforce_control.issue_tokens()
        connection = store_connection(db.session, team.id, tokens, salesforce_emulator.production_url, token_cipher())
        connection_id, generation = connection.id, connection.token_generation
    salesforce_control.update_settings(refresh_token_rotation=True)
    salesforce_control.expire_access_tokens()
    salesforce_control.clear_log()

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=query_after_everyone_loaded, args=(config, connection_id, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    assert [outcome[:2] for outcome in outcomes] == [("ok", 0)] * PROCESSES, outcomes
    assert all(refreshes == 1 for _, _, refreshes in outcomes)  # each saw a 401 and renewed once
    refreshes = token_requests(salesforce_control, "refresh_token")
    assert [entry["status"] for entry in refreshes] == [200]
    with app.app_context():
        stored = db.session.get(SalesforceConnection, connection_id)
        assert stored.status == ConnectionStatus.CONNECTED
        assert stored.token_generation == generation + 1
        salesforce_control.expire_access_tokens()
        with client_for_connection(connection_id) as sf:
            sf.query("SELECT Id FROM Lead")  # the rotated refresh token that was stored is the live one
        db.session.remove()
    app.extensions["database"].engine.dispose()
