"""What a claim does with rows it must not send, on SQLite and PostgreSQL: a reminder past its
deadline fails "expired"; a paused broadcast's rows are parked out of the claims' range once and
come back on resume; a cancelled broadcast's rows (waiting, lease expired, or in flight and then
retried) end `cancelled`, so nothing waits any more; an idle sender writes nothing; two claims
at once never take two rows of one person."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcasts import store
from bot.faq.store import Author
from bot.storage import bulk, claims, rate
from bot.storage.claims import Outcome
from bot.storage.models import Broadcast, OutboxMessage
from bot.storage.outbox import ChatPace

from ...conftest import BACKENDS
from .seed import broadcast

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
PACE = ChatPace(1.0, 3)
LEASE = timedelta(seconds=30)
Sessions = async_sessionmaker[AsyncSession]


async def claim(sessions: Sessions, at: datetime, limit: int = 50, owner: str = "me") -> list[claims.Claimed]:
    async with sessions.begin() as session:
        return await claims.claim(session, limit, PACE, owner=owner, at=at, lease=LEASE)


async def by_status(sessions: Sessions, broadcast_id: int) -> dict[str, int]:
    async with sessions() as session:
        query = select(OutboxMessage.status, func.count()).where(OutboxMessage.broadcast_id == broadcast_id)
        return dict((await session.execute(query.group_by(OutboxMessage.status))).tuples().all())


async def set_status(sessions: Sessions, broadcast_id: int, status: str) -> None:
    async with sessions.begin() as session:
        await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(status=status))


async def test_a_reminder_past_its_deadline_is_never_sent(sessions: Sessions) -> None:
    deadline = AT + timedelta(hours=2)
    async with sessions.begin() as session:
        audience = await broadcast(session, 2, AT)
        people = list(audience.people)
        for person, key in ((people[0], "reminder:a"), (people[1], "reminder:b")):
            await bulk.queue(
                session,
                [bulk.Recipient(person, audience.people[person], {"method": "sendMessage", "text": key})],
                message_key=key,
                kind="reminder",
                lane=bulk.Lane.REMINDER,
                at=AT - timedelta(days=1),  # queued the day before; the bot was down since
                expires_at=deadline if key == "reminder:a" else deadline + timedelta(days=1),
            )
        await session.execute(update(Broadcast).values(status="done"))
        await session.execute(update(OutboxMessage).where(OutboxMessage.priority == 2).values(status="sent"))
    rows = await claim(sessions, deadline)  # back up exactly at the deadline
    assert [r.payload["text"] for r in rows] == ["reminder:b"]
    async with sessions() as session:
        late = await session.scalar(select(OutboxMessage).where(OutboxMessage.message_key == "reminder:a"))
    assert late is not None and (late.status, late.error, late.attempts, late.sent_at) == ("failed", "expired", 0, None)
    assert late.payload == {}  # its text is not kept


async def test_a_paused_broadcast_is_parked_once_and_resumes_in_order(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        paused = await broadcast(session, 30, AT, status="paused")
        later = await broadcast(session, 3, AT, first_chat=900_000)
    first = await claim(sessions, AT, limit=5)
    assert first == []  # the paused rows came first in (priority, id) order: parked, none sent
    async with sessions() as session:
        lanes = dict(
            (
                await session.execute(
                    select(OutboxMessage.priority, func.count())
                    .where(OutboxMessage.broadcast_id == paused.broadcast_id)
                    .group_by(OutboxMessage.priority)
                )
            )
            .tuples()
            .all()
        )
    assert lanes == {claims.PARKED + paused.broadcast_id: 30}  # out of the range claims read
    assert await by_status(sessions, paused.broadcast_id) == {"pending": 30}  # still waiting for the report
    second = await claim(sessions, AT, limit=5)
    assert sorted(r.person_id for r in second) == sorted(later.people)  # the next broadcast is not held back
    async with sessions.begin() as session:
        assert await claims.sweep(session, AT) == 0  # still paused: nothing moves
    await set_status(sessions, paused.broadcast_id, "sending")
    async with sessions.begin() as session:
        assert await claims.sweep(session, AT) == 30
    resumed = await claim(sessions, AT + timedelta(seconds=1), limit=100)
    assert [r.person_id for r in resumed] == sorted(paused.people)  # oldest first, as before the pause


async def test_a_cancelled_broadcast_leaves_nothing_waiting(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 6, AT)
    taken = await claim(sessions, AT, limit=3)  # three in flight; one sender will die, one retries
    assert len(taken) == 3
    async with sessions.begin() as session:
        cancelled = await store.cancel(session, audience.broadcast_id, Author(None, "admin"), AT)
    assert cancelled is not None
    async with sessions.begin() as session:  # the in-flight ones: a 429 and a 503 come back after the cancel
        outcomes = [
            Outcome(taken[0].id, taken[0].person_id, "retry", 0, error="flood", retry_at=AT, reached=True),
            Outcome(taken[1].id, taken[1].person_id, "retry", 1, error="NetworkError", retry_at=AT),
        ]
        assert await claims.record(session, outcomes, {r.id: r.payload for r in taken}, PACE, owner="me", at=AT) == 2
    # the third's sender died: its lease expires and the next claim (any process) ends it
    assert await claim(sessions, AT + LEASE, owner="other") == []
    assert await by_status(sessions, audience.broadcast_id) == {"cancelled": 6}
    async with sessions() as session:
        row = await session.get(Broadcast, audience.broadcast_id)
        assert row is not None
        counts = await store.counts(session, row)
    assert counts.waiting == 0 and counts.cancelled == 6  # the report can go out


async def test_a_retry_during_a_pause_stays_parked(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 4, AT)
    taken = await claim(sessions, AT, limit=1)
    await set_status(sessions, audience.broadcast_id, "paused")
    assert await claim(sessions, AT) == []  # parks the three others
    async with sessions.begin() as session:
        outcome = Outcome(taken[0].id, taken[0].person_id, "retry", 1, error="BadGateway", retry_at=AT)
        await claims.record(session, [outcome], {taken[0].id: taken[0].payload}, PACE, owner="me", at=AT)
    async with sessions() as session:
        row = await session.get(OutboxMessage, taken[0].id)
    assert row is not None and (row.status, row.priority) == ("pending", claims.PARKED + audience.broadcast_id)
    assert row.payload == taken[0].payload  # a retried row keeps its payload
    await set_status(sessions, audience.broadcast_id, "sending")
    async with sessions.begin() as session:
        assert await claims.sweep(session, AT) == 4
    assert len(await claim(sessions, AT)) == 4


@contextmanager
def writes(engine: AsyncEngine) -> Iterator[list[str]]:
    """The writing statements run on `engine` meanwhile."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)
        elif "FOR UPDATE" in statement.upper():
            seen.append(statement)  # a row lock is a write on PostgreSQL

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_an_empty_bucket_and_an_idle_queue_write_nothing(sessions: Sessions) -> None:
    engine = sessions.kw["bind"]
    async with sessions.begin() as session:
        await rate.take(session, 10, 25, 2.5, AT)  # the bucket exists, now empty
    async with sessions.begin() as session:
        await session.execute(update(Broadcast).values(status="done"))  # none: no broadcast yet
    with writes(engine) as seen:
        async with sessions() as session:
            assert not await claims.due(session, AT)
    assert seen == []
    with writes(engine) as seen:
        async with sessions.begin() as session:
            assert (await rate.take(session, 10, 25, 2.5, AT))[0] == 0
    assert [s for s in seen if s.lstrip().upper().startswith("UPDATE")] == []  # nothing granted, nothing updated
    async with sessions.begin() as session:
        await broadcast(session, 1, AT + timedelta(seconds=5))
    async with sessions() as session:
        assert not await claims.due(session, AT)  # queued for later: not due yet
        assert await claims.due(session, AT + timedelta(seconds=5))


async def test_concurrent_claims_never_take_two_rows_of_one_person(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 40, AT)
        people = list(audience.people)
        # everyone has two messages due: the broadcast and a reminder
        recipients = [bulk.Recipient(p, audience.people[p], {"method": "sendMessage", "text": "r"}) for p in people]
        await bulk.queue(session, recipients, message_key="reminder:x", kind="reminder", lane=bulk.Lane.REMINDER, at=AT)

    async def claimer(owner: str) -> list[int]:
        taken: list[int] = []
        for _ in range(6):
            taken += [r.person_id for r in await claim(sessions, AT, limit=7, owner=owner)]
        return taken

    results = await asyncio.gather(*(claimer(f"p{i}") for i in range(4)))
    every = [person for taken in results for person in taken]
    assert sorted(every) == sorted(people)  # each person once: their second message waits for the first
