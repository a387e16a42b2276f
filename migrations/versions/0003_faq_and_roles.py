"""FAQ revisions, examples and topics; roles granted from Telegram; the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:20:00

`faq_entries` (one overwritable text per topic, language and offer) is replaced by
`faq_revisions` (both languages published together, every version kept). No release wrote to
`faq_entries` (staff editing did not exist before this revision), so nothing is carried over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject_user_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["people.id"], name="fk_audit_log_actor_id_people", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "faq_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("asker_id", sa.BigInteger(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name="fk_faq_examples_author_id_people", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["asker_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("faq_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_examples_topic"), ["topic"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_examples_asker_id"), ["asker_id"], unique=False)

    op.create_table(
        "faq_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("text_fr", sa.Text(), nullable=True),
        sa.Column("text_en", sa.Text(), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name="fk_faq_revisions_author_id_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("faq_revisions", schema=None) as batch_op:
        batch_op.create_index("ix_faq_revisions_topic", ["topic", "program_id"], unique=False)

    op.create_table(
        "faq_topics",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title_fr", sa.String(length=120), nullable=False),
        sa.Column("title_en", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name="fk_faq_topics_created_by_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "role_grants",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["people.id"], name="fk_role_grants_granted_by_people", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("user_id", "role"),
    )
    content_version = op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(content_version, [{"id": 1, "number": 0}])
    op.drop_table("faq_entries")
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.drop_column("handled_at")

    op.create_table(
        "faq_entries",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("topic", sa.VARCHAR(length=32), nullable=False),
        sa.Column("lang", sa.VARCHAR(length=2), nullable=False),
        sa.Column("program_id", sa.VARCHAR(length=64), nullable=True),
        sa.Column("answer", sa.TEXT(), nullable=False),
        sa.Column("updated_by", sa.BIGINT(), nullable=True),
        sa.Column("updated_at", sa.DATETIME(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["people.id"], name=op.f("fk_faq_entries_updated_by_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic", "lang", "program_id"),
    )
    op.drop_table("content_version")
    op.drop_table("role_grants")
    op.drop_table("faq_topics")
    with op.batch_alter_table("faq_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_faq_revisions_topic")

    op.drop_table("faq_revisions")
    with op.batch_alter_table("faq_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_examples_topic"))
        batch_op.drop_index(batch_op.f("ix_faq_examples_asker_id"))

    op.drop_table("faq_examples")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
