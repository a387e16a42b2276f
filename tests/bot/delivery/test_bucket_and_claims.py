"""The shared overall bucket and bulk claims, on SQLite and PostgreSQL: tokens never exceed the
rate plus a small burst, even taken concurrently; claims go in (priority, id) order across
recipients, skip paused broadcasts, people with a message in flight or no chat token, and two
concurrent claims never take the same row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import bulk, claims, rate
from bot.storage.claims import Outcome
from bot.storage.models import Broadcast, OutboxMessage, Person, Subscription
from bot.storage.outbox import ChatPace, claim_next, enqueue

from ...conftest import BACKENDS
from .seed import broadcast

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
PACE = ChatPace(1.0, 3)
LEASE = timedelta(seconds=30)
Sessions = async_sessionmaker[AsyncSession]


async def take(sessions: Sessions, want: int, at: datetime, *, at_least: int = 1) -> tuple[int, float]:
    async with sessions.begin() as session:
        return await rate.take(session, want, 25, 2.5, at, at_least=at_least)


async def test_the_bucket_gives_its_small_burst_then_the_rate(sessions: Sessions) -> None:
    assert await take(sessions, 10, AT) == (2, 0.0)  # capacity 2.5: two whole tokens
    granted, wait = await take(sessions, 10, AT)
    assert granted == 0 and wait == pytest.approx(0.5 / 25)
    assert (await take(sessions, 10, AT + timedelta(seconds=1)))[0] == 2  # never more than the capacity
    # over ten seconds, the rate and no more
    total = sum([(await take(sessions, 10, AT + timedelta(seconds=1 + i / 100)))[0] for i in range(1, 1001)])
    assert 249 <= total <= 251


async def test_a_batch_waits_for_enough_tokens(sessions: Sessions) -> None:
    await take(sessions, 2, AT)
    granted, wait = await take(sessions, 2, AT + timedelta(seconds=0.05), at_least=2)
    assert granted == 0 and wait == pytest.approx((2 - 1.75) / 25)  # 0.5 left, 1.25 came


async def test_replies_put_the_bucket_in_debt_and_bulk_waits_it_out(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await rate.charge(session, 10, 25, 2.5, AT)
    granted, wait = await take(sessions, 5, AT)
    assert granted == 0 and wait == pytest.approx((1 + 7.5) / 25)
    async with sessions.begin() as session:
        await rate.give_back(session, 100, 25, 2.5, AT)
    assert (await take(sessions, 5, AT))[0] == 2  # given back, still within the capacity


async def test_concurrent_takers_share_one_bucket(sessions: Sessions) -> None:
    await take(sessions, 1, AT)  # the row exists
    await take(sessions, 10, AT)  # empty it

    async def taker(index: int) -> int:
        # every taker at the same moment, one second later: 25 tokens came, the capacity keeps 2
        return (await take(sessions, 10, AT + timedelta(seconds=1)))[0]

    granted = await asyncio.gather(*(taker(i) for i in range(8)))
    assert sum(granted) == 2


async def queued(session: AsyncSession, people: list[int], lane: bulk.Lane, key: str, at: datetime) -> None:
    chats = {p: p + 10_000 for p in people}
    recipients = [bulk.Recipient(p, chats[p], {"method": "sendMessage", "text": key}) for p in people]
    await bulk.queue(session, recipients, message_key=key, kind="reminder", lane=lane, at=at)


async def test_claims_go_by_priority_then_age_across_recipients(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 4, AT)
        people = list(audience.people)
        await queued(session, people[2:], bulk.Lane.REMINDER, "reminder:x", AT)
        await enqueue(session, people[0], 1, [{"method": "sendMessage", "text": "a reply"}], at=AT)
    async with sessions.begin() as session:
        rows = await claims.claim(session, 10, PACE, owner="me", at=AT, lease=LEASE)
    # the reminders first, then the broadcast to people without a message in flight; never the reply
    assert [(r.person_id, r.payload.get("method")) for r in rows] == [
        (people[2], "sendMessage"),
        (people[3], "sendMessage"),
        (people[0], "broadcast"),
        (people[1], "broadcast"),
    ]
    async with sessions.begin() as session:
        again = await claims.claim(session, 10, PACE, owner="other", at=AT, lease=LEASE)
    assert again == []  # leased, and the others' people have a row in flight
    async with sessions.begin() as session:
        later = await claims.claim(session, 10, PACE, owner="other", at=AT + LEASE, lease=LEASE)
    assert len(later) == 4  # the leases expired: a dead sender's rows are taken back


async def test_replies_are_not_held_by_bulk_rows(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 1, AT)
        (person,) = audience.people
        await enqueue(session, person, 1, [{"method": "sendMessage", "text": "a reply"}], at=AT)
    async with sessions.begin() as session:
        reply, wait = await claim_next(session, person, PACE, owner="me", at=AT)
    assert reply is not None and reply.priority == 0 and wait == 0


async def test_paused_broadcasts_and_empty_chat_buckets_wait(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 3, AT, status="paused")
        people = list(audience.people)
        await queued(session, people, bulk.Lane.REMINDER, "reminder:x", AT)
        await session.execute(update(Person).where(Person.id == people[0]).values(send_tokens=0.5, send_refilled_at=AT))
        await session.execute(update(Person).where(Person.id == people[1]).values(blocked=True))
    async with sessions.begin() as session:
        rows = await claims.claim(session, 10, PACE, owner="me", at=AT, lease=LEASE)
    assert [r.person_id for r in rows] == [people[2]]  # no broadcast row: it is paused
    async with sessions() as session:
        waiting = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.person_id == people[0], OutboxMessage.priority == 1)
        )
        refused = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.person_id == people[1], OutboxMessage.priority == 1)
        )
    assert waiting is not None and waiting.status == "pending" and waiting.not_before == AT + timedelta(seconds=0.5)
    assert refused is not None and (refused.status, refused.error) == ("failed", "blocked")
    async with sessions.begin() as session:
        await session.execute(update(Broadcast).values(status="sending"))
    async with sessions.begin() as session:
        rows = await claims.claim(session, 10, PACE, owner="me", at=AT + timedelta(seconds=1), lease=LEASE)
    # the chat has its token again; the person whose reminder is in flight waits for the broadcast
    assert sorted(r.person_id for r in rows) == [people[0]]


async def test_concurrent_claims_never_take_a_row_twice(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await broadcast(session, 200, AT)

    async def claimer(owner: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with sessions.begin() as session:
                rows = await claims.claim(session, 7, PACE, owner=owner, at=AT, lease=LEASE)
            if not rows:
                return taken
            taken += [r.id for r in rows]

    results = await asyncio.gather(*(claimer(f"p{i}") for i in range(4)))
    every = [row for taken in results for row in taken]
    assert len(every) == len(set(every)) == 200


async def test_outcomes_are_recorded_for_rows_still_leased(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 4, AT)
        people = list(audience.people)
        await queued(session, people[1:2], bulk.Lane.REMINDER, "reminder:y", AT + timedelta(hours=1))
    async with sessions.begin() as session:
        rows = await claims.claim(session, 10, PACE, owner="me", at=AT, lease=LEASE)
    ids = {r.person_id: r.id for r in rows}
    outcomes = [
        Outcome(ids[people[0]], people[0], "sent", 1, reached=True),
        Outcome(ids[people[1]], people[1], "blocked", 1),
        Outcome(ids[people[2]], people[2], "failed", 1, error="bad request: chat not found"),
        Outcome(ids[people[3]], people[3], "retry", 1, error="NetworkError", retry_at=AT + timedelta(seconds=2)),
    ]
    async with sessions.begin() as session:  # another owner's record changes nothing
        assert await claims.record(session, outcomes, {}, PACE, owner="someone else", at=AT) == 0
    async with sessions.begin() as session:
        assert await claims.record(session, outcomes, {r.id: r.payload for r in rows}, PACE, owner="me", at=AT) == 4
    async with sessions() as session:
        result = {
            row.person_id: (row.status, row.error, row.attempts)
            for row in (await session.execute(select(OutboxMessage).where(OutboxMessage.priority == 2))).scalars()
        }
        reminder = await session.scalar(select(OutboxMessage).where(OutboxMessage.priority == 1))
        blocked = await session.get(Person, people[1])
        subscriptions = await session.scalar(
            select(func.count()).select_from(Subscription).where(Subscription.person_id == people[1])
        )
        charged = await session.get(Person, people[0])
    assert result == {
        people[0]: ("sent", None, 1),
        people[1]: ("failed", "blocked", 1),
        people[2]: ("failed", "bad request: chat not found", 1),
        people[3]: ("pending", "NetworkError", 1),
    }
    assert reminder is not None and (reminder.status, reminder.error) == ("failed", "blocked")
    assert blocked is not None and blocked.blocked and subscriptions == 0
    assert charged is not None and charged.send_tokens == 2.0
