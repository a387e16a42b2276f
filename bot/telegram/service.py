"""The Telegram runtime: stores updates, applies them per person, and delivers replies."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InputFile, Update
from telegram.error import TelegramError

from rules import N_

from ..i18n import render
from ..render import Rendered
from ..storage import repo
from ..storage.models import InboxUpdate, Person
from .conversation import Conversation, read_update
from .payloads import to_payloads
from .sender import Sender

logger = logging.getLogger(__name__)


def person_and_chat(update: Update) -> tuple[int | None, int | None]:
    user = update.effective_user
    chat = update.effective_chat
    person = user.id if user is not None else (chat.id if chat is not None else None)
    return person, (chat.id if chat is not None else person)


def _where(error: BaseException) -> str:
    """The exception's type and place, without its message (which may quote a person's input)."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {place}"


@dataclass
class TelegramService:
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    conversation: Conversation
    sender: Sender
    retention_days: int

    async def store(self, update: Update) -> bool:
        """Record an update durably (before it is acknowledged); False if it was seen before."""
        person_id, _ = person_and_chat(update)
        async with self.sessions.begin() as session:
            return await repo.store_update(session, update.update_id, person_id, update.to_dict())

    async def handle(self, update: Update) -> None:
        """Store (if new) and apply this person's pending updates, then send the replies."""
        await self.store(update)
        person_id, chat_id = person_and_chat(update)
        if person_id is None or chat_id is None:
            await self._drop(update.update_id)
            return
        if update.callback_query is not None:
            await self._answer_callback(update)
        await self.drain(person_id, chat_id)

    async def _drop(self, update_id: int) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(InboxUpdate, update_id)
            if row is not None and row.processed_at is None:
                repo.mark_processed(row)

    async def _answer_callback(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as error:  # the press is still handled; the spinner just stays longer
            logger.warning("answerCallbackQuery failed: %s", type(error).__name__)

    async def drain(self, person_id: int, chat_id: int) -> None:
        """Apply every pending update of one person, in update_id order, in one transaction."""
        after: list[dict[str, Any]] = []
        try:
            async with self.sessions.begin() as session:
                person = await repo.lock_person(session, person_id, chat_id)
                for row in await repo.pending_updates(session, person_id):
                    payloads = await self._apply_one(session, person, row)
                    direct = [p for p in payloads if p.get("method") in ("forget", "mydata")]
                    queued = [p for p in payloads if p not in direct]
                    repo.mark_processed(row)
                    if any(p["method"] == "forget" for p in direct):
                        await repo.erase_person(session, person_id)
                        after = [*direct]
                        break
                    await repo.enqueue(session, person_id, chat_id, queued)
                    after += direct
        except Exception as error:
            logger.error("update handling failed for a person: %s", _where(error))
            await self._apologise(person_id, chat_id)
            return
        await self.sender.flush(person_id)
        for action in after:
            await self._direct(action, person_id, chat_id)

    async def _apply_one(self, session: AsyncSession, person: Person, row: InboxUpdate) -> list[dict[str, Any]]:
        if row.payload is None:
            return []
        update = Update.de_json(row.payload, self.bot)
        return await self.conversation.apply(session, person, read_update(update))

    async def _apologise(self, person_id: int, chat_id: int) -> None:
        """Something broke: mark the pending updates done (no loop) and say sorry; answers stay saved."""
        lang = self.conversation.default_language
        try:
            async with self.sessions.begin() as session:
                state = await repo.load_state(session, person_id)
                lang = str((state or {}).get("lang", lang))
                for row in await repo.pending_updates(session, person_id):
                    repo.mark_processed(row)
        except Exception as error:
            logger.error("could not mark updates after a failure: %s", _where(error))
        await self.sender.send_now(chat_id, to_payloads(Rendered(render(N_("error.internal"), lang))))

    async def _direct(self, action: dict[str, Any], person_id: int, chat_id: int) -> None:
        lang = str(action.get("lang", self.conversation.default_language))
        if action["method"] == "forget":
            await self.sender.send_now(chat_id, to_payloads(Rendered(render(N_("forget.done"), lang))))
            return
        async with self.sessions.begin() as session:
            document = await repo.export_person(session, person_id)
            state = document.get("dialog_state") or {}
            lang = str(state.get("lang", lang))
        content = json.dumps(document, ensure_ascii=False, indent=2).encode()
        caption = render(N_("mydata.caption"), lang)
        try:
            await self.bot.send_document(chat_id, InputFile(content, filename="mydata.json"), caption=caption)
        except TelegramError as error:
            logger.warning("sending /mydata failed: %s", type(error).__name__)
            await self.sender.send_now(chat_id, to_payloads(Rendered(render(N_("error.send_failed"), lang))))

    async def recover(self) -> None:
        """After a restart: apply updates stored but not applied, and send what is still queued."""
        async with self.sessions.begin() as session:
            pending = await repo.people_with_pending_updates(session)
        for person_id, chat_id in pending:
            await self.drain(person_id, chat_id)
        await self.sender.flush_all()

    async def purge(self) -> int:
        async with self.sessions.begin() as session:
            count = await repo.purge_expired(session, self.retention_days)
        if count:
            logger.info("retention: erased %d inactive people", count)
        return count

    async def background(self, interval: float = 30.0) -> None:
        """Retry due outbox messages and purge expired data, forever."""
        last_purge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.sender.flush_all()
                if loop.time() - last_purge > 3600:
                    await self.purge()
                    last_purge = loop.time()
            except Exception as error:
                logger.error("background task failed: %s", _where(error))
            await asyncio.sleep(interval)
