"""One guest, one record (design §5 "One guest at a time"): syncs that may look up and then create the same guest's
record in the same org never run concurrently. A PostgreSQL advisory lock on (team, normalised e-mail) is held on
a connection of its own from before the read until the outcome is recorded; the second sync then reads the first
one's record and links or updates it instead of creating another.

The lock is a session lock on a dedicated connection, so the attempt's own commits do not release it, and a
worker that dies drops its connection and with it the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from ..extensions import db

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ran out
# One round trip each way. The materialised CTE's row (with lock_timeout set) is read before the lock is asked
# for; PostgreSQL reads lock_timeout when the wait begins. Unlocking puts lock_timeout back to its default
# before the connection returns to the pool.
LOCK = text(
    "WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', :ms, false) AS ms) "
    "SELECT pg_advisory_lock(:team, hashtext(:guest)) FROM timeout WHERE timeout.ms IS NOT NULL"
)
UNLOCK = text(
    "SELECT pg_advisory_unlock(:team, hashtext(:guest)), set_config('lock_timeout', reset_val, false) "
    "FROM pg_settings WHERE name = 'lock_timeout'"
)


class GuestBusy(Exception):
    """Another sync of the same guest held the lock for longer than this one may wait."""


def guest_key(email: str) -> str:
    return email.strip().lower()


@contextmanager
def held(team_id: int, email: str, *, wait_seconds: float) -> Iterator[None]:
    """Hold the guest's lock for the block; raises GuestBusy when it is not free within wait_seconds."""
    key = {"team": team_id, "guest": guest_key(email)}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.execute(LOCK, {**key, "ms": str(int(wait_seconds * 1000))})
        except OperationalError as failure:
            connection.invalidate()  # never hand a connection in an unknown state back to the pool
            if getattr(failure.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise GuestBusy("Another booking by this guest was being sent to Salesforce.") from None
            raise
        try:
            yield
        finally:
            connection.execute(UNLOCK, key)
