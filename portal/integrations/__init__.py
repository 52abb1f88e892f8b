"""A calendar's Advanced settings → Service Integration → Salesforce: the settings, the describe-driven mapping
editor, pause/resume/remove, the preview, sending earlier bookings, and the legacy settings import."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("integrations", __name__)


@bp.app_context_processor
def advanced_settings_context() -> dict:
    """Gives templates/calendars/_advanced_integrations.html the calendar's Service Integration state."""
    from .service import service_integration_state

    return {"service_integration_state": service_integration_state}


from . import backfill, views  # noqa: E402,F401  (registers the routes on bp)
