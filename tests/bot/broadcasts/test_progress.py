"""The organizer's progress message: sent once, edited as rows are sent (not more often than the
interval, only when the text changed), then one final report with the failures' reasons.

The rows are marked sent here as the bulk sender would mark them: this drives the reporter alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import store
from bot.broadcasts.audience import Audience, Kind
from bot.broadcasts.progress import ProgressReporter
from bot.clock import ManualClock
from bot.faq.store import Author
from bot.storage.models import Broadcast, OutboxMessage, Person, Subscription

from ...conftest import BACKENDS

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
ORGANIZER_CHAT = 7000


@dataclass
class Sent:
    message_id: int


@dataclass
class FakeBot:
    """Records what the reporter sends and edits, as the organizer's chat would show it."""

    sent: list[str] = field(default_factory=list)
    edits: list[tuple[int, str]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Sent:
        assert chat_id == ORGANIZER_CHAT
        self.sent.append(text)
        return Sent(100 + len(self.sent))

    async def edit_message_text(self, text: str, *, chat_id: int, message_id: int, **_: Any) -> None:
        self.edits.append((message_id, text))


@dataclass
class CountingThrottle:
    calls: int = 0

    async def acquire(self, chat_id: int, *, per_chat: bool = True) -> None:
        self.calls += 1


async def mark(sessions: async_sessionmaker[AsyncSession], n: int, status: str, error: str | None = None) -> None:
    async with sessions.begin() as session:
        ids = (
            await session.execute(
                select(OutboxMessage.id).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(n)
            )
        ).scalars()
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(list(ids))).values(status=status, error=error)
        )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_progress_is_edited_at_most_every_interval_then_one_final_report(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        organizer = Person(
            channel="telegram", external_id=str(ORGANIZER_CHAT), language="en", created_at=AT, last_seen_at=AT
        )
        session.add(organizer)
        for external in range(1, 11):
            person = Person(channel="telegram", external_id=str(external), created_at=AT, last_seen_at=AT)
            session.add(person)
            await session.flush()
            session.add(Subscription(person_id=person.id, program_id="x", topic="deadline", created_at=AT))
        await session.flush()
        broadcast = await store.create(
            session,
            "Bonjour",
            "Hello",
            Audience(Kind.SUBSCRIBERS),
            "telegram",
            Author(organizer.id, "organizer"),
            AT,
            default_language="fr",
            progress_chat_id=ORGANIZER_CHAT,
        )
    bot, throttle, clock = FakeBot(), CountingThrottle(), ManualClock(AT)
    reporter = ProgressReporter(bot, sessions, clock, throttle, "fr", interval=5)  # type: ignore[arg-type]

    assert await reporter.run_once(clock.now()) == 1
    assert bot.sent == ["📣 Broadcast #1: 0 of 10 handled — 0 sent, 0 blocked, 0 failed."]  # the organizer's language
    await mark(sessions, 3, "sent")
    clock.advance(1)
    assert await reporter.run_once(clock.now()) == 0  # changed, but too soon
    clock.advance(4)
    assert await reporter.run_once(clock.now()) == 1
    assert bot.edits == [(101, "📣 Broadcast #1: 3 of 10 handled — 3 sent, 0 blocked, 0 failed.")]
    clock.advance(10)
    assert await reporter.run_once(clock.now()) == 0  # nothing changed: no edit

    await mark(sessions, 5, "sent")
    await mark(sessions, 1, "failed", "blocked")
    await mark(sessions, 1, "failed", "bad request")
    clock.advance(1)
    assert await reporter.run_once(clock.now()) == 1  # done: the report goes out at once, as a new message
    assert bot.sent[-1] == (
        "✅ Broadcast #1 finished: 8 of 10 sent, 1 blocked (the person blocked the bot), 1 failed, 0 cancelled.\n"
        "• bad request: 1"
    )
    for _ in range(3):
        clock.advance(10)
        assert await reporter.run_once(clock.now()) == 0  # once
    assert len(bot.sent) == 2 and throttle.calls == 3  # every call went through the flood control
    async with sessions() as session:
        done = await session.get(Broadcast, broadcast.id)
        assert done is not None and done.status == "done" and done.reported_at is not None


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_a_cancelled_broadcast_is_reported_once_its_last_rows_are_settled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        for external in range(1, 5):
            person = Person(channel="telegram", external_id=str(external), created_at=AT, last_seen_at=AT)
            session.add(person)
            await session.flush()
            session.add(Subscription(person_id=person.id, program_id="x", topic="deadline", created_at=AT))
        broadcast = await store.create(
            session,
            "Bonjour",
            "Hello",
            Audience(Kind.SUBSCRIBERS),
            "cli",
            Author(None, "cli"),
            AT,
            default_language="fr",
            progress_chat_id=ORGANIZER_CHAT,
        )
    await mark(sessions, 1, "sent")
    await mark(sessions, 1, "sending")  # in flight when the organizer cancels
    async with sessions.begin() as session:
        assert await store.cancel(session, broadcast.id, Author(None, "cli"), AT) is not None
    bot, clock = FakeBot(), ManualClock(AT)
    reporter = ProgressReporter(bot, sessions, clock, CountingThrottle(), "fr")  # type: ignore[arg-type]
    await reporter.run_once(clock.now())
    assert bot.sent == ["📣 Diffusion n° 1\u00a0: 3 sur 4 traités — 1 envoyés, 0 bloqués, 0 en échec."]
    async with sessions.begin() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == "sending").values(status="sent"))
    await reporter.run_once(clock.now())
    assert bot.sent[-1].startswith("⏹ Diffusion n° 1 annulée\u00a0: 2 envoyés sur 4, 0 bloqués"), bot.sent
