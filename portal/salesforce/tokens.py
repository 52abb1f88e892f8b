"""A connection's tokens in the database: encrypted at rest, read and refreshed in short transactions of their
own, with the row locked so that of several processes hitting an expired token only one refreshes it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app, has_app_context
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from ..crypto import TokenCipher, token_cipher
from ..extensions import db
from ..models import AuditEvent, ConnectionStatus, SalesforceConnection, SyncReason, utcnow
from . import oauth, signals
from .errors import SalesforceAuthError

log = logging.getLogger("portal.salesforce")

# OAuth errors after which only a person reconnecting helps (design §4, error catalogue).
RECONNECT_ERRORS = frozenset({"invalid_grant", "inactive_user", "inactive_org"})


@dataclass(frozen=True)
class ApiUsage:
    """The org's API calls used today and its daily limit, from `Sforce-Limit-Info: api-usage=N/M`."""

    used: int
    limit: int
    seen_at: datetime


@dataclass(frozen=True)
class StoredTokens:
    """What a client needs from the connection row, as of one token generation."""

    connection_id: int
    team_id: int
    login_url: str
    instance_url: str
    access_token: str
    generation: int
    api_usage: ApiUsage | None


def apply_token_response(connection: SalesforceConnection, token: Mapping[str, Any], cipher: TokenCipher) -> None:
    """Store a token response on the row: new access token, a rotated refresh token if one came back (the old
    one is kept otherwise), a changed instance URL, and a new generation."""
    connection.access_token_encrypted = cipher.encrypt(token["access_token"])
    if token.get("refresh_token"):
        connection.refresh_token_encrypted = cipher.encrypt(token["refresh_token"])
    connection.instance_url = oauth.instance_url_of(token, connection.login_url)
    connection.token_issued_at = oauth.issued_at(token)
    connection.token_generation = (connection.token_generation or 0) + 1


class TokenStore:
    """Reads and refreshes one database's connection rows without touching the caller's transaction."""

    def __init__(self, bind: Engine | Connection, cipher: TokenCipher) -> None:
        self._bind = bind
        self._cipher = cipher

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        # On a Connection already in a transaction (tests), this becomes a savepoint.
        session = Session(bind=self._bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
        with session, session.begin():
            yield session

    def load(self, connection_id: int) -> StoredTokens:
        with self._transaction() as session:
            return self._usable(session.get(SalesforceConnection, connection_id))

    def tokens_of(self, row: SalesforceConnection) -> StoredTokens:
        """The tokens of a connection row the caller has read (raises as `load` does when it is unusable)."""
        return self._usable(row)

    def refresh(self, known: StoredTokens, fetch_token: Callable[[str, str], dict]) -> StoredTokens:
        """Refresh the access token, or adopt the one another process obtained since `known` was read.

        `fetch_token(login_url, refresh_token)` calls Salesforce's token endpoint. A terminal OAuth error marks
        the connection needs_reconnect (committed, audited, signalled) before it is raised again."""
        with self._transaction() as session:
            row = session.scalar(
                select(SalesforceConnection).where(SalesforceConnection.id == known.connection_id).with_for_update()
            )
            current = self._usable(row)
            if current.generation != known.generation:
                return current
            try:
                token = fetch_token(row.login_url, self._decrypt(row.refresh_token_encrypted))
            except SalesforceAuthError as failure:
                if failure.code not in RECONNECT_ERRORS:
                    raise
                broken = failure
                _mark_needs_reconnect(session, row, failure)
            else:
                apply_token_response(row, token, self._cipher)
                log.info("salesforce access token refreshed", extra={"team_id": row.team_id})
                return self._stored(row)
        # needs_reconnect is committed: tell the rest of the product, then fail the caller's call
        _announce_broken(row)
        raise broken

    def record_api_usage(self, connection_id: int, usage: ApiUsage) -> None:
        with self._transaction() as session:
            session.execute(
                update(SalesforceConnection)
                .where(SalesforceConnection.id == connection_id)
                .values(api_usage_used=usage.used, api_usage_limit=usage.limit, api_usage_seen_at=usage.seen_at)
            )

    def _decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._cipher.decrypt(ciphertext)
        except InvalidToken:  # a key was dropped from TOKEN_ENCRYPTION_KEYS too early
            raise SalesforceAuthError(
                "token_keys", "The stored tokens cannot be decrypted with TOKEN_ENCRYPTION_KEYS."
            ) from None

    def _usable(self, row: SalesforceConnection | None) -> StoredTokens:
        if row is None or row.access_token_encrypted is None or row.refresh_token_encrypted is None:
            raise SalesforceAuthError(SyncReason.NOT_CONNECTED, "The team has no Salesforce connection.")
        if row.status != ConnectionStatus.CONNECTED:
            raise SalesforceAuthError(
                SyncReason.NEEDS_RECONNECT, row.status_reason or "The connection needs reconnecting."
            )
        return self._stored(row)

    def _stored(self, row: SalesforceConnection) -> StoredTokens:
        usage = None
        if row.api_usage_used is not None and row.api_usage_limit and row.api_usage_seen_at:
            usage = ApiUsage(row.api_usage_used, row.api_usage_limit, row.api_usage_seen_at)
        return StoredTokens(
            connection_id=row.id,
            team_id=row.team_id,
            login_url=row.login_url,
            instance_url=row.instance_url.rstrip("/"),
            access_token=self._decrypt(row.access_token_encrypted),
            generation=row.token_generation,
            api_usage=usage,
        )


def _mark_needs_reconnect(session: Session, row: SalesforceConnection, failure: SalesforceAuthError) -> None:
    row.status = ConnectionStatus.NEEDS_RECONNECT
    row.status_reason = f"{failure.code}: {failure.message}"
    row.status_changed_at = utcnow()
    session.add(
        AuditEvent(
            team_id=row.team_id,
            action="salesforce.needs_reconnect",
            target_type="SalesforceConnection",
            target_id=str(row.id),
            details={"org_id": row.org_id, "reason": row.status_reason},
        )
    )
    log.warning("salesforce connection needs reconnect", extra={"team_id": row.team_id, "event": failure.code})


def _announce_broken(row: SalesforceConnection) -> None:
    if has_app_context():
        signals.connection_broken.send(
            current_app._get_current_object(), team_id=row.team_id, connection_id=row.id, reason=row.status_reason
        )


def rotate_token_keys() -> int:
    """Re-encrypt every stored token under the newest TOKEN_ENCRYPTION_KEYS key; how many connections."""
    cipher = token_cipher()
    connections = db.session.scalars(select(SalesforceConnection).with_for_update()).all()
    for connection in connections:
        if connection.access_token_encrypted:
            connection.access_token_encrypted = cipher.rotate(connection.access_token_encrypted)
        if connection.refresh_token_encrypted:
            connection.refresh_token_encrypted = cipher.rotate(connection.refresh_token_encrypted)
    db.session.commit()
    return len(connections)
