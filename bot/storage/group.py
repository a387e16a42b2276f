"""Group commit: what arrives while a transaction is being written goes together in the next one.

Under load, many callers want a small transaction at the same moment (a webhook call storing its
update, a sender recording a reply's outcome). Each `submit` waits for its item to be committed,
as with a transaction of its own, but one writer task writes whatever has gathered meanwhile in
one transaction: the first caller gets a transaction at once, the next ones share the following.
SQLite takes one writer at a time anyway; PostgreSQL commits (and waits for the disk) once for all.

A batch that fails is written again item by item, so that a failure (a bad row, a deadlock) is its
own item's alone: each caller gets its own result or its own exception; when the database is busy
or away, every caller of the batch gets that error at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """`write` takes a batch of items and commits them in one transaction, returning a result per
    item in order."""

    def __init__(self, write: Callable[[list[Item]], Awaitable[Sequence[Result]]]) -> None:
        self._write = write
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """The item's result once it is committed (or the exception that kept it from being)."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        return await asyncio.shield(done)  # a cancelled caller does not cancel what others wait for

    async def settle(self, seconds: float) -> None:
        """Wait, at most `seconds`, for what is being written (a stop)."""
        if self._writer is not None:
            await asyncio.wait({self._writer}, timeout=seconds)

    async def _write_waiting(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._write_batch(batch)
        finally:  # cancelled (a stop) or broken: nobody waits forever (a no-op for those answered)
            for _, done in [*batch, *self._waiting]:
                done.cancel()

    async def _write_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as error:
            if len(batch) == 1 or not separable(error):
                for _, done in batch:
                    _fail(done, error)
                return
            logger.warning("a batch of %d failed (%s); each written alone", len(batch), type(error).__name__)
            for item, done in batch:
                await self._write_alone(item, done)
            return
        for (_, done), result in zip(batch, results, strict=True):
            _resolve(done, result)

    async def _write_alone(self, item: Item, done: asyncio.Future[Result]) -> None:
        try:
            (result,) = await self._write([item])
        except Exception as error:
            _fail(done, error)
        else:
            _resolve(done, result)


def separable(error: Exception) -> bool:
    """Whether items of a failed batch may succeed alone: not when the database is busy or away
    (each would wait for it again, one after the other), only when one item may be the cause."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return False
    return not (isinstance(error, DBAPIError) and error.connection_invalidated)


def _resolve(done: asyncio.Future[Result], result: Result) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[Result], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)
