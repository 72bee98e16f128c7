"""outbox: partial indexes for the delivery worker's claim and expiry queries

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"
EXPIRING = "status = 'pending' AND expires_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index(
            "ix_outbox_pending_due",
            ["not_before", "id"],
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
        batch_op.create_index(
            "ix_outbox_pending_expiry",
            ["expires_at"],
            sqlite_where=sa.text(EXPIRING),
            postgresql_where=sa.text(EXPIRING),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_expiry")
        batch_op.drop_index("ix_outbox_pending_due")
        batch_op.create_index("ix_outbox_due", ["status", "not_before"])
