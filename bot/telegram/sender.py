"""Delivery of queued replies: in order per person, with retries that respect Telegram's limits.

A message is leased in a short transaction, sent outside any transaction, then recorded.
Sending waits for the flood limits first (`Throttle`), so Telegram should never answer 429; if
it does anyway:
- 429 (RetryAfter): the message waits the time Telegram asks, then the queue goes on.
- Network errors, timeouts, 5xx: the message stays queued and is retried with backoff.
- 400: the same text once more as plain text without buttons, then given up.
- 403 (blocked): `claims.block`, as for a bulk message: the person is marked blocked, their
  subscriptions end and everything still queued for them fails "blocked".
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from .. import faults
from ..clock import Clock, SystemClock
from ..config import FloodConfig
from ..storage import claims, outbox, rate
from ..storage.db import is_transient
from ..storage.group import GroupCommit
from ..storage.leases import Liveness, new_owner
from ..storage.models import OutboxMessage
from .locks import KeyedLocks
from .throttle import Bucket, Throttle

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER = 30.0
# An outbox row that stands for the person's data export: built from the database when it is sent,
# so the queue never holds personal data.
SEND_MY_DATA = "sendMyData"
DocumentBuilder = Callable[[int], Awaitable[tuple[str, bytes, str] | None]]


@dataclass(frozen=True)
class Claimed:
    """A message leased to this sender: what to send, and whether it is an erased person's goodbye."""

    id: int
    chat_id: int
    payload: dict[str, Any]
    attempts: int  # counting this one
    goodbye: bool


class Gone(Exception):
    """What a queued message was about no longer exists (the person was erased meanwhile)."""


BACKOFF = (0.5, 1, 2, 4, 8, 15, 30, 60)  # seconds before the next try of a queued reply


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z][^>]*>", "", text))


def retry_seconds(error: RetryAfter) -> float:
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


RECORD_WAIT = 5.0  # seconds a stop waits for outcomes being recorded
RECORD_TRIES = 3  # a record that meets a busy database or a deadlock is tried again...
RECORD_BACKOFF = 0.2  # ...after this many seconds, doubled each time (else its messages are sent again)
Results = tuple[int, dict[str, Any], bool]  # a claimed message's id, its outcome, whether it is a goodbye
Recording = tuple[int, list[Results]]  # a person's outcomes


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        flood: FloodConfig | None = None,
        *,
        patience: int = 3,
        instance: str = "local",
        clock: Clock | None = None,
        lease: timedelta = outbox.LEASE,
        burst_seconds: float = rate.BURST_SECONDS,
        claim_limit: int = 8,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        flood = flood or FloodConfig()
        self.throttle = Throttle(flood)
        self.pace = outbox.ChatPace(flood.per_chat_per_second, flood.per_chat_burst)
        # Replies never wait for the overall bucket shared with bulk senders, but count in it.
        self.overall_rate = flood.overall_per_second
        self.overall_capacity = rate.capacity_for(flood.overall_per_second, burst_seconds)
        self.clock = clock or SystemClock()
        # Leases carry their owner: this process of this instance; a successor reclaims them at once.
        self.instance = instance
        self.owner = new_owner(instance)
        self.liveness: Liveness | None = None  # set by the application: proves this owner alive
        self.lease = lease
        # Messages leased at once: all of them must be sent before the lease ends (see `build`)
        self.claim_limit = max(1, claim_limit)
        self.patience = patience
        self._locks = KeyedLocks()
        self._later: dict[int, tuple[float, asyncio.Task[None]]] = {}
        self._records = GroupCommit(self._write_outcomes)
        # This process's bucket of bulk sends at the moment they go (`BulkSender`): a reply counts in it
        self.spacing: Bucket | None = None
        self.documents: DocumentBuilder | None = None  # (filename, content, caption) of a person's export

    async def call(self, payload: dict[str, Any], chat_id: int, *, per_chat: bool = True) -> None:
        """One `sendMessage`, within the flood limits.

        `per_chat=False`: the chat is paced through the database only (its person's bucket); the
        send still counts in this process's bucket of the chat, for whatever is sent next.
        """
        await self.throttle.acquire(chat_id, per_chat=per_chat)
        if self.spacing is not None:  # counted where bulk sends leave: they yield to replies
            self.spacing.charge(time.monotonic())
        await self.bot.send_message(
            chat_id=chat_id,
            text=payload["text"],
            parse_mode=payload.get("parse_mode"),
            reply_markup=payload.get("reply_markup"),
        )

    async def _call_paced(self, payload: dict[str, Any], chat_id: int, per_chat: bool) -> None:
        await self.call(payload, chat_id, per_chat=per_chat)

    async def _paced(self, person_id: int | None, chat_id: int, send: Callable[[bool], Awaitable[None]]) -> None:
        """One direct send within the chat's limit: the person's shared bucket when they have a row
        (charged afterwards, so queued replies that follow wait too), else this process's bucket."""
        if person_id is None:
            await send(True)
            return
        async with self._locks(person_id):
            while True:
                async with self.sessions.begin() as session:
                    wait = await outbox.wait_for_token(session, person_id, self.pace, at=self.clock.now())
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            await send(False)
            async with self.sessions.begin() as session:
                await outbox.charge_send(session, person_id, self.pace, self.clock.now())
                await self._charge_overall(session)

    async def send_now(self, chat_id: int, payloads: list[dict[str, Any]], *, person_id: int | None = None) -> bool:
        """Send without queueing (an apology, the goodbye after /forget); True if all went out."""
        try:
            for payload in payloads:
                for attempt in range(self.patience + 1):
                    try:
                        await self._paced(person_id, chat_id, functools.partial(self._call_paced, payload, chat_id))
                        break
                    except RetryAfter as error:
                        if attempt == self.patience or retry_seconds(error) > MAX_RETRY_AFTER:
                            raise
                        await asyncio.sleep(retry_seconds(error))
        except TelegramError as error:
            logger.warning("direct send failed: %s", type(error).__name__)
            return False
        return True

    async def close(self) -> None:
        """Stop the delayed sends (their messages stay queued, sent at the next start), after the
        outcomes being recorded (a lease not recorded expires: its message is sent again)."""
        await self._records.settle(RECORD_WAIT)
        tasks = [task for _, task in self._later.values()]
        self._later.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def flush_later(self, person_id: int, seconds: float) -> None:
        """Resume a person's queue after a wait (flood pacing, Telegram's 429, a retry backoff)."""
        loop = asyncio.get_running_loop()
        wake = loop.time() + seconds
        scheduled = self._later.get(person_id)
        if scheduled is not None and not scheduled[1].done() and scheduled[0] <= wake:
            return

        async def later() -> None:
            await asyncio.sleep(seconds)
            self._later.pop(person_id, None)
            try:
                await self.flush(person_id)
            except Exception as error:  # the background retry loop will try again
                logger.error("delayed send failed: %s", type(error).__name__)

        if scheduled is not None:
            scheduled[1].cancel()
        self._later[person_id] = (wake, loop.create_task(later()))

    async def flush(self, person_id: int) -> None:
        """Send one person's due messages, oldest first; stops at the first that must wait.

        The due messages are claimed together (as many as the chat's flood bucket allows), sent
        one after the other, and their outcomes recorded together. A turn of the conversation
        claims its own replies in its transaction (`claim`) and hands them to `send_claimed`.
        """
        async with self._locks(person_id):
            while True:
                async with self.sessions.begin() as session:
                    claimed, wait, more = await self.claim(session, person_id)
                if not claimed:
                    if wait > 0:
                        self.flush_later(person_id, wait)
                    return
                if not (await self._send_and_record(person_id, claimed) and more):
                    return

    async def claim(
        self, session: AsyncSession, person_id: int, chat_id: int | None = None, *, person_locked: bool = False
    ) -> tuple[list[Claimed], float, bool]:
        """Lease the person's due messages to this sender in the caller's transaction (see
        `outbox.claim_due`; `chat_id`, when known, saves a statement, and so does `person_locked`,
        when the transaction holds the person's row already): what to send, how long to wait when
        nothing is due, and whether more wait."""
        rows, wait, more = await outbox.claim_due(
            session,
            person_id,
            self.pace,
            owner=self.owner,
            at=self.clock.now(),
            lease=self.lease,
            limit=self.claim_limit,
            chat_id=chat_id,
            person_locked=person_locked,
        )
        # a goodbye is an erased person's, in this chat before this person's
        claimed = [Claimed(r.id, r.chat_id, dict(r.payload), r.attempts + 1, r.person_id is None) for r in rows]
        return claimed, wait, more

    async def send_claimed(self, person_id: int, claimed: list[Claimed], more: bool) -> None:
        """Send messages leased by `claim` (committed), then whatever else is due."""
        async with self._locks(person_id):
            go_on = await self._send_and_record(person_id, claimed)
        if go_on and more:
            await self.flush(person_id)

    async def _send_and_record(self, person_id: int, claimed: list[Claimed]) -> bool:
        """Send leased messages one after the other and record the outcomes together; those
        behind one that must wait are given back, due again. False when the rest must wait."""
        results: list[Results] = []
        go_on = True
        for message in claimed:
            if go_on:
                outcome, go_on = await self._attempt(person_id, message.chat_id, message.payload, message.attempts)
            else:  # behind one that waits: due again, in its turn
                outcome = {"status": "pending", "not_before": self.clock.now(), "lease_owner": None}
            results.append((message.id, outcome, message.goodbye))
        await self._record(person_id, results)
        return go_on

    async def _send_queued(self, payload: dict[str, Any], person_id: int, chat_id: int) -> None:
        # Paced through the person's bucket in the database (shared by every process) and through
        # this process's bucket of the chat, which also remembers the chat's earlier people.
        if payload.get("method") != SEND_MY_DATA:
            await self.call(payload, chat_id)
            return
        built = await self.documents(person_id) if self.documents is not None else None
        if built is None:
            raise Gone
        filename, content, caption = built
        await self.throttle.acquire(chat_id)
        await self.bot.send_document(chat_id, InputFile(content, filename=filename), caption=caption)

    async def flush_unkeyed(self) -> None:
        """Messages to nobody's row (the goodbye after /forget): sent, then deleted, so that no trace
        of the chat stays; retried like the others until Telegram takes or refuses them for good."""
        async with self.sessions.begin() as session:
            rows = await outbox.claim_unkeyed(session, owner=self.owner, at=self.clock.now(), lease=self.lease)
            claimed = [(row.id, row.chat_id, dict(row.payload), row.attempts + 1) for row in rows]
        for message_id, chat_id, payload, attempts in claimed:
            retry: float | None = None
            try:
                await self.call(payload, chat_id)
                faults.crash_point("outbox.sent")
            except RetryAfter as error:
                retry = retry_seconds(error)
            except (Forbidden, BadRequest) as error:
                logger.warning("a goodbye was refused by Telegram (%s); dropped", type(error).__name__)
            except TelegramError as error:
                retry = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
                logger.warning("send failed (%s); retry in %ss", type(error).__name__, retry)
            async with self.sessions.begin() as session:
                row = await session.get(OutboxMessage, message_id)
                if row is None:
                    continue
                if retry is None:
                    await session.delete(row)
                else:
                    row.status, row.attempts, row.lease_owner = "pending", attempts, None
                    row.not_before = self.clock.now() + timedelta(seconds=retry)

    async def _attempt(
        self, person_id: int, chat_id: int, payload: dict[str, Any], attempts: int
    ) -> tuple[dict[str, Any], bool]:
        """Send one leased message: the outcome to record, and False when the rest must wait.

        Once a message is sent or given up, its text is dropped from the row (only the method
        stays); a goodbye's row is deleted, as nothing may remain of an erased person.
        """
        outcome: dict[str, Any] = {"attempts": attempts, "lease_owner": None}
        go_on = True
        method = str(payload.get("method", "sendMessage"))
        try:
            await self._send_queued(payload, person_id, chat_id)
            faults.crash_point("outbox.sent")
            outcome |= {"status": "sent", "sent_at": self.clock.now(), "error": None, "payload": {"method": method}}
        except Gone:
            outcome |= {"status": "failed", "error": "gone", "payload": {"method": method}}
        except RetryAfter as error:
            wait = retry_seconds(error)
            outcome |= {"status": "pending", "not_before": self.clock.now() + timedelta(seconds=wait), "error": "flood"}
            logger.warning("Telegram asked to wait %.1fs", wait)
            self.flush_later(person_id, wait)
            go_on = False
        except Forbidden:
            outcome |= {"status": "failed", "error": "blocked", "payload": {"method": method}}
            go_on = False
        except BadRequest as error:
            logger.warning("message refused by Telegram (%s)", type(error).__name__)
            outcome |= await self._as_plain_text(payload, chat_id, method)
        except TelegramError as error:
            delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
            outcome |= {
                "status": "pending",
                "not_before": self.clock.now() + timedelta(seconds=delay),
                "error": type(error).__name__,
            }
            logger.warning("send failed (%s); retry in %ss", type(error).__name__, delay)
            self.flush_later(person_id, delay)
            go_on = False
        return outcome, go_on

    async def _record(self, person_id: int, results: list[Results]) -> None:
        """The outcomes of claimed messages (id, outcome, goodbye), recorded in one transaction
        with those of other people that arrive while a record is being written (group commit:
        one transaction, and one charge of the overall bucket, for all of them). Returns once
        they are committed; one person's failure is theirs alone (see `GroupCommit`).

        A person whose row another transaction holds at that moment (their next turn, in another
        process) is left out of the batch, which never waits for anyone, and is recorded on their
        own, waiting for their row as any single writer does."""
        for attempt in range(RECORD_TRIES):
            try:
                await self._record_once(person_id, results)
                return
            except Exception as error:  # busy, away or a deadlock: tried again (else sent again later)
                if attempt + 1 == RECORD_TRIES or not is_transient(error):
                    raise
                logger.warning("recording sends failed (%s); trying again", type(error).__name__)
                await asyncio.sleep(RECORD_BACKOFF * 2**attempt)

    async def _record_once(self, person_id: int, results: list[Results]) -> None:
        if not await self._records.submit((person_id, results)):
            async with self.sessions.begin() as session:
                counted = await self._write_person(
                    session, person_id, results, await outbox.lock_chat_bucket(session, person_id)
                )
                if counted:
                    await self._charge_overall(session, counted)

    async def _write_outcomes(self, batch: list[Recording]) -> list[bool]:
        """A batch of records in one transaction: for each, whether it was written (False: the
        person's row was busy). Each person's row is locked before any outbox row of theirs, as
        every writer does (an erasure, a claim, a bulk record)."""
        async with self.sessions.begin() as session:
            buckets = await outbox.lock_chat_buckets(session, [person_id for person_id, _ in batch])
            counted = 0
            written: list[bool] = []
            for person_id, results in batch:
                bucket = buckets.pop(person_id, None)  # once per person: another record of theirs goes alone
                written.append(bucket is not None)
                if bucket is not None:
                    counted += await self._write_person(session, person_id, results, bucket)
            if counted:
                await self._charge_overall(session, counted)
        return written

    async def _write_person(
        self, session: AsyncSession, person_id: int, results: list[Results], bucket: outbox.Bucket | None
    ) -> int:
        """One person's outcomes, their row locked (`bucket`: their chat's bucket as read then,
        None if they were erased meanwhile); how many count as sent."""
        counted = 0
        blocked = False
        for message_id, outcome, goodbye in results:
            if goodbye and outcome.get("status") in ("sent", "failed"):
                row = (OutboxMessage.id == message_id) & (OutboxMessage.lease_owner == self.owner)
                await session.execute(delete(OutboxMessage).where(row))
            else:
                values = {f"{key}_": value for key, value in outcome.items()}
                statement = outbox.outcome_update(frozenset(outcome))
                await session.execute(statement, {"id_": message_id, "owner_": self.owner, **values})
            counted += outcome.get("status") == "sent" or outcome.get("error") == "flood"
            blocked = blocked or outcome.get("error") == "blocked"
        if counted and bucket is not None:  # None: erased meanwhile
            await outbox.charge_send(session, person_id, self.pace, self.clock.now(), counted, bucket)
        if blocked:  # as for a bulk message: one home for a 403
            await claims.block(session, person_id, self.clock.now())
        return counted

    async def _charge_overall(self, session: AsyncSession, count: int = 1) -> None:
        """Count replies in the overall bucket shared with the bulk senders (which slow down)."""
        await rate.charge(session, count, self.overall_rate, self.overall_capacity, self.clock.now())

    async def _as_plain_text(self, payload: dict[str, Any], chat_id: int, method: str) -> dict[str, Any]:
        """A message Telegram refused, sent once more without markup or buttons; else given up."""
        if method != SEND_MY_DATA:
            try:
                await self.call({"text": _plain(payload["text"])}, chat_id)
                sent = {"status": "sent", "sent_at": self.clock.now(), "error": "sent as plain text"}
                return sent | {"payload": {"method": method}}
            except TelegramError:
                pass
        return {"status": "failed", "error": "bad request", "payload": {"method": method}}

    async def flush_all(self) -> None:
        """Everyone's due messages (retries after an outage, leftovers after a restart)."""
        async with self.sessions() as session:
            people = await outbox.people_with_due_messages(session, self.clock.now())
        for person_id in people:
            await self.flush(person_id)
        await self.flush_unkeyed()
