"""pseudonymous keys so figures survive erasure; bookings outlive their person

Revision ID: 0005
Revises: 0004
"""

from uuid import uuid4

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fill_keys(table: str) -> None:
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text(f"SELECT id FROM {table}"))]
    for row_id in ids:
        connection.execute(
            sa.text(f"UPDATE {table} SET key = :key WHERE id = :id"),
            {"key": uuid4().hex, "id": row_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key", sa.String(length=32), nullable=False, server_default="")
        )
    _fill_keys("people")
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key", sa.String(length=32), nullable=False, server_default="")
        )
    _fill_keys("volunteers")
    with op.batch_alter_table("readers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erased_at", bot.db.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("call_bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("volunteer_key", sa.String(length=32), nullable=True))
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("person_key", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("was_waitlisted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_bookings_person_key"), ["person_key"], unique=False)
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
    op.execute(
        "UPDATE bookings SET person_key = (SELECT key FROM people WHERE people.id = bookings.person_id)"
    )
    op.execute("UPDATE bookings SET was_waitlisted = true WHERE status = 'waiting'")


def downgrade() -> None:
    op.execute("DELETE FROM bookings WHERE person_id IS NULL")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_bookings_person_key"))
        batch_op.drop_column("was_waitlisted")
        batch_op.drop_column("person_key")
    with op.batch_alter_table("call_bookings", schema=None) as batch_op:
        batch_op.drop_column("volunteer_key")
    with op.batch_alter_table("readers", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.drop_column("key")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("key")
