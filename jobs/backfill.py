"""RQ entry point for backfills: takes a Backfill id, nothing else."""

from __future__ import annotations

from portal.extensions import db


def run_backfill(backfill_id: int) -> str:
    from portal.sync.backfill import run

    try:
        return run(backfill_id)
    finally:
        db.session.remove()
