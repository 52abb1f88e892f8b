"""backfills: sending a calendar's earlier bookings in batches; sync_jobs.backfill_id marks the bookings it sent

Revision ID: b4cf11a0b0f1
Revises: b7c3e1d2f4a5
Create Date: 2026-12-12 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b4cf11a0b0f1"
down_revision = "b7c3e1d2f4a5"
branch_labels = None
depends_on = None

STATES = ("queued", "running", "done", "stopped", "paused")


def upgrade() -> None:
    op.create_table(
        "backfills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("booked_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Enum(*STATES, name="backfill_state"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("cursor_booking_id", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["calendars.id"], name="fk_backfills_calendar_id_calendars", ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name="fk_backfills_requested_by_id_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_backfills_team_id_teams", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_backfills"),
    )
    op.create_index(
        "uq_backfills_active_calendar",
        "backfills",
        ["calendar_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('queued', 'running', 'paused')"),
    )
    op.add_column("sync_jobs", sa.Column("backfill_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_sync_jobs_backfill_id_backfills", "sync_jobs", "backfills", ["backfill_id"], ["id"], ondelete="SET NULL"
    )
    op.create_index(
        "ix_sync_jobs_backfill", "sync_jobs", ["backfill_id"], postgresql_where=sa.text("backfill_id IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_sync_jobs_backfill", table_name="sync_jobs", postgresql_where=sa.text("backfill_id IS NOT NULL"))
    op.drop_constraint("fk_sync_jobs_backfill_id_backfills", "sync_jobs", type_="foreignkey")
    op.drop_column("sync_jobs", "backfill_id")
    op.drop_index(
        "uq_backfills_active_calendar",
        table_name="backfills",
        postgresql_where=sa.text("state IN ('queued', 'running', 'paused')"),
    )
    op.drop_table("backfills")
    sa.Enum(name="backfill_state").drop(op.get_bind(), checkfirst=False)
