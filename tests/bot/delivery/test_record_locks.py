"""PostgreSQL: a batch of reply records never waits for a person's row while it holds others.

A staff member's turn holds their own row and may queue a broadcast to someone else (a foreign
key check on that person's row). A batch recording both people's replies used to hold the other
person and wait for the staff member: a deadlock, which PostgreSQL broke by failing one of the
two. Now the batch records the people free at that moment and leaves the busy one to a record of
their own, which waits for the turn as any single writer does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import bulk, repo
from bot.storage.models import OutboxMessage
from bot.telegram.sender import Sender

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

AT = datetime(2022, 3, 1, 15, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


async def test_a_batch_records_the_free_people_and_leaves_a_busy_one_to_itself(sessions: Sessions) -> None:
    sender = Sender(None, sessions)  # type: ignore[arg-type]  # nothing is sent here
    async with sessions.begin() as session:
        amina, _ = await repo.claim_person(session, "telegram", "100", AT)
        staff, _ = await repo.claim_person(session, "telegram", "200", AT)
        people = {amina.id: 100, staff.id: 200}
        leased = {}
        for person_id, chat in people.items():
            row = {"person_id": person_id, "chat_id": chat, "kind": "reply", "payload": {"text": "x"}}
            lease = {"status": "sending", "lease_owner": sender.owner, "not_before": AT + timedelta(seconds=30)}
            added = insert(OutboxMessage).values(**row, **lease, attempts=0, created_at=AT, priority=0)
            leased[person_id] = (await session.execute(added.returning(OutboxMessage.id))).scalar_one()
    sent = {"status": "sent", "sent_at": AT, "lease_owner": None}
    batch = [(person_id, [(leased[person_id], sent, False)]) for person_id in people]
    async with sessions.begin() as turn:  # the staff member's turn: their row held
        await repo.claim_person(turn, "telegram", "200", AT)
        written = await asyncio.wait_for(sender._write_outcomes(batch), timeout=10)  # does not wait for them
        assert written == [True, False]
        recipient = bulk.Recipient(amina.id, 100, {"method": "broadcast", "lang": "fr"})
        await bulk.queue(turn, [recipient], message_key="b:1", kind="broadcast", lane=bulk.Lane.BROADCAST, at=AT)
        alone = asyncio.create_task(sender._record(staff.id, batch[1][1]))  # waits for the turn to end
    await asyncio.wait_for(alone, timeout=10)
    async with sessions() as session:
        rows = await session.execute(select(OutboxMessage.person_id, OutboxMessage.status, OutboxMessage.priority))
        statuses = sorted(rows.tuples())
    assert statuses == sorted([(amina.id, "sent", 0), (staff.id, "sent", 0), (amina.id, "pending", 2)])
