"""staff changes, reminders, follows, broadcasts, audit

Revision ID: 0002
Revises: 0001

"""

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dialogs",
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id"),
    )
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_actions_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_actions_staff_telegram_id"), ["staff_telegram_id"], unique=False
        )

    op.create_table(
        "session_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("join_link", sa.String(length=300), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_library_id"), ["library_id"], unique=False)
        batch_op.create_index(
            "uq_follows_activity",
            ["person_id", "activity_id"],
            unique=True,
            sqlite_where=sa.text("activity_id IS NOT NULL"),
            postgresql_where=sa.text("activity_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_follows_library",
            ["person_id", "library_id"],
            unique=True,
            sqlite_where=sa.text("library_id IS NOT NULL"),
            postgresql_where=sa.text("library_id IS NOT NULL"),
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendance", sa.String(length=12), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("expires_at", bot.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_outbox_broadcast_id"), ["broadcast_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_outbox_broadcast_id", "broadcasts", ["broadcast_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_offsets", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("news_opt_in", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("digest_sent_at", bot.db.models.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("series_day", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("announce", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_sessions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_series_id"), ["series_id"], unique=False)
        batch_op.create_index("uq_sessions_series_day", ["series_id", "series_day"], unique=True)
        batch_op.create_foreign_key(
            "fk_sessions_series_id", "session_series", ["series_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_sessions_series_id", type_="foreignkey")
        batch_op.drop_index("uq_sessions_series_day")
        batch_op.drop_index(batch_op.f("ix_sessions_series_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_created_at"))
        batch_op.drop_column("announce")
        batch_op.drop_column("series_day")
        batch_op.drop_column("series_id")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_at")
        batch_op.drop_column("news_opt_in")
        batch_op.drop_column("reminder_offsets")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_broadcast_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_broadcast_id"))
        batch_op.drop_column("expires_at")
        batch_op.drop_column("broadcast_id")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("attendance")

    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_follows_library",
            sqlite_where=sa.text("library_id IS NOT NULL"),
            postgresql_where=sa.text("library_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_follows_activity",
            sqlite_where=sa.text("activity_id IS NOT NULL"),
            postgresql_where=sa.text("activity_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_follows_library_id"))
        batch_op.drop_index(batch_op.f("ix_follows_activity_id"))

    op.drop_table("follows")
    op.drop_table("session_series")
    with op.batch_alter_table("staff_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_actions_staff_telegram_id"))
        batch_op.drop_index(batch_op.f("ix_staff_actions_created_at"))

    op.drop_table("staff_actions")
    op.drop_table("dialogs")
    op.drop_table("broadcasts")
