"""The periodic sweep: `python -m jobs.sweep [--every 30] [--once]`.

Re-enqueues due sync rows whose RQ job is missing (Redis flushed or down), reclaims rows whose worker lease
expired, enqueues backfills that should be running and are not, and releases waiting rows once their team is premium and connected again. Every ten minutes it also prunes
sync trails past their retention and sends the daily failure digests. Run exactly one per deployment (running more
is safe, only wasteful: claims are atomic, and a digest is claimed in notification_log before it is sent).
"""

from __future__ import annotations

import argparse
import logging
import time

from portal import create_app
from portal.extensions import db
from portal.notifications import send_due_digests
from portal.sync import backfill
from portal.sync.retention import prune_configured
from portal.sync.schedule import sweep

log = logging.getLogger("portal.sync.sweep")

HOUSEKEEPING_SECONDS = 600  # trail retention and the daily digest need no more than a look every ten minutes


def housekeeping() -> None:
    """Prune sync trails past their retention and send the day's failure digests (each at most once a day)."""
    pruned = prune_configured(db.session)
    sent = send_due_digests()
    if pruned or sent:
        log.info("housekeeping: pruned %d trails, sent %d digests", pruned, sent)


def sweep_once() -> None:
    result = sweep(db.session)
    if result.reclaimed or result.released or result.enqueued:
        log.info("sweep: reclaimed=%d released=%d enqueued=%d", result.reclaimed, result.released, result.enqueued)
    resumed = backfill.sweep(db.session)
    if resumed:
        log.info("sweep: %d backfills enqueued again", resumed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--every", type=float, default=None, help="seconds between sweeps (default SYNC_SWEEP_SECONDS)")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    app = create_app()
    every = args.every or app.config["SYNC_SWEEP_SECONDS"]
    with app.app_context():
        housekeeping_due = 0.0
        while True:
            try:
                sweep_once()
                if time.monotonic() >= housekeeping_due:
                    housekeeping_due = time.monotonic() + HOUSEKEEPING_SECONDS
                    housekeeping()
            except Exception:  # keep sweeping through a database or Redis outage
                log.exception("sweep failed; retrying")
                db.session.rollback()
            finally:
                db.session.remove()
            if args.once:
                return
            time.sleep(every)


if __name__ == "__main__":
    main()
