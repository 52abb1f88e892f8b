"""Connecting and disconnecting a team's Salesforce org: finishing the OAuth callback (code -> tokens ->
identity -> API check -> stored connection) and disconnecting (revoke, then delete), each audited."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import delete, select

from .. import audit
from ..crypto import TokenCipher, token_cipher
from ..extensions import db
from ..models import ConnectionStatus, DescribeCache, SalesforceConnection, User, utcnow
from . import oauth, signals
from .errors import SalesforceAuthError, SalesforceError, SalesforceRequestError, SalesforceUnavailable
from .tokens import apply_token_response

log = logging.getLogger("portal.salesforce")

API_DISABLED_EXPLANATION = (
    "Salesforce says this org has no API access, which the portal needs to post bookings. API access comes with "
    "the Enterprise, Unlimited, Developer and Performance editions, and with Professional Edition only when API "
    "access has been bought. Ask your Salesforce administrator to enable it, then connect again."
)


class ConnectFailed(Exception):
    """The org could not be connected; the message is meant for the person who tried."""


@dataclass(frozen=True)
class PendingConnect:
    """What the connect step remembers until Salesforce redirects back (bound to the OAuth state)."""

    team_id: int
    user_id: int
    login_url: str
    code_verifier: str
    redirect_uri: str


@dataclass(frozen=True)
class ConnectOutcome:
    connection: SalesforceConnection
    reconnected: bool


def connect_with_code(pending: PendingConnect, code: str, actor: User) -> ConnectOutcome:
    """Exchange the code, read the identity URL, check API access, and store (or replace) the connection."""
    config = current_app.config
    token = _exchange(pending, code, config)
    try:
        identity = _identity(token, pending.login_url, config)
        usage = _check_api_access(token, pending.login_url, config)
    except ConnectFailed:
        _revoke_quietly(pending.login_url, token.get("refresh_token", ""), config)
        raise
    return _store(pending, token, identity, usage, actor, token_cipher())


def disconnect(team_id: int, actor: User) -> bool | None:
    """Revoke the refresh token and delete the connection (and its describe cache).

    Returns whether Salesforce confirmed the revoke, or None when the team had no connection."""
    connection = db.session.scalar(
        select(SalesforceConnection).where(SalesforceConnection.team_id == team_id).with_for_update()
    )
    if connection is None:
        return None
    revoked = _revoke_quietly(connection.login_url, _refresh_token_of(connection), current_app.config)
    audit.record(
        "salesforce.disconnect",
        team_id=team_id,
        target=connection,
        actor_id=actor.id,
        org_id=connection.org_id,
        username=connection.username,
        revoked=revoked,
    )
    db.session.delete(connection)
    db.session.commit()
    return revoked


# -- steps of the callback ---------------------------------------------------------------------


def _exchange(pending: PendingConnect, code: str, config: Mapping[str, Any]) -> dict:
    try:
        token = oauth.exchange_code(pending.login_url, code, pending.code_verifier, pending.redirect_uri, config=config)
    except SalesforceAuthError as failure:
        log.info("salesforce code exchange refused", extra={"team_id": pending.team_id, "event": failure.code})
        raise ConnectFailed(
            f"Salesforce refused to finish the connection ({failure.code}). Start again from this page."
        ) from None
    except SalesforceUnavailable:
        raise ConnectFailed("Salesforce could not be reached to finish connecting. Please try again.") from None
    if not token.get("access_token") or not token.get("refresh_token"):
        raise ConnectFailed(
            "Salesforce did not grant a refresh token. Make sure the connected app allows the "
            "“Perform requests at any time (refresh_token)” scope, then connect again."
        )
    return token


def _identity(token: Mapping[str, Any], login_url: str, config: Mapping[str, Any]) -> dict:
    identity_url = str(token.get("id", ""))
    if not oauth.is_salesforce_origin(identity_url, login_url, config):
        raise ConnectFailed("Salesforce answered with an identity URL outside Salesforce; nothing was stored.")
    try:
        return oauth.fetch_identity(identity_url, token["access_token"], timeout=config["SALESFORCE_TIMEOUT_SECONDS"])
    except SalesforceError as failure:
        log.info("salesforce identity call failed", extra={"event": str(failure)})
        raise ConnectFailed(
            "Salesforce accepted the sign-in but its identity service did not answer, so the org could not be "
            "identified. Please try again."
        ) from None


def _check_api_access(token: Mapping[str, Any], login_url: str, config: Mapping[str, Any]) -> tuple[int, int] | None:
    """One REST call: refuses orgs without API access; returns the API usage it reports."""
    try:
        instance_url = oauth.instance_url_of(token, login_url)
        response = oauth.probe_api(
            instance_url,
            token["access_token"],
            api_version=config["SALESFORCE_API_VERSION"],
            timeout=config["SALESFORCE_TIMEOUT_SECONDS"],
        )
    except SalesforceRequestError as failure:
        if failure.code == "API_DISABLED_FOR_ORG":
            raise ConnectFailed(API_DISABLED_EXPLANATION) from None
        raise ConnectFailed(f"Salesforce refused the first API call ({failure.code or failure.status}).") from None
    except SalesforceUnavailable:
        raise ConnectFailed("Salesforce's API could not be reached to check access. Please try again.") from None
    usage = response.headers.get("Sforce-Limit-Info", "").partition("api-usage=")[2]
    used, _, limit = usage.partition("/")
    return (
        (int(used), int(limit)) if used.isascii() and used.isdigit() and limit.isascii() and limit.isdigit() else None
    )


def _store(
    pending: PendingConnect,
    token: Mapping[str, Any],
    identity: Mapping[str, Any],
    usage: tuple[int, int] | None,
    actor: User,
    cipher: TokenCipher,
) -> ConnectOutcome:
    connection = db.session.scalar(
        select(SalesforceConnection).where(SalesforceConnection.team_id == pending.team_id).with_for_update()
    )
    reconnected = connection is not None
    was_broken = reconnected and connection.status == ConnectionStatus.NEEDS_RECONNECT
    replaced = _refresh_token_of(connection) if reconnected else ""
    previous_login_url = connection.login_url if reconnected else ""
    previous_org = connection.org_id if reconnected else ""
    if connection is None:
        connection = SalesforceConnection(team_id=pending.team_id, token_generation=0)
        db.session.add(connection)
    now = utcnow()
    connection.login_url = pending.login_url
    apply_token_response(connection, token, cipher)
    connection.identity_url = str(token["id"])
    connection.org_id = str(identity["organization_id"])
    connection.sf_user_id = str(identity["user_id"])
    connection.username = str(identity.get("username", ""))
    connection.status = ConnectionStatus.CONNECTED
    connection.status_reason = ""
    connection.status_changed_at = now
    connection.connected_by_id = actor.id
    connection.connected_at = now
    if usage:
        connection.api_usage_used, connection.api_usage_limit = usage
        connection.api_usage_seen_at = now
    db.session.flush()
    if previous_org and previous_org != connection.org_id:
        db.session.execute(delete(DescribeCache).where(DescribeCache.connection_id == connection.id))
    audit.record(
        "salesforce.reconnect" if reconnected else "salesforce.connect",
        team_id=pending.team_id,
        target=connection,
        actor_id=actor.id,
        org_id=connection.org_id,
        username=connection.username,
        login_host=urlsplit(pending.login_url).netloc,
        **({"previous_org_id": previous_org} if reconnected else {}),
    )
    db.session.commit()
    if replaced and replaced != token.get("refresh_token"):
        _revoke_quietly(previous_login_url, replaced, current_app.config)
    if was_broken:
        signals.connection_restored.send(
            current_app._get_current_object(), team_id=pending.team_id, connection_id=connection.id
        )
    return ConnectOutcome(connection, reconnected)


# -- helpers -----------------------------------------------------------------------------------


def _refresh_token_of(connection: SalesforceConnection) -> str:
    if connection.refresh_token_encrypted is None:
        return ""
    try:
        return token_cipher().decrypt(connection.refresh_token_encrypted)
    except InvalidToken:  # encrypted under a key no longer configured: nothing we can revoke
        return ""


def _revoke_quietly(login_url: str, refresh_token: str, config: Mapping[str, Any]) -> bool:
    if not refresh_token:
        return False
    try:
        oauth.revoke_token(login_url, refresh_token, timeout=config["SALESFORCE_TIMEOUT_SECONDS"])
    except SalesforceUnavailable:
        log.warning("salesforce token revoke failed", extra={"event": "revoke_failed"})
        return False
    return True
