"""The portal's application factory: configuration, extensions, blueprints, security and CLI."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import load_config
from .extensions import csrf, db, login_manager, oauth, queues
from .models import MAX_DATABASE_ID


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.update(load_config(overrides=overrides))
    _configure_sessions(app)
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added

    from .logs import configure_logging

    configure_logging(app)

    db.init_app(app)
    queues.init_app(app)
    csrf.init_app(app)
    oauth.init_app(app)
    login_manager.init_app(app)

    from . import access, errors, inputs, ratelimit, security

    access.init_app(app)
    inputs.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    _register_blueprints(app)
    ratelimit.init_app(app)  # after the blueprints: one Flask-Limiter for every view marked @rate_limited
    _register_template_helpers(app)
    _connect_listeners(app)
    _register_commands(app)

    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
    return app


class DatabaseIdConverter(IntegerConverter):
    """<int:…> URL parts are database ids: a number beyond the column's range matches no route (404) instead of
    failing in PostgreSQL (500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(url_map, *args, **kwargs)


def _configure_sessions(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"],
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead of a clock
    )


def _register_template_helpers(app: Flask) -> None:
    from . import enums
    from .sync_errors import presenters

    # Templates compare with the shared enums (`booking.status == BookingStatus.CANCELLED`), never with their strings.
    app.jinja_env.globals.update(
        {name: value for name, value in vars(enums).items() if isinstance(value, type) and issubclass(value, StrEnum)}
    )
    presenters.init_app(app)  # sync states, retries and trails on the errors page and the support console


def _connect_listeners(app: Flask) -> None:
    """Everything that runs because something else happened, in one place."""
    from . import notifications
    from .salesforce import signals
    from .sync import outbox

    outbox.install(db.session_factory)  # a booking's sync job is enqueued once its transaction commits
    signals.connection_broken.connect(notifications.on_connection_broken, sender=app)
    signals.connection_restored.connect(outbox.release_parked_syncs, sender=app)


def _register_commands(app: Flask) -> None:
    from . import notifications
    from .cli import register_commands
    from .sync.retention import prune_sync_trails_command

    register_commands(app)
    app.cli.add_command(prune_sync_trails_command)
    app.cli.add_command(notifications.send_sync_digests_command)


def _register_blueprints(app: Flask) -> None:
    from .auth import bp as auth_bp
    from .calendars.public import bp as booking_bp
    from .calendars.views import bp as calendars_bp
    from .connect.views import bp as salesforce_bp
    from .health import bp as health_bp
    from .home import bp as home_bp
    from .integrations import bp as integrations_bp
    from .support import bp as support_bp
    from .sync_errors.views import bp as sync_errors_bp
    from .teams import bp as teams_bp

    for blueprint in (health_bp, home_bp, auth_bp, teams_bp, calendars_bp, booking_bp, salesforce_bp):
        app.register_blueprint(blueprint)
    for blueprint in (sync_errors_bp, support_bp, integrations_bp):
        app.register_blueprint(blueprint)
    if app.config["DEMO_MAILBOX_DIR"]:  # the demo's mail catcher inbox; production refuses the setting
        from .demo_mail import bp as demo_mail_bp

        app.register_blueprint(demo_mail_bp)
