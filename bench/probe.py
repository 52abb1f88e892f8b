"""The probe job for measuring RQ's per-job cost by worker class: one database round trip through the portal's
session, the least work any sync job does. A SpawnWorker's work horse starts without the app, so it builds one."""

from __future__ import annotations

from flask import has_app_context
from sqlalchemy import text

from portal import create_app
from portal.extensions import db


def touch_database() -> int:
    if has_app_context():
        return _select_one()
    with create_app().app_context():
        return _select_one()


def _select_one() -> int:
    try:
        return db.session.scalar(text("SELECT 1"))
    finally:
        db.session.remove()
