"""Bulk rows of the outbox (reminders, broadcasts: lanes 1 and 2) claimed by a sender, then recorded.

A claim takes up to `limit` due rows across recipients, in (priority, id) order, in one short
transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes claim different rows
without waiting for each other (on SQLite one process sends, under the lease `bulk-sender`).
A claimed row is leased (`sending`, owner, `not_before` = the lease's end): if its sender dies,
the lease expires, or a restarted process of the same instance takes it back at once
(`outbox.reclaim_leases`). What a claim finds instead of a row to send:
- a row past its `expires_at` (a reminder after its deadline): failed "expired", never sent;
- a row of a paused broadcast: the broadcast's waiting rows are parked in their own lane
  (`PARKED` + its id), out of the range claims read, so a pause costs one pass over its rows, not
  one per claim; `sweep` moves them back when it is resumed;
- a row of a broadcast no longer running (cancelled): its waiting rows become `cancelled`;
- a row of someone blocked: `block` (their waiting rows fail "blocked");
- a person with a message in flight, or whose chat bucket has no token yet: the row waits (its
  `not_before` moves to when the bucket has one).

Per-chat pacing holds across processes: on PostgreSQL the claim also locks each recipient's row
(`SKIP LOCKED`: a person another claim, a reply or a record holds is left for later) and, once
it holds them, looks again for their messages in flight with a fresh snapshot. So at most one
bulk message per person is in flight, a row is claimed only when the chat's bucket (a burst of
3, then 1 a second, charged when the send completes) has a token, and replies are charged in the
same bucket.

Outcomes are recorded in one transaction per batch, only for rows still leased to the owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .models import OUTBOX_WAITING, Broadcast, OutboxMessage, Person, Subscription
from .outbox import ChatPace, _tokens
from .repo import is_postgres

ERROR_LENGTH = 120  # Telegram's reason, kept short (it never quotes the message's text)
REMINDER, BROADCAST = 1, 2  # the lanes claims read (`bulk.Lane`), replies (0) apart
PARKED = 1_000_000  # a paused broadcast's rows wait in lane PARKED + its id, out of the claims' range
WAITING = ("pending", "sending")


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


def _claimable(at: datetime) -> ColumnElement[bool]:
    """Due rows of the bulk lanes: pending, or leased by a sender whose lease expired."""
    return and_(
        OutboxMessage.priority.between(REMINDER, BROADCAST),
        OUTBOX_WAITING,  # the partial index `ix_outbox_due`: rows in (priority, id) order, no sort
        OutboxMessage.not_before <= at,
    )


async def due(session: AsyncSession, at: datetime) -> bool:
    """Whether any bulk row is due: one probe of the partial index `ix_outbox_due` (reads only)."""
    return bool(await session.scalar(select(exists().where(_claimable(at)))))


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
    postgres = is_postgres(session)
    busy = aliased(OutboxMessage)
    in_flight = exists().where(
        busy.person_id == OutboxMessage.person_id,
        busy.status == "sending",
        busy.not_before > at,
        busy.id != OutboxMessage.id,
    )
    query = (
        select(OutboxMessage, Person.send_tokens, Person.send_refilled_at, Person.blocked, Broadcast.status)
        .join(Person, Person.id == OutboxMessage.person_id)
        .outerjoin(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
        .where(_claimable(at), ~in_flight)
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    if postgres:  # the rows and their people: a person another transaction holds waits for a later claim
        query = query.with_for_update(skip_locked=True, of=[OutboxMessage, Person])
    candidates = (await session.execute(query)).all()
    busy_now = await _in_flight(session, [row for row, *_ in candidates], at) if postgres else set()
    claimed: list[Claimed] = []
    people: set[int] = set()
    expired: list[int] = []
    halted: dict[int, str | None] = {}
    blocked: set[int] = set()
    for row, send_tokens, refilled_at, is_blocked, broadcast_status in candidates:
        person_id = row.person_id
        assert person_id is not None
        if row.expires_at is not None and row.expires_at <= at:
            expired.append(row.id)
        elif row.broadcast_id is not None and broadcast_status != "sending":
            halted[row.broadcast_id] = broadcast_status
        elif is_blocked:
            blocked.add(person_id)
        elif person_id in people or person_id in busy_now:
            continue  # one message in flight per person: the next one waits for a later claim
        else:
            tokens = _tokens(send_tokens, refilled_at, pace, at)
            if tokens < 1:
                row.status, row.lease_owner = "pending", None
                row.not_before = at + timedelta(seconds=(1 - tokens) / pace.per_second)
                continue
            people.add(person_id)
            row.status, row.not_before, row.lease_owner = "sending", at + lease, owner
            payload = dict(row.payload)
            claimed.append(Claimed(row.id, person_id, row.chat_id, payload, row.attempts, row.broadcast_id))
    if expired:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(expired))
            .values(status="failed", error="expired", lease_owner=None, payload={})
        )
    for broadcast_id, status in halted.items():
        await _halt(session, broadcast_id, status, at)
    for person_id in sorted(blocked):
        await block(session, person_id, at)
    return claimed


async def _in_flight(session: AsyncSession, rows: Sequence[OutboxMessage], at: datetime) -> set[int]:
    """People among the claim's with another message in flight, seen with a fresh snapshot (taken
    once their rows are locked: a claim that committed meanwhile is seen)."""
    people = {row.person_id for row in rows}
    if not people:
        return set()
    query = select(OutboxMessage.person_id).where(
        OutboxMessage.person_id.in_(people),
        OutboxMessage.status == "sending",
        OutboxMessage.not_before > at,
        OutboxMessage.id.not_in([row.id for row in rows]),
    )
    return {p for p in (await session.execute(query)).scalars() if p is not None}


async def _update_free(session: AsyncSession, where: ColumnElement[bool], values: dict[str, Any]) -> int:
    """Update the rows matching `where`; on PostgreSQL only those no other transaction holds (no
    waiting, hence no deadlock: the ones skipped are met again by a later claim or sweep)."""
    if is_postgres(session):
        free = select(OutboxMessage.id).where(where).with_for_update(skip_locked=True)
        where = OutboxMessage.id.in_(free.scalar_subquery())
    result = await session.execute(update(OutboxMessage).where(where).values(values))
    return int(getattr(result, "rowcount", 0) or 0)


def _waiting_of(broadcast_id: int, at: datetime) -> ColumnElement[bool]:
    """A broadcast's rows not sent yet and not in flight (a lease that expired is not in flight)."""
    return and_(
        OutboxMessage.broadcast_id == broadcast_id,
        or_(
            OutboxMessage.status == "pending",
            and_(OutboxMessage.status == "sending", OutboxMessage.not_before <= at),
        ),
    )


async def _halt(session: AsyncSession, broadcast_id: int, status: str | None, at: datetime) -> int:
    """A paused broadcast's waiting rows parked; a cancelled (or finished) one's cancelled."""
    if status == "paused":
        lane = OutboxMessage.priority == BROADCAST
        values: dict[str, Any] = {"priority": PARKED + broadcast_id, "status": "pending", "lease_owner": None}
    else:
        lane = OutboxMessage.priority.in_((BROADCAST, PARKED + broadcast_id))
        values = {"status": "cancelled", "lease_owner": None}
    return await _update_free(session, and_(_waiting_of(broadcast_id, at), lane), values)


async def sweep(session: AsyncSession, at: datetime) -> int:
    """Parked rows of broadcasts no longer paused: back in their lane (resumed), or cancelled.

    Reads one index probe per broadcast, writes only when there is something to move.
    """
    parked = exists().where(
        OutboxMessage.priority == PARKED + Broadcast.id,
        OutboxMessage.status.in_(WAITING),
    )
    query = select(Broadcast.id, Broadcast.status).where(Broadcast.status != "paused", parked)
    moved = 0
    for broadcast_id, status in (await session.execute(query)).all():
        where = and_(OutboxMessage.priority == PARKED + broadcast_id, OutboxMessage.status.in_(WAITING))
        if status == "sending":
            moved += await _update_free(session, where, {"priority": BROADCAST})
        else:
            moved += await _update_free(session, where, {"status": "cancelled", "lease_owner": None})
    return moved


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
    """Record a batch's outcomes (rows no longer leased to `owner` are left alone); how many were.

    A few statements per batch, whatever its size: the rows and the chat buckets are updated by
    primary key in one `executemany` each.
    """
    if not outcomes:
        return 0
    person_ids = sorted({o.person_id for o in outcomes})
    # The people's rows first, in id order, as every other writer does (a reply's record, an
    # erasure): one lock order, no deadlock. Their chat buckets are charged here. FOR NO KEY
    # UPDATE: a turn queueing a broadcast to one of them (a foreign key check) does not wait.
    people = select(Person.id, Person.send_tokens, Person.send_refilled_at).where(Person.id.in_(person_ids))
    if is_postgres(session):
        people = people.order_by(Person.id).with_for_update(key_share=True)
    buckets = {pid: (tokens, refilled) for pid, tokens, refilled in (await session.execute(people)).all()}
    leased = (
        select(OutboxMessage.id, OutboxMessage.priority, OutboxMessage.broadcast_id, Broadcast.status)
        .outerjoin(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
        .where(
            OutboxMessage.id.in_([o.id for o in outcomes]),
            OutboxMessage.lease_owner == owner,
            OutboxMessage.status == "sending",
        )
    )
    if is_postgres(session):
        leased = leased.with_for_update(of=OutboxMessage)
    # the others' leases expired: another sender took them
    mine = {row_id: (lane, bid, status) for row_id, lane, bid, status in (await session.execute(leased)).all()}
    rows: list[dict[str, Any]] = []
    charges: list[dict[str, Any]] = []
    blocked: list[int] = []
    for outcome in outcomes:
        if outcome.id not in mine:
            continue
        payload = payloads.get(outcome.id, {})
        lane, broadcast_id, broadcast_status = mine[outcome.id]
        row: dict[str, Any] = {
            "id": outcome.id,
            "priority": lane,
            "attempts": outcome.attempts,
            "lease_owner": None,
            "sent_at": None,
            "not_before": at,
            "error": outcome.error,
            "payload": _kept(payload),
        }
        if outcome.kind == "sent":
            row |= {"status": "sent", "sent_at": at, "error": None}
        elif outcome.kind == "retry" and broadcast_id is not None and broadcast_status == "paused":
            row |= {"status": "pending", "not_before": outcome.retry_at or at, "payload": payload}
            row["priority"] = PARKED + broadcast_id  # parked with the rest of its broadcast
        elif outcome.kind == "retry" and broadcast_id is not None and broadcast_status != "sending":
            row |= {"status": "cancelled", "error": None}  # cancelled meanwhile: not tried again
        elif outcome.kind == "retry":
            row |= {"status": "pending", "not_before": outcome.retry_at or at, "payload": payload}
        else:
            row |= {"status": "failed", "error": (outcome.error or outcome.kind)[:ERROR_LENGTH]}
        rows.append(row)
        bucket = buckets.get(outcome.person_id)
        if bucket is None:
            continue  # erased meanwhile: their rows went with them
        if outcome.reached:
            tokens = _tokens(bucket[0], bucket[1], pace, at)
            buckets[outcome.person_id] = (max(0.0, tokens - 1), at)
            charges.append(
                {"id": outcome.person_id, "send_tokens": buckets[outcome.person_id][0], "send_refilled_at": at}
            )
        if outcome.kind == "blocked":
            blocked.append(outcome.person_id)
    if rows:
        await session.execute(update(OutboxMessage), rows)
    if charges:
        latest = {charge["id"]: charge for charge in charges}  # one person twice in a batch: the last charge holds both
        await session.execute(update(Person), list(latest.values()))
    for person_id in sorted(set(blocked)):
        await block(session, person_id, at)
    return len(rows)


async def block(session: AsyncSession, person_id: int, at: datetime) -> None:
    """The person blocked the bot (Telegram answered 403, to a reply or a bulk message): marked
    blocked, their subscriptions ended, and every message of theirs still waiting (any lane, not
    in flight) failed "blocked": nothing more is sent to them until they write again.

    The person's row is written first, before any outbox row of theirs: the lock order of every
    writer (a claim, a record, a reply, an erasure)."""
    await session.execute(update(Person).where(Person.id == person_id).values(blocked=True))
    await session.execute(delete(Subscription).where(Subscription.person_id == person_id))
    waiting = or_(
        OutboxMessage.status == "pending",
        and_(OutboxMessage.status == "sending", OutboxMessage.not_before <= at),
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.person_id == person_id, waiting)
        .values(status="failed", error="blocked", payload={}, lease_owner=None)
    )
