"""The app shell: configuration, security headers, error pages, health, migrations in agreement with models."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.config import Config

from portal.config import ConfigError, load_config
from portal.security import safe_next

BASE_ENV = {"SECRET_KEY": "s", "DATABASE_URL": "postgresql://db/x", "PUBLIC_BASE_URL": "https://portal.example"}


def test_production_config_refuses_plain_http_providers():
    with pytest.raises(ConfigError, match="https"):
        load_config(
            {**BASE_ENV, "GOOGLE_DISCOVERY_URL": "http://127.0.0.1:5001/google/.well-known/openid-configuration"}
        )


def test_production_config_refuses_emulator_login_hosts():
    with pytest.raises(ConfigError, match="SALESFORCE_EXTRA_LOGIN_HOSTS"):
        load_config({**BASE_ENV, "SALESFORCE_EXTRA_LOGIN_HOSTS": "127.0.0.1:5103"})


def test_config_refuses_a_database_other_than_postgresql():
    with pytest.raises(ConfigError, match="PostgreSQL"):
        load_config({"SECRET_KEY": "s", "DATABASE_URL": "sqlite:///x.db"})


def test_config_reads_lists_and_numbers_from_the_environment():
    config = load_config(
        {**BASE_ENV, "PORTAL_ENV": "test", "SYNC_RETRY_BACKOFF_SECONDS": "1, 2,3", "PROXY_FIX_HOPS": "1"}
    )
    assert config["SYNC_RETRY_BACKOFF_SECONDS"] == [1, 2, 3]
    assert config["PROXY_FIX_HOPS"] == 1


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil",
        "javascript:alert(1)",
        "",
        None,
        "http:/x",
    ],
)
def test_safe_next_refuses_off_site_targets(target):
    assert safe_next(target) == "/"


def test_safe_next_keeps_our_own_paths():
    assert safe_next("/teams/3/settings?tab=a") == "/teams/3/settings?tab=a"


def test_responses_carry_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_unexpected_error_shows_a_page_without_a_stack_trace(make_app):
    app = make_app()

    @app.get("/__boom_for_test")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/__boom_for_test")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    assert "Something went wrong" in body


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"] == "ok"
    assert "alive" in response.json["workers"]
    assert "oldest_pending_seconds" in response.json["sync"]


def test_alembic_migrations_match_the_models(database_factory):
    config = Config(os.path.join(os.path.dirname(__file__), "..", "alembic.ini"))
    config.attributes["url"] = database_factory("check")
    config.attributes["configure_logger"] = False
    command.check(config)  # raises when autogenerate would find differences


def test_production_config_requires_the_public_https_address():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config({"SECRET_KEY": "s", "DATABASE_URL": "postgresql://db/x"})
