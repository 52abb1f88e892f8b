"""calendars are archived, not destroyed: archived_at/archived_by_id; bookings and sync jobs no longer cascade

Deleting a calendar used to delete its bookings and their sync history. Bookings and sync jobs now RESTRICT the
deletion of their calendar (and sync jobs of their booking); calendars are archived instead.

Revision ID: ca1a4c41feed
Revises: a17e5e55c0de
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "ca1a4c41feed"
down_revision = "a17e5e55c0de"
branch_labels = None
depends_on = None

# (table, column, referred table): the foreign keys that stop cascading
KEPT = (("bookings", "calendar_id", "calendars"), ("sync_jobs", "calendar_id", "calendars"), ("sync_jobs", "booking_id", "bookings"))


def _set_ondelete(ondelete: str) -> None:
    for table, column, referred in KEPT:
        name = f"fk_{table}_{column}_{referred}"
        op.drop_constraint(name, table, type_="foreignkey")
        op.create_foreign_key(name, table, referred, [column], ["id"], ondelete=ondelete)


def upgrade() -> None:
    op.add_column("calendars", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("calendars", sa.Column("archived_by_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_calendars_archived_by_id_users", "calendars", "users", ["archived_by_id"], ["id"], ondelete="SET NULL"
    )
    _set_ondelete("RESTRICT")


def downgrade() -> None:
    _set_ondelete("CASCADE")
    op.drop_constraint("fk_calendars_archived_by_id_users", "calendars", type_="foreignkey")
    op.drop_column("calendars", "archived_by_id")
    op.drop_column("calendars", "archived_at")
