"""When the bulk sender tries a message again, on SQLite and PostgreSQL, driven step by step with
a manual clock: after a 429 the row and the whole loop wait Telegram's `retry_after`; network
errors and 5xx are tried again after the backoff, which grows, never at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.clock import ManualClock
from bot.telegram.sender import BACKOFF

from ...conftest import BACKENDS
from .seed import broadcast
from .test_bulk_sender import AT, Sessions, StandInBot, bulk_sender, rows

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

TICK = 0.25  # seconds between two steps of the sender: a retry sooner than its delay would show


class Tries:
    """When each chat's messages were tried (by the sender's clock); `faults` raise, in order, on
    a chat's first tries."""

    def __init__(self, clock: ManualClock, faults: dict[int, list[Exception]]) -> None:
        self.clock = clock
        self.faults = faults
        self.at: dict[int, list[datetime]] = {}

    async def __call__(self, chat: int) -> None:
        self.at.setdefault(chat, []).append(self.clock.now())
        if self.faults.get(chat):
            raise self.faults[chat].pop(0)


def offsets(times: list[datetime]) -> list[float]:
    return [(t - AT).total_seconds() for t in times]


async def test_a_429_holds_the_row_and_the_whole_loop_for_retry_after(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 3, AT)
    limited = next(iter(audience.people.values()))
    bot, clock = StandInBot(), ManualClock(AT)
    tries = Tries(clock, {limited: [RetryAfter(5)]})
    bot.before = tries
    sender = bulk_sender(sessions, bot, clock)
    await sender.step()
    await sender.drain()
    assert sorted(bot.received) == sorted(set(audience.people.values()) - {limited})  # the others went out
    clock.advance(1)
    async with sessions.begin() as session:  # another broadcast, queued while the loop waits
        later = await broadcast(session, 1, clock.now(), first_chat=600_000)
    (newcomer,) = later.people.values()
    waits = []
    while clock.now() < AT + timedelta(seconds=5):
        waits.append(await sender.step())
        await sender.drain()
        assert limited not in bot.received and newcomer not in bot.received, clock.now()
        clock.advance(TICK)
    assert waits[0] == 4.0 and waits[-1] == TICK  # the loop sleeps what is left of retry_after
    await sender.step()
    await sender.drain()
    assert offsets(tries.at[limited]) == [0.0, 5.0]
    assert tries.at[newcomer] == [AT + timedelta(seconds=5)]
    after = await rows(sessions)
    assert (after[limited].status, after[limited].attempts) == ("sent", 1)  # a 429 is not counted as a try
    assert {chat: len(texts) for chat, texts in bot.received.items()} == dict.fromkeys(
        [*audience.people.values(), newcomer], 1
    )


async def test_network_errors_and_5xx_are_tried_again_after_a_growing_backoff(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 2, AT)
    flaky, steady = audience.people.values()
    bot, clock = StandInBot(), ManualClock(AT)
    tries = Tries(clock, {flaky: [NetworkError("Bad Gateway"), TimedOut()]})  # a 502, then no answer in time
    bot.before = tries
    sender = bulk_sender(sessions, bot, clock)
    while clock.now() < AT + timedelta(seconds=4):
        await sender.step()
        await sender.drain()
        clock.advance(TICK)
    assert offsets(tries.at[flaky]) == [0.0, BACKOFF[0], BACKOFF[0] + BACKOFF[1]]  # 0 s, 0.5 s, 1.5 s
    after = await rows(sessions)
    assert (after[flaky].status, after[flaky].attempts) == ("sent", 3)
    assert (after[steady].status, after[steady].attempts) == ("sent", 1)
    assert {chat: len(texts) for chat, texts in bot.received.items()} == {flaky: 1, steady: 1}
