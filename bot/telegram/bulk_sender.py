"""Sending bulk messages (reminders, broadcasts) within Telegram's limits, from every process.

A loop takes tokens from the overall bucket shared by every process (`storage.rate`), claims as
many due rows across recipients (`storage.claims`), sends them concurrently (at most
`concurrency` in flight), then records the outcomes in one transaction per batch:
- sent;
- 429: retried after `retry_after`, and this process's whole loop pauses that long;
- 403: the person is marked blocked, their subscriptions end, their other bulk rows fail "blocked";
- 400: failed with Telegram's reason (it never quotes the message);
- network errors, timeouts, 5xx: retried with backoff, failed after `attempts` tries.

An idle loop only reads: it probes for due rows before taking any token, and once a second looks
for parked rows of broadcasts resumed or cancelled (`claims.sweep`). A batch never raises (any
other error is an outcome: retried, then failed "internal"), its record is retried on a deadlock
or a busy database, and a stop waits for batches in flight at most `close_wait` seconds. When the
loop turns idle, and when it stops, it logs how many messages this process sent meanwhile (with
its owner id: which process did the work, never to whom).

On PostgreSQL every process runs this loop (rows are claimed with `SKIP LOCKED`); on SQLite only
the holder of the lease `bulk-sender` does. Conversation replies never go through here: they keep
their own direct path and are only counted in the shared bucket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from ..broadcasts.message import broadcast_payload
from ..clock import Clock, SystemClock
from ..config import FloodConfig
from ..storage import claims, rate
from ..storage.claims import Claimed, Outcome
from ..storage.db import failure
from ..storage.leases import hold, release
from ..storage.models import Broadcast
from ..storage.outbox import LEASE, ChatPace
from .sender import BACKOFF, retry_seconds
from .throttle import Bucket

logger = logging.getLogger(__name__)

LEASE_NAME = "bulk-sender"
IDLE = 0.5  # seconds between two looks for due rows when there are none
LEASE_RENEW = 2.0  # seconds between two renewals of the `bulk-sender` lease (SQLite)
SWEEP_EVERY = 1.0  # seconds between two looks for resumed or cancelled broadcasts' parked rows
SEND_BURST = 0.02  # seconds of the overall rate that may leave at once (`_space`)
RECORD_TRIES = 4  # a batch's record, retried on a deadlock or a busy database (else sent again later)
RECORD_BACKOFF = 0.05  # seconds before the second try, doubled each time
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class BulkSettings:
    batch: int = 50
    concurrency: int = 16
    attempts: int = 5
    burst_seconds: float = 0.1
    lease: timedelta = LEASE
    close_wait: float = 3.0  # seconds a stop waits for the batches in flight before cancelling them


class BulkSender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        flood: FloodConfig,
        *,
        owner: str,
        clock: Clock | None = None,
        settings: BulkSettings | None = None,
        single: bool = False,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`single`: only the holder of the lease `bulk-sender` sends (SQLite: one writer)."""
        self.bot = bot
        self.sessions = sessions
        self.rate = flood.overall_per_second
        self.settings = settings or BulkSettings()
        self.capacity = rate.capacity_for(self.rate, self.settings.burst_seconds)
        self.pace = ChatPace(flood.per_chat_per_second, flood.per_chat_burst)
        self.owner = owner
        self.clock = clock or SystemClock()
        # Tokens are taken from the shared bucket before a batch is sent; its sends also leave
        # this process at that rate and burst, counted when they go (`_space`).
        # Sends also leave this process at that rate, counted when they go, in bursts of at most
        # SEND_BURST seconds of it: with the requests still in flight, what reaches Telegram at
        # once stays under its burst even when a batch was held up after its tokens were taken.
        burst = max(1.0, min(self.capacity, self.rate * SEND_BURST))
        self.spacing = Bucket(self.rate, burst, burst, time.monotonic())
        self.single = single
        self.sleep = sleep  # the one place this module waits: tests drive it
        self._texts: dict[int, tuple[str, str]] = {}  # broadcast id -> (fr, en)
        self._batches: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._done = asyncio.Event()
        self._paused_until: datetime | None = None  # a 429: the whole loop waits
        self._lease_until: datetime | None = None
        self._idle = True  # the last claim found fewer rows than tokens: look for due rows first
        self._next_sweep: datetime | None = None
        self._sent = 0  # messages Telegram took from this process since the loop was last idle

    # the loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Send until cancelled; errors are logged by type and the loop goes on."""
        try:
            while True:
                try:
                    wait = await self.step()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    logger.error("bulk sending failed: %s", type(error).__name__)
                    wait = IDLE
                if wait > 0:
                    await self._wait(wait)
        finally:
            await self.close()

    async def _wait(self, seconds: float) -> None:
        """Sleep, but wake early when a batch finishes (its slots are free again)."""
        self._done.clear()
        if self._in_flight == 0:
            await self.sleep(seconds)
            return
        waiter = asyncio.ensure_future(self._done.wait())
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait([waiter, sleeper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()

    async def step(self) -> float:
        """Take tokens, claim that many rows and start sending them; seconds before the next step."""
        now = self.clock.now()
        if self._paused_until is not None and now < self._paused_until:
            return (self._paused_until - now).total_seconds()
        if self.single and not await self._hold_lease(now):
            return LEASE_RENEW
        slots = self.settings.concurrency - self._in_flight
        want = min(self.settings.batch, slots)
        if want <= 0:
            return IDLE  # woken earlier when a batch finishes
        if self._next_sweep is None or now >= self._next_sweep:
            self._next_sweep = now + timedelta(seconds=SWEEP_EVERY)
            async with self.sessions.begin() as session:
                await claims.sweep(session, now)
        if self._idle:  # an idle bot reads, it does not write: tokens are taken only for due rows
            async with self.sessions() as session:
                if not await claims.due(session, now):
                    if self._in_flight == 0:
                        self._report("none due now")
                    return IDLE
        async with self.sessions.begin() as session:
            granted, wait = await rate.take(
                session, want, self.rate, self.capacity, now, at_least=min(want, int(self.capacity))
            )
        if not granted:
            return wait
        async with self.sessions.begin() as session:
            rows = await claims.claim(session, granted, self.pace, owner=self.owner, at=now, lease=self.settings.lease)
            await rate.give_back(session, granted - len(rows), self.rate, self.capacity, now)
        self._idle = len(rows) < granted
        if not rows:
            return IDLE
        self._in_flight += len(rows)
        task = asyncio.create_task(self._send_batch(rows))
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)
        return 0.0

    async def _hold_lease(self, now: datetime) -> bool:
        if self._lease_until is not None and now < self._lease_until - timedelta(seconds=LEASE_RENEW * 2):
            return True
        ttl = timedelta(seconds=LEASE_RENEW * 5)
        async with self.sessions.begin() as session:
            held = await hold(session, LEASE_NAME, self.owner, now, ttl)
        self._lease_until = now + ttl if held else None
        return held

    async def drain(self) -> None:
        """Wait for every batch in flight to be sent and recorded."""
        while self._batches:
            await asyncio.gather(*list(self._batches), return_exceptions=True)

    async def close(self) -> None:
        """Give the batches in flight `close_wait` seconds, then cancel them (their rows stay leased
        and are taken back: by this instance's next process at once, else when the lease expires);
        then give the lease up. Never waits longer than that, whatever hangs."""
        if not await self._settled(list(self._batches), self.settings.close_wait):
            late = list(self._batches)
            logger.warning("stopping with %d bulk batch(es) in flight; their rows are sent later", len(late))
            for task in late:
                task.cancel()
            await self._settled(late, 1.0)
        self._report("stopping")
        if self.single and self._lease_until is not None:
            try:
                async with self.sessions.begin() as session:
                    await release(session, LEASE_NAME, self.owner)
            except Exception as error:
                logger.warning("could not release the bulk-sender lease: %s", failure(error))
            self._lease_until = None

    def _report(self, why: str) -> None:
        """One line per run of work, not per batch: which process sent how many (no one's details)."""
        if self._sent:
            logger.info("bulk sender %s sent %d message(s); %s", self.owner, self._sent, why)
            self._sent = 0

    async def _settled(self, tasks: list[asyncio.Task[None]], seconds: float) -> bool:
        """Wait for `tasks` at most `seconds` (through `sleep`); whether they all finished."""
        pending = {task for task in tasks if not task.done()}
        if not pending:
            return True
        timer = asyncio.ensure_future(self.sleep(seconds))
        try:
            while pending and not timer.done():
                await asyncio.wait([*pending, timer], return_when=asyncio.FIRST_COMPLETED)
                pending = {task for task in pending if not task.done()}
        finally:
            timer.cancel()
        return not pending

    # one batch ----------------------------------------------------------------------------
    async def _send_batch(self, rows: list[Claimed]) -> None:
        try:
            results = await asyncio.gather(*(self._send_one(row) for row in rows), return_exceptions=True)
            outcomes = [
                result if isinstance(result, Outcome) else self._internal(row, result)
                for row, result in zip(rows, results, strict=True)
            ]
            self._sent += sum(outcome.kind == "sent" for outcome in outcomes)
            await self._record(outcomes, {row.id: row.payload for row in rows})
        except Exception as error:  # the rows stay leased; their lease expires and they are retried
            logger.error("recording a bulk batch failed: %s", type(error).__name__)
        finally:
            self._in_flight -= len(rows)
            self._done.set()

    async def _record(self, outcomes: list[Outcome], payloads: dict[int, dict[str, Any]]) -> None:
        """Record a batch, retried on a deadlock or a busy database: a batch not recorded is sent
        again, row by row, once its lease expires."""
        for attempt in range(RECORD_TRIES):
            try:
                async with self.sessions.begin() as session:
                    await claims.record(session, outcomes, payloads, self.pace, owner=self.owner, at=self.clock.now())
                return
            except DBAPIError as error:  # OperationalError among them
                if attempt + 1 == RECORD_TRIES:
                    raise
                logger.warning("recording a bulk batch failed (%s); trying again", type(error).__name__)
                await self.sleep(RECORD_BACKOFF * 2**attempt)

    async def _payload(self, row: Claimed) -> dict[str, Any] | None:
        payload = row.payload
        if payload.get("method") != "broadcast":
            return payload
        if row.broadcast_id is None:
            return None
        texts = self._texts.get(row.broadcast_id)
        if texts is None:
            async with self.sessions() as session:
                broadcast = await session.get(Broadcast, row.broadcast_id)
            if broadcast is None:
                return None
            if len(self._texts) > 64:
                self._texts.clear()
            texts = self._texts[row.broadcast_id] = (broadcast.text_fr, broadcast.text_en)
        lang = "en" if payload.get("lang") == "en" else "fr"
        return broadcast_payload(texts[1] if lang == "en" else texts[0], lang)

    async def _space(self) -> None:
        """Wait until one more send keeps within the rate and burst, counted when it goes: a batch
        held up after its tokens were taken (a stalled event loop, a slow disk) does not reach
        Telegram together with the next one, which the shared bucket has allowed meanwhile."""
        while True:  # on the monotonic clock: a few milliseconds between sends, whatever the bot's clock
            wait = self.spacing.delay(time.monotonic())
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _send_one(self, row: Claimed) -> Outcome:
        attempts = row.attempts + 1
        try:
            payload = await self._payload(row)
            if payload is None:
                return Outcome(row.id, row.person_id, "failed", attempts, error="gone")
            await self._space()
            await self.bot.send_message(
                chat_id=row.chat_id,
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=payload.get("reply_markup"),
            )
            return Outcome(row.id, row.person_id, "sent", attempts, reached=True)
        except RetryAfter as error:
            wait = retry_seconds(error)
            until = self.clock.now() + timedelta(seconds=wait)
            if self._paused_until is None or self._paused_until < until:
                self._paused_until = until
            logger.warning("Telegram asked to wait %.1fs; bulk sending paused", wait)
            # a 429 is not the message's fault: it does not count as a try
            return Outcome(row.id, row.person_id, "retry", row.attempts, error="flood", retry_at=until, reached=True)
        except Forbidden:
            return Outcome(row.id, row.person_id, "blocked", attempts, error="blocked")
        except BadRequest as error:
            logger.warning("bulk message refused by Telegram (400)")
            return Outcome(row.id, row.person_id, "failed", attempts, error=f"bad request: {error.message}")
        except TelegramError as error:  # network errors, timeouts, 5xx
            return self._again(row, attempts, type(error).__name__)
        except Exception as error:  # never raises: a broken row (its broadcast unreadable, a bad payload)
            return self._internal(row, error)

    def _internal(self, row: Claimed, error: BaseException) -> Outcome:
        logger.error("bulk message could not be sent: %s", type(error).__name__)
        return self._again(row, row.attempts + 1, "internal")

    def _again(self, row: Claimed, attempts: int, reason: str) -> Outcome:
        """Retried with backoff, failed after `attempts` tries."""
        if attempts >= self.settings.attempts:
            logger.warning("bulk message given up after %d tries (%s)", attempts, reason)
            error = "internal" if reason == "internal" else f"{reason} after {attempts} tries"
            return Outcome(row.id, row.person_id, "failed", attempts, error=error)
        delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
        retry_at = self.clock.now() + timedelta(seconds=delay)
        return Outcome(row.id, row.person_id, "retry", attempts, error=reason, retry_at=retry_at)
