"""Replies sent at the same moment to several people have their outcomes recorded together, in one
transaction (group commit), on SQLite and PostgreSQL; one person's record that fails is theirs
alone: the others are recorded, and their flood buckets and the overall one are charged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import FloodConfig
from bot.storage import outbox, rate
from bot.storage.models import OutboxMessage, Person, RateBucket
from bot.telegram.sender import Sender

from ...conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


class GatedBot:
    """`send_message` that waits until the test opens the gate, so that sends end together."""

    def __init__(self, expected: int) -> None:
        self.gate = asyncio.Event()
        self.expected = expected
        self.waiting = 0
        self.all_waiting = asyncio.Event()  # every expected send is under way
        self.received: dict[int, list[str]] = {}

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.waiting += 1
        if self.waiting == self.expected:
            self.all_waiting.set()
        await self.gate.wait()
        self.received.setdefault(chat_id, []).append(text)


async def people_with_replies(sessions: Sessions, count: int) -> dict[int, int]:
    """`count` people, each with one reply queued: person id -> chat id."""
    async with sessions.begin() as session:
        rows = [
            {"channel": "telegram", "external_id": str(500 + n), "blocked": False, "created_at": AT, "last_seen_at": AT}
            for n in range(count)
        ]
        found = await session.execute(insert(Person).returning(Person.id, Person.external_id), rows)
        people = {person_id: int(chat) for person_id, chat in found.all()}
        for person_id, chat in people.items():
            reply = {"method": "sendMessage", "text": f"Bonjour {chat}"}
            await outbox.enqueue(session, person_id, chat, [reply], at=AT)
    return people


@contextmanager
def transactions(engine: AsyncEngine) -> Iterator[list[object]]:
    begun: list[object] = []

    def began(connection: object) -> None:
        begun.append(connection)

    event.listen(engine.sync_engine, "begin", began)
    try:
        yield begun
    finally:
        event.remove(engine.sync_engine, "begin", began)


async def outcomes(sessions: Sessions) -> dict[int, tuple[str, str | None]]:
    async with sessions() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars()
        return {row.chat_id: (row.status, row.lease_owner) for row in rows}


async def overall_tokens(sessions: Sessions) -> float:
    async with sessions() as session:
        return float(await session.scalar(select(RateBucket.tokens).where(RateBucket.name == rate.OVERALL)) or 0)


async def test_replies_ending_together_are_recorded_in_one_transaction(sessions: Sessions) -> None:
    people = await people_with_replies(sessions, 3)
    bot = GatedBot(len(people))
    sender = Sender(bot, sessions, FloodConfig(), clock=ManualClock(AT))  # type: ignore[arg-type]
    flushes = [asyncio.create_task(sender.flush(person)) for person in people]
    await asyncio.wait_for(bot.all_waiting.wait(), timeout=10)  # each claimed, in its own transaction
    with transactions(sessions.kw["bind"]) as begun:
        bot.gate.set()
        await asyncio.gather(*flushes)
    assert sorted(bot.received) == sorted(people.values())
    assert await outcomes(sessions) == {chat: ("sent", None) for chat in people.values()}
    assert len(begun) == 1  # three people's outcomes, one commit
    capacity = rate.capacity_for(FloodConfig().overall_per_second, rate.BURST_SECONDS)
    assert await overall_tokens(sessions) == pytest.approx(capacity - len(people))  # each send counted once
    async with sessions() as session:
        buckets = list((await session.execute(select(Person.send_tokens).where(Person.id.in_(people)))).scalars())
    assert buckets == [float(FloodConfig().per_chat_burst - 1)] * len(people)  # each chat charged once


async def test_one_record_that_fails_leaves_the_others_recorded(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await people_with_replies(sessions, 3)
    doomed = sorted(people)[1]  # between the two others in the lock order
    charge = outbox.charge_send

    async def failing(session: AsyncSession, person_id: int, *args: Any, **kwargs: Any) -> None:
        if person_id == doomed:
            raise DataError("UPDATE people", {}, Exception("numeric field overflow"))
        await charge(session, person_id, *args, **kwargs)

    monkeypatch.setattr(outbox, "charge_send", failing)
    bot = GatedBot(len(people))
    sender = Sender(bot, sessions, FloodConfig(), clock=ManualClock(AT))  # type: ignore[arg-type]
    flushes = [asyncio.create_task(sender.flush(person)) for person in people]
    await asyncio.wait_for(bot.all_waiting.wait(), timeout=10)
    bot.gate.set()
    results = dict(zip(people, await asyncio.gather(*flushes, return_exceptions=True), strict=True))
    assert isinstance(results.pop(doomed), DataError)  # its flush fails, as a record of its own would
    assert list(results.values()) == [None, None]
    recorded = await outcomes(sessions)
    assert recorded.pop(people[doomed]) == ("sending", sender.owner)  # still leased: sent again once it expires
    assert recorded == {chat: ("sent", None) for person, chat in people.items() if person != doomed}
    capacity = rate.capacity_for(FloodConfig().overall_per_second, rate.BURST_SECONDS)
    assert await overall_tokens(sessions) == pytest.approx(capacity - 2)


async def test_a_reply_behind_another_processs_message_goes_out_once_that_one_is_recorded(sessions: Sessions) -> None:
    """Two processes: one is sending a person's message when the other queues the next reply
    (the person answered as soon as she read it). The second does not wait for the first's lease
    to end (30 s): it looks again soon, and sends once the first has recorded its message."""
    people = await people_with_replies(sessions, 1)
    ((person, chat),) = people.items()
    clock = ManualClock(AT)  # never moves: only looking again can send the second reply
    first, second = GatedBot(1), GatedBot(1)
    one = Sender(first, sessions, FloodConfig(), instance="one", clock=clock)  # type: ignore[arg-type]
    two = Sender(second, sessions, FloodConfig(), instance="two", clock=clock)  # type: ignore[arg-type]
    sending = asyncio.create_task(one.flush(person))
    await asyncio.wait_for(first.all_waiting.wait(), timeout=10)  # leased by the first process, under way
    async with sessions.begin() as session:
        await outbox.enqueue(session, person, chat, [{"method": "sendMessage", "text": "Et ensuite"}], at=AT)
    second.gate.set()
    await two.flush(person)
    assert second.received == {}  # not before the first message, which the other process holds
    first.gate.set()
    await sending
    await asyncio.wait_for(second.all_waiting.wait(), timeout=10)  # long before the lease would end
    assert first.received == {chat: [f"Bonjour {chat}"]} and second.received == {chat: ["Et ensuite"]}
