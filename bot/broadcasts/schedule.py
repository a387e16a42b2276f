"""Scheduled broadcasts: at its time, a broadcast written on the website gets its recipients.

A scheduled broadcast has no outbox row until then; the `broadcast-schedule` leased job (one
process at a time) starts every one that is due with `store.start`, which chooses and queues
the audience through the same code as an immediate broadcast. From then on it is `sending`
like any other: the senders send it, the progress reporter marks it done. Each one starts in
its own transaction, so one that fails does not hold the others back; a start is made once
only (the status changes from `scheduled` once), so running the job again queues nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..storage.db import failure
from ..storage.models import Broadcast
from ..telegram.jobs import LeasedJob
from . import store

logger = logging.getLogger(__name__)

LEASE = "broadcast-schedule"
EVERY = 10.0  # seconds between two looks for due broadcasts: one starts at most this late


async def due(session: AsyncSession, at: datetime) -> list[int]:
    """The scheduled broadcasts whose time has come, the earliest first."""
    query = (
        select(Broadcast.id)
        .where(Broadcast.status == store.SCHEDULED, Broadcast.scheduled_at <= at)
        .order_by(Broadcast.scheduled_at, Broadcast.id)
    )
    return list((await session.execute(query)).scalars())


async def start_due(sessions: async_sessionmaker[AsyncSession], at: datetime, default_language: str) -> list[int]:
    """Start every due broadcast; the ids of those started now."""
    async with sessions() as session:
        ids = await due(session, at)
    started: list[int] = []
    for broadcast_id in ids:
        try:
            async with sessions.begin() as session:
                broadcast = await store.start(session, broadcast_id, at, default_language=default_language)
        except Exception as error:  # the next round tries again; the others start meanwhile
            logger.error("scheduled broadcast %s not started: %s", broadcast_id, failure(error))
            continue
        if broadcast is not None:
            logger.info("scheduled broadcast %s started for %s people", broadcast_id, broadcast.total)
            started.append(broadcast_id)
    return started


def job(sessions: async_sessionmaker[AsyncSession], default_language: str) -> LeasedJob:
    """The process's leased job that starts scheduled broadcasts (`broadcast-schedule`)."""

    async def run_once(at: datetime) -> list[int]:
        return await start_due(sessions, at, default_language)

    return LeasedJob(LEASE, run_once, EVERY)
