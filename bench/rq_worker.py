"""`python -m bench.rq_worker --class fork|simple|spawn`: an RQ worker of the chosen class on the portal's sync
queue, bootstrapped like jobs.worker (the product's, an rq.SimpleWorker), for comparing worker classes.

fork = rq.Worker (a forked work horse per job), simple = rq.SimpleWorker (jobs run in the worker process),
spawn = rq.SpawnWorker (a new interpreter per job, which starts without the app: only bench.probe jobs work there).
"""

from __future__ import annotations

import argparse
import os

from rq import SimpleWorker, SpawnWorker, Worker

from portal import create_app
from portal.extensions import db, queue_name, queues

CLASSES = {"fork": Worker, "simple": SimpleWorker, "spawn": SpawnWorker}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--class", dest="worker_class", choices=sorted(CLASSES), required=True)
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))  # as jobs.worker does
        worker = CLASSES[args.worker_class]([queue_name(app.config, "sync")], connection=queues.redis, name=args.name)
        worker.work(with_scheduler=True)


if __name__ == "__main__":
    main()
