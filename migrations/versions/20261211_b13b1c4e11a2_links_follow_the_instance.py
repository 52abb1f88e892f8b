"""salesforce_links.instance_url dropped: record links are built from the connection's current instance_url
(issue 13: after an org moves instance, stored links kept the old host)

Revision ID: b13b1c4e11a2
Revises: b13a7e5c0de1
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b13b1c4e11a2"
down_revision = "b13a7e5c0de1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("salesforce_links", "instance_url")


def downgrade() -> None:
    op.add_column(
        "salesforce_links",
        sa.Column("instance_url", sa.String(length=255), server_default="", nullable=False),
    )
