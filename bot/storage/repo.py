"""Operations on the tables, each inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..clock import SystemClock
from .models import (
    AnswerRow,
    AuditEntry,
    Base,
    Broadcast,
    ContentVersion,
    DialogStateRow,
    FaqExample,
    FaqRevision,
    FaqTopic,
    GroupNotice,
    InboxUpdate,
    OutboxMessage,
    Person,
    RoleGrant,
    Subscription,
    UnansweredQuestion,
    VerdictRow,
    WebSession,
    table,
)

# Columns naming a staff member as the author of a change: cleared by their erasure, the role stays.
AUTHOR_COLUMNS = (
    FaqTopic.created_by,
    FaqRevision.author_id,
    FaqExample.author_id,
    RoleGrant.granted_by,
    AuditEntry.actor_id,
    Broadcast.created_by,
)


def telegram_user_id(channel: str, external_id: str) -> int | None:
    """The Telegram user id of a person known on `channel` as `external_id`, if they are one."""
    if channel == "telegram" and external_id.isascii() and external_id.isdigit():
        return int(external_id)
    return None


async def bump_content_version(session: AsyncSession) -> int:
    """Count a staff or admin change. The row stays locked until the transaction ends, so
    concurrent changes run one after the other and each sees what the previous one committed."""
    await session.execute(update(ContentVersion).where(ContentVersion.id == 1).values(number=ContentVersion.number + 1))
    number = int(await session.scalar(CONTENT_NUMBER) or 0)
    session.info[CONTENT_VERSION] = (session.sync_session.get_transaction(), number)
    return number


CONTENT_VERSION = "content_version"  # in a session's `info`: (its transaction, the number read in it)
# Statements of every turn, built once (building one costs more than SQLite running it).
CONTENT, PEOPLE, INBOX = table(ContentVersion), table(Person), table(InboxUpdate)
CONTENT_NUMBER = select(CONTENT.c.number).where(CONTENT.c.id == 1)
PERSON_BY_KEY = (
    select(Person)
    .where(Person.channel == bindparam("channel"), Person.external_id == bindparam("external_id"))
    .execution_options(populate_existing=True)
)
PERSON_BY_KEY_LOCKED = PERSON_BY_KEY.with_for_update()


async def content_version(session: AsyncSession) -> int:
    """The number of staff and admin changes committed so far (one small statement, read once
    per transaction: the offers and the FAQ both look at it in a turn)."""
    transaction = session.sync_session.get_transaction()
    seen = session.info.get(CONTENT_VERSION)
    if seen is not None and transaction is not None and seen[0] is transaction:
        return int(seen[1])
    number = int(await session.scalar(CONTENT_NUMBER) or 0)
    session.info[CONTENT_VERSION] = (session.sync_session.get_transaction(), number)
    return number


def now() -> datetime:
    """The system's time, for callers that pass no moment of their own (`at`)."""
    return SystemClock().now()


def _insert(session: AsyncSession, target: type[Base] | Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def person_key(channel: str, external_id: str) -> str:
    """The inbox's key of a person: `channel:external_id` (the person row may not exist yet)."""
    return f"{channel}:{external_id}"


async def store_update(
    session: AsyncSession, update_id: int, person: str | None, payload: dict[str, Any], at: datetime | None = None
) -> bool:
    """Record an update before acknowledging it; False when it was already recorded."""
    return update_id in await store_updates(session, [(update_id, person, payload)], at)


async def store_updates(
    session: AsyncSession, updates: Sequence[tuple[int, str | None, dict[str, Any]]], at: datetime | None = None
) -> set[int]:
    """Record a batch of updates (id, inbox key, payload) in one statement; the ids that were new."""
    if not updates:
        return set()
    moment = at or now()
    rows = [{"update_id": i, "person_key": k, "payload": p, "received_at": moment} for i, k, p in updates]
    statement = (_insert(session, INBOX).values(rows).on_conflict_do_nothing(index_elements=["update_id"])).returning(
        INBOX.c.update_id
    )
    return set((await session.execute(statement)).scalars())


async def lock_person(session: AsyncSession, channel: str, external_id: str, at: datetime | None = None) -> Person:
    """The person's row, created if new and locked until the end of the transaction."""
    person, _ = await claim_person(session, channel, external_id, at)
    return person


# Last activity is kept to the minute (retention counts days): not one more UPDATE per message.
SEEN_EVERY = timedelta(minutes=1)


async def claim_person(
    session: AsyncSession, channel: str, external_id: str, at: datetime | None = None
) -> tuple[Person, bool]:
    """The person's row, created if new (True) and locked until the end of the transaction.

    The row lock serialises one person's updates across processes (PostgreSQL); SQLite
    transactions are already serialised by `BEGIN IMMEDIATE`.
    """
    moment = at or now()
    query = PERSON_BY_KEY_LOCKED if is_postgres(session) else PERSON_BY_KEY
    key = {"channel": channel, "external_id": external_id}
    person = (await session.execute(query, key)).scalar_one_or_none()
    if person is not None:  # the usual case: someone known, one statement
        if person.last_seen_at is None or moment - person.last_seen_at >= SEEN_EVERY:
            person.last_seen_at = moment
        return person, False
    for _ in range(3):  # the row may be erased by another process between the insert and the lock
        inserted = await session.execute(
            _insert(session, PEOPLE)
            .values(
                channel=channel,
                external_id=external_id,
                created_at=moment,
                last_seen_at=moment,
                blocked=False,
                # One message at once, not a burst: the chat may have had an erased person's last
                # messages a moment ago, which no bucket remembers.
                send_tokens=1.0,
                send_refilled_at=moment,
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(PEOPLE.c.id)
        )
        created = inserted.scalar_one_or_none() is not None
        person = (await session.execute(query, key)).scalar_one_or_none()
        if person is not None:
            person.last_seen_at = moment
            return person, created
    raise RuntimeError("the person's row keeps disappearing")


async def find_person(session: AsyncSession, channel: str, external_id: str) -> Person | None:
    query = select(Person).where(Person.channel == channel, Person.external_id == external_id)
    return (await session.execute(query)).scalar_one_or_none()


async def pending_updates(session: AsyncSession, person: str) -> Sequence[InboxUpdate]:
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.person_key == person, InboxUpdate.processed_at.is_(None))
        .order_by(InboxUpdate.update_id)
    )
    return (await session.execute(query)).scalars().all()


async def people_with_pending_updates(session: AsyncSession, received_before: datetime | None = None) -> list[str]:
    """Keys of everyone with an unprocessed update (received before a moment), e.g. after a crash."""
    query = select(InboxUpdate.person_key).where(
        InboxUpdate.processed_at.is_(None), InboxUpdate.person_key.is_not(None)
    )
    if received_before is not None:
        query = query.where(InboxUpdate.received_at < received_before)
    return sorted({key for key in (await session.execute(query)).scalars() if key is not None})


async def unkeyed_pending_updates(session: AsyncSession) -> Sequence[InboxUpdate]:
    """Stored updates about no person (a group, a channel post) not yet handled."""
    query = select(InboxUpdate).where(InboxUpdate.processed_at.is_(None), InboxUpdate.person_key.is_(None))
    return (await session.execute(query.order_by(InboxUpdate.update_id))).scalars().all()


PENDING_OF = (
    select(INBOX.c.update_id, INBOX.c.payload)
    .where(INBOX.c.person_key == bindparam("key"), INBOX.c.processed_at.is_(None))
    .order_by(INBOX.c.update_id)
)
APPLIED = (
    update(INBOX)
    .where(INBOX.c.update_id.in_(bindparam("ids", expanding=True)))
    .values(processed_at=bindparam("at"), payload=None, person_key=None)
)


async def pending_inbox(session: AsyncSession, person: str) -> list[tuple[int, dict[str, Any] | None]]:
    """A person's unprocessed updates, (id, payload) in update_id order: one cached statement."""
    return [(row.update_id, row.payload) for row in await session.execute(PENDING_OF, {"key": person})]


async def mark_applied(session: AsyncSession, update_ids: Sequence[int], at: datetime) -> None:
    """`mark_processed` for several updates at once, in one statement."""
    if update_ids:
        await session.execute(APPLIED, {"ids": list(update_ids), "at": at})


def mark_processed(update: InboxUpdate, at: datetime | None = None) -> None:
    """Keep only the update id: enough to refuse a redelivery, nothing about the person."""
    update.processed_at = at or now()
    update.payload = None
    update.person_key = None


async def first_group_notice(session: AsyncSession, chat_id: int, at: datetime | None = None) -> bool:
    """True the first time a group is seen: the bot tells it once to write privately, then keeps quiet."""
    statement = (
        _insert(session, GroupNotice)
        .values(chat_id=chat_id, noticed_at=at or now())
        .on_conflict_do_nothing(index_elements=["chat_id"])
    )
    result = await session.execute(statement.returning(GroupNotice.chat_id))
    return result.scalar_one_or_none() is not None


ELIGIBILITY = "eligibility"  # the dialog whose answers are the person's facts
# A turn's statements on the dialog's rows, built once and run as Core (see `models.table`): a
# person's state, answers and verdicts are never loaded as objects, so they are always written so.
STATES, ANSWERS, VERDICTS = table(DialogStateRow), table(AnswerRow), table(VerdictRow)
_THE_STATE = (STATES.c.person_id == bindparam("person_id_")) & (STATES.c.dialog == bindparam("dialog_"))
STATE_OF = select(STATES.c.state).where(_THE_STATE)
STATE_UPDATE = (
    update(STATES)
    .where(_THE_STATE)
    .values(version=bindparam("version_"), state=bindparam("state_"), updated_at=bindparam("at_"))
)
STATE_DELETE = delete(STATES).where(_THE_STATE)
ANSWERS_OF = select(ANSWERS.c.fact, ANSWERS.c.value).where(ANSWERS.c.person_id == bindparam("person_id_"))
ANSWER_UPDATE = (
    update(ANSWERS)
    .where(ANSWERS.c.person_id == bindparam("person_id_"), ANSWERS.c.fact == bindparam("fact_"))
    .values(value=bindparam("value_"), answered_at=bindparam("at_"))
)
VERDICT_UPDATE = (
    update(VERDICTS)
    .where(VERDICTS.c.person_id == bindparam("person_id_"), VERDICTS.c.program_id == bindparam("program_id_"))
    .values(status=bindparam("status_"), failing=bindparam("failing_"), evaluated_at=bindparam("at_"))
)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def load_state(session: AsyncSession, person_id: int, dialog: str = ELIGIBILITY) -> dict[str, Any] | None:
    row = (await session.execute(STATE_OF, {"person_id_": person_id, "dialog_": dialog})).first()
    return dict(row.state) if row is not None else None


async def put_state(
    session: AsyncSession, person_id: int, dialog: str, state: dict[str, Any], at: datetime, version: int = 1
) -> None:
    """A dialog's state, written or replaced. The person's row is locked for the turn, so nobody
    else writes it meanwhile: one UPDATE, and an INSERT the first time (a statement SQLAlchemy
    caches, unlike an upsert)."""
    values = {"person_id_": person_id, "dialog_": dialog, "version_": version, "state_": state, "at_": at}
    if not _count(await session.execute(STATE_UPDATE, values)):
        row = {"person_id": person_id, "dialog": dialog, "version": version, "state": state, "updated_at": at}
        await session.execute(insert(STATES), row)


async def drop_state(session: AsyncSession, person_id: int, dialog: str) -> None:
    await session.execute(STATE_DELETE, {"person_id_": person_id, "dialog_": dialog})


async def save_state(
    session: AsyncSession,
    person_id: int,
    state: dict[str, Any],
    verdicts: Iterable[tuple[str, str, list[str], list[str]]] = (),
    at: datetime | None = None,
) -> None:
    """The eligibility dialog's state, the answers it holds (one row per fact) and the latest verdicts."""
    moment = at or now()
    await put_state(session, person_id, ELIGIBILITY, state, moment, int(state.get("v", 0)))
    answers: dict[str, Any] = dict(state.get("answers", {}))
    existing = {fact: value for fact, value in await session.execute(ANSWERS_OF, {"person_id_": person_id})}
    removed = [fact for fact in existing if fact not in answers]
    if removed:
        await session.execute(delete(ANSWERS).where(ANSWERS.c.person_id == person_id, ANSWERS.c.fact.in_(removed)))
    edits = [
        {"person_id_": person_id, "fact_": fact, "value_": {"value": value}, "at_": moment}
        for fact, value in answers.items()
        if fact in existing and existing[fact] != {"value": value}
    ]
    if edits:
        await session.execute(ANSWER_UPDATE, edits)
    added = [
        {"person_id": person_id, "fact": fact, "value": {"value": value}, "answered_at": moment}
        for fact, value in answers.items()
        if fact not in existing
    ]
    if added:
        await session.execute(insert(ANSWERS), added)
    for program_id, status, failing, missing in verdicts:
        reasons = {"criteria": failing, "missing": missing}
        values = {"person_id_": person_id, "program_id_": program_id, "status_": status, "failing_": reasons}
        if not _count(await session.execute(VERDICT_UPDATE, {**values, "at_": moment})):
            row = {"person_id": person_id, "program_id": program_id, "status": status, "failing": reasons}
            await session.execute(insert(VERDICTS), {**row, "evaluated_at": moment})


async def record_unanswered(
    session: AsyncSession, person_id: int | None, text: str, lang: str, at: datetime | None = None
) -> None:
    session.add(UnansweredQuestion(person_id=person_id, text=text[:1000], lang=lang, asked_at=at or now()))


async def set_blocked(session: AsyncSession, person_id: int, blocked: bool) -> None:
    await session.execute(update(Person).where(Person.id == person_id).values(blocked=blocked))


async def export_person(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """Everything stored about a person, as one JSON-ready document (`/mydata`)."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    person = await session.get(Person, person_id)
    states = (
        (await session.execute(select(DialogStateRow).where(DialogStateRow.person_id == person_id))).scalars().all()
    )
    dialogs = {row.dialog: row.state for row in states}
    answers = (await session.execute(select(AnswerRow).where(AnswerRow.person_id == person_id))).scalars().all()
    verdicts = (await session.execute(select(VerdictRow).where(VerdictRow.person_id == person_id))).scalars().all()
    subscriptions = (
        (await session.execute(select(Subscription).where(Subscription.person_id == person_id))).scalars().all()
    )
    questions = (
        (await session.execute(select(UnansweredQuestion).where(UnansweredQuestion.person_id == person_id)))
        .scalars()
        .all()
    )
    user = telegram_user_id(person.channel, person.external_id) if person is not None else None
    examples = (await session.execute(select(FaqExample).where(FaqExample.asker_id == person_id))).scalars().all()
    grants = (
        (await session.execute(select(RoleGrant).where(RoleGrant.user_id == user))).scalars().all()
        if user is not None
        else []
    )
    queued = (
        (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.person_id == person_id, OutboxMessage.status.in_(("pending", "sending")))
                .order_by(OutboxMessage.id)
            )
        )
        .scalars()
        .all()
    )
    return {
        "person": None
        if person is None
        else {
            "channel": person.channel,
            "id_on_channel": person.external_id,
            **({"telegram_user_id": int(person.external_id)} if person.channel == "telegram" else {}),
            "language": person.language,
            "consent_version": person.consent_version,
            "consent_at": iso(person.consent_at),
            "first_seen": iso(person.created_at),
            "last_seen": iso(person.last_seen_at),
        },
        "answers": {row.fact: row.value.get("value") for row in answers},
        "verdicts": {row.program_id: {"status": row.status, **row.failing} for row in verdicts},
        "dialog_state": dialogs.get(ELIGIBILITY),
        "other_dialogs": {name: state for name, state in dialogs.items() if name != ELIGIBILITY},
        "subscriptions": [
            {"program": s.program_id, "topic": s.topic, "since": iso(s.created_at)} for s in subscriptions
        ],
        "questions_asked": [{"text": q.text, "lang": q.lang, "at": iso(q.asked_at)} for q in questions],
        "questions_made_faq_examples": [{"text": e.text, "lang": e.lang, "topic": e.topic} for e in examples],
        "roles_granted": [{"role": g.role, "since": iso(g.granted_at)} for g in grants],
        "staff_work": {  # what they changed as staff (it stays after an erasure, signed by the role only)
            column.class_.__tablename__: int(
                await session.scalar(select(func.count()).select_from(column.class_).where(column == person_id)) or 0
            )
            for column in AUTHOR_COLUMNS
        },
        # what waits to be sent to them (replies, reminders, broadcasts): what and when, never the text
        "queued_messages": [
            {
                "kind": m.kind,
                "status": m.status,
                "message_key": m.message_key,
                "broadcast": m.broadcast_id,
                "created": iso(m.created_at),
                "not_before": iso(m.not_before),
            }
            for m in queued
        ],
    }


async def erase_person(session: AsyncSession, person_id: int, at: datetime | None = None) -> None:
    """Remove the person from every table (`/forget`); what they edited as staff stays, unsigned.

    Rows are deleted explicitly rather than by cascade, so the erasure does not depend on SQLite
    connections having `foreign_keys` on. The inbox keeps nothing of updates once applied; those
    not applied yet came after the erasure was asked for, and start a new conversation.

    The person's row is locked first, before any outbox row of theirs: the lock order of every
    writer (a bulk record, a reply's record), so an erasure and a send never deadlock.
    """
    if is_postgres(session):  # as `outbox.lock_chat_bucket` (which imports this module)
        await session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    for model in (DialogStateRow, AnswerRow, VerdictRow, Subscription, UnansweredQuestion, OutboxMessage):
        await session.execute(delete(model).where(model.person_id == person_id))
    # a broadcast they sent stays, unsigned, and its progress is no longer shown in their chat
    mine = Broadcast.created_by == person_id
    await session.execute(update(Broadcast).where(mine).values(progress_chat_id=None, progress_message_id=None))
    for column in AUTHOR_COLUMNS:
        await session.execute(update(column.class_).where(column == person_id).values({column.key: None}))
    moment = at or now()
    asked = await session.execute(delete(FaqExample).where(FaqExample.asker_id == person_id))
    erased = int(getattr(asked, "rowcount", 0) or 0)
    if erased:  # their words leave matching: every process reloads
        await bump_content_version(session)
        detail = {"count": erased}
        session.add(AuditEntry(at=moment, actor_role="privacy", action="faq.example.erased", detail=detail))
    person = await session.get(Person, person_id)
    user_id = telegram_user_id(person.channel, person.external_id) if person is not None else None
    if user_id is not None:  # roles are granted to Telegram ids, maybe before the person wrote
        await session.execute(delete(WebSession).where(WebSession.user_id == user_id))  # signed out of the site
        roles = await session.execute(delete(RoleGrant).where(RoleGrant.user_id == user_id))
        await session.execute(
            update(AuditEntry).where(AuditEntry.subject_user_id == user_id).values(subject_user_id=None)
        )
        if int(getattr(roles, "rowcount", 0) or 0):  # their roles end in every process, audited (without them)
            await bump_content_version(session)
            session.add(AuditEntry(at=moment, actor_role="privacy", action="role.erased", detail={}))
    await session.execute(delete(Person).where(Person.id == person_id))


async def purge_expired(session: AsyncSession, retention_days: int, at: datetime | None = None) -> int:
    """Erase everyone inactive for longer than the retention; returns how many.

    The expired people are locked first, in id order (the order a bulk record locks people in),
    before any of their rows: no deadlock with a sender recording a batch meanwhile.
    """
    moment = at or now()
    cutoff = moment - timedelta(days=retention_days)
    query = select(Person).where(Person.last_seen_at < cutoff).order_by(Person.id)
    if is_postgres(session):
        query = query.with_for_update()
    expired = (await session.execute(query)).scalars().all()
    ids = [person.id for person in expired]
    for person in expired:
        key = person_key(person.channel, person.external_id)
        await session.execute(delete(InboxUpdate).where(InboxUpdate.person_key == key))
        await erase_person(session, person.id, moment)
    old_updates = moment - timedelta(days=max(retention_days, 7))
    await session.execute(delete(InboxUpdate).where(InboxUpdate.processed_at < old_updates))
    await session.execute(
        # finished rows only: a row in flight is left to its sender (never a lock awaited here)
        delete(OutboxMessage).where(
            OutboxMessage.status.not_in(("pending", "sending")), OutboxMessage.created_at < cutoff
        )
    )
    await session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.asked_at < cutoff))  # kept no longer
    return len(ids)
