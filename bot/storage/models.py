"""Tables. Every row about a person references `people.id` (ON DELETE CASCADE) or is erased by id.

Answers are kept only for the configured retention; `/forget` removes a person from every table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone: it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy reads it)


def table(model: type[Base]) -> Table:
    """A model's table, for Core statements: they skip the ORM's work (autoflush, loading objects,
    keeping the session's objects in step), which costs more than SQLite running them. A turn's
    statements are built on these; a row loaded as an object in the same session does not see them."""
    return cast(Table, model.__table__)


def _person_fk() -> Any:
    return ForeignKey("people.id", ondelete="CASCADE")


def _author_fk(name: str) -> Any:
    """Staff authorship: the person while they exist; after their erasure the row keeps its role."""
    return ForeignKey("people.id", ondelete="SET NULL", name=f"fk_{name}_people")


# A 64-bit surrogate key; on SQLite it must be spelt INTEGER to be the auto-incremented rowid.
PERSON_ID = BigInteger().with_variant(Integer(), "sqlite")


class Person(Base):
    """Someone who wrote to the bot on some channel, keyed by (channel, id on that channel).

    `id` is the bot's own key, referenced by every row about the person; `external_id` is the
    channel's (a Telegram user id, a Rasa sender id, the terminal's user name).
    """

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_people_channel_external_id"),
        # SQLite's AUTOINCREMENT: an erased person's id is never given to someone else, so nothing
        # still addressed to that id (a queued export) can reach a newcomer.
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(PERSON_ID, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(2))  # chosen with /language
    consent_version: Mapped[int | None] = mapped_column(Integer)
    consent_at: Mapped[datetime | None]
    blocked: Mapped[bool] = mapped_column(default=False)
    # Telegram's per-chat flood limit as a token bucket shared by every sending process
    send_tokens: Mapped[float | None] = mapped_column(Float)
    send_refilled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    # The one-time token of the pending /forget confirmation: an old or forged button erases nothing.
    forget_nonce: Mapped[str | None] = mapped_column(String(32))


class DialogStateRow(Base):
    """A dialog's JSON state with its version, saved after every step.

    One row per person and dialog: the eligibility dialog today; a staff member's sub-dialogs
    (editing an FAQ answer, composing a broadcast) get rows of their own and never overwrite it.
    """

    __tablename__ = "dialog_states"
    person_id: Mapped[int] = mapped_column(BigInteger, _person_fk(), primary_key=True)
    dialog: Mapped[str] = mapped_column(String(32), primary_key=True, default="eligibility")
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class AnswerRow(Base):
    """One answer to one question, as given."""

    __tablename__ = "answers"
    person_id: Mapped[int] = mapped_column(BigInteger, _person_fk(), primary_key=True)
    fact: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]  # {"value": <JSON value>}
    answered_at: Mapped[datetime]


class VerdictRow(Base):
    """The latest verdict per offer."""

    __tablename__ = "verdicts"
    person_id: Mapped[int] = mapped_column(BigInteger, _person_fk(), primary_key=True)
    program_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    failing: Mapped[dict[str, Any]]  # {"criteria": [...], "missing": [...]}
    evaluated_at: Mapped[datetime]


class Subscription(Base):
    """Opt-in to reminders about an offer (e.g. its deadline)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("person_id", "program_id", "topic"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigInteger, _person_fk(), index=True)
    program_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class FaqTopic(Base):
    """A topic created by staff (the built-in topics of the contract have no row)."""

    __tablename__ = "faq_topics"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_fr: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[int | None] = mapped_column(BigInteger, _author_fk("faq_topics_created_by"))
    created_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class FaqRevision(Base):
    """One publication of an FAQ answer in both languages; the latest per (topic, offer) is live.

    `program_id` NULL is the answer for every offer that has no answer of its own. Both texts NULL
    is a return to the built-in answer. Nothing is overwritten: a restore is a new revision.
    After the author's erasure the revision keeps their role, not them.
    """

    __tablename__ = "faq_revisions"
    __table_args__ = (Index("ix_faq_revisions_topic", "topic", "program_id"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[str | None] = mapped_column(String(64))
    text_fr: Mapped[str | None] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    restored_from: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(BigInteger, _author_fk("faq_revisions_author_id"))
    author_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class FaqExample(Base):
    """An example question staff added to a topic: matching learns from real use.

    `asker_id`: the person whose question it was (made an example from /faq_gaps); it goes with
    them when they are erased, like everything they wrote.
    """

    __tablename__ = "faq_examples"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(32), index=True)
    lang: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(String(300))
    asker_id: Mapped[int | None] = mapped_column(BigInteger, _person_fk(), index=True)
    author_id: Mapped[int | None] = mapped_column(BigInteger, _author_fk("faq_examples_author_id"))
    author_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class UnansweredQuestion(Base):
    """A question the bot could not answer confidently, kept (with consent) for staff to see.

    Staff see the text and language only, never who asked; the link to the person is kept so that
    `/forget` and `/mydata` cover it. `handled_at`: staff made it an example of a topic.
    """

    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(BigInteger, _person_fk(), index=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    asked_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]


class RoleGrant(Base):
    """A role an admin granted from Telegram, by numeric user id (usernames are never trusted).

    The roles listed in `config.yaml` are not rows: they hold while the file lists them.
    """

    __tablename__ = "role_grants"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_by: Mapped[int | None] = mapped_column(BigInteger, _author_fk("role_grants_granted_by"))
    granted_at: Mapped[datetime]


class AuditEntry(Base):
    """Who changed what, when: every staff and admin change. `actor_role` stays after an erasure."""

    __tablename__ = "audit_log"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, _author_fk("audit_log_actor_id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    subject_user_id: Mapped[int | None] = mapped_column(BigInteger)  # whose role changed (cleared on their /forget)
    detail: Mapped[dict[str, Any]]


class ContentVersion(Base):
    """One row counting staff and admin changes (FAQ, topics, examples, roles): every change
    transaction increments it first, so changes are serialised and the number grows in commit
    order. A process whose snapshot has an older number reloads; one statement per turn."""

    __tablename__ = "content_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(BigInteger)


class InboxUpdate(Base):
    """Every Telegram update, stored before it is acknowledged; processed once, in order per person.

    `person_key` is the person's `channel:external_id` (the person row may not exist yet). Once
    processed, the payload and the key are cleared: only the update id stays, so that a
    redelivered update is recognised and not acted on twice.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_pending", "person_key", "processed_at"),)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_key: Mapped[str | None] = mapped_column(String(96))
    payload: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime] = mapped_column(index=True)
    processed_at: Mapped[datetime | None]


class OfferEdition(Base):
    """One imported edition of an offer (`python -m bot offers import`): the whole validated offer.

    The latest version of an offer is live; the shipped file (`rules/offers`) is version 0.
    Nothing is overwritten: every import is a new row with who imported it and when.
    """

    __tablename__ = "offer_editions"
    __table_args__ = (
        UniqueConstraint("program_id", "version", name="uq_offer_editions_program_version"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]  # the offer file's data, as validated by rules' schema
    digest: Mapped[str] = mapped_column(String(64))  # of the canonical content: the same file twice is no new edition
    imported_by: Mapped[str] = mapped_column(String(120))  # the operator's name on the importing machine
    imported_at: Mapped[datetime]


class Broadcast(Base):
    """An organizer's message to an audience, in both languages; one outbox row per recipient.

    `status`: sending, paused, cancelled, done. `audience`: {"kind": subscribers | eligible |
    not_eligible | incomplete, "program": offer id or null, "lang": fr | en | null}. The progress
    message (Telegram origin) is edited in the organizer's chat as the broadcast goes.
    """

    __tablename__ = "broadcasts"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text_fr: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))  # telegram, cli
    created_by: Mapped[int | None] = mapped_column(BigInteger, _author_fk("broadcasts_created_by"))
    created_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_shown_at: Mapped[datetime | None]
    progress_text: Mapped[str | None] = mapped_column(Text)  # the last shown, so an unchanged one is not re-sent
    reported_at: Mapped[datetime | None]  # the final report was sent to the organizer
    progress_lang: Mapped[str | None] = mapped_column(String(2))  # the organizer's language for progress and report
    # status `scheduled`: its recipients are chosen and queued at this time (the website's schedule)
    scheduled_at: Mapped[datetime | None]


class Lease(Base):
    """A named job that one process at a time may run (the reminder scheduler, the progress
    reporter, the only sender on SQLite): held by `owner` until `expires_at`, renewed while alive."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(96))
    expires_at: Mapped[datetime]


class RateBucket(Base):
    """A token bucket shared by every sending process (Telegram's overall limit), in the database."""

    __tablename__ = "rate_buckets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime]


_WAITING = text("status IN ('pending', 'sending')")
# The same condition for queries: written as the index is, so that SQLite's planner sees the
# partial index applies (a bound `IN (?, ?)` proves nothing to it, and it would scan the table).
OUTBOX_WAITING = text("outbox.status IN ('pending', 'sending')")


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the state that produced it.

    Bulk messages (reminders, broadcasts) carry a `message_key`: one row per (key, recipient),
    so a reminder or a broadcast can never be queued twice for one person. `priority` is the
    lane: conversation replies (0) never wait behind reminders (1) or broadcasts (2).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # what is still to send, by lane then age: a sender reads it in order and stops at its batch
        Index("ix_outbox_due", "priority", "id", sqlite_where=_WAITING, postgresql_where=_WAITING),
        UniqueConstraint("message_key", "person_id", name="uq_outbox_message_recipient"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(BigInteger, _person_fk(), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # reply, broadcast
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    # Which process holds the "sending" lease: a restarted process reclaims its predecessor's at once.
    lease_owner: Mapped[str | None] = mapped_column(String(96))
    message_key: Mapped[str | None] = mapped_column(String(96))  # e.g. broadcast:12, reminder:<offer>:<deadline>:7
    # a bulk message that no longer makes sense after this moment (a reminder, at its deadline) is not sent
    expires_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    broadcast_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("broadcasts.id", ondelete="CASCADE", name="fk_outbox_broadcast_id_broadcasts"), index=True
    )


class GroupNotice(Base):
    """A group or channel the bot told, once, to write to it privately. Nothing about any person."""

    __tablename__ = "group_notices"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    noticed_at: Mapped[datetime]


class WebSession(Base):
    """A browser signed in to the staff website. The cookie holds a random token; only its SHA-256
    is stored, so a copy of the database signs nobody in."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)  # Telegram user id; roles are checked on each request
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebLinkUse(Base):
    """A one-time sign-in link (/web) that was used: the same link never signs in twice."""

    __tablename__ = "web_link_uses"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


PERSONAL_TABLES = (
    "people",
    "dialog_states",
    "answers",
    "verdicts",
    "subscriptions",
    "unanswered_questions",
    "inbox",
    "outbox",
)
