"""`check-config` as an operator runs it: a real subprocess with only the environment we give it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi", "check-config"]
MODULE = [sys.executable, "-m", "portal.checks"]

ESSENTIAL = [
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "TOKEN_ENCRYPTION_KEYS",
    "PUBLIC_BASE_URL",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "MICROSOFT_CLIENT_ID",
    "MICROSOFT_CLIENT_SECRET",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    "SESSION_COOKIE_SECURE",
    "SMTP_HOST",
]
HTTPS_URLS = [
    "PUBLIC_BASE_URL",
    "GOOGLE_DISCOVERY_URL",
    "MICROSOFT_DISCOVERY_URL",
    "SALESFORCE_PRODUCTION_URL",
    "SALESFORCE_SANDBOX_URL",
]


@pytest.fixture(scope="module")
def production(database_factory, redis_url) -> dict[str, str]:
    """A complete production environment over a migrated test database and the suite's Redis."""
    return {
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_factory("checkconfig"),
        "REDIS_URL": redis_url,
        "TOKEN_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "PUBLIC_BASE_URL": "https://portal.example.com",
        "PROXY_FIX_HOPS": "1",
        "SESSION_COOKIE_SECURE": "true",
        "GOOGLE_CLIENT_ID": "google-id",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "GOOGLE_DISCOVERY_URL": "https://accounts.google.com/.well-known/openid-configuration",
        "MICROSOFT_CLIENT_ID": "microsoft-id",
        "MICROSOFT_CLIENT_SECRET": "microsoft-secret",
        "SALESFORCE_CLIENT_ID": "salesforce-id",
        "SALESFORCE_CLIENT_SECRET": "salesforce-secret",
        "SALESFORCE_PRODUCTION_URL": "https://login.salesforce.com",
        "SALESFORCE_SANDBOX_URL": "https://test.salesforce.com",
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": "587",
        "MAIL_FROM": "Scheduling Portal <no-reply@example.com>",
    }


def run(command: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environ}
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def finding_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if ": " in line and "Fix: " in line]


@pytest.mark.parametrize("command", [FLASK, MODULE], ids=["flask", "module"])
def test_a_complete_production_environment_passes(production, command):
    result = run(command, production)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "All production settings are present and safe" in result.stdout
    assert finding_lines(result) == []


@pytest.mark.parametrize("setting", ESSENTIAL)
def test_a_missing_essential_setting_fails_and_is_named(production, setting):
    environ = {name: value for name, value in production.items() if name != setting}

    result = run(MODULE, environ)

    assert result.returncode == 1
    assert [line.split(":", 1)[0] for line in finding_lines(result)] == [setting]


@pytest.mark.parametrize("setting", HTTPS_URLS)
def test_a_plain_http_url_fails_through_flask_without_a_traceback(production, setting):
    # The app itself refuses these in production (ConfigError), yet the flask command still reports cleanly.
    environ = {**production, setting: "http://insecure.example.com/"}

    result = run(FLASK, environ)

    assert result.returncode == 1
    assert any(line.startswith(f"{setting}: must be an https:// URL") for line in finding_lines(result))
    assert "Traceback" not in result.stdout + result.stderr


def test_a_value_that_does_not_parse_fails_through_flask_without_a_traceback(production):
    result = run(FLASK, {**production, "SMTP_PORT": "twenty-five"})

    assert result.returncode == 1
    assert [line.split(":", 1)[0] for line in finding_lines(result)] == ["SMTP_PORT"]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("value", ["ten", "10", "10/0", "0/600", "10/ten minutes"])
def test_a_rate_limit_that_is_not_count_per_seconds_is_named(production, value):
    result = run(MODULE, {**production, "RATE_LIMIT_BOOKING": value})

    assert result.returncode == 1
    assert [line.split(":", 1)[0] for line in finding_lines(result)] == ["RATE_LIMIT_BOOKING"]


def test_servers_still_refuse_a_configuration_the_portal_refuses(production):
    # Only the flask command gets the check-config stand-in app; gunicorn importing wsgi:app must fail.
    environ = {**production, "SALESFORCE_PRODUCTION_URL": "http://insecure.example.com"}

    result = run([sys.executable, "-c", "import wsgi"], environ)

    assert result.returncode != 0
    assert "ConfigError: SALESFORCE_PRODUCTION_URL must be an https:// URL" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("SECRET_KEY", "changeme", "guessable"),
        ("SECRET_KEY", "a1b2c3d4e5f6g7h8", "only 16 characters"),
        ("TOKEN_ENCRYPTION_KEYS", "not-a-fernet-key", "not a valid Fernet key"),
        ("SESSION_COOKIE_SECURE", "false", "is off"),
        ("SMTP_PORT", "twenty-five", "not a valid value"),
        ("PORTAL_ENV", "demo", "is 'demo'"),
        ("SALESFORCE_EXTRA_LOGIN_HOSTS", "127.0.0.1:8703", "emulator"),
        ("MAIL_FROM", "no-reply@localhost", "reject"),
    ],
)
def test_an_unsafe_value_fails_with_the_problem(production, setting, value, problem):
    result = run(MODULE, {**production, setting: value})

    assert result.returncode == 1
    lines = finding_lines(result)
    assert any(line.startswith(f"{setting}: ") and problem in line for line in lines), result.stdout


def test_an_unreachable_database_and_redis_are_reported(production):
    environ = {
        **production,
        "DATABASE_URL": production["DATABASE_URL"] + "_missing",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }

    result = run(MODULE, environ)

    assert result.returncode == 1
    lines = finding_lines(result)
    assert any(line.startswith("DATABASE_URL: the database cannot be reached") for line in lines)
    assert any(line.startswith("REDIS_URL: Redis cannot be reached") for line in lines)


def test_an_unmigrated_database_is_reported(production, service_urls, run_id):
    import psycopg

    from scripts.dev.services import replace_database

    name = f"portal_unmigrated_{run_id}"
    with psycopg.connect(service_urls["DATABASE_URL"], autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        result = run(MODULE, {**production, "DATABASE_URL": replace_database(service_urls["DATABASE_URL"], name)})
    finally:
        with psycopg.connect(service_urls["DATABASE_URL"], autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert result.returncode == 1
    assert any("not at the latest migration" in line for line in finding_lines(result))


def test_stored_tokens_that_no_listed_key_decrypts_are_reported(production, database_factory):
    url = database_factory("checkconfig_tokens")
    second_key = production["TOKEN_ENCRYPTION_KEYS"].split(",")[1]
    access = Fernet(second_key.encode()).encrypt(b"access-token")  # an older listed key: still decrypts
    refresh = Fernet(Fernet.generate_key()).encrypt(b"refresh-token")  # a key dropped from the list
    _store_connection_tokens(url, access=access, refresh=refresh)

    result = run(MODULE, {**production, "DATABASE_URL": url})

    assert result.returncode == 1
    assert [line.split(":", 1)[0] for line in finding_lines(result)] == ["TOKEN_ENCRYPTION_KEYS"]
    assert "1 stored Salesforce token(s) do not decrypt" in result.stdout


def _store_connection_tokens(url: str, *, access: bytes, refresh: bytes) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from portal.extensions import sqlalchemy_url
    from portal.models import SalesforceConnection

    from .factories import Factory

    engine = create_engine(sqlalchemy_url(url))
    with Session(engine) as session:
        team = Factory(session).team()
        session.add(
            SalesforceConnection(
                team_id=team.id,
                login_url="https://login.salesforce.com",
                instance_url="https://x.my.salesforce.com",
                access_token_encrypted=access,
                refresh_token_encrypted=refresh,
            )
        )
        session.commit()
    engine.dispose()
