"""The periodic sweep: `python -m jobs.sweep [--every 30] [--once]`.

Re-enqueues due sync rows whose RQ job is missing (Redis flushed or down), reclaims rows whose worker lease
expired, and releases waiting rows once their team is premium and connected again. Run exactly one per deployment
(running more is safe, only wasteful: claims are atomic).
"""

from __future__ import annotations

import argparse
import logging
import time

from portal import create_app
from portal.extensions import db
from portal.sync.schedule import sweep

log = logging.getLogger("portal.sync.sweep")


def sweep_once() -> None:
    result = sweep(db.session)
    if result.reclaimed or result.released or result.enqueued:
        log.info("sweep: reclaimed=%d released=%d enqueued=%d", result.reclaimed, result.released, result.enqueued)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--every", type=float, default=None, help="seconds between sweeps (default SYNC_SWEEP_SECONDS)")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    app = create_app()
    every = args.every or app.config["SYNC_SWEEP_SECONDS"]
    with app.app_context():
        while True:
            try:
                sweep_once()
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
