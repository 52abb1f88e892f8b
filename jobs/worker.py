"""Worker bootstrap: build the app once per worker process, then run RQ on the portal's queues.

`python -m jobs.worker [--burst]`. Jobs run in the worker process itself (rq.SimpleWorker), which keeps its
database pool, its HTTP connections to Salesforce and SQLAlchemy's compiled statements from job to job: a work
horse forked per job (rq.Worker) costs five times the CPU per sync and 120 ms of latency (docs/performance.md).
A crashed or killed worker loses nothing: the row's lease and the sweep bring its sync back. RQ's scheduler still
runs in a forked process, which drops the database connections it inherited (engine.dispose(close=False)).
"""

from __future__ import annotations

import argparse
import os

from rq import SimpleWorker

from portal import create_app
from portal.extensions import db, queue_name, queues

QUEUES = ("sync",)


class PortalWorker(SimpleWorker):
    log_result_lifespan = False  # a line per job saying how long RQ keeps its result: the same for every job


def build_worker(app, name: str | None = None) -> SimpleWorker:
    return PortalWorker(
        [queue_name(app.config, q) for q in QUEUES],
        connection=queues.redis,
        name=name,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
        build_worker(app, args.name).work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
