"""Index bookings by the guest's e-mail as guests are matched (issue 18, returning guests)

The sync of a returning guest finds the team's latest earlier booking by the same e-mail (lower-cased, trimmed) in
its loading statement; this index keeps that lookup flat as bookings grow.

Revision ID: c5d1e7a9b3f2
Revises: 1a7e9c15b0ab
Create Date: 2026-12-14 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c5d1e7a9b3f2"
down_revision = "1a7e9c15b0ab"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bookings_guest_key", "bookings", [sa.text("lower(btrim(guest_email))")])


def downgrade() -> None:
    op.drop_index("ix_bookings_guest_key", table_name="bookings")
