"""people keyed by channel, one state row per dialog, outbox lease owners, group notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:30:00

Existing people were Telegram users whose Telegram id was their key: they keep that id as the
bot's own key, with channel `telegram` and the id as `external_id`, so every row about them
stays attached. Rows that a group or channel post created for the group itself (negative ids)
were never about a person and are erased, and so are replies still queued for a group. Runs
with SQLite's foreign keys off (see env.py), so the table rebuilds below never cascade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHILDREN = ("answers", "dialog_states", "verdicts", "subscriptions", "unanswered_questions", "outbox")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    recreate = "always" if sqlite else "auto"

    for table in CHILDREN:
        op.execute(f"DELETE FROM {table} WHERE person_id < 0")  # noqa: S608 (table names are constants)
    op.execute("DELETE FROM people WHERE id < 0")
    # Replies the first release queued into a group (a member's answers, repeated there) never go out.
    op.execute("DELETE FROM outbox WHERE chat_id < 0")

    # AUTOINCREMENT on SQLite: an erased person's id is never reused (PostgreSQL's sequence never is).
    table_kwargs = {"sqlite_autoincrement": True} if sqlite else {}
    with op.batch_alter_table("people", recreate=recreate, table_kwargs=table_kwargs) as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="telegram"))
        batch.add_column(sa.Column("external_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("forget_nonce", sa.String(32), nullable=True))
        batch.drop_column("chat_id")
        if sqlite:  # INTEGER PRIMARY KEY: the rowid, numbered on insert
            batch.alter_column("id", existing_type=sa.BigInteger(), type_=sa.Integer(), autoincrement=True)
    op.execute("UPDATE people SET external_id = CAST(id AS VARCHAR(64))")
    with op.batch_alter_table("people", recreate="auto", table_kwargs=table_kwargs) as batch:
        batch.alter_column("external_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("channel", existing_type=sa.String(16), server_default=None)
        batch.create_unique_constraint("uq_people_channel_external_id", ["channel", "external_id"])
    if not sqlite:
        op.execute("CREATE SEQUENCE people_id_seq OWNED BY people.id")
        op.execute("SELECT setval('people_id_seq', COALESCE((SELECT MAX(id) FROM people), 0) + 1, false)")
        op.execute("ALTER TABLE people ALTER COLUMN id SET DEFAULT nextval('people_id_seq')")

    op.rename_table("dialog_states", "dialog_states_0001")
    op.create_table(
        "dialog_states",
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("dialog", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "dialog"),
    )
    op.execute(
        "INSERT INTO dialog_states (person_id, dialog, version, state, updated_at) "
        "SELECT person_id, 'eligibility', version, state, updated_at FROM dialog_states_0001"
    )
    op.drop_table("dialog_states_0001")

    with op.batch_alter_table("inbox", recreate=recreate) as batch:
        batch.add_column(sa.Column("person_key", sa.String(96), nullable=True))
    op.execute(
        "UPDATE inbox SET person_key = 'telegram:' || CAST(person_id AS VARCHAR(64)) "
        "WHERE person_id IS NOT NULL AND processed_at IS NULL"
    )
    with op.batch_alter_table("inbox", recreate=recreate) as batch:
        batch.drop_index("ix_inbox_pending")
        batch.drop_column("person_id")
        batch.create_index("ix_inbox_pending", ["person_key", "processed_at"], unique=False)

    with op.batch_alter_table("outbox", recreate=recreate) as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(96), nullable=True))

    op.execute("UPDATE faq_entries SET updated_by = NULL WHERE updated_by NOT IN (SELECT id FROM people)")
    with op.batch_alter_table("faq_entries", recreate=recreate) as batch:
        batch.create_foreign_key(
            "fk_faq_entries_updated_by_people", "people", ["updated_by"], ["id"], ondelete="SET NULL"
        )

    op.create_table(
        "group_notices",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible: people of other channels have no Telegram id")
