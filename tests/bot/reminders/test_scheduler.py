"""The reminder scheduler on a real database: each subscriber gets each due reminder once, in
their language; the latest due reminder only; nothing after the deadline; racing runs queue once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import RemindersConfig
from bot.reminders.scheduler import ReminderScheduler
from bot.storage import repo
from bot.storage.models import OutboxMessage, Subscription

from ...conftest import BACKENDS
from .offers import QUEBEC_ID, offers

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

FOURTEEN = datetime(2027, 1, 1, 15, tzinfo=UTC)  # 10:00 in Toronto, 14 days before 15 January 2027
SEVEN = datetime(2027, 1, 8, 15, tzinfo=UTC)
ONE = datetime(2027, 1, 14, 15, tzinfo=UTC)
END = datetime(2027, 1, 16, 5, tzinfo=UTC)  # midnight after the deadline day, Toronto
EARLY = datetime(2026, 12, 1, tzinfo=UTC)


def scheduler(sessions: async_sessionmaker[AsyncSession], clock: ManualClock | None = None) -> ReminderScheduler:
    programs = offers()
    clock = clock or ManualClock(EARLY)
    return ReminderScheduler(sessions, lambda: programs, RemindersConfig(), "America/Toronto", clock, "fr")


async def subscriber(
    sessions: async_sessionmaker[AsyncSession],
    user: int,
    *,
    language: str | None = "fr",
    since: datetime = EARLY,
    blocked: bool = False,
    channel: str = "telegram",
    program: str = QUEBEC_ID,
) -> int:
    async with sessions.begin() as session:
        person = await repo.lock_person(session, channel, str(user), since)
        person.language, person.blocked, person.consent_version = language, blocked, 1
        session.add(Subscription(person_id=person.id, program_id=program, topic="deadline", created_at=since))
        return person.id


async def queued(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_each_subscriber_gets_a_due_reminder_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    amina = await subscriber(sessions, 5550001)
    john = await subscriber(sessions, 5550002, language="en")
    jobs = scheduler(sessions)
    assert await jobs.run_once(FOURTEEN - timedelta(seconds=1)) == 0  # not yet
    assert await jobs.run_once(FOURTEEN) == 2
    assert await jobs.run_once(FOURTEEN + timedelta(minutes=1)) == 0  # a second run, a restart: nothing twice
    rows = await queued(sessions)
    assert {(r.person_id, r.chat_id) for r in rows} == {(amina, 5550001), (john, 5550002)}
    assert {r.message_key for r in rows} == {f"reminder:{QUEBEC_ID}:2027-01-15:14"}
    assert all(r.kind == "reminder" and r.priority == 1 and r.status == "pending" for r in rows)
    french, english = (next(r.payload for r in rows if r.person_id == who) for who in (amina, john))
    assert french["method"] == "sendMessage"
    text = french["text"].replace("\u00a0", " ")
    assert "Il reste 14 jours pour postuler" in text and "15 janvier 2027" in text
    assert "Direction des organisations et des forums internationaux" in text  # no instructions: whom to ask
    assert french["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"remind:off:{QUEBEC_ID}"
    assert "14 days left to apply" in english["text"] and "January 15, 2027" in english["text"]
    assert english["reply_markup"]["inline_keyboard"][0][0]["text"] == "🔕 Stop these reminders"


async def test_after_downtime_only_the_latest_due_reminder_is_sent(sessions: async_sessionmaker[AsyncSession]) -> None:
    await subscriber(sessions, 5550001)
    jobs = scheduler(sessions)
    assert await jobs.run_once(SEVEN + timedelta(days=2)) == 1  # down over the 14- and the 7-day moments
    assert await jobs.run_once(SEVEN + timedelta(days=3)) == 0
    assert await jobs.run_once(ONE) == 1
    rows = await queued(sessions)
    assert [r.message_key.rsplit(":", 1)[1] for r in rows if r.message_key] == ["7", "1"]
    assert "Il reste 5 jours" in rows[0].payload["text"].replace("\u00a0", " ")  # the days really left
    assert "Il reste 1 jour " in rows[1].payload["text"].replace("\u00a0", " ")


async def test_the_last_day_says_so(sessions: async_sessionmaker[AsyncSession]) -> None:
    await subscriber(sessions, 5550001)
    assert await scheduler(sessions).run_once(datetime(2027, 1, 15, 18, tzinfo=UTC)) == 1
    text = (await queued(sessions))[0].payload["text"].replace("\u00a0", " ").replace("’", "'")
    assert "C'est le dernier jour pour postuler" in text


async def test_who_subscribed_after_the_moment_waits_for_the_next(sessions: async_sessionmaker[AsyncSession]) -> None:
    await subscriber(sessions, 5550001, since=SEVEN + timedelta(hours=1))
    jobs = scheduler(sessions)
    assert await jobs.run_once(SEVEN + timedelta(hours=2)) == 0
    assert await jobs.run_once(ONE) == 1


async def test_nothing_once_the_deadline_passed(sessions: async_sessionmaker[AsyncSession]) -> None:
    await subscriber(sessions, 5550001)
    assert await scheduler(sessions).run_once(END) == 0
    assert await queued(sessions) == []


async def test_blocked_people_and_other_channels_and_offers_are_skipped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await subscriber(sessions, 5550001, blocked=True)
    await subscriber(sessions, 5550002, channel="console")
    await subscriber(sessions, 5550003, program="iom-internship-rabat")  # states no deadline
    someone = await subscriber(sessions, 5550004, language=None)  # no language saved: the default
    assert await scheduler(sessions).run_once(FOURTEEN) == 1
    rows = await queued(sessions)
    assert [r.person_id for r in rows] == [someone] and "Il reste 14\u00a0jours" in rows[0].payload["text"]


async def test_two_schedulers_racing_queue_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    for user in range(5550001, 5550031):
        await subscriber(sessions, user)
    first, second = scheduler(sessions), scheduler(sessions)
    added = await asyncio.gather(first.run_once(FOURTEEN), second.run_once(FOURTEEN))
    assert sum(added) == 30
    rows = await queued(sessions)
    assert len(rows) == 30 and len({r.person_id for r in rows}) == 30


async def test_the_clock_s_moment_by_default(sessions: async_sessionmaker[AsyncSession]) -> None:
    await subscriber(sessions, 5550001)
    clock = ManualClock(FOURTEEN - timedelta(minutes=1))
    jobs = scheduler(sessions, clock)
    assert await jobs.run_once() == 0
    clock.advance(60)
    assert await jobs.run_once() == 1


async def test_a_reminder_row_expires_when_the_deadline_ends(sessions: async_sessionmaker[AsyncSession]) -> None:
    await subscriber(sessions, 5550001)
    assert await scheduler(sessions).run_once(SEVEN) == 1
    [row] = await queued(sessions)
    assert row.expires_at == END  # a bot down until after the deadline never sends it


async def test_a_moved_deadline_cancels_the_reminders_queued_for_the_old_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await subscriber(sessions, 5550001)
    assert await scheduler(sessions).run_once(SEVEN) == 1
    moved = offers(day=date(2027, 2, 15))  # a new edition: the deadline a month later
    later = ReminderScheduler(sessions, lambda: moved, RemindersConfig(), "America/Toronto", ManualClock(EARLY), "fr")
    assert await later.run_once(SEVEN + timedelta(hours=1)) == 0  # nothing due yet for the new deadline
    [row] = await queued(sessions)
    assert (row.status, row.error) == ("cancelled", "deadline moved")
    assert await later.run_once(datetime(2027, 2, 1, 15, tzinfo=UTC)) == 1  # the new one's 14 days
    assert [r.message_key for r in await queued(sessions) if r.status == "pending"] == [
        f"reminder:{QUEBEC_ID}:2027-02-15:14"
    ]


async def test_an_offer_stating_no_contact_says_so_instead_of_an_empty_line(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.faq.values import VALUES
    from rules.model import NotStated

    await subscriber(sessions, 5550001)
    bare = offers()
    unstated = NotStated(not_stated=True)
    bare[QUEBEC_ID] = bare[QUEBEC_ID].model_copy(update={"contacts": unstated, "how_to_apply": unstated})
    jobs = ReminderScheduler(sessions, lambda: bare, RemindersConfig(), "America/Toronto", ManualClock(EARLY), "fr")
    assert await jobs.run_once(SEVEN) == 1
    text = (await queued(sessions))[0].payload["text"].replace("\u00a0", " ")
    assert "Pour postuler ou poser une question :\n" in text and text.rstrip()[-1] != ":", text  # whom to ask
    monkeypatch.setitem(VALUES, "where_to_ask", lambda _: None)  # nothing at all to name: the FAQ's wording
    assert await jobs.run_once(ONE) == 1
    text = (await queued(sessions))[1].payload["text"].replace("\u00a0", " ")
    assert "Pour postuler ou poser une question :\nL’offre ne le précise pas" in text, text
