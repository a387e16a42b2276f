"""The organizer's view of a running broadcast: one progress message, edited as it goes (its last
edit shows the final counts), then a final report (sent, blocked, failed with reasons, cancelled)
sent at most once as a new message, in the organizer's language when they created it
(`progress_lang`).

Everything is read from the database (the counts of the outbox rows), so whichever process holds
the `broadcast-progress` lease reports, and a restarted one carries on where the last left off.
An edit happens only when the text changed and not more often than `interval`; every call goes
through the process's flood control first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from rules import N_, Message

from ..clock import Clock
from ..i18n import as_language, render
from ..storage.models import Broadcast, Person
from ..telegram.jobs import LeasedJob
from . import store
from .wording import counted

logger = logging.getLogger(__name__)

INTERVAL = 5.0  # seconds between two edits of a progress message at most
LEASE = "broadcast-progress"
EVERY = 1.0  # seconds between two rounds of the reporter (edits are still `INTERVAL` apart)


class Throttle(Protocol):
    async def acquire(self, chat_id: int, *, per_chat: bool = True) -> None: ...


def outcomes(counts: store.Counts, lang: str, *, of_total: bool = False) -> dict[str, str]:
    """Each outcome as words agreeing with its number (`1 envoyé`, `3 bloqués`); with `of_total`,
    the sent ones out of the total (`1 envoyé sur 3`)."""
    sent = counted("sent_of", counts.sent, lang, total=counts.total) if of_total else counted("sent", counts.sent, lang)
    return {
        "sent": sent,
        "blocked": counted("blocked", counts.blocked, lang),
        "failed": counted("failed", counts.failed, lang),
        "cancelled": counted("cancelled", counts.cancelled, lang),
    }


def progress_text(broadcast: Broadcast, counts: store.Counts, lang: str) -> str:
    """Where a running broadcast stands; a cancelled one whose last rows are in flight is cancelling."""
    keys = {"paused": N_("broadcast.progress.paused"), "cancelled": N_("broadcast.progress.cancelling")}
    if broadcast.status == "cancelled" and counts.waiting == 0:
        keys["cancelled"] = N_("broadcast.progress.cancelled")
    words = outcomes(counts, lang)
    params = {
        "id": str(broadcast.id),
        "handled": counted("handled_of", counts.done, lang, total=counts.total),
        "sent": words["sent"],
        "blocked": words["blocked"],
        "failed": words["failed"],
    }
    running = N_("broadcast.progress")
    return render(Message(keys.get(broadcast.status, running), params), lang)


def report_text(broadcast: Broadcast, counts: store.Counts, lang: str) -> str:
    """The final report: every outcome, and the failures by reason."""
    key = N_("broadcast.report.cancelled") if broadcast.status == "cancelled" else N_("broadcast.report")
    reasons = "\n".join(f"• {reason}: {number}" for reason, number in counts.failures.items())
    params = {"id": str(broadcast.id), **outcomes(counts, lang, of_total=True)}
    text = render(Message(key, params), lang)
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
        """One round: every `sending` broadcast with nothing waiting is marked done, progress chat or
        not (a broadcast from the command line, or whose organizer was erased, has none); those with
        a progress chat and no report yet get their progress shown. How many messages were sent or
        edited."""
        async with self.sessions() as session:
            ids = list(
                (
                    await session.execute(
                        select(Broadcast.id)
                        .where(
                            Broadcast.reported_at.is_(None),
                            Broadcast.status != store.SCHEDULED,  # nothing to show before it starts
                            or_(Broadcast.progress_chat_id.is_not(None), Broadcast.status == "sending"),
                        )
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
            if broadcast is None:
                return 0
            if broadcast.status == "sending":
                await store.finish(session, broadcast, at)
            if broadcast.progress_chat_id is None:  # nobody to tell: finished is all there is to do
                return 0
            counts = await store.counts(session, broadcast)
            lang = await self._language(session, broadcast)
            chat, message_id = broadcast.progress_chat_id, broadcast.progress_message_id
            over = broadcast.status in ("done", "cancelled") and counts.waiting == 0
            text = progress_text(broadcast, counts, lang)
            report = report_text(broadcast, counts, lang) if over else None
            changed = text != broadcast.progress_text
            due = broadcast.progress_shown_at is None or at - broadcast.progress_shown_at >= self.interval
        if message_id is None:  # the progress message comes first, even for a broadcast already over
            sent = await self._send(chat, text)
            if sent is None:
                return 0
            await self._record(broadcast_id, at, text, message_id=sent)
            return 1
        calls = 0
        if changed and (due or report is not None):  # the final state is shown at once
            if await self._edit(chat, message_id, text):
                await self._record(broadcast_id, at, text)
                calls += 1
            elif report is None:
                return 0
        if report is not None:  # an edit that failed (the message deleted) does not hold the report back
            calls += await self._report(broadcast_id, chat, at, report)
        return calls

    async def _report(self, broadcast_id: int, chat: int, at: datetime, text: str) -> int:
        """The final report, at most once: claimed in the database before it is sent (another
        process, or this one after a crash between sending and recording, finds it claimed), and
        the claim is cleared again when the send fails so that a later round retries. A crash
        between the claim and the send loses the report rather than sending it twice."""
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.reported_at.is_(None))
                .values(reported_at=at)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return 0
        if await self._send(chat, text) is None:
            async with self.sessions.begin() as session:
                await session.execute(
                    update(Broadcast)
                    .where(Broadcast.id == broadcast_id, Broadcast.reported_at == at)
                    .values(reported_at=None)
                )
            return 0
        return 1

    async def _language(self, session: AsyncSession, broadcast: Broadcast) -> str:
        """The organizer's language when the broadcast was created (`progress_lang`), else the one
        they chose since, else the configured default."""
        chosen = broadcast.progress_lang
        if chosen is None and broadcast.created_by is not None:
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

    async def _record(self, broadcast_id: int, at: datetime, text: str, *, message_id: int | None = None) -> None:
        async with self.sessions.begin() as session:
            broadcast = await store.get(session, broadcast_id)
            if broadcast is None:
                return
            broadcast.progress_text, broadcast.progress_shown_at = text, at
            if message_id is not None:
                broadcast.progress_message_id = message_id
