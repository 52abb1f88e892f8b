"""Build the Flask application that serves one emulator's endpoints and controls."""

from __future__ import annotations

from flask import Flask

from . import control_api, views
from .provider import IdentityProvider

# Authorization requests and forms are small; refuse anything bigger before parsing it.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(provider: IdentityProvider) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False  # keep claims and documents in the providers' own order
    app.extensions["identity_provider"] = provider
    app.register_blueprint(views.bp)
    app.register_blueprint(control_api.bp)
    return app
