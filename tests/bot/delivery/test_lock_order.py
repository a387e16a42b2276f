"""Lock order between a bulk record and an erasure (PostgreSQL, where rows are locked): both lock
the people first, in id order, so a record and `/forget` or the retention purge, racing for the
same people, wait for each other and never deadlock. Also: the periodic jobs keep their lease
through a slow run, and a (re)started bot does not purge at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.storage import claims, repo
from bot.storage.claims import Outcome
from bot.storage.models import OutboxMessage, Person
from bot.storage.outbox import ChatPace
from bot.telegram import service as service_module
from bot.telegram.jobs import JobRunner, LeasedJob
from bot.telegram.service import TelegramService

from ...conftest import BACKENDS
from .seed import broadcast

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
PACE = ChatPace(1.0, 3)
Sessions = async_sessionmaker[AsyncSession]
on_postgres = pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True)
on_both = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


async def waiting_for_locks(sessions: Sessions, count: int) -> None:
    """Until `count` other sessions wait for a row lock (PostgreSQL's own view, no clock)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(2000):
        async with sessions() as session:
            if int(await session.scalar(query) or 0) >= count:
                return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{count} sessions never waited for a lock")


async def race(sessions: Sessions, people: list[int], first: Awaitable[Any], second: Awaitable[Any]) -> None:
    """Hold `people`'s rows; start `first`, then `second` once `first` waits; release: both end."""
    async with sessions.begin() as holder:
        await holder.execute(select(Person.id).where(Person.id.in_(people)).with_for_update())
        one = asyncio.ensure_future(first)
        await waiting_for_locks(sessions, 1)
        two = asyncio.ensure_future(second)
        await waiting_for_locks(sessions, 2)
    await asyncio.gather(one, two)  # a deadlock would raise in one of them


async def leased(sessions: Sessions, count: int) -> tuple[list[int], list[claims.Claimed]]:
    async with sessions.begin() as session:
        audience = await broadcast(session, count, AT)
    async with sessions.begin() as session:
        rows = await claims.claim(session, count, PACE, owner="me", at=AT, lease=timedelta(seconds=30))
    return sorted(audience.people), rows


async def record(sessions: Sessions, rows: list[claims.Claimed]) -> int:
    outcomes = [Outcome(r.id, r.person_id, "sent", 1, reached=True) for r in rows]
    async with sessions.begin() as session:
        return await claims.record(session, outcomes, {r.id: r.payload for r in rows}, PACE, owner="me", at=AT)


async def erase(sessions: Sessions, person: int) -> None:
    async with sessions.begin() as session:
        await repo.erase_person(session, person, AT)


@on_postgres
async def test_a_record_and_an_erasure_of_the_same_person_never_deadlock(sessions: Sessions) -> None:
    people, rows = await leased(sessions, 1)
    await race(sessions, people, record(sessions, rows), erase(sessions, people[0]))
    async with sessions() as session:
        assert await session.get(Person, people[0]) is None
        assert (await session.execute(select(OutboxMessage))).scalars().all() == []


@on_postgres
async def test_a_record_and_the_retention_purge_never_deadlock(sessions: Sessions) -> None:
    people, rows = await leased(sessions, 2)
    async with sessions.begin() as session:  # the second person's row is the later one in a scan
        await session.execute(update(Person).where(Person.id == people[0]).values(language="fr"))

    async def purge() -> int:
        async with sessions.begin() as session:
            return await repo.purge_expired(session, 30, AT + timedelta(days=31))

    await race(sessions, people[:1], record(sessions, rows), purge())
    async with sessions() as session:
        assert (await session.execute(select(Person))).scalars().all() == []


@on_both
async def test_a_job_keeps_its_lease_through_a_slow_run(sessions: Sessions) -> None:
    clock = ManualClock(AT)
    runs: list[str] = []

    async def slow_run(at: datetime) -> None:
        runs.append("a")
        clock.advance(20)  # a run as long as a few Telegram calls

    progress = LeasedJob("broadcast-progress", slow_run, every=1.0)
    holder = JobRunner(sessions, "a", clock, [progress])
    other = JobRunner(sessions, "b", clock, [LeasedJob("broadcast-progress", slow_run, every=1.0)])
    assert await holder.tick(progress)
    assert not await other.tick(other.jobs[0])  # 20 s into the holder's run: still the holder's
    assert await holder.tick(progress)  # renewed before its next run
    clock.advance(31)  # the holder died
    assert await other.tick(other.jobs[0])


async def test_a_started_bot_does_not_purge_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    now = [10 * 86400.0]  # up for ten days
    monkeypatch.setattr(loop, "time", lambda: now[0])
    purged: list[float] = []
    turns = asyncio.Event()

    class Stub:
        async def flush_all(self) -> None:
            turns.set()

    async def purge() -> int:
        purged.append(now[0])
        return 0

    async def nothing() -> None:
        return None

    service = TelegramService.__new__(TelegramService)
    service.sender = Stub()  # type: ignore[assignment]
    monkeypatch.setattr(service, "retry_stalled", nothing)
    monkeypatch.setattr(service, "purge", purge)
    running = asyncio.create_task(service.background(interval=0))
    for _ in range(3):
        turns.clear()
        await turns.wait()
    assert purged == []  # not at the start, however long the machine has been up
    now[0] += service_module.PURGE_EVERY
    for _ in range(3):
        turns.clear()
        await turns.wait()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert purged == [10 * 86400.0 + service_module.PURGE_EVERY]  # an hour after the start, once
