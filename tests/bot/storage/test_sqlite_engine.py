"""The SQLite engine: statements run on the event loop's thread, writers wait in line in the
process and asynchronously for other processes, and the wait is bounded by the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import create_engine, scrub, sessionmaker

HANG_GUARD = 30.0  # seconds after which a hang fails the test; nothing here measures time


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO counter (n) VALUES (0)"))
    return engine


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT n FROM counter"))).scalar_one())


async def test_many_transactions_of_one_process_all_commit_in_turn(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)

    async def increment() -> None:
        async with sessions.begin() as session:
            n = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
            await asyncio.sleep(0)  # another task runs here: it must not get in between
            await session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.wait_for(asyncio.gather(*(increment() for _ in range(200))), HANG_GUARD)
    assert await count(engine) == 200  # no lost update, no "database is locked"
    await engine.dispose()


async def test_a_writer_of_another_process_is_waited_for_without_holding_the_event_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writes
    ticked = asyncio.Event()

    async def tick() -> None:  # the event loop's other work, 50 turns of it
        for _ in range(50):
            await asyncio.sleep(0)
        ticked.set()

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE counter SET n = n + 1"))

    writing = asyncio.create_task(write())
    ticker = asyncio.create_task(tick())
    await asyncio.wait_for(ticked.wait(), HANG_GUARD)  # the loop kept running while the write waited
    assert not writing.done()
    other.execute("UPDATE counter SET n = 100")
    other.execute("COMMIT")
    await asyncio.wait_for(writing, HANG_GUARD)
    await ticker
    assert await count(engine) == 101  # written after the other process, not instead of it
    other.close()
    await engine.dispose()


async def test_a_wait_longer_than_the_busy_timeout_fails_as_locked_and_frees_the_line(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", busy_timeout_ms=50)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO counter (n) VALUES (0)"))
    other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="database is locked"):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE counter SET n = n + 1"))
    other.execute("COMMIT")
    other.close()
    async with engine.begin() as connection:  # the failed one left nothing held in the process
        await connection.execute(text("UPDATE counter SET n = n + 1"))
    assert await count(engine) == 1
    await engine.dispose()


async def test_a_transaction_that_fails_or_is_left_open_lets_the_next_one_in(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)

    async def fail() -> None:
        async with sessions.begin() as session:
            await session.execute(text("UPDATE counter SET n = 7"))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await fail()
    async with sessions() as session:  # read, then closed without a commit
        await session.execute(text("SELECT n FROM counter"))
    async with sessions.begin() as session:
        await session.execute(text("UPDATE counter SET n = n + 1"))
    assert await count(engine) == 1  # the failed one rolled back; the gate was free each time
    await engine.dispose()


async def test_the_checkpoint_after_an_erasure_waits_for_the_other_transactions_then_empties_the_log(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = sessionmaker(engine)
    async with sessions.begin() as session:
        await session.execute(text("UPDATE counter SET n = 42"))  # something for the log to hold
    wal = tmp_path / "bot.sqlite3-wal"
    assert wal.stat().st_size > 0
    reader = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)  # another process reading
    reader.execute("BEGIN")
    reader.execute("SELECT n FROM counter").fetchall()
    inside, finish = asyncio.Event(), asyncio.Event()

    async def ours() -> None:  # a transaction of this process, open while the erasure commits
        async with sessions.begin() as session:
            await session.execute(text("UPDATE counter SET n = n + 1"))
            inside.set()
            await finish.wait()

    running = asyncio.create_task(ours())
    await asyncio.wait_for(inside.wait(), HANG_GUARD)
    scrubbing = asyncio.create_task(scrub(engine))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not scrubbing.done()  # waiting for our transaction, without holding the loop
    finish.set()
    await asyncio.wait_for(running, HANG_GUARD)
    for _ in range(20):
        await asyncio.sleep(0)
    assert not scrubbing.done()  # and then for the other process's read
    reader.execute("COMMIT")
    reader.close()
    await asyncio.wait_for(scrubbing, HANG_GUARD)
    assert wal.stat().st_size == 0  # nothing of the erased rows left in the log
    assert await count(engine) == 43
    await engine.dispose()


async def test_the_process_s_transactions_go_on_while_the_checkpoint_waits_for_another_process(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", busy_timeout_ms=60_000)
    sessions = sessionmaker(engine)
    async with sessions.begin() as session:
        await session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await session.execute(text("INSERT INTO counter (n) VALUES (0)"))
    reader = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)  # a backup reading, say
    reader.execute("BEGIN")
    reader.execute("SELECT n FROM counter").fetchall()
    async with sessions.begin() as session:  # written after the reader's snapshot
        await session.execute(text("UPDATE counter SET n = 1"))
    scrubbing = asyncio.create_task(scrub(engine))
    for _ in range(5):
        await asyncio.sleep(0)  # its first try failed: the reader holds the log
    async with sessions.begin() as session:  # someone's turn meanwhile: not held back by the checkpoint
        await session.execute(text("UPDATE counter SET n = n + 1"))
    assert not scrubbing.done()
    reader.execute("COMMIT")
    reader.close()
    await asyncio.wait_for(scrubbing, HANG_GUARD)
    assert (tmp_path / "bot.sqlite3-wal").stat().st_size == 0
    assert await count(engine) == 2
    await engine.dispose()


async def test_a_busy_timeout_of_zero_still_lets_the_process_s_own_transactions_in(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", busy_timeout_ms=0)
    sessions = sessionmaker(engine)

    async def create() -> None:
        async with sessions.begin() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
            await session.execute(text("INSERT INTO t (n) VALUES (1)"))

    await asyncio.gather(*(create() for _ in range(10)))  # never "database is locked" for our own
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 10
    await engine.dispose()
