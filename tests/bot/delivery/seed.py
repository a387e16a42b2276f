"""A broadcast's audience written straight to the database: people, their subscriptions, the
`Broadcast` row and its outbox rows (as `/broadcast` queues them), in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import bulk
from bot.storage.models import Broadcast, Person, Subscription

TEXTS = {"fr": "Les candidatures ferment bientôt.", "en": "Applications close soon."}
PROGRAM = "quebec-psoig-2021-023"
FIRST_CHAT = 500_000


@dataclass(frozen=True)
class Audience:
    broadcast_id: int
    people: dict[int, int]  # person id -> chat id


async def broadcast(
    session: AsyncSession,
    count: int,
    at: datetime,
    *,
    first_chat: int = FIRST_CHAT,
    status: str = "sending",
    seen_at: datetime | None = None,
) -> Audience:
    """`count` subscribers (every other one in English), a broadcast to all of them, queued at `at`.

    `seen_at` (default `at`): when they last wrote; a running bot that purges by the system clock
    keeps people seen recently (pass the present).
    """
    people: dict[int, int] = {}
    langs: dict[int, str] = {}
    for start in range(0, count, 1000):
        rows = [
            {
                "channel": "telegram",
                "external_id": str(first_chat + n),
                "language": "en" if n % 2 else "fr",
                "blocked": False,
                "created_at": at,
                "last_seen_at": seen_at or at,
            }
            for n in range(start, min(count, start + 1000))
        ]
        result = await session.execute(insert(Person).returning(Person.id, Person.external_id, Person.language), rows)
        for person_id, external, lang in result.all():
            people[person_id], langs[person_id] = int(external), lang
    subscriptions = [{"person_id": p, "program_id": PROGRAM, "topic": "deadline", "created_at": at} for p in people]
    for start in range(0, len(subscriptions), 1000):
        await session.execute(insert(Subscription), subscriptions[start : start + 1000])
    row = Broadcast(
        text_fr=TEXTS["fr"],
        text_en=TEXTS["en"],
        audience={"kind": "subscribers", "program": None, "lang": None},
        status=status,
        total=count,
        origin="cli",
        created_by=None,
        created_role="admin",
        created_at=at,
    )
    session.add(row)
    await session.flush()
    recipients = [bulk.Recipient(p, chat, {"method": "broadcast", "lang": langs[p]}) for p, chat in people.items()]
    for start in range(0, len(recipients), 1000):
        await bulk.queue(
            session,
            recipients[start : start + 1000],
            message_key=f"broadcast:{row.id}",
            kind="broadcast",
            lane=bulk.Lane.BROADCAST,
            at=at,
            broadcast_id=row.id,
        )
    return Audience(row.id, people)
