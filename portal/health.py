"""/healthz: is the database reachable, is Redis reachable (later: workers and the sync backlog)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import db, queues

bp = Blueprint("health", __name__)

# Other packages add checks here (name -> callable returning (ok, detail)).
EXTRA_CHECKS: dict = {}


def _check_database() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
        return True, "ok"
    except Exception as error:  # the point of a health check is to report, not raise
        return False, type(error).__name__


def _check_redis() -> tuple[bool, str]:
    try:
        queues.redis.ping()
        return True, "ok"
    except Exception as error:
        return False, type(error).__name__


@bp.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    checks.update({name: check() for name, check in EXTRA_CHECKS.items()})
    healthy = all(ok for ok, _ in checks.values())
    body = {
        "status": "ok" if healthy else "unhealthy",
        "checks": {name: detail for name, (ok, detail) in checks.items()},
    }
    return jsonify(body), 200 if healthy else 503
