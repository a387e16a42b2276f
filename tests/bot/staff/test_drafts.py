"""A staff step waiting for text takes it for an hour; after that, what the person types is theirs again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.staff.desk import DIALOG, DRAFT_LIFETIME, StaffDesk
from bot.staff.roles import Roles
from bot.storage import repo
from bot.storage.models import DialogStateRow

T0 = datetime(2026, 11, 28, 9, tzinfo=UTC)


async def test_a_draft_waits_for_text_an_hour_then_no_longer(sessions: async_sessionmaker[AsyncSession]) -> None:
    desk = StaffDesk(Roles({}))
    async with sessions.begin() as session:
        pid = (await repo.lock_person(session, "telegram", "9001")).id
        state = {"flow": "faq", "phase": "fr", "nonce": "abc123", "at": T0.isoformat(), "topic": "stipend"}
        session.add(DialogStateRow(person_id=pid, dialog=DIALOG, version=1, state=state, updated_at=T0))
    async with sessions() as session:
        assert await desk.waiting_for_text(session, pid, T0 + DRAFT_LIFETIME - timedelta(minutes=1))
        assert not await desk.waiting_for_text(session, pid, T0 + DRAFT_LIFETIME)
    async with sessions.begin() as session:  # a step waiting for a button, not for text
        row = await session.get(DialogStateRow, (pid, DIALOG))
        assert row is not None
        row.state = {**state, "phase": "menu"}
    async with sessions() as session:
        assert not await desk.waiting_for_text(session, pid, T0)
