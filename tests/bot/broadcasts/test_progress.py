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
    broadcast_id = await _broadcast(sessions, 10, organizer_language="en")
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
    assert await reporter.run_once(clock.now()) == 2  # done: the final counts at once, then the report
    assert bot.edits[-1] == (101, "📣 Broadcast #1: 10 of 10 handled — 8 sent, 1 blocked, 1 failed.")
    assert bot.sent[-1] == (
        "✅ Broadcast #1 finished: 8 of 10 sent, 1 blocked (the person blocked the bot), 1 failed, 0 cancelled.\n"
        "• bad request: 1"
    )
    for _ in range(3):
        clock.advance(10)
        assert await reporter.run_once(clock.now()) == 0  # once
    assert len(bot.sent) == 2 and len(bot.edits) == 2 and throttle.calls == 4  # every call: flood control
    async with sessions() as session:
        done = await session.get(Broadcast, broadcast_id)
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
    assert bot.sent == [  # cancelled, one row still in flight: cancelling, not "in progress"
        "⏹ Diffusion n° 1 en cours d’annulation\u00a0: 3 traités sur 4 — 1 envoyé, 0 bloqué, 0 en échec."
    ]
    async with sessions.begin() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == "sending").values(status="sent"))
    await reporter.run_once(clock.now())
    assert bot.edits == [(101, "⏹ Diffusion n° 1 annulée\u00a0: 4 traités sur 4 — 2 envoyés, 0 bloqué, 0 en échec.")]
    assert bot.sent[-1] == (
        "⏹ Diffusion n° 1 annulée\u00a0: 2 envoyés sur 4, 0 bloqué (bot bloqué par la personne), 0 en échec, 2 annulés."
    )


async def _broadcast(
    sessions: async_sessionmaker[AsyncSession],
    people: int,
    *,
    organizer_language: str | None = "fr",
    progress_lang: str | None = None,
    chat: int | None = ORGANIZER_CHAT,
) -> int:
    async with sessions.begin() as session:
        organizer = Person(
            channel="telegram",
            external_id=str(ORGANIZER_CHAT),
            language=organizer_language,
            created_at=AT,
            last_seen_at=AT,
        )
        session.add(organizer)
        for external in range(1, people + 1):
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
            progress_chat_id=chat,
            progress_lang=progress_lang,
        )
        return broadcast.id


async def _status(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> Broadcast:
    async with sessions() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_progress_and_report_are_in_the_language_the_broadcast_was_created_in(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _broadcast(sessions, 1, organizer_language="fr", progress_lang="en")  # the desk spoke English
    bot = FakeBot()
    reporter = ProgressReporter(bot, sessions, ManualClock(AT), CountingThrottle(), "fr")  # type: ignore[arg-type]
    await reporter.run_once(AT)
    await mark(sessions, 1, "sent")
    await reporter.run_once(AT)
    assert bot.edits == [(101, "📣 Broadcast #1: 1 of 1 handled — 1 sent, 0 blocked, 0 failed.")]
    assert bot.sent == [
        "📣 Broadcast #1: 0 of 1 handled — 0 sent, 0 blocked, 0 failed.",
        "✅ Broadcast #1 finished: 1 of 1 sent, 0 blocked (the person blocked the bot), 0 failed, 0 cancelled.",
    ]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_counts_agree_in_number(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _broadcast(sessions, 3)
    await mark(sessions, 1, "sent")
    await mark(sessions, 1, "failed", "blocked")
    await mark(sessions, 1, "failed", "bad request")
    bot = FakeBot()
    reporter = ProgressReporter(bot, sessions, ManualClock(AT), CountingThrottle(), "fr")  # type: ignore[arg-type]
    await reporter.run_once(AT)  # the progress message comes first, even for a broadcast already over
    await reporter.run_once(AT)
    assert bot.sent == [
        "📣 Diffusion n° 1\u00a0: 3 traités sur 3 — 1 envoyé, 1 bloqué, 1 en échec.",
        "✅ Diffusion n° 1 terminée\u00a0: 1 envoyé sur 3, 1 bloqué (bot bloqué par la personne), 1 en échec, 0 annulé."
        "\n• bad request: 1",
    ]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_a_broadcast_without_a_progress_chat_is_finished_all_the_same(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _broadcast(sessions, 2, chat=None)  # from the command line, or its organizer erased
    bot = FakeBot()
    reporter = ProgressReporter(bot, sessions, ManualClock(AT), CountingThrottle(), "fr")  # type: ignore[arg-type]
    assert await reporter.run_once(AT) == 0
    assert (await _status(sessions, created)).status == "sending"
    await mark(sessions, 2, "sent")
    assert await reporter.run_once(AT) == 0 and bot.sent == [] and bot.edits == []
    done = await _status(sessions, created)
    assert done.status == "done" and done.finished_at is not None


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_the_report_is_sent_once_when_two_reporters_run_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _broadcast(sessions, 1)
    await mark(sessions, 1, "sent")
    other = FakeBot()
    second = ProgressReporter(other, sessions, ManualClock(AT), CountingThrottle(), "fr")  # type: ignore[arg-type]

    @dataclass
    class SlowBot(FakeBot):
        async def send_message(self, chat_id: int, text: str, **_: Any) -> Sent:
            await second.run_once(AT)  # another process's round while this one is sending
            return await super().send_message(chat_id, text)

    bot = SlowBot()
    first = ProgressReporter(bot, sessions, ManualClock(AT), CountingThrottle(), "fr")  # type: ignore[arg-type]
    await first._record(created, AT, "", message_id=100)  # its progress message is already shown
    assert await first.run_once(AT) == 2  # the final counts, then the report
    assert len(bot.sent) == 1 and bot.sent[0].startswith("✅") and other.sent == []
    assert await second.run_once(AT) == 0 and other.sent == []
    assert (await _status(sessions, created)).reported_at is not None


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
async def test_a_report_that_could_not_be_sent_is_retried(sessions: async_sessionmaker[AsyncSession]) -> None:
    from telegram.error import NetworkError

    created = await _broadcast(sessions, 1)
    await mark(sessions, 1, "sent")

    @dataclass
    class DownBot(FakeBot):
        down: bool = True

        async def send_message(self, chat_id: int, text: str, **_: Any) -> Sent:
            if self.down:
                raise NetworkError("down")
            return await super().send_message(chat_id, text)

    bot = DownBot()
    reporter = ProgressReporter(bot, sessions, ManualClock(AT), CountingThrottle(), "fr")  # type: ignore[arg-type]
    await reporter._record(created, AT, "", message_id=100)  # its progress message is already shown
    assert await reporter.run_once(AT) == 1  # the edit went through; the report did not
    assert (await _status(sessions, created)).reported_at is None  # the claim was given back
    bot.down = False
    assert await reporter.run_once(AT) == 1 and len(bot.sent) == 1
    assert bot.sent[0].startswith("✅ Diffusion n° 1 terminée")
