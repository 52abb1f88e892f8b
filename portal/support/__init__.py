"""The support console for staff: failed syncs across all teams, their detail pages (retry allowed, dismiss not)
and the audit log. Every staff look at a team's data and every staff retry is audited."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import login_manager

bp = Blueprint("support", __name__, url_prefix="/support")


@bp.before_request
def staff_only():
    """Visitors log in; signed-in people who are not staff are refused (403)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403, description=_("The support console is for support staff."))
    return None


from . import views  # noqa: E402,F401  (registers the routes on bp)
