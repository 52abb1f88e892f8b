"""bookings.corrections: values corrected for Salesforce by Fix and retry, kept beside the guest's answers

Revision ID: c0aec7ed0001
Revises: ca1a4c41feed
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c0aec7ed0001"
down_revision = "ca1a4c41feed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "bookings",
        sa.Column(
            "corrections",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("bookings", "corrections")
