"""users.session_version: ending a person's sessions server-side (logout, removal, role change)

Revision ID: a17e5e55c0de
Revises: 8fffdf111c4a
Create Date: 2026-12-02 06:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a17e5e55c0de"
down_revision = "8fffdf111c4a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    op.drop_column("users", "session_version")
