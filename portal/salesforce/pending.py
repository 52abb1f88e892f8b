"""Connect attempts waiting for Salesforce's redirect: kept in the session under their OAuth state, the PKCE
verifier encrypted (the session cookie is signed, not secret), usable once and for a limited time."""

from __future__ import annotations

import time

from cryptography.fernet import InvalidToken
from flask import session

from ..crypto import token_cipher
from .connections import PendingConnect

SESSION_KEY = "salesforce_connect"
PENDING_TTL_SECONDS = 1800
MAX_PENDING = 3


def remember(state: str, pending: PendingConnect) -> None:
    waiting = _fresh(session.get(SESSION_KEY, {}))
    waiting[state] = {
        "team_id": pending.team_id,
        "user_id": pending.user_id,
        "login_url": pending.login_url,
        "verifier": token_cipher().encrypt(pending.code_verifier).decode(),
        "redirect_uri": pending.redirect_uri,
        "created": time.time(),
    }
    newest = sorted(waiting.items(), key=lambda item: item[1]["created"])[-MAX_PENDING:]
    session[SESSION_KEY] = dict(newest)


def take(state: str | None) -> PendingConnect | None:
    """The attempt this state belongs to, removed so a replayed callback finds nothing."""
    waiting = _fresh(session.get(SESSION_KEY, {}))
    entry = waiting.pop(state, None) if state else None
    session[SESSION_KEY] = waiting
    if entry is None:
        return None
    try:
        verifier = token_cipher().decrypt(entry["verifier"].encode())
    except InvalidToken:
        return None
    return PendingConnect(
        team_id=entry["team_id"],
        user_id=entry["user_id"],
        login_url=entry["login_url"],
        code_verifier=verifier,
        redirect_uri=entry["redirect_uri"],
    )


def _fresh(waiting: dict) -> dict:
    oldest = time.time() - PENDING_TTL_SECONDS
    return {state: entry for state, entry in waiting.items() if entry.get("created", 0) >= oldest}
