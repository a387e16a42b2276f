"""The bulk sender against a stand-in Bot, on SQLite and PostgreSQL, driven step by step with a
manual clock: a broken row never breaks its batch; a record that meets a deadlock or a busy
database is tried again (nobody receives a message twice); a stop waits for batches in flight
only so long; a row in flight that comes back with a 429 after its broadcast was cancelled ends
`cancelled`; a 403 to a conversation reply blocks the person as a bulk 403 does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import Forbidden, RetryAfter

from bot.broadcasts import store
from bot.clock import ManualClock
from bot.config import FloodConfig
from bot.faq.store import Author
from bot.storage import bulk, claims
from bot.storage.models import Broadcast, OutboxMessage, Person, Subscription
from bot.storage.outbox import enqueue
from bot.telegram.bulk_sender import IDLE, BulkSender, BulkSettings
from bot.telegram.sender import Sender

from ...conftest import BACKENDS
from .seed import TEXTS, broadcast
from .test_claim_lifecycle import writes

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
FLOOD = FloodConfig(overall_per_second=100)  # a bucket of 10: small audiences go in one batch
Sessions = async_sessionmaker[AsyncSession]
Hook = Callable[[int], Awaitable[None]]


class StandInBot:
    """`send_message` as the sender calls it: records what each chat received; `before` may act
    (and raise) before a chat's message is taken."""

    def __init__(self) -> None:
        self.received: dict[int, list[str]] = {}
        self.before: Hook | None = None

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        if self.before is not None:
            await self.before(chat_id)
        self.received.setdefault(chat_id, []).append(text)


class Sleeps:
    """The sender's one way to wait: each wait is a future the test may release."""

    def __init__(self) -> None:
        self.waiting: list[tuple[float, asyncio.Future[None]]] = []

    async def __call__(self, seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((seconds, done))
        await done

    def release(self, seconds: float) -> None:
        for wanted, done in self.waiting:
            if wanted == seconds and not done.done():
                done.set_result(None)


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def bulk_sender(
    sessions: Sessions, bot: StandInBot, clock: ManualClock, sleep: Callable[[float], Awaitable[None]] = no_wait
) -> BulkSender:
    settings = BulkSettings(attempts=3, close_wait=3.0)
    return BulkSender(bot, sessions, FLOOD, owner="test/1", clock=clock, settings=settings, sleep=sleep)  # type: ignore[arg-type]


async def rows(sessions: Sessions) -> dict[int, OutboxMessage]:
    async with sessions() as session:
        return {r.chat_id: r for r in (await session.execute(select(OutboxMessage))).scalars()}


async def test_a_broken_row_never_breaks_its_batch(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 2, AT)
        good, unreadable = audience.people.values()
        person = next(iter(audience.people))
        malformed = bulk.Recipient(person, 77, {"method": "sendMessage"})  # no text: a bad payload
        await bulk.queue(
            session, [malformed], message_key="reminder:x", kind="reminder", lane=bulk.Lane.REMINDER, at=AT
        )
    bot, clock = StandInBot(), ManualClock(AT)
    sender = bulk_sender(sessions, bot, clock)
    loading = sender._payload

    async def payload(row: claims.Claimed) -> dict[str, Any] | None:
        if row.chat_id == unreadable:  # the database fails while the broadcast's text is loaded
            raise OperationalError("SELECT broadcasts", {}, Exception("server closed the connection"))
        return await loading(row)

    sender._payload = payload  # type: ignore[method-assign]
    for _ in range(4):  # three tries each, a few seconds apart
        await sender.step()
        await sender.drain()
        clock.advance(10)
    after = await rows(sessions)
    assert after[good].status == "sent" and bot.received[good] == [bot.received[good][0]]
    for chat in (unreadable, 77):
        assert (after[chat].status, after[chat].error, after[chat].attempts) == ("failed", "internal", 3)
        assert chat not in bot.received


async def test_a_record_meeting_a_deadlock_is_tried_again(sessions: Sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 3, AT)
    recording = claims.record
    failures = [OperationalError("UPDATE outbox", {}, Exception("deadlock detected"))] * 2

    async def record(*args: Any, **kwargs: Any) -> int:
        if failures:
            raise failures.pop()
        return await recording(*args, **kwargs)

    monkeypatch.setattr(claims, "record", record)
    bot, clock = StandInBot(), ManualClock(AT)
    sender = bulk_sender(sessions, bot, clock)
    await sender.step()
    await sender.drain()
    assert failures == []
    assert {r.status for r in (await rows(sessions)).values()} == {"sent"}
    clock.advance(120)  # long after every lease: nothing is sent again
    assert await sender.step() == IDLE
    await sender.drain()
    assert {chat: len(texts) for chat, texts in bot.received.items()} == dict.fromkeys(audience.people.values(), 1)


async def test_a_stop_waits_for_batches_in_flight_only_so_long(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 2, AT)
    hung, arrived = asyncio.Event(), asyncio.Queue[int]()

    async def never_answers(chat: int) -> None:
        arrived.put_nowait(chat)
        await hung.wait()  # Telegram never answers (nor does the read timeout fire)

    bot, clock, sleeps = StandInBot(), ManualClock(AT), Sleeps()
    bot.before = never_answers
    sender = bulk_sender(sessions, bot, clock, sleeps)
    await sender.step()
    assert {await arrived.get(), await arrived.get()} == set(audience.people.values())  # both out
    closing = asyncio.create_task(sender.close())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not closing.done() and [s for s, _ in sleeps.waiting] == [3.0]  # waits the batches' grace period
    sleeps.release(3.0)  # then cancels them and returns, without waiting its second second
    await asyncio.wait_for(closing, timeout=30)  # (a guard: it returns at once)
    assert [s for s, done in sleeps.waiting if not done.done()] == []
    assert bot.received == {}
    left = await rows(sessions)
    assert {r.status for r in left.values()} == {"sending"}  # still leased: taken back later
    clock.advance(60)
    later = bulk_sender(sessions, StandInBot(), clock)
    await later.step()
    await later.drain()
    assert {r.status for r in (await rows(sessions)).values()} == {"sent"}


async def test_a_429_in_flight_after_a_cancel_ends_cancelled(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 3, AT)
    slowed = next(iter(audience.people.values()))

    async def cancel_then_429(chat: int) -> None:
        if chat == slowed and not bot.received.get(chat):
            async with sessions.begin() as session:  # an organizer cancels while the message is out
                assert await store.cancel(session, audience.broadcast_id, Author(None, "admin"), AT) is not None
            raise RetryAfter(1)

    bot, clock = StandInBot(), ManualClock(AT)
    bot.before = cancel_then_429
    sender = bulk_sender(sessions, bot, clock)
    await sender.step()
    await sender.drain()
    async with sessions() as session:
        row = await session.get(Broadcast, audience.broadcast_id)
        assert row is not None
        counts = await store.counts(session, row)
    assert (counts.waiting, counts.sent, counts.cancelled) == (0, 2, 1)  # the report can go out
    assert slowed not in bot.received


async def test_an_idle_sender_writes_nothing(sessions: Sessions) -> None:
    bot, clock = StandInBot(), ManualClock(AT)
    sender = bulk_sender(sessions, bot, clock)
    with writes(sessions.kw["bind"]) as seen:
        for _ in range(6):  # three seconds of an idle bot
            assert await sender.step() == IDLE
            clock.advance(IDLE)
    assert seen == []
    async with sessions.begin() as session:
        audience = await broadcast(session, 2, clock.now())
    await sender.step()
    await sender.drain()
    assert sorted(bot.received) == sorted(audience.people.values())
    assert bot.received[min(bot.received)][0].startswith(tuple(TEXTS.values()))


async def test_a_403_to_a_reply_blocks_the_person_as_a_bulk_403_does(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        audience = await broadcast(session, 2, AT)
        (person, chat), (other, _) = audience.people.items()
        await enqueue(session, person, chat, [{"method": "sendMessage", "text": "Bonjour"}], at=AT)

    async def blocked(chat_id: int) -> None:
        raise Forbidden("Forbidden: bot was blocked by the user")

    bot = StandInBot()
    bot.before = blocked
    sender = Sender(bot, sessions, FloodConfig(), clock=ManualClock(AT))  # type: ignore[arg-type]
    await sender.flush(person)
    async with sessions() as session:
        row = await session.get(Person, person)
        left = (await session.execute(select(Subscription.person_id))).scalars().all()
        queued = {
            (r.person_id, r.priority, r.status, r.error)
            for r in (await session.execute(select(OutboxMessage))).scalars()
        }
    assert row is not None and row.blocked and left == [other]  # their subscriptions ended, not the other's
    assert queued == {
        (person, 0, "failed", "blocked"),
        (person, 2, "failed", "blocked"),  # the broadcast is not sent them
        (other, 2, "pending", None),
    }
