"""Group commit: items that arrive while a batch is being written are written together in the next
one; each caller gets its own result, or its own failure; a caller that gives up does not take
the others' write with it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from bot.storage.group import GroupCommit


class Book:
    """A `write` that records its batches; each batch waits for the test to let it finish."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.broken: set[str] = set()

    async def write(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.broken & set(items):
            raise ValueError(f"cannot write {sorted(self.broken & set(items))}")
        return [item.upper() for item in items]


async def settled() -> None:
    for _ in range(5):  # the writer task and its callers each take a turn of the loop
        await asyncio.sleep(0)


async def test_items_arriving_during_a_write_share_the_next_one() -> None:
    book = Book()
    group = GroupCommit(book.write)
    first = asyncio.create_task(group.submit("a"))
    await settled()
    assert book.batches == [["a"]]  # the first caller does not wait for company
    others = [asyncio.create_task(group.submit(item)) for item in "bcd"]
    await settled()
    book.release.set()
    assert await first == "A" and await asyncio.gather(*others) == ["B", "C", "D"]
    assert book.batches == [["a"], ["b", "c", "d"]]


async def test_a_failing_item_fails_alone_and_the_others_are_written() -> None:
    book = Book()
    book.broken = {"c"}
    group = GroupCommit(book.write)
    book.release.set()
    results = await asyncio.gather(*(group.submit(item) for item in "bcd"), return_exceptions=True)
    assert results[0] == "B" and results[2] == "D"
    assert isinstance(results[1], ValueError)
    assert book.batches == [["b", "c", "d"], ["b"], ["c"], ["d"]]  # the batch, then one by one


async def test_a_caller_that_gives_up_does_not_cancel_the_others_write() -> None:
    book = Book()
    group = GroupCommit(book.write)
    impatient = asyncio.create_task(group.submit("a"))
    patient = asyncio.create_task(group.submit("b"))
    await settled()
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    book.release.set()
    assert await patient == "B"
    assert book.batches == [["a", "b"]]  # written all the same: it may have been committed already


async def test_a_stop_while_writing_leaves_nobody_waiting_forever() -> None:
    book = Book()
    group = GroupCommit(book.write)
    waiting = asyncio.create_task(group.submit("a"))
    await settled()
    writer = group._writer
    assert writer is not None
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await group.settle(1.0)
    book.release.set()
    assert await group.submit("b") == "B"  # a new writer for what comes after


async def test_a_busy_database_fails_the_whole_batch_at_once() -> None:
    """Each item alone would wait for the database again, one after the other: no point."""
    book = Book()
    group = GroupCommit(book.write)

    async def busy(items: list[str]) -> list[str]:
        book.batches.append(list(items))
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    group._write = busy
    results = await asyncio.gather(*(group.submit(item) for item in "bcd"), return_exceptions=True)
    assert all(isinstance(result, OperationalError) for result in results)
    assert book.batches == [["b", "c", "d"]]


async def test_a_stop_while_writing_items_one_by_one_leaves_nobody_waiting() -> None:
    calls: list[list[str]] = []
    reached, hold = asyncio.Event(), asyncio.Event()

    async def write(items: list[str]) -> list[str]:
        calls.append(list(items))
        if len(items) > 1:
            raise ValueError("one of them is bad")
        if items == ["c"]:  # written alone, when the stop comes
            reached.set()
            await hold.wait()
        return [item.upper() for item in items]

    group = GroupCommit(write)
    callers = [asyncio.create_task(group.submit(item)) for item in "bcd"]
    await asyncio.wait_for(reached.wait(), timeout=10)
    writer = group._writer
    assert writer is not None
    writer.cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert results[0] == "B"
    assert all(isinstance(result, asyncio.CancelledError) for result in results[1:])
    assert calls == [["b", "c", "d"], ["b"], ["c"]]
