"""/healthz: the database and Redis (503 when either is down), RQ worker heartbeats and the sync backlog.

No registered worker or an old backlog makes the status "degraded" but keeps 200: web nodes stay in rotation
while the operator is told that bookings are not reaching Salesforce.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from rq import Worker
from sqlalchemy import func, select, text

from .extensions import db, queue_name, queues
from .models import SyncJob, SyncStatus, utcnow

bp = Blueprint("health", __name__)

BACKLOG_WARNING = timedelta(minutes=10)


def _database() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
        return True, "ok"
    except Exception as error:  # a health check reports failures, it does not raise them
        db.session.rollback()
        return False, type(error).__name__


def _redis() -> tuple[bool, str]:
    try:
        queues.redis.ping()
        return True, "ok"
    except Exception as error:
        return False, type(error).__name__


def _workers() -> dict:
    """RQ drops a worker's registration when its heartbeat lapses (worker_ttl), so listed means alive."""
    sync_queue = queue_name(current_app.config, "sync")
    listening = [w for w in Worker.all(connection=queues.redis) if sync_queue in w.queue_names()]
    beats = [w.last_heartbeat for w in listening if w.last_heartbeat is not None]
    latest = max(beats, default=None)
    age = None if latest is None else round((utcnow() - latest.replace(tzinfo=utcnow().tzinfo)).total_seconds(), 1)
    return {"alive": len(listening), "last_heartbeat_seconds_ago": age}


def _oldest_pending_seconds() -> float | None:
    oldest = db.session.scalar(select(func.min(SyncJob.created_at)).where(SyncJob.status == SyncStatus.PENDING))
    return None if oldest is None else round((utcnow() - oldest).total_seconds(), 1)


@bp.get("/healthz")
def healthz():
    database_ok, database_detail = _database()
    redis_ok, redis_detail = _redis()
    body: dict = {"checks": {"database": database_detail, "redis": redis_detail}}
    if not (database_ok and redis_ok):
        body["status"] = "unhealthy"
        return jsonify(body), 503
    workers = _workers()
    oldest = _oldest_pending_seconds()
    body["workers"] = workers
    body["sync"] = {"oldest_pending_seconds": oldest}
    degraded = workers["alive"] == 0 or (oldest is not None and oldest > BACKLOG_WARNING.total_seconds())
    body["status"] = "degraded" if degraded else "ok"
    return jsonify(body), 200
