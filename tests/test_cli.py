"""Operator commands."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken

from portal.crypto import TokenCipher
from portal.models import Plan, SalesforceConnection


def test_rotate_token_keys_re_encrypts_tokens_so_the_old_key_can_be_dropped(app, factory, db_session):
    old_key, new_key = app.config["TOKEN_ENCRYPTION_KEYS"][0], Fernet.generate_key().decode()
    team = factory.team()
    old = TokenCipher([old_key])
    connection = SalesforceConnection(
        team_id=team.id,
        login_url="https://login.salesforce.com",
        instance_url="https://x.my.salesforce.com",
        access_token_encrypted=old.encrypt("access-1"),
        refresh_token_encrypted=old.encrypt("refresh-1"),
    )
    db_session.add(connection)
    db_session.flush()
    app.config["TOKEN_ENCRYPTION_KEYS"] = [new_key, old_key]
    try:
        result = app.test_cli_runner().invoke(args=["rotate-token-keys"])
    finally:
        app.config["TOKEN_ENCRYPTION_KEYS"] = [old_key]

    assert result.exit_code == 0, result.output
    new_only = TokenCipher([new_key])
    assert new_only.decrypt(connection.access_token_encrypted) == "access-1"
    assert new_only.decrypt(connection.refresh_token_encrypted) == "refresh-1"
    with pytest.raises(InvalidToken):
        old.decrypt(connection.refresh_token_encrypted)


def test_set_plan_changes_the_plan_and_refuses_an_unknown_team(app, factory, db_session):
    team = factory.team(plan=Plan.FREE)
    runner = app.test_cli_runner()

    assert runner.invoke(args=["set-plan", str(team.id), "premium"]).exit_code == 0
    assert team.plan == Plan.PREMIUM
    missing = runner.invoke(args=["set-plan", "999999", "premium"])
    assert missing.exit_code != 0 and "No team with id 999999" in missing.output
