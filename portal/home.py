"""The landing page: the login choice for visitors, the current space for signed-in users."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("teams.dashboard"))
    return render_template("home/index.html")
