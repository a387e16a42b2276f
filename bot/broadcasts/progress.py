"""The organizer's view of a running broadcast: one progress message, edited as it goes, then a
final report (sent, blocked, failed with reasons, cancelled) sent once as a new message.

Everything is read from the database (the counts of the outbox rows), so whichever process holds
the `broadcast-progress` lease reports, and a restarted one carries on where the last left off.
An edit happens only when the text changed and not more often than `interval`; every call goes
through the process's flood control first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from rules import N_, Message

from ..clock import Clock
from ..i18n import as_language, render
from ..storage.models import Broadcast, Person
from ..telegram.jobs import LeasedJob
from . import store

logger = logging.getLogger(__name__)

INTERVAL = 5.0  # seconds between two edits of a progress message at most
LEASE = "broadcast-progress"
EVERY = 1.0  # seconds between two rounds of the reporter (edits are still `INTERVAL` apart)


class Throttle(Protocol):
    async def acquire(self, chat_id: int, *, per_chat: bool = True) -> None: ...


def progress_text(broadcast: Broadcast, counts: store.Counts, lang: str) -> str:
    key = N_("broadcast.progress.paused") if broadcast.status == "paused" else N_("broadcast.progress")
    return render(
        Message(
            key,
            {
                "id": str(broadcast.id),
                "done": counts.done,
                "total": counts.total,
                "sent": counts.sent,
                "blocked": counts.blocked,
                "failed": counts.failed,
            },
        ),
        lang,
    )


def report_text(broadcast: Broadcast, counts: store.Counts, lang: str) -> str:
    """The final report: every outcome, and the failures by reason."""
    key = N_("broadcast.report.cancelled") if broadcast.status == "cancelled" else N_("broadcast.report")
    reasons = "\n".join(f"• {reason}: {number}" for reason, number in counts.failures.items())
    text = render(
        Message(
            key,
            {
                "id": str(broadcast.id),
                "total": counts.total,
                "sent": counts.sent,
                "blocked": counts.blocked,
                "failed": counts.failed,
                "cancelled": counts.cancelled,
            },
        ),
        lang,
    )
    return f"{text}\n{reasons}" if reasons else text


class ProgressReporter:
    """`run_once(at)`: bring every broadcast's progress message up to date (a `LeasedJob`)."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        throttle_or_sender: Any,
        default_language: str,
        *,
        interval: float = INTERVAL,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.throttle: Throttle = getattr(throttle_or_sender, "throttle", throttle_or_sender)
        self.default_language = default_language
        self.interval = timedelta(seconds=interval)

    @classmethod
    def job(
        cls, bot: Bot, sessions: async_sessionmaker[AsyncSession], clock: Clock, sender: Any, default_language: str
    ) -> LeasedJob:
        """The reporter as the process's leased job (`broadcast-progress`: one process reports)."""
        reporter = cls(bot, sessions, clock, sender, default_language)
        return LeasedJob(LEASE, reporter.run_once, EVERY)

    async def run_once(self, at: datetime) -> int:
        """One round over the broadcasts not reported yet; how many messages were sent or edited."""
        async with self.sessions() as session:
            ids = list(
                (
                    await session.execute(
                        select(Broadcast.id)
                        .where(Broadcast.progress_chat_id.is_not(None), Broadcast.reported_at.is_(None))
                        .order_by(Broadcast.id)
                    )
                ).scalars()
            )
        calls = 0
        for broadcast_id in ids:
            calls += await self._one(broadcast_id, at)
        return calls

    async def _one(self, broadcast_id: int, at: datetime) -> int:
        async with self.sessions.begin() as session:
            broadcast = await store.get(session, broadcast_id)
            if broadcast is None or broadcast.progress_chat_id is None:
                return 0
            if broadcast.status == "sending":
                await store.finish(session, broadcast, at)
            counts = await store.counts(session, broadcast)
            lang = await self._language(session, broadcast)
            chat, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
            over = broadcast.status in ("done", "cancelled") and counts.waiting == 0
            text = report_text(broadcast, counts, lang) if over else progress_text(broadcast, counts, lang)
            changed = text != broadcast.progress_text
            due = broadcast.progress_shown_at is None or at - broadcast.progress_shown_at >= self.interval
        if over:
            if await self._send(chat, text) is None:
                return 0
            await self._record(broadcast_id, at, text, reported=True)
            return 1
        if message_id is None:
            sent = await self._send(chat, text)
            if sent is None:
                return 0
            await self._record(broadcast_id, at, text, message_id=sent)
            return 1
        if not changed or not due:
            return 0
        if not await self._edit(chat, message_id, text):
            return 0
        await self._record(broadcast_id, at, text)
        return 1

    async def _language(self, session: AsyncSession, broadcast: Broadcast) -> str:
        chosen = None
        if broadcast.created_by is not None:
            chosen = await session.scalar(select(Person.language).where(Person.id == broadcast.created_by))
        return as_language(chosen, as_language(self.default_language))

    async def _send(self, chat: int, text: str) -> int | None:
        try:
            await self.throttle.acquire(chat)
            message = await self.bot.send_message(chat_id=chat, text=text)
        except TelegramError as error:  # tried again at the next round
            logger.warning("broadcast progress not sent: %s", type(error).__name__)
            return None
        return int(message.message_id)

    async def _edit(self, chat: int, message_id: int, text: str) -> bool:
        try:
            await self.throttle.acquire(chat)
            await self.bot.edit_message_text(text, chat_id=chat, message_id=message_id)
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return True
            logger.warning("broadcast progress not edited: %s", type(error).__name__)
            return False
        except TelegramError as error:
            logger.warning("broadcast progress not edited: %s", type(error).__name__)
            return False
        return True

    async def _record(
        self, broadcast_id: int, at: datetime, text: str, *, message_id: int | None = None, reported: bool = False
    ) -> None:
        async with self.sessions.begin() as session:
            broadcast = await store.get(session, broadcast_id)
            if broadcast is None:
                return
            broadcast.progress_text, broadcast.progress_shown_at = text, at
            if message_id is not None:
                broadcast.progress_message_id = message_id
            if reported:
                broadcast.reported_at = at
