"""languages (issue 15): users.locale (a person's own language, NULL follows the browser) and
bookings.guest_locale (the language a guest booked in; their e-mails are written in it)

Revision ID: 1a7e9c15b0ab
Revises: b4cf11a0b0f1
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1a7e9c15b0ab"
down_revision = "b4cf11a0b0f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(length=8), nullable=True))
    op.add_column("bookings", sa.Column("guest_locale", sa.String(length=8), server_default="en", nullable=False))


def downgrade() -> None:
    op.drop_column("bookings", "guest_locale")
    op.drop_column("users", "locale")
