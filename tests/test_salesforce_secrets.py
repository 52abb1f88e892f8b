"""No secret leaves the encrypted columns: after a full connect, refresh (with rotation) and disconnect, the
access and refresh tokens, the authorization code, the PKCE verifier and the client secret appear in no
rendered page, log line, audit row, exchange trail, session cookie, Redis key, or the database's bytes."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql
from redis import Redis
from sqlalchemy import select

from emulators.salesforce.testing import complete_authorize_page
from portal import create_app
from portal.crypto import token_cipher
from portal.extensions import db
from portal.models import AuditEvent, Membership, Plan, Role, SalesforceConnection, Team, User
from portal.salesforce import pending
from portal.salesforce.client import client_for_connection

from .factories import login
from .salesforce_flow import disconnect, follow_callback, page_url, start_connect, token_requests

CLIENT_SECRET = "emulator-client-secret"


def test_secrets_never_leave_the_encrypted_columns(
    base_config, database_factory, redis_url, salesforce_control, capsys, caplog
):
    database_url = database_factory("sfsecrets")
    app = create_app({**base_config, "DATABASE_URL": database_url, "LOG_LEVEL": "DEBUG"})
    caplog.set_level(logging.DEBUG)
    team_id, owner = _team_with_owner(app)
    client = app.test_client()
    login(client, owner)
    seen: list[str] = []  # everything a person or an operator could read

    def keep(response):
        seen.append(f"{response.headers}\n{response.get_data(as_text=True)}")
        return response

    start = keep(start_connect(client, team_id))
    seen.append(json.dumps(_session_of(app, client)))
    callback = complete_authorize_page(start.headers["Location"])
    keep(follow_callback(client, callback))
    keep(client.get(page_url(team_id)))
    secrets = {
        "authorization code": parse_qs(urlsplit(callback).query)["code"][0],
        "code verifier": parse_qs(token_requests(salesforce_control, "authorization_code")[0]["body"])["code_verifier"][
            0
        ],
        "client secret": CLIENT_SECRET,
    }
    secrets.update(_stored_tokens(app, team_id, "first"))

    salesforce_control.update_settings(refresh_token_rotation=True)
    salesforce_control.expire_access_tokens()
    trail: list[dict] = []
    with app.app_context():
        connection_id = db.session.scalar(
            select(SalesforceConnection.id).where(SalesforceConnection.team_id == team_id)
        )
        with client_for_connection(connection_id, on_exchange=trail.append) as sf:
            sf.query("SELECT Id FROM Lead")
        db.session.remove()
    secrets.update(_stored_tokens(app, team_id, "rotated"))
    assert secrets["rotated refresh token"] != secrets["first refresh token"]
    seen.append(json.dumps(trail))
    seen.append(_database_text(database_url))
    raw_while_connected = _database_bytes(database_url)

    keep(client.get(page_url(team_id, "/disconnect")))
    keep(disconnect(client, team_id))
    keep(client.get(page_url(team_id)))

    logs = capsys.readouterr()
    log_text = logs.out + logs.err + caplog.text
    assert "salesforce access token refreshed" in log_text  # the portal's own log lines were captured
    seen.append(log_text)
    seen.append(_audit_rows(app, team_id))
    seen.append(_redis_dump(redis_url))
    seen.append(_database_text(database_url))
    raw = raw_while_connected + _database_bytes(database_url)

    text = "\n".join(seen)
    leaks = [name for name, value in secrets.items() if value in text or value.encode().hex() in text]
    leaks += [name for name, value in secrets.items() if value.encode() in raw or value.encode().hex().encode() in raw]
    assert leaks == []


def _team_with_owner(app) -> tuple[int, User]:
    with app.app_context():
        team = Team(name="Secrets Co", plan=Plan.PREMIUM)
        owner = User(email="owner-secrets@example.test", email_verified=True, name="Owner")
        db.session.add_all([team, owner])
        db.session.flush()
        db.session.add(Membership(team_id=team.id, user_id=owner.id, role=Role.OWNER))
        db.session.commit()
        db.session.remove()
        return team.id, owner


def _session_of(app, client) -> dict:
    """The decoded session cookie while a connect attempt is pending (signed, so readable by its holder)."""
    cookie = client.get_cookie("session")
    decoded = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert decoded[pending.SESSION_KEY]  # the attempt is in there, its verifier encrypted
    return decoded


def _stored_tokens(app, team_id: int, label: str) -> dict:
    with app.app_context():
        connection = db.session.scalar(select(SalesforceConnection).where(SalesforceConnection.team_id == team_id))
        cipher = token_cipher()
        tokens = {
            f"{label} access token": cipher.decrypt(connection.access_token_encrypted),
            f"{label} refresh token": cipher.decrypt(connection.refresh_token_encrypted),
        }
        db.session.remove()
        return tokens


def _audit_rows(app, team_id: int) -> str:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.team_id == team_id)).all()
        assert {event.action for event in events} >= {"salesforce.connect", "salesforce.disconnect"}
        rows = json.dumps([[event.action, event.target_type, event.target_id, event.details] for event in events])
        db.session.remove()
        return rows


def _redis_dump(redis_url: str) -> str:
    """Every key and value in the suite's Redis database (RQ jobs, rate limits, anything else)."""
    redis = Redis.from_url(redis_url)
    parts = []
    for key in redis.scan_iter():
        kind = redis.type(key).decode()
        value = {
            "string": lambda k: redis.get(k),
            "hash": lambda k: redis.hgetall(k),
            "list": lambda k: redis.lrange(k, 0, -1),
            "set": lambda k: redis.smembers(k),
            "zset": lambda k: redis.zrange(k, 0, -1),
        }.get(kind, lambda k: b"")(key)
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


def _database_text(database_url: str) -> str:
    """Every row of every table, as PostgreSQL renders it (bytea as hex)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        tables = [row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        query = sql.SQL("SELECT row_to_json(t)::text FROM {} t")
        return "\n".join(row[0] for table in tables for row in connection.execute(query.format(sql.Identifier(table))))


def _database_bytes(database_url: str) -> bytes:
    """The database's relation files as stored on disk (after a checkpoint), dead row versions included."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        paths = connection.execute(
            "SELECT pg_relation_filepath(oid) FROM pg_class WHERE relkind IN ('r', 't', 'i', 'm') "
            "AND relfilenode <> 0 AND relnamespace <> 'pg_catalog'::regnamespace"
        ).fetchall()
        return b"".join(
            connection.execute("SELECT pg_read_binary_file(%s)", [path]).fetchone()[0] for (path,) in paths if path
        )
