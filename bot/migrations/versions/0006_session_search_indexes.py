"""sessions: indexes for finding sessions by kind, library or online within a time range

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_sessions_activity_search": ["activity_id", "status", "starts_at"],
    "ix_sessions_library_search": ["library_id", "status", "starts_at"],
    "ix_sessions_online_search": ["online", "status", "starts_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
