"""RQ entry point for syncing: takes a SyncJob id, nothing else (no tokens, no booking data in Redis)."""

from __future__ import annotations

from portal.extensions import db


def run_sync_job(sync_job_id: int) -> str:
    from portal.sync.service import run

    try:
        return run(sync_job_id)
    finally:
        db.session.remove()
