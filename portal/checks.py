"""`check-config`: is this environment a safe production set-up? Every finding names the setting and the fix.

Runs from the raw environment, not from a built app: the app refuses some bad production settings (ConfigError)
before it exists, and an operator still needs the whole list. Two ways to run it, same report and exit status:

    flask --app wsgi check-config
    python -m portal.checks
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import SETTINGS, ConfigError, load_config

GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_hex(32))"'
GENERATE_FERNET = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"dev", "development", "secret", "changeme", "change-me", "default", "test", "password", "demo"}
HTTPS_URLS = (
    "PUBLIC_BASE_URL",
    "GOOGLE_DISCOVERY_URL",
    "MICROSOFT_DISCOVERY_URL",
    "SALESFORCE_PRODUCTION_URL",
    "SALESFORCE_SANDBOX_URL",
)
CLIENT_CREDENTIALS = {
    "GOOGLE_CLIENT_ID": "the Google OAuth client (docs/deploy.md, Google)",
    "GOOGLE_CLIENT_SECRET": "the Google OAuth client (docs/deploy.md, Google)",
    "MICROSOFT_CLIENT_ID": "the Microsoft Entra app registration (docs/deploy.md, Microsoft)",
    "MICROSOFT_CLIENT_SECRET": "the Microsoft Entra app registration (docs/deploy.md, Microsoft)",
    "SALESFORCE_CLIENT_ID": "the Salesforce Connected App's consumer key (docs/deploy.md, Salesforce)",
    "SALESFORCE_CLIENT_SECRET": "the Salesforce Connected App's consumer secret (docs/deploy.md, Salesforce)",
}


@dataclass(frozen=True)
class Finding:
    setting: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.setting}: {self.problem}. Fix: {self.fix}."


def read_settings(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[Finding]]:
    """The settings as load_config parses them, without its refusals; a value that does not parse is a finding."""
    config: dict[str, Any] = {}
    findings = []
    for name, (default, parse) in SETTINGS.items():
        config[name] = default
        if name in environ:
            try:
                config[name] = parse(environ[name])
            except ValueError:
                findings.append(
                    Finding(name, f"{environ[name]!r} is not a valid value", f"set {name} like {default!r}")
                )
    return config, findings


def check_environment(environ: Mapping[str, str]) -> list[Finding]:
    """Every problem with this environment as a production set-up (empty when all is well)."""
    config, findings = read_settings(environ)
    for check in (check_mode, check_secret_key, check_urls, check_clients, check_cookies, check_mail):
        findings += check(config, environ)
    findings += check_token_keys(config)
    findings += check_database(config)
    findings += check_redis(config)
    return findings + _refusals_not_yet_named(environ, findings)


def _refusals_not_yet_named(environ: Mapping[str, str], findings: list[Finding]) -> list[Finding]:
    """A safety net: anything load_config itself refuses is reported even if no check above covers it."""
    try:
        load_config(environ)
    except ConfigError as error:
        message = str(error)
        if not any(message.startswith(f.setting) for f in findings):
            return [Finding(message.split(" ", 1)[0], message, "see docs/deploy.md")]
    except ValueError:
        pass  # a value that does not parse is already a finding of read_settings
    return []


def check_mode(config: dict, environ: Mapping[str, str]) -> list[Finding]:
    if config["PORTAL_ENV"] != "production":
        return [Finding("PORTAL_ENV", f"is {config['PORTAL_ENV']!r}", "set PORTAL_ENV=production or leave it unset")]
    if config["SALESFORCE_EXTRA_LOGIN_HOSTS"]:
        return [
            Finding(
                "SALESFORCE_EXTRA_LOGIN_HOSTS",
                "is set; it is for the Salesforce emulator only",
                "remove SALESFORCE_EXTRA_LOGIN_HOSTS",
            )
        ]
    return []


def check_secret_key(config: dict, environ: Mapping[str, str]) -> list[Finding]:
    key = config["SECRET_KEY"] or ""
    fix = f"set SECRET_KEY to a long random value, e.g. the output of {GENERATE_SECRET}"
    if not key:
        return [Finding("SECRET_KEY", "is not set", fix)]
    if key.strip().lower() in WEAK_SECRETS or len(set(key)) < 8:
        return [Finding("SECRET_KEY", "is a well-known or guessable value", fix)]
    if len(key) < MIN_SECRET_LENGTH:
        return [Finding("SECRET_KEY", f"is only {len(key)} characters (at least {MIN_SECRET_LENGTH})", fix)]
    return []


def check_urls(config: dict, environ: Mapping[str, str]) -> list[Finding]:
    findings = []
    for name in HTTPS_URLS:
        if not str(config[name]).startswith("https://"):
            shown = repr(config[name]) if config[name] else "not set"
            fix = (
                "set it to the portal's public https:// address, e.g. https://portal.example.com"
                if name == "PUBLIC_BASE_URL"
                else f"use an https:// URL or unset {name} for the default {SETTINGS[name][0]}"
            )
            findings.append(Finding(name, f"must be an https:// URL (is {shown})", fix))
    return findings


def check_clients(config: dict, environ: Mapping[str, str]) -> list[Finding]:
    return [
        Finding(name, "is not set", f"set {name} from {source}")
        for name, source in CLIENT_CREDENTIALS.items()
        if not config[name].strip()
    ]


def check_cookies(config: dict, environ: Mapping[str, str]) -> list[Finding]:
    if config["SESSION_COOKIE_SECURE"]:
        return []
    return [
        Finding(
            "SESSION_COOKIE_SECURE",
            "is off, so the login cookie would also travel over plain HTTP",
            "set SESSION_COOKIE_SECURE=true",
        )
    ]


def check_mail(config: dict, environ: Mapping[str, str]) -> list[Finding]:
    findings = []
    if not environ.get("SMTP_HOST", "").strip():
        findings.append(
            Finding("SMTP_HOST", "is not set", "set SMTP_HOST to your mail relay (localhost only if one runs there)")
        )
    if config["MAIL_FROM"].rstrip(">").endswith("@localhost"):
        findings.append(
            Finding(
                "MAIL_FROM",
                f"is {config['MAIL_FROM']!r}, which recipients' mail servers reject",
                'set MAIL_FROM to an address of your domain, e.g. "Scheduling Portal <no-reply@example.com>"',
            )
        )
    return findings


def check_token_keys(config: dict) -> list[Finding]:
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet

    keys = config["TOKEN_ENCRYPTION_KEYS"]
    fix = f"set TOKEN_ENCRYPTION_KEYS to a key made by {GENERATE_FERNET} (newest first, comma-separated)"
    if not keys:
        return [Finding("TOKEN_ENCRYPTION_KEYS", "is not set, so Salesforce tokens cannot be stored", fix)]
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError:
            return [Finding("TOKEN_ENCRYPTION_KEYS", f"key {position} is not a valid Fernet key", fix)]
    cipher = MultiFernet(fernets)
    try:
        cipher.decrypt(cipher.encrypt(b"check-config"))
    except InvalidToken:
        return [Finding("TOKEN_ENCRYPTION_KEYS", "cannot decrypt what it encrypts", fix)]
    return _stored_tokens_decrypt(config, cipher)


def _stored_tokens_decrypt(config: dict, cipher) -> list[Finding]:
    """Tokens already stored must still decrypt: a dropped or mistyped key disconnects every team it covered."""
    from cryptography.fernet import InvalidToken

    tokens = _query(config, "SELECT access_token_encrypted, refresh_token_encrypted FROM salesforce_connections")
    if tokens is None:
        return []  # the database check reports why it cannot be read
    failed = 0
    for row in tokens:
        for token in row:
            if token is None:
                continue
            try:
                cipher.decrypt(bytes(token))
            except InvalidToken:
                failed += 1
    if not failed:
        return []
    return [
        Finding(
            "TOKEN_ENCRYPTION_KEYS",
            f"{failed} stored Salesforce token(s) do not decrypt with any listed key",
            "add back the key they were encrypted with (after the newest), then run flask --app wsgi rotate-token-keys",
        )
    ]


def _query(config: dict, statement: str) -> list | None:
    """Rows of a read-only query, or None when the database cannot be read."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from .extensions import sqlalchemy_url

    if not str(config["DATABASE_URL"] or "").startswith("postgres"):
        return None
    engine = create_engine(sqlalchemy_url(config["DATABASE_URL"]), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(statement)))
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def check_database(config: dict) -> list[Finding]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from .extensions import sqlalchemy_url

    url = config["DATABASE_URL"]
    if not url:
        return [Finding("DATABASE_URL", "is not set", "set DATABASE_URL=postgresql://USER:PASSWORD@HOST:5432/DBNAME")]
    if not url.startswith("postgres"):
        return [Finding("DATABASE_URL", "must point at PostgreSQL", "set DATABASE_URL to a postgresql:// URL")]
    engine = create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            return _migrations_at_head(connection)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return [
            Finding("DATABASE_URL", f"the database cannot be reached ({reason})", "check the URL, the server, the user")
        ]
    finally:
        engine.dispose()


def _migrations_at_head(connection) -> list[Finding]:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = ScriptDirectory.from_config(Config(os.path.join(here, "alembic.ini")))
    current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return []
    shown = ", ".join(sorted(current)) or "none"
    return [
        Finding(
            "DATABASE_URL",
            f"the database schema is not at the latest migration (at {shown})",
            "run alembic upgrade head with this DATABASE_URL",
        )
    ]


def check_redis(config: dict) -> list[Finding]:
    from redis import Redis
    from redis.exceptions import RedisError

    url = config["REDIS_URL"]
    if not url:
        return [Finding("REDIS_URL", "is not set", "set REDIS_URL=redis://HOST:6379/0")]
    try:
        Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).ping()
    except (RedisError, ValueError) as error:
        return [Finding("REDIS_URL", f"Redis cannot be reached ({error})", "check the URL and that Redis runs")]
    return []


def report(findings: list[Finding], echo: Callable[[str], Any] = print) -> int:
    """Print the findings; the exit status is 1 when there are any."""
    for finding in findings:
        echo(finding.line())
    if findings:
        echo(f"{len(findings)} problem(s) found: this is not a safe production set-up yet.")
        return 1
    echo("All production settings are present and safe; the database and Redis answer.")
    return 0


def main() -> int:
    return report(check_environment(os.environ))


if __name__ == "__main__":
    sys.exit(main())
