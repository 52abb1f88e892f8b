"""The database pool checks a connection before use only after it sat idle (portal.extensions.ping_when_idle)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc, text

from portal.extensions import db, sqlalchemy_url


def _one(app) -> int:
    with app.app_context():
        try:
            return db.session.execute(text("SELECT 1")).scalar_one()
        finally:
            db.session.remove()


def _end_the_apps_connections(app) -> int:
    """What a server restart or a firewall dropping idle connections does to the pool's connections."""
    url = sqlalchemy_url(app.config["DATABASE_URL"]).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_an_idle_connection_that_died_is_replaced_before_the_request_sees_it(make_app):
    app = make_app(DB_PING_AFTER_IDLE_SECONDS=0.0)
    assert _one(app) == 1
    assert _end_the_apps_connections(app) >= 1
    assert _one(app) == 1


def test_a_connection_in_steady_use_is_not_checked_and_the_pool_recovers_after_one_failure(make_app):
    app = make_app(DB_PING_AFTER_IDLE_SECONDS=3600.0)
    assert _one(app) == 1
    assert _end_the_apps_connections(app) >= 1
    with pytest.raises(exc.OperationalError):  # the statement in flight when the server went away
        _one(app)
    assert _one(app) == 1
