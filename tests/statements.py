"""Counting the SQL statements a piece of code sends, for tests that bound a page's or a job's statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every statement sent on the current app's engine inside the block, in order."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
