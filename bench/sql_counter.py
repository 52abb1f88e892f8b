"""`python -m bench.sql_counter OUT MODULE [ARGS...]`: run MODULE as `python -m MODULE ARGS...` (the product's
worker, say) while counting, with SQLAlchemy engine events, the SQL statements it sends and the transactions it
commits; the counts are written to OUT as JSON when the process exits. Listening on the Engine class catches the
engine the app creates after this starts, and nothing else of the process changes."""

from __future__ import annotations

import atexit
import json
import os
import runpy
import sys
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

COUNTS = {"statements": 0, "commits": 0}


def _statement(*_args) -> None:
    COUNTS["statements"] += 1


def _commit(*_args) -> None:
    COUNTS["commits"] += 1


def read(path: Path) -> dict[str, int]:
    """The counts a process wrote; zero for one that wrote none (killed, say)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {"statements": 0, "commits": 0}


def main() -> None:
    out, module, *args = sys.argv[1:]
    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "commit", _commit)
    pid = os.getpid()
    atexit.register(lambda: os.getpid() == pid and Path(out).write_text(json.dumps(COUNTS)))  # not forked children
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
