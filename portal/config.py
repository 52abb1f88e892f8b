"""Configuration: defaults plus environment overrides, read only when the app is built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"
MICROSOFT_DISCOVERY = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"

# Hosts a typed "My Domain" login host may match (design §4); config may add more.
SALESFORCE_HOST_PATTERNS = ("*.my.salesforce.com", "*.sandbox.my.salesforce.com")


class ConfigError(RuntimeError):
    """The environment describes a configuration we refuse to run with."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _int_list(value: str) -> list[int]:
    return [int(item) for item in _list(value)]


def rate_limit_parts(value: str) -> tuple[int, int]:
    """ "10/600" -> (10, 600): a count of requests per that many seconds, both above zero (ValueError otherwise)."""
    count, _, seconds = value.partition("/")
    parts = int(count), int(seconds)
    if min(parts) < 1:
        raise ValueError(f"{value!r} is not <count>/<seconds> with both above zero")
    return parts


def _rate_limit(value: str) -> str:
    rate_limit_parts(value)
    return value.strip()


# name -> (default, parser). Every setting can be overridden by an environment variable of the same name.
SETTINGS: dict[str, tuple[Any, Any]] = {
    "PORTAL_ENV": ("production", str),  # production | demo | test
    "SECRET_KEY": (None, str),
    "DATABASE_URL": (None, str),
    "REDIS_URL": (None, str),
    "RQ_QUEUE_PREFIX": ("portal", str),
    "PUBLIC_BASE_URL": ("", str),
    "PROXY_FIX_HOPS": (0, int),
    "SESSION_COOKIE_SECURE": (False, _bool),
    "LOG_LEVEL": ("INFO", str),
    # A pooled database connection idle this long is checked before use (one round trip); busier ones are not.
    "DB_PING_AFTER_IDLE_SECONDS": (10.0, float),
    # Login providers (OpenID Connect)
    "GOOGLE_CLIENT_ID": ("", str),
    "GOOGLE_CLIENT_SECRET": ("", str),
    "GOOGLE_DISCOVERY_URL": (GOOGLE_DISCOVERY, str),
    "MICROSOFT_CLIENT_ID": ("", str),
    "MICROSOFT_CLIENT_SECRET": ("", str),
    "MICROSOFT_DISCOVERY_URL": (MICROSOFT_DISCOVERY, str),
    # Salesforce connected app
    "SALESFORCE_CLIENT_ID": ("", str),
    "SALESFORCE_CLIENT_SECRET": ("", str),
    "SALESFORCE_PRODUCTION_URL": ("https://login.salesforce.com", str),
    "SALESFORCE_SANDBOX_URL": ("https://test.salesforce.com", str),
    "SALESFORCE_EXTRA_LOGIN_HOSTS": ([], _list),  # e.g. the emulator's My Domain listener "127.0.0.1:8703"
    "SALESFORCE_API_VERSION": ("62.0", str),
    "SALESFORCE_TIMEOUT_SECONDS": (20.0, float),
    # Fernet keys, newest first; older keys still decrypt so keys can be rotated.
    "TOKEN_ENCRYPTION_KEYS": ([], _list),
    # Mail
    "SMTP_HOST": ("localhost", str),
    "SMTP_PORT": (25, int),
    "MAIL_FROM": ("Scheduling Portal <no-reply@localhost>", str),
    # Demo and development only: the folder where scripts/dev/mailcatcher.py keeps the mail it caught, shown at
    # /demo/mail. Empty (always, in production) means no such page.
    "DEMO_MAILBOX_DIR": ("", str),
    # Guest abuse limits per client address: "<count>/<seconds>", a moving window (portal.ratelimit)
    "RATE_LIMIT_BOOKING": ("10/600", _rate_limit),
    "RATE_LIMIT_MANAGE": ("20/600", _rate_limit),
    "RATE_LIMIT_LOGIN": ("30/600", _rate_limit),
    # Sync engine
    "SYNC_RETRY_BACKOFF_SECONDS": ([60, 300, 1800, 7200, 21600], _int_list),
    "SYNC_LEASE_SECONDS": (120, int),
    "SYNC_SWEEP_SECONDS": (30, int),
    "SYNC_TRAIL_RETENTION_DAYS": (30, int),
    # Near the org's daily API limit (last Sforce-Limit-Info seen), a team's syncs wait instead of burning the rest.
    "SYNC_API_USAGE_CEILING": (0.9, float),
    "SYNC_NEAR_LIMIT_DELAY_SECONDS": (900, int),
    # `flask import-legacy-settings FILE`: a larger file is refused before it is read as JSON.
    "LEGACY_IMPORT_MAX_BYTES": (1_048_576, int),
    # Browser tests
    "CHROMIUM_PATH": ("/usr/bin/chromium", str),
}


def load_config(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict:
    """Build the settings dict from defaults, the environment and explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        config[name] = parse(environ[name]) if name in environ else default
    config.update(overrides or {})
    _check(config)
    return config


def _check(config: dict) -> None:
    env = config["PORTAL_ENV"]
    if env not in {"production", "demo", "test"}:
        raise ConfigError(f"PORTAL_ENV must be production, demo or test, not {env!r}")
    if not config["SECRET_KEY"]:
        raise ConfigError("SECRET_KEY is not set")
    if not config["DATABASE_URL"]:
        raise ConfigError("DATABASE_URL is not set")
    if not config["DATABASE_URL"].startswith("postgresql"):
        raise ConfigError("DATABASE_URL must point at PostgreSQL, the only supported database")
    if env == "production":
        _require_https(config)


def _require_https(config: dict) -> None:
    """Production talks to Salesforce and identity providers over TLS only (design §6), and knows its own
    public address (workers write booking page URLs into Salesforce without a request to take it from)."""
    if not config["PUBLIC_BASE_URL"].startswith("https://"):
        raise ConfigError("PUBLIC_BASE_URL must be set to the portal's https:// address in production")
    for name in (
        "GOOGLE_DISCOVERY_URL",
        "MICROSOFT_DISCOVERY_URL",
        "SALESFORCE_PRODUCTION_URL",
        "SALESFORCE_SANDBOX_URL",
    ):
        if not config[name].startswith("https://"):
            raise ConfigError(f"{name} must be an https:// URL in production")
    if config["SALESFORCE_EXTRA_LOGIN_HOSTS"]:
        raise ConfigError("SALESFORCE_EXTRA_LOGIN_HOSTS is for the emulator; production allows only Salesforce hosts")
    if config["DEMO_MAILBOX_DIR"]:
        raise ConfigError("DEMO_MAILBOX_DIR is for the demo's mail catcher; production sends real e-mail")


def to_environ(config: Mapping[str, Any]) -> dict[str, str]:
    """The environment that reproduces these settings in another process (workers, gunicorn in tests)."""
    environ = {}
    for name in SETTINGS:
        if name not in config or config[name] is None:
            continue
        value = config[name]
        if isinstance(value, bool):
            environ[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            environ[name] = ",".join(str(item) for item in value)
        else:
            environ[name] = str(value)
    return environ
