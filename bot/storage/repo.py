"""Operations on the tables, each inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import (
    AnswerRow,
    Base,
    DialogStateRow,
    InboxUpdate,
    OutboxMessage,
    Person,
    Subscription,
    UnansweredQuestion,
    VerdictRow,
)


def now() -> datetime:
    return datetime.now(UTC)


def _insert(session: AsyncSession, table: type[Base]) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def store_update(session: AsyncSession, update_id: int, person_id: int | None, payload: dict[str, Any]) -> bool:
    """Record an update before acknowledging it; False when it was already recorded."""
    statement = (
        _insert(session, InboxUpdate)
        .values(update_id=update_id, person_id=person_id, payload=payload, received_at=now())
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    result = await session.execute(statement.returning(InboxUpdate.update_id))
    return result.scalar_one_or_none() is not None


async def lock_person(session: AsyncSession, person_id: int, chat_id: int) -> Person:
    """The person's row, created if new and locked until the end of the transaction.

    The row lock serialises one person's updates across processes (PostgreSQL); SQLite
    transactions are already serialised by `BEGIN IMMEDIATE`.
    """
    moment = now()
    await session.execute(
        _insert(session, Person)
        .values(id=person_id, chat_id=chat_id, created_at=moment, last_seen_at=moment, blocked=False)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    query = select(Person).where(Person.id == person_id).execution_options(populate_existing=True)
    if _is_postgres(session):
        query = query.with_for_update()
    person = (await session.execute(query)).scalar_one()
    person.last_seen_at = moment
    person.chat_id = chat_id
    return person


async def pending_updates(session: AsyncSession, person_id: int) -> Sequence[InboxUpdate]:
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.person_id == person_id, InboxUpdate.processed_at.is_(None))
        .order_by(InboxUpdate.update_id)
    )
    return (await session.execute(query)).scalars().all()


async def people_with_pending_updates(session: AsyncSession) -> list[tuple[int, int]]:
    """(person id, chat id) of everyone with an unprocessed update, e.g. after a crash."""
    query = select(InboxUpdate.person_id).where(InboxUpdate.processed_at.is_(None), InboxUpdate.person_id.is_not(None))
    ids = sorted({pid for pid in (await session.execute(query)).scalars() if pid is not None})
    chats = dict((await session.execute(select(Person.id, Person.chat_id).where(Person.id.in_(ids)))).tuples().all())
    return [(pid, chats.get(pid, pid)) for pid in ids]


def mark_processed(update: InboxUpdate) -> None:
    """Keep only the update id: enough to refuse a redelivery, nothing about the person."""
    update.processed_at = now()
    update.payload = None
    update.person_id = None


async def load_state(session: AsyncSession, person_id: int) -> dict[str, Any] | None:
    row = await session.get(DialogStateRow, person_id)
    return dict(row.state) if row is not None else None


async def save_state(
    session: AsyncSession,
    person_id: int,
    state: dict[str, Any],
    verdicts: Iterable[tuple[str, str, list[str], list[str]]] = (),
) -> None:
    """The engine's state, the answers it holds (one row per fact) and the latest verdicts."""
    moment = now()
    version = int(state.get("v", 0))
    await session.execute(
        _insert(session, DialogStateRow)
        .values(person_id=person_id, version=version, state=state, updated_at=moment)
        .on_conflict_do_update(
            index_elements=["person_id"], set_={"version": version, "state": state, "updated_at": moment}
        )
    )
    answers: dict[str, Any] = dict(state.get("answers", {}))
    existing = {
        row.fact: row
        for row in (await session.execute(select(AnswerRow).where(AnswerRow.person_id == person_id))).scalars()
    }
    for fact, row in existing.items():
        if fact not in answers:
            await session.delete(row)
        elif row.value != {"value": answers[fact]}:
            row.value, row.answered_at = {"value": answers[fact]}, moment
    for fact, value in answers.items():
        if fact not in existing:
            session.add(AnswerRow(person_id=person_id, fact=fact, value={"value": value}, answered_at=moment))
    for program_id, status, failing, missing in verdicts:
        await session.execute(
            _insert(session, VerdictRow)
            .values(
                person_id=person_id,
                program_id=program_id,
                status=status,
                failing={"criteria": failing, "missing": missing},
                evaluated_at=moment,
            )
            .on_conflict_do_update(
                index_elements=["person_id", "program_id"],
                set_={"status": status, "failing": {"criteria": failing, "missing": missing}, "evaluated_at": moment},
            )
        )


async def enqueue(
    session: AsyncSession, person_id: int | None, chat_id: int, payloads: Iterable[dict[str, Any]], kind: str = "reply"
) -> None:
    moment = now()
    for payload in payloads:
        session.add(
            OutboxMessage(
                person_id=person_id,
                chat_id=chat_id,
                kind=kind,
                payload=payload,
                status="pending",
                attempts=0,
                not_before=moment,
                created_at=moment,
            )
        )


LEASE = timedelta(seconds=30)  # longer than one send (read timeout); a dead sender's lease expires


@dataclass(frozen=True)
class ChatPace:
    """Telegram's per-chat limit: `burst` messages at once, then `per_second`."""

    per_second: float = 1.0
    burst: int = 3


async def claim_next(
    session: AsyncSession, person_id: int, pace: ChatPace | None = None
) -> tuple[OutboxMessage | None, float]:
    """The person's oldest due message, leased for sending, or None and how long to wait.

    At most one message per person is out at a time, so replies arrive in order even when several
    processes send; a lease that expires (a sender died) makes the message due again. The chat's
    flood bucket lives on the person's row, so every process paces the chat together; a token is
    taken when the send completes (`charge_send`).
    """
    moment = now()
    if _is_postgres(session):  # one claim per person at a time, across processes
        await session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    rows = (
        (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.person_id == person_id, OutboxMessage.status.in_(("pending", "sending")))
                .order_by(OutboxMessage.id)
                .limit(2)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        return None, 0.0
    first = rows[0]
    if first.not_before > moment:
        # another sender holds it ("sending"), or it waits for a retry ("pending")
        return None, (first.not_before - moment).total_seconds()
    if pace is not None:
        person = await session.get(Person, person_id)
        tokens = _tokens(person, pace, moment) if person is not None else float(pace.burst)
        if tokens < 1:
            return None, (1 - tokens) / pace.per_second
    first.status, first.not_before = "sending", moment + LEASE
    return first, 0.0


def _tokens(person: Person, pace: ChatPace, moment: datetime) -> float:
    if person.send_tokens is None or person.send_refilled_at is None:
        return float(pace.burst)
    elapsed = max(0.0, (moment - person.send_refilled_at).total_seconds())
    return min(float(pace.burst), person.send_tokens + elapsed * pace.per_second)


async def charge_send(session: AsyncSession, person_id: int, pace: ChatPace) -> None:
    """Take a token from the chat's bucket when a send completed (never earlier than it reached Telegram)."""
    person = await session.get(Person, person_id)
    if person is not None:
        moment = now()
        person.send_tokens, person.send_refilled_at = max(0.0, _tokens(person, pace, moment) - 1), moment


async def people_with_due_messages(session: AsyncSession) -> list[int]:
    query = select(OutboxMessage.person_id).where(
        OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.not_before <= now()
    )
    return sorted({p for p in (await session.execute(query)).scalars() if p is not None})


async def record_unanswered(session: AsyncSession, person_id: int | None, text: str, lang: str) -> None:
    session.add(UnansweredQuestion(person_id=person_id, text=text[:1000], lang=lang, asked_at=now()))


async def set_blocked(session: AsyncSession, person_id: int, blocked: bool) -> None:
    await session.execute(update(Person).where(Person.id == person_id).values(blocked=blocked))


async def export_person(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """Everything stored about a person, as one JSON-ready document (`/mydata`)."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    person = await session.get(Person, person_id)
    state = await session.get(DialogStateRow, person_id)
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
    queued = (
        (
            await session.execute(
                select(OutboxMessage).where(OutboxMessage.person_id == person_id, OutboxMessage.status == "pending")
            )
        )
        .scalars()
        .all()
    )
    return {
        "person": None
        if person is None
        else {
            "telegram_user_id": person.id,
            "chat_id": person.chat_id,
            "language": person.language,
            "consent_version": person.consent_version,
            "consent_at": iso(person.consent_at),
            "first_seen": iso(person.created_at),
            "last_seen": iso(person.last_seen_at),
        },
        "answers": {row.fact: row.value.get("value") for row in answers},
        "verdicts": {row.program_id: {"status": row.status, **row.failing} for row in verdicts},
        "dialog_state": None if state is None else state.state,
        "subscriptions": [
            {"program": s.program_id, "topic": s.topic, "since": iso(s.created_at)} for s in subscriptions
        ],
        "questions_asked": [{"text": q.text, "lang": q.lang, "at": iso(q.asked_at)} for q in questions],
        "queued_messages": len(queued),
    }


async def erase_person(session: AsyncSession, person_id: int) -> None:
    """Remove the person from every table (`/forget`)."""
    for table in (DialogStateRow, AnswerRow, VerdictRow, Subscription, UnansweredQuestion, OutboxMessage):
        await session.execute(delete(table).where(table.person_id == person_id))
    await session.execute(delete(InboxUpdate).where(InboxUpdate.person_id == person_id))
    await session.execute(delete(Person).where(Person.id == person_id))


async def purge_expired(session: AsyncSession, retention_days: int) -> int:
    """Erase everyone inactive for longer than the retention; returns how many."""
    cutoff = now() - timedelta(days=retention_days)
    ids = (await session.execute(select(Person.id).where(Person.last_seen_at < cutoff))).scalars().all()
    for person_id in ids:
        await erase_person(session, person_id)
    old_updates = now() - timedelta(days=max(retention_days, 7))
    await session.execute(delete(InboxUpdate).where(InboxUpdate.processed_at < old_updates))
    await session.execute(
        delete(OutboxMessage).where(OutboxMessage.status != "pending", OutboxMessage.created_at < cutoff)
    )
    return len(ids)
