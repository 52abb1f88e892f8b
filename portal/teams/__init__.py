"""Teams ("spaces"): the dashboard, creating teams, Team Settings and members; the signed-in navigation's data."""

from __future__ import annotations

from flask import Blueprint, g
from flask_login import current_user

bp = Blueprint("teams", __name__)


@bp.app_context_processor
def navigation_context() -> dict:
    """What templates/_topnav.html shows: the current space and the others the user can switch to."""
    if not current_user.is_authenticated:
        return {}
    if "navigation" not in g:
        from ..access import my_memberships
        from .services import current_space

        spaces = my_memberships()
        g.navigation = {"current_space": current_space(current_user, spaces), "spaces": spaces}
    return g.navigation


from . import views  # noqa: E402,F401  (registers the routes on bp)
