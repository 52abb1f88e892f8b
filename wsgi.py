"""WSGI entry point for gunicorn and `flask --app wsgi`."""

import click

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except (ConfigError, ValueError) as error:  # ValueError: a setting that does not parse (SMTP_PORT=abc)
    # gunicorn and other servers must refuse to start; only under the `flask` command (a click context is
    # active) an app that can just run check-config stands in, so the operator still gets the full report.
    if click.get_current_context(silent=True) is None:
        raise
    from portal.cli import configuration_check_app

    click.echo(f"The portal refuses this configuration ({error}); only check-config can run.", err=True)
    app = configuration_check_app()
