"""The poller confirms an update to Telegram (the next `getUpdates` offset) only once it is stored."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.telegram.ingest import Poller

HANG_GUARD = 30.0  # seconds after which a hang fails the test; nothing here measures time
MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "bonjour"}
SENDER = {"id": 7, "is_bot": False, "first_name": "Amina"}
BATCH = [  # a readable update, one that cannot be read, a readable one
    {"update_id": 10, "message": {**MESSAGE, "from": SENDER}},
    {"update_id": 11, "message": {"neither": "a date nor a chat"}},
    {"update_id": 12, "message": {**MESSAGE, "from": SENDER}},
]


class Telegram:
    """getUpdates: the batch until an offset confirms it, then nothing; records each offset."""

    def __init__(self, calls: int) -> None:
        self.offsets: list[Any] = []
        self.done = asyncio.Event()
        self.calls = calls

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        assert method == "getUpdates"
        self.offsets.append(api_kwargs["offset"])
        if len(self.offsets) >= self.calls:
            self.done.set()
            await asyncio.Event().wait()  # a long poll that never ends
        offset = api_kwargs["offset"] or 0
        return [item for item in BATCH if item["update_id"] >= offset]


class Storage:
    """The bot's service: storing fails `failures` times (the database is away), then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.stored: list[int] = []

    async def store_many(self, updates: list[tuple[Update, dict[str, Any]]]) -> set[int]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database is locked")
        self.stored += [update.update_id for update, _ in updates]
        return {update.update_id for update, _ in updates}


async def poll(telegram: Telegram, storage: Storage) -> list[int]:
    dispatched: list[int] = []

    async def dispatch(update: Update) -> None:
        dispatched.append(update.update_id)

    async def no_wait(_seconds: float) -> None:  # the pause after a failed store, without waiting
        await asyncio.sleep(0)

    poller = Poller(telegram, storage, dispatch, sleep=no_wait)  # type: ignore[arg-type]
    task = asyncio.create_task(poller.run())
    await asyncio.wait_for(telegram.done.wait(), HANG_GUARD)
    task.cancel()
    return dispatched


async def test_a_batch_is_confirmed_once_stored_and_an_unreadable_update_skipped() -> None:
    telegram, storage = Telegram(calls=2), Storage(failures=0)
    assert await poll(telegram, storage) == [10, 12]
    assert storage.stored == [10, 12]
    assert telegram.offsets == [None, 13]  # 11 could not be read: skipped, not fetched forever


async def test_a_batch_that_could_not_be_stored_is_fetched_again_not_confirmed() -> None:
    telegram, storage = Telegram(calls=3), Storage(failures=1)
    assert await poll(telegram, storage) == [10, 12]  # dispatched once, after it was stored
    assert storage.stored == [10, 12]
    assert telegram.offsets == [None, None, 13]  # nothing confirmed while 10 was not stored
