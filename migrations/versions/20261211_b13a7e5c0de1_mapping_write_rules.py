"""salesforce_field_mappings.write_rule: when each mapping row is written (issue 13, design §5 "Write rules")

Existing rows get the defaults a new row gets: the owner, lead source, company and name fields are written only when
a record is created; every other row keeps being written always (with Update on).

Revision ID: b13a7e5c0de1
Revises: c0aec7ed0001
Create Date: 2026-12-02 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b13a7e5c0de1"
down_revision = "c0aec7ed0001"
branch_labels = None
depends_on = None

write_rule = sa.Enum("always", "on_create", "if_empty", name="write_rule")


def upgrade() -> None:
    write_rule.create(op.get_bind())
    op.add_column(
        "salesforce_field_mappings",
        sa.Column("write_rule", write_rule, server_default="always", nullable=False),
    )
    op.execute(
        "UPDATE salesforce_field_mappings SET write_rule = 'on_create' "
        "WHERE lower(sf_field) IN ('ownerid', 'leadsource', 'company', 'firstname', 'lastname', 'salutation')"
    )


def downgrade() -> None:
    op.drop_column("salesforce_field_mappings", "write_rule")
    write_rule.drop(op.get_bind())
