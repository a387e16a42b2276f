"""The database engine: SQLite (WAL, busy timeout, IMMEDIATE writes) by default, or PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import weakref
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

logger = logging.getLogger(__name__)


def failure(error: BaseException) -> str:
    """A database error for a log: its class and the driver's first line (`database is locked`),
    never the statement or its parameters (they may hold a person's answers)."""
    orig = getattr(error, "orig", None)
    if orig is None:
        return type(error).__name__
    first = str(orig).strip().splitlines()[0][:120] if str(orig).strip() else ""
    return f"{type(error).__name__} ({first})" if first else type(error).__name__


# PostgreSQL's "try the transaction again": a serialization failure, a deadlock it broke.
RETRY_STATES = frozenset({"40001", "40P01"})


def is_transient(error: BaseException) -> bool:
    """A database error that says nothing about the work, only about the moment: busy, away,
    or a deadlock (another transaction won); the same work may succeed when tried again."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or getattr(error.orig, "sqlstate", None) in RETRY_STATES
    return False


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class _AtOnce:
    """aiosqlite's work queue, each item done at once on the caller's thread."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Any]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the event loop's own thread.

    aiosqlite hands every call (execute, fetch, close a cursor) to a worker thread and back, which
    costs more CPU than the SQLite work itself for the small statements of a turn, and the answer
    waits for the event loop's thread to let go of the GIL. Here the calls run in place. None of
    them waits for a lock: in WAL mode readers never wait, and a writer waits only at `BEGIN
    IMMEDIATE`, which `create_engine` retries asynchronously instead of sleeping in SQLite.
    """

    def __init__(self, connector: Any) -> None:
        super().__init__(connector, 64)
        self._tx = _AtOnce()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no worker thread to start

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


HELD = "write_gate_held"  # in a connection's `info`: it holds its engine's write gate
_GATES: weakref.WeakKeyDictionary[Any, WriteGate] = weakref.WeakKeyDictionary()  # sync engine -> its gate


class WriteGate:
    """One SQLite transaction at a time in this process, handed over in arrival order.

    SQLite lets one writer in at a time, and every transaction here is a writer (`BEGIN
    IMMEDIATE`). Left to SQLite, the connections of one process waiting for the lock poll it with
    the busy handler's growing sleeps (1 ms up to 100 ms), so under load most of the time is spent
    asleep while the lock is free. Here a transaction first waits for an `asyncio.Lock` of the
    process (no sleep: the next one starts the moment the previous one ends), and only then sends
    `BEGIN IMMEDIATE`, which waits on SQLite's lock only for other processes. A transaction that
    waits longer than the busy timeout fails as SQLite would have: `database is locked`.
    """

    def __init__(self, timeout: float) -> None:
        # A busy timeout of 0 (fail at once when another process writes) still waits a moment for
        # the process's own transactions, which end in microseconds.
        self.timeout = max(timeout, 0.05)
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def lock(self) -> asyncio.Lock:
        """This event loop's lock: what `enter` waits for, and work outside a transaction too."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def enter(self, info: dict[str, Any]) -> None:
        """Called as a transaction begins, from SQLAlchemy's greenlet (so it can wait)."""
        if info.get(HELD) or not in_greenlet():
            return
        lock = self.lock()
        try:
            await_only(asyncio.wait_for(lock.acquire(), self.timeout))
        except TimeoutError:
            error = sqlite3.OperationalError("database is locked (waited for this process's other transactions)")
            raise OperationalError("BEGIN IMMEDIATE", None, error) from None
        info[HELD] = lock

    def leave(self, info: dict[str, Any]) -> None:
        """Called as the connection goes back to the pool, after its transaction ended."""
        lock = info.pop(HELD, None)
        if lock is not None and lock.locked():
            lock.release()


def _busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


def _begin_immediate(dbapi_connection: Any, seconds: float) -> None:
    """`BEGIN IMMEDIATE`, retried while another process writes (up to `seconds`), waiting on the
    event loop (from SQLAlchemy's greenlet) rather than in SQLite."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = 0.001
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.Error as error:  # wrapped as SQLAlchemy would have (callers catch its errors)
            if not _busy(error) or loop.time() >= deadline:
                raise OperationalError("BEGIN IMMEDIATE", None, error) from None
        await_only(asyncio.sleep(delay))
        delay = min(delay * 2, 0.05)


def create_engine(url: str, *, busy_timeout_ms: int = 5000, foreign_keys: bool = True) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` transactions.

    `BEGIN IMMEDIATE` takes the write lock at the start of a transaction, so two writers wait for
    each other (busy timeout) instead of failing with `database is locked` on a lock upgrade.
    Within the process they wait in line for a `WriteGate` first, without polling.
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
    gate = _GATES[engine.sync_engine] = WriteGate(busy_timeout_ms / 1000)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        connector = functools.partial(sqlite3.connect, *cargs, **{**cparams, "check_same_thread": False})
        return AsyncAdapt_aiosqlite_connection(dialect.dbapi, await_only(InlineConnection(connector)))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # From now on nothing waits inside SQLite (it would hold the event loop): `BEGIN IMMEDIATE`
        # is retried asynchronously instead, within the same busy timeout.
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        gate.enter(connection.info)
        try:
            _begin_immediate(connection.connection.dbapi_connection, gate.timeout)
        except BaseException:
            gate.leave(connection.info)
            raise

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            gate.leave(record.info)

    return engine


async def scrub(engine: AsyncEngine) -> None:
    """After an erasure: move the WAL into the file and truncate it, so no erased byte stays on disk.

    With `secure_delete` the erased rows are zeroed in the pages; the WAL still holds older copies
    of those pages until a checkpoint. The checkpoint needs no other transaction open: each try
    takes the process's write gate (so none of ours is open; they go on between tries), and it is
    tried again while another process reads or writes, up to the busy timeout, waiting on the
    event loop. PostgreSQL needs nothing here: VACUUM reclaims in time.
    """
    if engine.dialect.name != "sqlite":
        return
    gate = _GATES.get(engine.sync_engine)
    lock = gate.lock() if gate is not None else asyncio.Lock()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (gate.timeout if gate is not None else 5.0)
    busy, delay = 1, 0.001
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        while True:
            # The gate for one attempt at a time: the bot's own transactions go on between tries.
            async with lock:
                cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, *_ = await cursor.fetchone() or (0,)
            if not busy or loop.time() >= deadline:
                break
            await asyncio.sleep(delay)  # another process is reading or writing: soon again
            delay = min(delay * 2, 0.05)
    if busy:  # another process kept reading: the erased rows stay in the WAL until the next checkpoint
        logger.warning("the write-ahead log could not be emptied after an erasure; the next checkpoint will")


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
