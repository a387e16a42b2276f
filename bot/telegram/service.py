"""The Telegram transport: stores updates, hands them to the conversation service, delivers replies.

Each update is stored in the inbox before it is acknowledged (webhook) or confirmed (polling).
Handling it opens one turn of the conversation service (the person's row locked), applies every
pending update of that person in update_id order, and queues the replies in the outbox in the
same transaction; the replies are sent after the commit. The /mydata export is queued as a
marker (the document is built when it is sent) and the goodbye after /forget in a row of
nobody's: nothing personal stays queued.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, Update
from telegram.error import TelegramError

from rules import N_, Message

from .. import faults
from ..i18n import as_language, render
from ..render import Rendered
from ..services import ConversationService, Effect, Erased, Input, PersonKey, Reply, SendDocument
from ..storage import outbox, repo
from ..storage.db import is_transient
from ..storage.group import GroupCommit
from .bulk_sender import BulkSender
from .jobs import LeasedJob
from .payloads import merge_short, to_payloads
from .sender import SEND_MY_DATA, Claimed, Sender
from .updates import GroupPost, Membership, chat_of, inbox_key, read_stored, storage_key

logger = logging.getLogger(__name__)

PURGE_EVERY = 3600.0  # seconds between two retention purges; the first one this long after the start


def where(error: BaseException) -> str:
    """The exception's type and place, without its message (which may quote a person's input)."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {place}"


@dataclass
class TelegramService:
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    conversations: ConversationService
    sender: Sender
    retention_days: int
    username: str | None = None  # the bot's own @username, known after getMe
    # Periodic jobs one process at a time runs (reminders, broadcast progress): `serve()` runs them
    jobs: list[LeasedJob] = field(default_factory=list)
    bulk: BulkSender | None = None  # reminders and broadcasts, run by `serve()` in every process

    # Updates stored by this process and not yet handled, by id: `handle` neither stores them again
    # nor checks that they are still pending (a redelivery or another process's update is checked),
    # and the turn uses them as parsed instead of parsing what was stored.
    _fresh: dict[int, Update] = field(default_factory=dict, init=False, repr=False)
    _stores: GroupCommit[tuple[Update, dict[str, Any] | None], bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._stores = GroupCommit(self._store_together)

    async def store(self, update: Update, raw: dict[str, Any] | None = None) -> bool:
        """Record an update durably (before it is acknowledged); False if it was seen before.
        `raw`: the update as Telegram sent it, stored as it is (else rebuilt from the parsed one).
        Updates stored at the same moment (webhook calls) share a transaction (group commit)."""
        return await self._stores.submit((update, raw))

    async def _store_together(self, updates: list[tuple[Update, dict[str, Any] | None]]) -> list[bool]:
        """`store` for several updates in one transaction: for each, whether it is new (an update
        delivered twice within the batch is new once, the first time)."""
        unique: dict[int, tuple[Update, dict[str, Any] | None]] = {}
        for update, raw in updates:
            unique.setdefault(update.update_id, (update, raw))
        new = await self.store_many(list(unique.values()))
        fresh: list[bool] = []
        for update, _ in updates:
            fresh.append(update.update_id in new)
            new.discard(update.update_id)
        return fresh

    async def store_many(self, updates: Sequence[tuple[Update, dict[str, Any] | None]]) -> set[int]:
        """Record a batch of updates (parsed, and as sent when known) durably in one transaction
        (a `getUpdates` answer, before its offset is confirmed); the ids of those not seen before."""
        rows = [(update.update_id, *storage_key(update, raw)) for update, raw in updates]
        async with self.sessions.begin() as session:
            new = await repo.store_updates(session, rows, self.conversations.clock.now())
        faults.crash_point("inbox.stored")
        self._fresh.update((update.update_id, update) for update, _ in updates if update.update_id in new)
        return new

    async def handle(self, update: Update) -> None:
        """Store (if new) and apply the pending updates it belongs to, then send the replies."""
        try:
            fresh = update.update_id in self._fresh or await self.store(update)
            key = inbox_key(update)
            if update.callback_query is not None:
                await self._answer_callback(update)
            if key is None:
                await self.handle_unkeyed()
                return
            await self.drain(PersonKey.parse(key), known_pending=fresh)
        finally:
            self._fresh.pop(update.update_id, None)

    async def _answer_callback(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as error:  # the press is still handled; the spinner just stays longer
            logger.warning("answerCallbackQuery failed: %s", type(error).__name__)

    async def handle_unkeyed(self) -> None:
        """Updates about no person: a group is told once to write privately; the rest is dropped."""
        notices: list[GroupPost] = []
        async with self.sessions.begin() as session:
            for row in await repo.unkeyed_pending_updates(session):
                reading = read_stored(row.payload, None, self.username)
                repo.mark_processed(row, self.conversations.clock.now())
                if isinstance(reading, GroupPost) and await repo.first_group_notice(
                    session, reading.chat_id, self.conversations.clock.now()
                ):
                    notices.append(reading)
        for notice in notices:
            lang = as_language(notice.language_hint, self.conversations.default_language)
            link = f"https://t.me/{self.username}" if self.username else "Telegram"
            text = render(Message(N_("group.private_only"), {"link": link}), lang)
            await self.sender.send_now(notice.chat_id, to_payloads(Rendered(text)))

    async def drain(self, key: PersonKey, *, known_pending: bool = False) -> None:
        """Apply every pending update of one person, in update_id order, in one turn.

        `known_pending`: one of them was just stored here, so there is no need to look first
        (the look keeps a redelivery from creating anyone's row).

        Every answer is queued in the outbox in the same transaction, so none is lost to a crash:
        replies as Bot API payloads, the /mydata export as a marker (the document is built from
        the database when it is sent: the queue holds nothing personal), and the goodbye after
        /forget as a message to nobody's row, deleted once sent.
        """
        if not known_pending:
            async with self.sessions() as session:
                if not await repo.pending_updates(session, str(key)):
                    return  # applied already (a redelivery, another process): nobody to create
        person_id: int | None = None
        erased = discarded = more = False
        claimed: list[Claimed] = []
        hint: str | None = None  # the person's language as Telegram tells it, for an apology
        try:
            async with self.conversations.turn(key) as turn:
                person_id = turn.person.id
                now = self.conversations.clock.now
                applied: list[int] = []
                for update_id, payload in await repo.pending_inbox(turn.session, str(key)):
                    applied.append(update_id)
                    parsed = self._fresh.get(update_id) or self._parse(payload)
                    reading = read_stored(payload, parsed, self.username)
                    if isinstance(reading, Membership):
                        turn.mark_reachable(reading.reachable)
                    if not isinstance(reading, Input):
                        continue
                    hint = reading.language_hint or hint
                    queued, farewells = self._queue(await turn.apply(reading))
                    for farewell in farewells:
                        await outbox.enqueue(turn.session, None, chat_of(key), farewell, "farewell", now())
                    if turn.erased:
                        break  # what the person sent after confirming starts a new conversation
                    # someone not to remember (a stale button, a block) is answered from no row
                    owner = None if turn.discarded else person_id
                    await outbox.enqueue(turn.session, owner, chat_of(key), queued, at=now())
                await repo.mark_applied(turn.session, applied, now())
                erased, discarded = turn.erased, turn.discarded
                if not (erased or discarded):  # the replies leased in this transaction: sent right after it
                    claimed, _, more = await self.sender.claim(
                        turn.session, person_id, chat_of(key), person_locked=True
                    )
        except Exception as error:
            if is_transient(error):  # the database is busy or away, or broke a deadlock: retried later
                logger.warning("updates left for a retry: %s", where(error))
                return
            logger.error("update handling failed for a person: %s", where(error))
            await self._apologise(key, hint)
            return
        faults.crash_point("turn.committed")
        if erased or discarded:
            await self.sender.flush_unkeyed()
        if erased:
            await self.drain(key)  # messages sent after the confirmation, if any
        elif claimed:
            await self.sender.send_claimed(person_id, claimed, more)
        elif person_id is not None and not discarded:
            await self.sender.flush(person_id)  # replies waiting behind others (flood pacing, a retry)

    @staticmethod
    def _queue(effects: list[Effect]) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
        """Effects as outbox payloads, in order (short sentences joined to the message after them),
        and the goodbyes, which go to nobody's row."""
        queued: list[dict[str, Any]] = []
        farewells: list[list[dict[str, Any]]] = []
        run: list[Rendered] = []
        for effect in [*effects, None]:
            if isinstance(effect, Reply):
                run.append(effect.message)
                continue
            queued += [payload for message in merge_short(run) for payload in to_payloads(message)]
            run = []
            if isinstance(effect, SendDocument):
                queued.append({"method": SEND_MY_DATA})
            elif isinstance(effect, Erased):
                farewells.append(to_payloads(effect.farewell))
        return queued, farewells

    async def document(self, person_id: int) -> tuple[str, bytes, str] | None:
        """The person's data export, built now from the database (None if they were erased)."""
        built = await self.conversations.export_document(person_id)
        return None if built is None else (built.filename, built.content, built.caption)

    def _parse(self, payload: dict[str, Any] | None) -> Update | None:
        if payload is None or "group_post" in payload:
            return None
        try:
            return Update.de_json(payload, self.bot)
        except Exception as error:  # stored by an older version, or malformed: skipped, not retried
            logger.warning("stored update could not be read: %s", type(error).__name__)
            return None

    async def _apologise(self, key: PersonKey, hint: str | None) -> None:
        """Something broke: mark the pending updates done (no loop) and say sorry; answers stay saved."""
        lang = as_language(hint, self.conversations.default_language)
        person_id: int | None = None
        try:
            lang = await self.conversations.stored_language(key, lang)
            async with self.sessions.begin() as session:
                for row in await repo.pending_updates(session, str(key)):
                    repo.mark_processed(row)
                person = await repo.find_person(session, key.channel, key.external_id)
                person_id = person.id if person is not None else None
        except Exception as error:
            logger.error("could not mark updates after a failure: %s", where(error))
        apology = to_payloads(Rendered(render(N_("error.internal"), lang)))
        await self.sender.send_now(chat_of(key), apology, person_id=person_id)

    async def recover(self) -> None:
        """After a restart: apply updates stored but not applied, and send what is still queued."""
        async with self.sessions.begin() as session:
            liveness = self.sender.liveness
            reclaimed = await outbox.reclaim_leases(
                session,
                self.sender.instance,
                self.sender.owner,
                self.conversations.clock.now(),
                alive=liveness.alive if liveness is not None else None,
            )
            pending = await repo.people_with_pending_updates(session)
        if reclaimed:
            logger.info("took back %d message(s) a previous process was sending", reclaimed)
        await self.handle_unkeyed()
        for key in pending:
            await self.drain(PersonKey.parse(key))
        await self.sender.flush_all()

    async def purge(self) -> int:
        async with self.sessions.begin() as session:
            count = await repo.purge_expired(session, self.retention_days, self.conversations.clock.now())
        if count:
            logger.info("retention: erased %d inactive people", count)
            await self.conversations.scrub()
        return count

    async def retry_stalled(self, older_than: float = 5.0) -> None:
        """Updates stored but still not applied a while later (the database was busy or away)."""
        moment = self.conversations.clock.now() - timedelta(seconds=older_than)
        async with self.sessions() as session:
            stalled = await repo.people_with_pending_updates(session, received_before=moment)
        await self.handle_unkeyed()
        for key in stalled:
            await self.drain(PersonKey.parse(key))

    async def background(self, interval: float = 30.0) -> None:
        """Retry stalled updates and due outbox messages, and purge expired data, forever.

        The first purge comes `PURGE_EVERY` after the start, never at it: a process that starts
        (or restarts) does not erase anyone before it has been running a while.
        """
        loop = asyncio.get_running_loop()
        last_purge = loop.time()  # the start: a monotonic clock, whatever the machine's uptime
        while True:
            try:
                await self.retry_stalled()
                await self.sender.flush_all()
                if loop.time() - last_purge >= PURGE_EVERY:
                    await self.purge()
                    last_purge = loop.time()
            except Exception as error:
                logger.error("background task failed: %s", where(error))
            await asyncio.sleep(interval)
