"""Bulk rows of the outbox (reminders, broadcasts: lanes >= 1) claimed by a sender, then recorded.

A claim takes up to `limit` due rows across recipients, in (priority, id) order, in one short
transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes claim different rows
without waiting for each other (on SQLite one process sends, under the lease `bulk-sender`).
Skipped: rows of a broadcast that is not `sending` (paused, cancelled), rows of someone who
already has a message in flight, and rows of someone whose chat bucket has no token yet (those
wait: their `not_before` moves to when it has one). A claimed row is leased (`sending`, owner,
`not_before` = the lease's end): if its sender dies, the lease expires, or a restarted process
of the same instance takes it back at once (`outbox.reclaim_leases`).

Outcomes are recorded in one transaction per batch, only for rows still leased to the owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .models import Broadcast, OutboxMessage, Person, Subscription
from .outbox import ChatPace, _tokens
from .repo import is_postgres

ERROR_LENGTH = 120  # Telegram's reason, kept short (it never quotes the message's text)


@dataclass(frozen=True)
class Claimed:
    id: int
    person_id: int
    chat_id: int
    payload: dict[str, Any]
    attempts: int  # before this try
    broadcast_id: int | None


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row.

    `sent`; `retry` (pending again at `retry_at`: a 429, a network error, a 5xx); `failed` (with
    `error`: a 400's reason, or too many attempts); `blocked` (403: the person blocked the bot).
    """

    id: int
    person_id: int
    kind: Literal["sent", "retry", "failed", "blocked"]
    attempts: int
    error: str | None = None
    retry_at: datetime | None = None
    reached: bool = False  # the message counted in the chat's limit (sent, or refused with 429)


async def claim(
    session: AsyncSession,
    limit: int,
    pace: ChatPace,
    *,
    owner: str,
    at: datetime,
    lease: timedelta,
) -> list[Claimed]:
    """Up to `limit` due bulk rows, leased to `owner` (see the module's description)."""
    if limit <= 0:
        return []
    busy = aliased(OutboxMessage)
    in_flight = exists().where(
        busy.person_id == OutboxMessage.person_id,
        busy.status == "sending",
        busy.not_before > at,
        busy.id != OutboxMessage.id,
    )
    query = (
        select(OutboxMessage, Person.send_tokens, Person.send_refilled_at, Person.blocked)
        .join(Person, Person.id == OutboxMessage.person_id)
        .outerjoin(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
        .where(
            OutboxMessage.priority >= 1,
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.not_before <= at,
            or_(OutboxMessage.broadcast_id.is_(None), Broadcast.status == "sending"),
            ~in_flight,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    claimed: list[Claimed] = []
    people: set[int] = set()
    blocked: list[int] = []
    for row, send_tokens, refilled_at, is_blocked in (await session.execute(query)).all():
        person_id = row.person_id
        assert person_id is not None
        if is_blocked:
            blocked.append(row.id)
            continue
        if person_id in people:
            continue  # one message in flight per person: the next one waits for a later claim
        bucket = Person(send_tokens=send_tokens, send_refilled_at=refilled_at)
        tokens = _tokens(bucket, pace, at)
        if tokens < 1:
            row.status, row.lease_owner = "pending", None
            row.not_before = at + timedelta(seconds=(1 - tokens) / pace.per_second)
            continue
        people.add(person_id)
        row.status, row.not_before, row.lease_owner = "sending", at + lease, owner
        claimed.append(Claimed(row.id, person_id, row.chat_id, dict(row.payload), row.attempts, row.broadcast_id))
    if blocked:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(blocked))
            .values(status="failed", error="blocked", lease_owner=None, payload={})
        )
    return claimed


def _kept(payload: dict[str, Any]) -> dict[str, Any]:
    """What stays of a payload once sent or given up: a broadcast's marker, else the method only."""
    if payload.get("method") == "broadcast":
        return {"method": "broadcast", "lang": payload.get("lang")}
    return {"method": str(payload.get("method", "sendMessage"))}


async def record(
    session: AsyncSession,
    outcomes: Sequence[Outcome],
    payloads: dict[int, dict[str, Any]],
    pace: ChatPace,
    *,
    owner: str,
    at: datetime,
) -> int:
    """Record a batch's outcomes (rows no longer leased to `owner` are left alone); how many were."""
    if not outcomes:
        return 0
    person_ids = sorted({o.person_id for o in outcomes})
    # The people's rows first, in id order, as every other writer does (a reply's record, an
    # erasure): one lock order, no deadlock. Their chat buckets are charged here.
    query = select(Person).where(Person.id.in_(person_ids)).order_by(Person.id)
    if is_postgres(session):
        query = query.with_for_update()
    people = {p.id: p for p in (await session.execute(query)).scalars()}
    recorded = 0
    for outcome in outcomes:
        values: dict[str, Any] = {"attempts": outcome.attempts, "lease_owner": None}
        kept = _kept(payloads.get(outcome.id, {}))
        if outcome.kind == "sent":
            values |= {"status": "sent", "sent_at": at, "error": None, "payload": kept}
        elif outcome.kind == "retry":
            values |= {"status": "pending", "not_before": outcome.retry_at or at, "error": outcome.error}
        else:
            values |= {"status": "failed", "error": (outcome.error or outcome.kind)[:ERROR_LENGTH], "payload": kept}
        mine = (OutboxMessage.id == outcome.id) & (OutboxMessage.lease_owner == owner)
        result = await session.execute(
            update(OutboxMessage).where(mine, OutboxMessage.status == "sending").values(values)
        )
        if not int(getattr(result, "rowcount", 0) or 0):
            continue  # no longer ours (the lease expired and another sender took it)
        recorded += 1
        person = people.get(outcome.person_id)
        if person is None:
            continue  # erased meanwhile: their rows went with them
        if outcome.reached:
            person.send_tokens, person.send_refilled_at = max(0.0, _tokens(person, pace, at) - 1), at
        if outcome.kind == "blocked":
            await block(session, person)
    return recorded


async def block(session: AsyncSession, person: Person) -> None:
    """The person blocked the bot: marked blocked, their subscriptions ended, their other bulk
    messages failed "blocked" (nothing more is sent to them until they write again)."""
    person.blocked = True
    await session.execute(delete(Subscription).where(Subscription.person_id == person.id))
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.person_id == person.id,
            OutboxMessage.priority >= 1,
            OutboxMessage.status == "pending",
        )
        .values(status="failed", error="blocked", payload={}, lease_owner=None)
    )
