"""Login with Google or Microsoft, logout and switching spaces; the provider clients are registered per app."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _register_providers(state) -> None:
    from .providers import register_providers

    register_providers(state.app)


@bp.app_context_processor
def login_choices() -> dict:
    """The providers the login buttons (templates/auth/_login_buttons.html) offer."""
    from .providers import enabled_providers

    return {"login_providers": enabled_providers()}


from . import views  # noqa: E402,F401  (registers the routes on bp)
