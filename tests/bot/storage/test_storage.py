"""Storage on SQLite and PostgreSQL: migrations, state, dedupe, erasure, retention, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import repo
from bot.storage.db import create_engine, sessionmaker
from bot.storage.migrate import upgrade_async
from bot.storage.models import PERSONAL_TABLES, Base, FaqEntry, Person, Subscription

from ...conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


STATE = {"v": 1, "lang": "fr", "phase": "question", "answers": {"birth_date": "1995-03-15", "spanish": True}}


async def test_migrations_create_exactly_the_models(database_url: str) -> None:
    await upgrade_async(database_url)
    await upgrade_async(database_url)  # idempotent: a second process starting does nothing
    engine = create_engine(database_url)
    async with engine.connect() as connection:

        def diff(sync: Any) -> list[Any]:
            return compare_metadata(MigrationContext.configure(sync), Base.metadata)

        assert await connection.run_sync(diff) == []
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert set(PERSONAL_TABLES) <= tables


async def test_state_answers_and_verdicts_are_saved(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await repo.lock_person(session, 42, 42)
        await repo.save_state(session, 42, STATE, [("quebec-psoig-2021-023", "incomplete", [], ["citizenship"])])
    async with sessions.begin() as session:
        assert await repo.load_state(session, 42) == STATE
        smaller = {**STATE, "answers": {"birth_date": "1995-03-16"}}
        await repo.save_state(session, 42, smaller)
    async with sessions.begin() as session:
        document = await repo.export_person(session, 42)
    assert document["answers"] == {"birth_date": "1995-03-16"}
    assert document["verdicts"]["quebec-psoig-2021-023"]["missing"] == ["citizenship"]


async def test_an_update_is_stored_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        assert await repo.store_update(session, 1001, 42, {"update_id": 1001})
    async with sessions.begin() as session:
        assert not await repo.store_update(session, 1001, 42, {"update_id": 1001})
        pending = await repo.pending_updates(session, 42)
        assert [u.update_id for u in pending] == [1001]
        repo.mark_processed(pending[0])
    async with sessions.begin() as session:
        assert await repo.pending_updates(session, 42) == []
        assert not await repo.store_update(session, 1001, 42, {"update_id": 1001})  # redelivered: still refused


async def _fill(session: AsyncSession, person_id: int) -> None:
    await repo.lock_person(session, person_id, person_id)
    await repo.save_state(session, person_id, STATE, [("iom-internship-rabat", "eligible", [], [])])
    session.add(
        Subscription(person_id=person_id, program_id="iom-internship-rabat", topic="deadline", created_at=repo.now())
    )
    await repo.record_unanswered(session, person_id, "Où est le stage?", "fr")
    await repo.enqueue(session, person_id, person_id, [{"method": "sendMessage", "text": "x"}])
    await repo.store_update(session, person_id * 10, person_id, {"message": {"text": "1995-03-15"}})


async def test_forget_leaves_no_row_about_the_person_in_any_table(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await _fill(session, 42)
        await _fill(session, 43)
        session.add(
            FaqEntry(topic="stipend", lang="fr", program_id=None, answer="x", updated_by=None, updated_at=repo.now())
        )
    async with sessions.begin() as session:
        await repo.erase_person(session, 42)
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = {c.name for c in table.columns}
            for column in ("person_id", "id") if table.name == "people" else ("person_id",):
                if column in columns:
                    count = await session.scalar(select(func.count()).select_from(table).where(table.c[column] == 42))
                    assert count == 0, f"{table.name} still has a row about the person"
            if "chat_id" in columns:
                assert await session.scalar(select(func.count()).select_from(table).where(table.c.chat_id == 42)) == 0
        # the other person is untouched
        assert await session.get(Person, 43) is not None
        assert (await repo.export_person(session, 43))["answers"] == {"birth_date": "1995-03-15", "spanish": True}


async def test_retention_purges_inactive_people_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await _fill(session, 42)
        await _fill(session, 43)
        await session.execute(
            update(Person).where(Person.id == 42).values(last_seen_at=repo.now() - timedelta(days=181))
        )
    async with sessions.begin() as session:
        assert await repo.purge_expired(session, 180) == 1
    async with sessions() as session:
        assert await repo.load_state(session, 42) is None
        assert await repo.load_state(session, 43) == STATE


async def test_concurrent_writers_never_fail(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def writer(person_id: int) -> None:
        for step in range(5):
            async with sessions.begin() as session:
                await repo.lock_person(session, person_id, person_id)
                state = await repo.load_state(session, person_id) or {"v": 1, "answers": {}}
                state = {**state, "answers": {**state["answers"], f"n{step}": step}}
                await repo.save_state(session, person_id, state)

    await asyncio.gather(*(writer(i) for i in range(1, 21)))
    async with sessions() as session:
        for person_id in range(1, 21):
            state = await repo.load_state(session, person_id)
            assert state is not None and len(state["answers"]) == 5


async def test_one_person_s_transactions_are_serialised(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Two read-modify-write transactions on one person: no update is lost."""

    async def bump() -> None:
        async with sessions.begin() as session:
            await repo.lock_person(session, 7, 7)
            state = await repo.load_state(session, 7) or {"v": 1, "answers": {}, "count": 0}
            await asyncio.sleep(0.05)  # the other transaction tries to run meanwhile
            await repo.save_state(session, 7, {**state, "count": state.get("count", 0) + 1})

    await asyncio.gather(*(bump() for _ in range(8)))
    async with sessions() as session:
        state = await repo.load_state(session, 7)
    assert state is not None and state["count"] == 8


async def test_outbox_leases_one_message_per_person_at_a_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await repo.lock_person(session, 42, 42)
        await repo.enqueue(session, 42, 42, [{"text": "a"}, {"text": "b"}])
    async with sessions.begin() as session:
        first, _ = await repo.claim_next(session, 42)
        assert first is not None and first.payload == {"text": "a"}
    async with sessions.begin() as session:
        busy, wait = await repo.claim_next(session, 42)
        assert busy is None and 0 < wait <= repo.LEASE.total_seconds()  # "a" is out: "b" waits
        await session.execute(text("UPDATE outbox SET status = 'sent' WHERE id = :id"), {"id": first.id})
    async with sessions.begin() as session:
        second, _ = await repo.claim_next(session, 42)
        assert second is not None and second.payload == {"text": "b"}


async def test_the_chat_flood_bucket_is_shared_through_the_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    pace = repo.ChatPace(per_second=1.0, burst=2)
    async with sessions.begin() as session:
        await repo.lock_person(session, 42, 42)
        await repo.enqueue(session, 42, 42, [{"text": str(i)} for i in range(3)])
    for expected in ("0", "1"):
        async with sessions.begin() as session:
            row, _ = await repo.claim_next(session, 42, pace)
            assert row is not None and row.payload == {"text": expected}
            row.status = "sent"
            await repo.charge_send(session, 42, pace)
    async with sessions.begin() as session:  # a burst of two, then one a second
        row, wait = await repo.claim_next(session, 42, pace)
        assert row is None and 0.5 < wait <= 1.0
