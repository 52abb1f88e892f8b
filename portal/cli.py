"""Operator commands: team plan, staff flag, key rotation, production configuration check."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import Plan, Team, User


def register_commands(app: Flask) -> None:
    app.cli.add_command(set_plan)
    app.cli.add_command(set_staff)
    app.cli.add_command(rotate_token_keys)
    app.cli.add_command(check_config)
    from .integrations.legacy import import_legacy_settings_command

    app.cli.add_command(import_legacy_settings_command)


@click.command("set-plan")
@click.argument("team_id", type=int)
@click.argument("plan", type=click.Choice([p.value for p in Plan]))
def set_plan(team_id: int, plan: str) -> None:
    """Set a team's plan (free, standard or premium)."""
    from .audit import record

    team = db.session.get(Team, team_id)
    if team is None:
        raise click.ClickException(f"No team with id {team_id}")
    previous = team.plan
    team.plan = Plan(plan)
    record("team.plan_changed", team_id=team.id, target=team, previous=previous.value, plan=plan, via="cli")
    db.session.commit()
    click.echo(f"Team {team.id} ({team.name}) is now on the {plan} plan.")


@click.command("set-staff")
@click.argument("email")
@click.argument("flag", type=click.Choice(["on", "off"]))
def set_staff(email: str, flag: str) -> None:
    """Grant or remove the support-staff flag for a user."""
    from .audit import record

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}")
    user.is_staff = flag == "on"
    record("user.staff_changed", team_id=None, target=user, is_staff=user.is_staff, via="cli")
    db.session.commit()
    click.echo(f"{user.email} staff flag is {flag}.")


@click.command("rotate-token-keys")
def rotate_token_keys() -> None:
    """Re-encrypt every stored Salesforce token under the newest TOKEN_ENCRYPTION_KEYS key.

    Put the new key first in TOKEN_ENCRYPTION_KEYS, run this, then drop the old key.
    """
    from .crypto import token_cipher
    from .models import SalesforceConnection

    cipher = token_cipher()
    connections = db.session.scalars(select(SalesforceConnection).with_for_update()).all()
    for connection in connections:
        if connection.access_token_encrypted:
            connection.access_token_encrypted = cipher.rotate(connection.access_token_encrypted)
        if connection.refresh_token_encrypted:
            connection.refresh_token_encrypted = cipher.rotate(connection.refresh_token_encrypted)
    db.session.commit()
    click.echo(f"Re-encrypted the tokens of {len(connections)} Salesforce connection(s) under the newest key.")


@click.command("check-config")
def check_config() -> None:
    """Report every missing or unsafe production setting with its fix; exit 1 when there is any."""
    import os

    from .checks import check_environment, report

    raise SystemExit(report(check_environment(os.environ), echo=click.echo))


def configuration_check_app() -> Flask:
    """What `flask --app wsgi` loads when the portal refuses its configuration: an app with check-config only,
    so the operator gets the full report instead of a traceback (wsgi.py; servers still refuse to start)."""
    app = Flask(__name__)
    app.cli.add_command(check_config)
    return app
