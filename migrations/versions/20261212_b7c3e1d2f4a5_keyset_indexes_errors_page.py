"""Indexes for keyset pages of the errors page, the support console and the audit log (issue 18)

Partial indexes over the syncs the errors page lists, by team, by calendar and across teams, in (created_at, id)
order; and over their error codes, so the code filter's choices come from a skip scan. The audit log's indexes gain
`id`, the tie-breaker of its order.

Revision ID: b7c3e1d2f4a5
Revises: b13b1c4e11a2
Create Date: 2026-12-12 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7c3e1d2f4a5"
down_revision = "b13b1c4e11a2"
branch_labels = None
depends_on = None

# Copies of portal.models.sync's LISTED_SQL and ERROR_CODE_SQL as of this revision (a migration never imports models).
LISTED = sa.text("status IN ('failed', 'waiting') OR (status = 'pending' AND error_code <> '')")
CODE = sa.text("coalesce(nullif(error_code, ''), reason)")


def upgrade() -> None:
    op.create_index("ix_sync_jobs_listed_team", "sync_jobs", ["team_id", "created_at", "id"], postgresql_where=LISTED)
    op.create_index(
        "ix_sync_jobs_listed_calendar", "sync_jobs", ["calendar_id", "created_at", "id"], postgresql_where=LISTED
    )
    op.create_index("ix_sync_jobs_listed", "sync_jobs", ["created_at", "id"], postgresql_where=LISTED)
    op.create_index("ix_sync_jobs_listed_team_code", "sync_jobs", ["team_id", CODE], postgresql_where=LISTED)
    op.create_index("ix_sync_jobs_listed_code", "sync_jobs", [CODE], postgresql_where=LISTED)
    _replace("ix_audit_events_team_created", ["team_id", "created_at", "id"])
    _replace("ix_audit_events_created", ["created_at", "id"])


def downgrade() -> None:
    _replace("ix_audit_events_created", ["created_at"])
    _replace("ix_audit_events_team_created", ["team_id", "created_at"])
    for name in (
        "ix_sync_jobs_listed_code",
        "ix_sync_jobs_listed_team_code",
        "ix_sync_jobs_listed",
        "ix_sync_jobs_listed_calendar",
        "ix_sync_jobs_listed_team",
    ):
        op.drop_index(name, table_name="sync_jobs")


def _replace(name: str, columns: list[str]) -> None:
    op.drop_index(name, table_name="audit_events")
    op.create_index(name, "audit_events", columns)
