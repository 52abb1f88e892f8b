"""Operator commands: team plan, staff flag, key rotation, the production configuration check. Each command that
changes data calls one service, which commits."""

from __future__ import annotations

import click
from flask import Flask

from .auth import accounts
from .extensions import db
from .integrations.legacy import import_legacy_settings_command
from .models import Plan, Team
from .salesforce import tokens
from .teams import services as teams


def register_commands(app: Flask) -> None:
    for command in (set_plan, set_staff, rotate_token_keys, check_config, import_legacy_settings_command):
        app.cli.add_command(command)


@click.command("set-plan")
@click.argument("team_id", type=int)
@click.argument("plan", type=click.Choice([p.value for p in Plan]))
def set_plan(team_id: int, plan: str) -> None:
    """Set a team's plan (free, standard or premium)."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise click.ClickException(f"No team with id {team_id}")
    teams.set_plan(team, Plan(plan))
    click.echo(f"Team {team.id} ({team.name}) is now on the {plan} plan.")


@click.command("set-staff")
@click.argument("email")
@click.argument("flag", type=click.Choice(["on", "off"]))
def set_staff(email: str, flag: str) -> None:
    """Grant or remove the support-staff flag for a user."""
    user = accounts.set_staff(email, flag == "on")
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}")
    click.echo(f"{user.email} staff flag is {flag}.")


@click.command("rotate-token-keys")
def rotate_token_keys() -> None:
    """Re-encrypt every stored Salesforce token under the newest TOKEN_ENCRYPTION_KEYS key.

    Put the new key first in TOKEN_ENCRYPTION_KEYS, run this, then drop the old key.
    """
    count = tokens.rotate_token_keys()
    click.echo(f"Re-encrypted the tokens of {count} Salesforce connection(s) under the newest key.")


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
