"""Offer editions, broadcasts, leases, the shared sending rate, and the bulk outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:29:32

Offer editions imported by organizers; broadcasts; named leases (one scheduler among several
processes); the overall sending rate as a bucket shared through the database. Outbox rows gain a
message key (one row per message and recipient, never queued twice), a priority lane and the
broadcast they belong to. Existing rows are conversation replies: priority 0, no key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=96), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "offer_editions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program_id", "version", name="uq_offer_editions_program_version"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("offer_editions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_editions_program_id"), ["program_id"], unique=False)

    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text_fr", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_text", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_lang", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name="fk_broadcasts_created_by_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_key", sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_broadcast_id"), ["broadcast_id"], unique=False)
        # replaced by ix_outbox_due: with both, SQLite's planner picks (status, not_before) and
        # sorts every waiting row at each claim, where ix_outbox_due reads them in order
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index(
            "ix_outbox_due",
            ["priority", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('pending', 'sending')"),
            postgresql_where=sa.text("status IN ('pending', 'sending')"),
        )
        batch_op.create_unique_constraint("uq_outbox_message_recipient", ["message_key", "person_id"])
        batch_op.create_foreign_key(
            "fk_outbox_broadcast_id_broadcasts", "broadcasts", ["broadcast_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_broadcast_id_broadcasts", type_="foreignkey")
        batch_op.drop_constraint("uq_outbox_message_recipient", type_="unique")
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_pending", ["status", "not_before"], unique=False)
        batch_op.drop_index(batch_op.f("ix_outbox_broadcast_id"))
        batch_op.drop_column("broadcast_id")
        batch_op.drop_column("priority")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("message_key")

    op.drop_table("broadcasts")
    op.drop_table("rate_buckets")
    with op.batch_alter_table("offer_editions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_editions_program_id"))

    op.drop_table("offer_editions")
    op.drop_table("leases")
