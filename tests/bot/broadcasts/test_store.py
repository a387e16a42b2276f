"""Broadcast audiences and their outbox rows, on SQLite and PostgreSQL: only people who opted in,
never the blocked, narrowed by offer, verdict and language; pause, resume, cancel, counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import store
from bot.broadcasts.audience import Audience, Kind, count, parse
from bot.errors import InputError
from bot.faq.store import Author
from bot.storage.models import AuditEntry, Broadcast, OutboxMessage, Person, Subscription, VerdictRow

from ...conftest import BACKENDS

on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
QC, RABAT = "quebec-psoig-2021-023", "rabat-iom-2021"
ORGANIZER = Author(None, "cli")


async def person(
    session: AsyncSession,
    external: int,
    *,
    lang: str | None = None,
    subscribed: tuple[str, ...] = (QC,),
    verdicts: dict[str, str] | None = None,
    blocked: bool = False,
    channel: str = "telegram",
) -> int:
    row = Person(
        channel=channel,
        external_id=str(external),
        language=lang,
        blocked=blocked,
        created_at=AT,
        last_seen_at=AT,
    )
    session.add(row)
    await session.flush()
    for program in subscribed:
        session.add(Subscription(person_id=row.id, program_id=program, topic="deadline", created_at=AT))
    for program, status in (verdicts or {}).items():
        session.add(VerdictRow(person_id=row.id, program_id=program, status=status, failing={}, evaluated_at=AT))
    return row.id


@pytest.fixture
async def people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions.begin() as session:
        return {
            "amina": await person(session, 101, lang="fr", verdicts={QC: "eligible"}),
            "ben": await person(session, 102, lang="en", verdicts={QC: "not_eligible"}),
            "chloe": await person(session, 103, lang=None, subscribed=(RABAT,), verdicts={QC: "eligible"}),
            "dan": await person(session, 104, lang="en", subscribed=(QC, RABAT), verdicts={QC: "incomplete"}),
            "never_opted_in": await person(session, 105, lang="fr", subscribed=(), verdicts={QC: "eligible"}),
            "blocked": await person(session, 106, lang="fr", blocked=True, verdicts={QC: "eligible"}),
            "terminal": await person(session, 107, subscribed=(QC,), channel="console", verdicts={QC: "eligible"}),
        }


async def recipients_of(sessions: async_sessionmaker[AsyncSession], audience: Audience) -> dict[int, str]:
    """Create the broadcast; who got a row, with the language of their copy."""
    async with sessions.begin() as session:
        broadcast = await store.create(
            session, "<b>Bonjour</b>", "<b>Hello</b>", audience, "cli", ORGANIZER, AT, default_language="fr"
        )
        rows = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast.id))
        ).scalars()
        found = {row.person_id: row.payload["lang"] for row in rows if row.person_id is not None}
        assert broadcast.total == len(found)
        return found


@on_both_databases
@pytest.mark.parametrize(
    ("spec", "lang", "expected"),
    [
        ("subscribers", None, {"amina": "fr", "ben": "en", "chloe": "fr", "dan": "en"}),
        (f"subscribers:{QC}", None, {"amina": "fr", "ben": "en", "dan": "en"}),
        (f"subscribers:{RABAT}", "en", {"dan": "en"}),
        (f"eligible:{QC}", None, {"amina": "fr", "chloe": "fr"}),  # chloe: subscribed to another offer
        (f"not_eligible:{QC}", None, {"ben": "en"}),
        (f"incomplete:{QC}", "fr", {}),
        ("subscribers", "fr", {"amina": "fr", "chloe": "fr"}),  # no language chosen: the default one
    ],
)
async def test_audience_is_only_people_who_opted_in_never_the_blocked_narrowed_by_verdict_and_language(
    sessions: async_sessionmaker[AsyncSession],
    people: dict[str, int],
    spec: str,
    lang: str | None,
    expected: dict[str, str],
) -> None:
    audience = parse(spec, lang, programs={QC, RABAT})
    async with sessions() as session:
        counted = await count(session, audience, "fr")
    assert sum(counted.values()) == len(expected)
    assert counted == {"fr": list(expected.values()).count("fr"), "en": list(expected.values()).count("en")}
    got = await recipients_of(sessions, audience)
    assert got == {people[name]: lang for name, lang in expected.items()}


@on_both_databases
async def test_pause_resume_cancel_and_counts(
    sessions: async_sessionmaker[AsyncSession], people: dict[str, int]
) -> None:
    async with sessions.begin() as session:
        broadcast = await store.create(
            session, "Bonjour", "Hello", Audience(Kind.SUBSCRIBERS), "cli", ORGANIZER, AT, default_language="fr"
        )
        created = broadcast.id
    assert broadcast.total == 4 and broadcast.status == "sending"
    async with sessions.begin() as session:
        assert await store.resume(session, created, ORGANIZER, AT) is None  # not paused: nothing changes
        paused = await store.pause(session, created, ORGANIZER, AT)
        assert paused is not None and paused.status == "paused"
        assert await store.pause(session, created, ORGANIZER, AT) is None
        resumed = await store.resume(session, created, ORGANIZER, AT)
        assert resumed is not None and resumed.status == "sending"
        # the sender's work: one sent, one blocked, one failed, one left
        ids = list(
            (
                await session.execute(
                    select(OutboxMessage.id).where(OutboxMessage.broadcast_id == created).order_by(OutboxMessage.id)
                )
            ).scalars()
        )
        outcomes = [("sent", None), ("failed", "blocked"), ("failed", "bad request")]
        for row_id, (status, error) in zip(ids, outcomes, strict=False):
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(status=status, error=error)
            )
    async with sessions.begin() as session:
        found = await store.status(session, created)
        assert found is not None
        assert found[1].to_json() == {
            "total": 4,
            "pending": 1,
            "sending": 0,
            "sent": 1,
            "blocked": 1,
            "failed": 1,
            "cancelled": 0,
            "failures": {"bad request": 1},
        }
        assert not await store.finish(session, found[0], AT)  # one still pending
        cancelled = await store.cancel(session, created, ORGANIZER, AT)
        assert cancelled is not None and cancelled.status == "cancelled"
        assert await store.cancel(session, created, ORGANIZER, AT) is None
    async with sessions() as session:
        found = await store.status(session, created)
        assert found is not None and found[1].cancelled == 1 and found[1].pending == 0
        actions = list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert actions == [
        "broadcast.create",
        "broadcast.pause",
        "broadcast.resume",
        "broadcast.cancel",
    ]


@on_both_databases
async def test_finished_when_nothing_waits_and_an_empty_audience_is_done_at_once(
    sessions: async_sessionmaker[AsyncSession], people: dict[str, int]
) -> None:
    async with sessions.begin() as session:
        empty = await store.create(
            session, "Bonjour", "Hello", parse(f"incomplete:{QC}", "fr"), "cli", ORGANIZER, AT, default_language="fr"
        )
        assert empty.total == 0 and empty.status == "done"
        broadcast = await store.create(
            session, "Bonjour", "Hello", parse(f"not_eligible:{QC}"), "cli", ORGANIZER, AT, default_language="fr"
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast.id).values(status="sent")
        )
        assert await store.finish(session, broadcast, AT)
    async with sessions() as session:
        statuses = dict((await session.execute(select(Broadcast.id, Broadcast.status))).tuples().all())
        assert set(statuses.values()) == {"done"}
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@on_both_databases
async def test_texts_telegram_would_refuse_are_refused_and_nothing_is_written(
    sessions: async_sessionmaker[AsyncSession], people: dict[str, int]
) -> None:
    async with sessions() as session:
        for fr, en in (("<b>Bonjour", "Hello"), ("Bonjour", "x" * 4000), ("Bonjour", "  ")):
            with pytest.raises(store.TextProblem):
                await store.create(
                    session, fr, en, Audience(Kind.SUBSCRIBERS), "cli", ORGANIZER, AT, default_language="fr"
                )
        await session.rollback()
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


def test_audience_specs_refused_in_one_line_naming_what_is_expected() -> None:
    for spec, lang, expected in (
        ("everyone", None, "expected subscribers, subscribers:OFFER"),
        ("eligible", None, "eligible needs an offer"),
        ("eligible:", None, "expected an offer id"),
        ("eligible:nowhere", None, "unknown offer 'nowhere'"),
        ("subscribers", "de", "lang: expected fr or en"),
    ):
        with pytest.raises(InputError) as refused:
            parse(spec, lang, programs={QC})
        assert expected in str(refused.value) and "\n" not in str(refused.value), (spec, refused.value)
