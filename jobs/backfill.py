"""RQ entry points for sending in batches: a Backfill id, or the ids of released SyncJobs; nothing else."""

from __future__ import annotations

from portal.extensions import db


def run_backfill(backfill_id: int) -> str:
    from portal.sync.backfill import run

    try:
        return run(backfill_id)
    finally:
        db.session.remove()


def run_released(sync_job_ids: list[int]) -> str:
    from portal.sync.backfill import run_released as run

    try:
        return run(sync_job_ids)
    finally:
        db.session.remove()
