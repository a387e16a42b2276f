"""Scheduled broadcasts, on SQLite and PostgreSQL: no outbox row until their time, then their
audience of that moment queued once (by the same code as an immediate broadcast); cancelled
before they start, they never start."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import schedule, store
from bot.broadcasts.audience import Audience, Kind
from bot.broadcasts.progress import ProgressReporter
from bot.clock import ManualClock
from bot.storage.models import AuditEntry, Broadcast, OutboxMessage

from ...conftest import BACKENDS
from .test_store import AT, ORGANIZER, QC, person

on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

LATER = AT + timedelta(hours=20)


async def _schedule(
    sessions: async_sessionmaker[AsyncSession], audience: Audience, at: datetime = LATER, chat: int | None = None
) -> int:
    async with sessions.begin() as session:
        broadcast = await store.create(
            session,
            "Bonjour",
            "Hello",
            audience,
            "web",
            ORGANIZER,
            AT,
            default_language="fr",
            scheduled_at=at,
            progress_chat_id=chat,
        )
        return broadcast.id


async def _rows(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.person_id, OutboxMessage.payload).where(OutboxMessage.broadcast_id == broadcast_id)
        )
        return {person_id: payload["lang"] for person_id, payload in rows.tuples() if person_id is not None}


@on_both_databases
async def test_a_scheduled_broadcast_reaches_its_audience_of_the_moment_it_starts_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        amina = await person(session, 101, lang="fr")
        ben = await person(session, 102, lang="en")
    created = await _schedule(sessions, Audience(Kind.SUBSCRIBERS, QC))
    async with sessions() as session:
        broadcast = await store.get(session, created)
        assert broadcast is not None
        assert (broadcast.status, broadcast.total, broadcast.scheduled_at) == ("scheduled", 0, LATER)
    assert await _rows(sessions, created) == {}
    async with sessions.begin() as session:  # subscribed meanwhile: receives it too
        chloe = await person(session, 103, lang="en")
    job = schedule.job(sessions, "fr")
    assert await job.run_once(LATER - timedelta(seconds=1)) == []  # not yet
    assert await _rows(sessions, created) == {}
    assert await job.run_once(LATER + timedelta(seconds=5)) == [created]
    assert await job.run_once(LATER + timedelta(seconds=15)) == []  # started once
    assert await _rows(sessions, created) == {amina: "fr", ben: "en", chloe: "en"}
    async with sessions() as session:
        broadcast = await store.get(session, created)
        assert broadcast is not None and (broadcast.status, broadcast.total) == ("sending", 3)
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(e.action, e.actor_role) for e in entries] == [
        ("broadcast.schedule", "cli"),
        ("broadcast.start", "schedule"),
    ]
    assert entries[0].detail["scheduled_at"] == LATER.isoformat()
    assert entries[1].detail == {"broadcast": created, "total": 3}
    # starting it again directly (another process, a retry) queues nobody twice
    async with sessions.begin() as session:
        assert await store.start(session, created, LATER + timedelta(minutes=1), default_language="fr") is None
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


@on_both_databases
async def test_cancelled_before_its_time_it_never_starts_and_it_cannot_be_paused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await person(session, 101, lang="fr")
    created = await _schedule(sessions, Audience(Kind.SUBSCRIBERS))
    async with sessions.begin() as session:
        assert await store.pause(session, created, ORGANIZER, AT) is None  # nothing runs yet
        assert await store.resume(session, created, ORGANIZER, AT) is None
        cancelled = await store.cancel(session, created, ORGANIZER, AT)
        assert cancelled is not None and cancelled.status == "cancelled"
    assert await schedule.start_due(sessions, LATER + timedelta(hours=1), "fr") == []
    assert await _rows(sessions, created) == {}
    async with sessions() as session:
        broadcast = await store.get(session, created)
        assert broadcast is not None and broadcast.status == "cancelled" and broadcast.finished_at == AT


@on_both_databases
async def test_started_with_nobody_in_its_audience_it_is_done_and_due_ones_start_in_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await person(session, 101, lang="fr", verdicts={QC: "eligible"})
    second = await _schedule(sessions, Audience(Kind.SUBSCRIBERS), LATER + timedelta(minutes=1))
    first = await _schedule(sessions, Audience(Kind.INCOMPLETE, QC), LATER)
    async with sessions() as session:
        assert await schedule.due(session, LATER + timedelta(minutes=2)) == [first, second]
    assert await schedule.start_due(sessions, LATER + timedelta(minutes=2), "fr") == [first, second]
    async with sessions() as session:
        statuses = dict((await session.execute(select(Broadcast.id, Broadcast.status))).tuples().all())
    assert statuses == {first: "done", second: "sending"}


@on_both_databases
async def test_a_time_already_passed_sends_now_and_the_reporter_leaves_scheduled_ones_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await person(session, 101, lang="fr")
    now = await _schedule(sessions, Audience(Kind.SUBSCRIBERS), AT)  # not later than its creation
    later = await _schedule(sessions, Audience(Kind.SUBSCRIBERS), chat=555)
    # a bot that fails the test if it is called: a scheduled broadcast has no progress to show yet
    reporter = ProgressReporter(object(), sessions, ManualClock(AT), object(), "fr")  # type: ignore[arg-type]
    assert await reporter.run_once(AT) == 0
    async with sessions() as session:
        statuses = dict((await session.execute(select(Broadcast.id, Broadcast.status))).tuples().all())
        scheduled_at = await session.scalar(select(Broadcast.scheduled_at).where(Broadcast.id == now))
    assert statuses == {now: "sending", later: "scheduled"}
    assert scheduled_at is None


@on_both_databases
async def test_telegrams_broadcasts_list_shows_a_scheduled_one_and_cancels_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from bot.staff import broadcast_editor

    from .test_editor import desk

    created = await _schedule(sessions, Audience(Kind.SUBSCRIBERS))
    async with sessions.begin() as session:
        organizer = desk({})
        organizer.session, organizer.zone = session, ZoneInfo("America/Toronto")
        organizer.person_id = await person(session, 9301, subscribed=())
        await broadcast_editor.start_list(organizer, "")
        listing = organizer.replies[-1]
        # when it starts, in the bot's time zone (11:00 UTC), rather than "0 sent of 0"
        assert f"n° {created} — programmée pour le 2 mars 2022, 6 h 00 — Personnes abonnées" in listing.text
        assert "envoyé" not in listing.text
        buttons = {b.id.split(":", 2)[2]: b.label for b in listing.buttons}
        assert set(buttons) == {f"stop:{created}"}  # nothing to pause before it starts
        await broadcast_editor.press_list(organizer, "stop", str(created))
        assert "annulée" in organizer.replies[-2].text
    async with sessions() as session:
        broadcast = await store.get(session, created)
        assert broadcast is not None and broadcast.status == "cancelled"
