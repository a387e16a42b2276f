"""Delivery of queued replies: in order per person, with retries that respect Telegram's limits.

A message is leased in a short transaction, sent outside any transaction, then recorded:
- 429 (RetryAfter): wait the time Telegram asks, then try again (a few times), else later.
- Network errors, timeouts, 5xx: the message stays queued and is retried with backoff.
- 400: the same text once more as plain text without buttons, then given up.
- 403 (blocked): the person is marked blocked and their queue is dropped.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from ..storage import repo
from ..storage.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER = 30.0
BACKOFF = (1, 3, 10, 30, 120, 300)


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z][^>]*>", "", text))


class Sender:
    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession], *, patience: int = 3) -> None:
        self.bot = bot
        self.sessions = sessions
        self.patience = patience
        self._locks: dict[int, asyncio.Lock] = {}

    async def call(self, payload: dict[str, Any], chat_id: int) -> None:
        """One `sendMessage`; waits out a 429 up to `patience` times."""
        for attempt in range(self.patience + 1):
            try:
                await self.bot.send_message(
                    chat_id=chat_id,
                    text=payload["text"],
                    parse_mode=payload.get("parse_mode"),
                    reply_markup=payload.get("reply_markup"),
                )
                return
            except RetryAfter as error:
                wait = error.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                if attempt == self.patience or seconds > MAX_RETRY_AFTER:
                    raise
                await asyncio.sleep(seconds)

    async def send_now(self, chat_id: int, payloads: list[dict[str, Any]]) -> bool:
        """Send without queueing (an apology, the goodbye after /forget); True if all went out."""
        try:
            for payload in payloads:
                await self.call(payload, chat_id)
        except TelegramError as error:
            logger.warning("direct send failed: %s", type(error).__name__)
            return False
        return True

    async def flush(self, person_id: int) -> None:
        """Send one person's due messages, oldest first; stops at the first that must wait."""
        lock = self._locks.setdefault(person_id, asyncio.Lock())
        try:
            async with lock:
                while True:
                    async with self.sessions.begin() as session:
                        row = await repo.claim_next(session, person_id)
                        if row is None:
                            return
                        message_id, chat_id, payload, attempts = row.id, row.chat_id, dict(row.payload), row.attempts
                    if not await self._deliver(message_id, person_id, chat_id, payload, attempts + 1):
                        return
        finally:
            if not lock.locked():
                self._locks.pop(person_id, None)

    async def _deliver(
        self, message_id: int, person_id: int, chat_id: int, payload: dict[str, Any], attempts: int
    ) -> bool:
        """Send one leased message and record the outcome; False when the rest must wait."""
        outcome: dict[str, Any] = {"attempts": attempts}
        go_on = True
        try:
            await self.call(payload, chat_id)
            outcome |= {"status": "sent", "sent_at": repo.now(), "error": None, "payload": {"method": "sendMessage"}}
        except Forbidden:
            outcome |= {"status": "failed", "error": "blocked"}
            go_on = False
        except BadRequest as error:
            logger.warning("message refused by Telegram (%s); sending it as plain text", type(error).__name__)
            try:
                await self.call({"text": _plain(payload["text"])}, chat_id)
                outcome |= {"status": "sent", "sent_at": repo.now(), "error": "sent as plain text",
                            "payload": {"method": "sendMessage"}}  # fmt: skip
            except TelegramError:
                outcome |= {"status": "failed", "error": "bad request"}
        except TelegramError as error:
            delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
            outcome |= {"status": "pending", "not_before": repo.now() + timedelta(seconds=delay),
                        "error": type(error).__name__}  # fmt: skip
            logger.warning("send failed (%s); retry in %ss", type(error).__name__, delay)
            go_on = False
        async with self.sessions.begin() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**outcome))
            if outcome.get("error") == "blocked":
                await repo.set_blocked(session, person_id, True)
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.person_id == person_id, OutboxMessage.status == "pending")
                    .values(status="failed", error="blocked")
                )
        return go_on

    async def flush_all(self) -> None:
        """Everyone's due messages (retries after an outage, leftovers after a restart)."""
        async with self.sessions() as session:
            people = await repo.people_with_due_messages(session)
        for person_id in people:
            await self.flush(person_id)
