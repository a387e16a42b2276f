"""The database engine: SQLite (WAL, busy timeout, IMMEDIATE writes) by default, or PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)


def failure(error: BaseException) -> str:
    """A database error for a log: its class and the driver's first line (`database is locked`),
    never the statement or its parameters (they may hold a person's answers)."""
    orig = getattr(error, "orig", None)
    if orig is None:
        return type(error).__name__
    first = str(orig).strip().splitlines()[0][:120] if str(orig).strip() else ""
    return f"{type(error).__name__} ({first})" if first else type(error).__name__


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, busy_timeout_ms: int = 5000, foreign_keys: bool = True) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` transactions.

    `BEGIN IMMEDIATE` takes the write lock at the start of a transaction, so two writers wait for
    each other (busy timeout) instead of failing with `database is locked` on a lock upgrade.
    `secure_delete` overwrites erased rows with zeros, so an erased person's answers do not stay
    readable in free pages of the file. Migrations turn `foreign_keys` off: SQLite rebuilds a
    table to alter it, and dropping the old copy would otherwise cascade to every row about people.
    """
    parsed = make_url(url)
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def scrub(engine: AsyncEngine) -> None:
    """After an erasure: move the WAL into the file and truncate it, so no erased byte stays on disk.

    With `secure_delete` the erased rows are zeroed in the pages; the WAL still holds older copies
    of those pages until a checkpoint. PostgreSQL needs nothing here: VACUUM reclaims in time.
    """
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, *_ = await cursor.fetchone() or (0,)
    if busy:  # another connection was reading: the erased rows stay in the WAL until the next checkpoint
        logger.warning("the write-ahead log could not be emptied after an erasure; the next checkpoint will")


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
