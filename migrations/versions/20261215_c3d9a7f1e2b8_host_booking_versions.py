"""host booking versions (issue 18): a counter per host, bumped by a trigger on bookings in the same transaction
as any change that can free or take a slot, so the booking page's cached week knows when it is stale

Revision ID: c3d9a7f1e2b8
Revises: c5d1e7a9b3f2
Create Date: 2026-12-15 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3d9a7f1e2b8"
down_revision = "c5d1e7a9b3f2"
branch_labels = None
depends_on = None

# Inserts and deletes bump once per statement and host (a bulk insert of 100,000 bookings is one upsert per host);
# updates bump per row, and only when the time, host or status changes: the sync's own writes to a booking don't.
# Hosts are bumped in id order, so two transactions never wait on each other's counters in opposite orders.
BUMP = """
INSERT INTO host_booking_versions (user_id, version)
SELECT host_id, 1 FROM ({hosts}) AS changed(host_id) WHERE host_id IS NOT NULL GROUP BY host_id ORDER BY host_id
ON CONFLICT (user_id) DO UPDATE SET version = host_booking_versions.version + 1
"""

FUNCTIONS = {
    "bump_host_booking_versions_of_rows": BUMP.format(hosts="SELECT host_id FROM changed_rows"),
    "bump_host_booking_versions_of_row": BUMP.format(hosts="VALUES (OLD.host_id), (NEW.host_id)"),
}

TRIGGERS = [
    "CREATE TRIGGER bookings_inserted_bump_hosts AFTER INSERT ON bookings REFERENCING NEW TABLE AS changed_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION bump_host_booking_versions_of_rows()",
    "CREATE TRIGGER bookings_deleted_bump_hosts AFTER DELETE ON bookings REFERENCING OLD TABLE AS changed_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION bump_host_booking_versions_of_rows()",
    "CREATE TRIGGER bookings_updated_bump_hosts AFTER UPDATE OF host_id, status, busy_from, busy_until ON bookings "
    "FOR EACH ROW WHEN (OLD.host_id IS DISTINCT FROM NEW.host_id OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.busy_from IS DISTINCT FROM NEW.busy_from OR OLD.busy_until IS DISTINCT FROM NEW.busy_until) "
    "EXECUTE FUNCTION bump_host_booking_versions_of_row()",
]


def upgrade() -> None:
    op.create_table(
        "host_booking_versions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"
        )
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for trigger in ("bookings_updated_bump_hosts", "bookings_deleted_bump_hosts", "bookings_inserted_bump_hosts"):
        op.execute(f"DROP TRIGGER {trigger} ON bookings")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("host_booking_versions")
