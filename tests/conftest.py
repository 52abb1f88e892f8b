"""Shared fixtures: real PostgreSQL databases made from a migrated template, a Redis database index of our own,
the emulators over real HTTP, the app, a client with rollback per test, and factories.

DATABASE_URL names the PostgreSQL *server* the suite may create databases on (CI: the machine's own);
unset, an embedded one under instance/ is started. REDIS_URL likewise.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from babel.messages.frontend import CommandLineInterface
from cryptography.fernet import Fernet
from flask import g, has_app_context
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db
from scripts.dev.services import ensure_environment, replace_database

from .factories import Factory, login

# The app reads compiled catalogs (.mo, not committed): build them from the .po files the suite is testing.
CommandLineInterface().run(
    ["pybabel", "-q", "compile", "-d", str(Path(__file__).parent.parent / "portal/translations")]
)

pytest_plugins = ["tests.fixtures.identity_emulator", "tests.fixtures.salesforce_emulator", "tests.fixtures.services"]

__all__ = ["login"]


@pytest.fixture(scope="session")
def run_id() -> str:
    return f"{os.getpid()}{secrets.token_hex(2)}"


@pytest.fixture(scope="session")
def service_urls() -> dict[str, str]:
    """The PostgreSQL server and Redis the suite uses (embedded ones when the environment names none)."""
    return ensure_environment(database_name=None)


@pytest.fixture(scope="session")
def database_factory(service_urls, run_id):
    """make(label) -> URL of a new database cloned from the migrated template; all dropped at the end."""
    server = service_urls["DATABASE_URL"]
    template = f"portal_tpl_{run_id}"
    created: list[str] = [template]
    _admin(server, f'CREATE DATABASE "{template}"')
    _migrate(replace_database(server, template))

    def make(label: str = "db") -> str:
        name = f"portal_{label}_{run_id}_{len(created)}"
        _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        created.append(name)
        return replace_database(server, name)

    yield make
    for name in reversed(created):
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(server_url: str, statement: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(statement)


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(os.path.join(os.path.dirname(__file__), "..", "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def redis_url(service_urls, run_id) -> Iterator[str]:
    """A Redis database index of our own, claimed with a lock key so parallel runs don't share one."""
    from redis import Redis

    base = service_urls["REDIS_URL"]
    for index in range(1, 16):
        url = _with_redis_db(base, index)
        connection = Redis.from_url(url)
        if connection.set("portal-test-suite-lock", run_id, nx=True, ex=6 * 3600):
            connection.flushdb()
            connection.set("portal-test-suite-lock", run_id, ex=6 * 3600)
            yield url
            connection.flushdb()
            return
    raise RuntimeError("no free Redis database index (1-15) for the test suite")


def _with_redis_db(url: str, index: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={index}"  # urlunsplit would drop the empty authority ("unix:/path")
    return urlunsplit(parts._replace(path=f"/{index}"))


@pytest.fixture(scope="session")
def base_config(identity_emulator, salesforce_emulator, redis_url, run_id) -> dict:
    """Settings every test app shares: emulators as the providers, our own Redis index and queue prefix."""
    return {
        "PORTAL_ENV": "test",
        "SECRET_KEY": secrets.token_hex(16),
        "REDIS_URL": redis_url,
        "RQ_QUEUE_PREFIX": f"test{run_id}",
        "TOKEN_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
        "GOOGLE_CLIENT_ID": "google-client-id",
        "GOOGLE_CLIENT_SECRET": "google-client-secret",
        "GOOGLE_DISCOVERY_URL": identity_emulator.google_discovery_url,
        "MICROSOFT_CLIENT_ID": "microsoft-client-id",
        "MICROSOFT_CLIENT_SECRET": "microsoft-client-secret",
        "MICROSOFT_DISCOVERY_URL": identity_emulator.microsoft_discovery_url,
        "SALESFORCE_CLIENT_ID": "emulator-client-id",
        "SALESFORCE_CLIENT_SECRET": "emulator-client-secret",
        "SALESFORCE_PRODUCTION_URL": salesforce_emulator.production_url,
        "SALESFORCE_SANDBOX_URL": salesforce_emulator.sandbox_url,
        "SALESFORCE_EXTRA_LOGIN_HOSTS": [salesforce_emulator.mydomain_url.split("://", 1)[1].rstrip("/")],
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 1,  # nothing listens: tests that read mail start their own SMTP server
        "WTF_CSRF_ENABLED": True,
        "RATE_LIMIT_BOOKING": "1000/60",
        "RATE_LIMIT_MANAGE": "1000/60",
        "RATE_LIMIT_LOGIN": "1000/60",
    }


@pytest.fixture(scope="session", autouse=True)
def _insecure_transport_for_emulators():
    # The emulators speak plain HTTP on localhost; only test and demo configurations allow that (design §6).
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"


class FreshGlobalsClient(FlaskClient):
    """The `app` fixture keeps one app context pushed, so without this every request would share its `g`
    (Flask-Login's cached current_user, Flask-WTF's CSRF token) with earlier requests and tests."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(base_config, database_factory):
    """The in-process app on the suite's shared database; each test's changes are rolled back."""
    application = create_app({**base_config, "DATABASE_URL": database_factory("app")})
    application.test_client_class = FreshGlobalsClient
    with application.app_context():
        yield application


@pytest.fixture(autouse=True)
def _fresh_globals_per_test():
    """Each test starts with an empty `g` on the shared app context: commands run through the CLI runner reuse it,
    and would otherwise keep an earlier test's request language (Flask-Babel caches the locale in `g`)."""
    if has_app_context():
        for name in list(g):
            g.pop(name)


@pytest.fixture
def db_session(app):
    """Run the test inside one transaction that is rolled back; the app's commits become savepoints."""
    connection = db.engine.connect()
    transaction = connection.begin()
    db.session.remove()
    db.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        transaction.rollback()
        connection.close()
        db.session_factory.configure(bind=None, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def factory(db_session) -> Factory:
    return Factory(db_session)


@pytest.fixture
def make_app(base_config, database_factory):
    """For tests that cross processes: make_app(**overrides) -> an app on a fresh, committed database."""
    made = []

    def make(**overrides):
        config = {**base_config, "DATABASE_URL": database_factory("live"), **overrides}
        application = create_app(config)
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["database"].engine.dispose()
