"""Telegram's overall limit as one token bucket in the database, shared by every sender process.

The bucket (`RateBucket` row `overall`) fills at `rate` tokens a second up to `capacity`. Bulk
senders take tokens before sending (`take`); conversation replies never wait for it but are
counted (`charge`), which can leave the bucket in debt: bulk sending then slows down until the
total is back under the limit. Keep `capacity` a fraction of a second of the rate, so that no
one-second window holds more than the rate plus that small burst.

Each call is one short transaction on the caller's session: on PostgreSQL the row is locked
(`FOR UPDATE`) so concurrent processes take tokens one after the other; SQLite has one writer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .leases import dialect_insert
from .models import RateBucket, table
from .repo import is_postgres

OVERALL = "overall"
BURST_SECONDS = 0.1  # the default capacity, in seconds of the rate


# Built once: every reply and every bulk batch reads and writes the bucket.
BUCKETS = table(RateBucket)  # Core statements (see `models.table`)
BUCKET = select(BUCKETS.c.tokens, BUCKETS.c.refilled_at).where(BUCKETS.c.name == bindparam("name_"))
BUCKET_LOCKED = BUCKET.with_for_update()
STORE = (
    update(BUCKETS)
    .where(BUCKETS.c.name == bindparam("name_"))
    .values(tokens=bindparam("tokens_"), refilled_at=bindparam("at_"))
)


@dataclass(frozen=True)
class _Bucket:
    tokens: float
    refilled_at: datetime


async def _bucket(session: AsyncSession, name: str, capacity: float, at: datetime) -> _Bucket:
    """The bucket as stored (locked on PostgreSQL until the transaction ends); created full if new."""
    query = BUCKET_LOCKED if is_postgres(session) else BUCKET
    row = (await session.execute(query, {"name_": name})).first()
    if row is None:  # the first use: created full (two processes at once: one insert wins)
        insert = dialect_insert(session)
        statement = insert(RateBucket).values(name=name, tokens=capacity, refilled_at=at)
        await session.execute(statement.on_conflict_do_nothing(index_elements=[RateBucket.name]))
        row = (await session.execute(query, {"name_": name})).one()
    return _Bucket(float(row.tokens), row.refilled_at)


async def _store(session: AsyncSession, name: str, tokens: float, refilled_at: datetime) -> None:
    """One cached UPDATE (the rows are never loaded as objects: no unit of work to flush)."""
    await session.execute(STORE, {"name_": name, "tokens_": tokens, "at_": refilled_at})


def _refilled(bucket: _Bucket, rate: float, capacity: float, at: datetime) -> float:
    elapsed = max(0.0, (at - bucket.refilled_at).total_seconds())
    return min(capacity, bucket.tokens + elapsed * rate)


async def take(
    session: AsyncSession,
    want: int,
    rate: float,
    capacity: float,
    at: datetime,
    *,
    at_least: int = 1,
    name: str = OVERALL,
) -> tuple[int, float]:
    """Up to `want` tokens now: (how many were granted, seconds to wait before asking again).

    Nothing is granted while fewer than `at_least` (at most `want` and the capacity) are there:
    the wait then says when they will be, so a sender takes batches, not one token at a time.
    """
    bucket = await _bucket(session, name, capacity, at)
    tokens = _refilled(bucket, rate, capacity, at)
    least = max(1, min(at_least, want, math.floor(capacity)))
    available = math.floor(tokens + 1e-9)
    granted = max(0, min(want, available)) if available >= least else 0
    if granted:  # nothing granted, nothing written: the refill is computed from the stored moment
        await _store(session, name, tokens - granted, max(at, bucket.refilled_at))
    wait = 0.0 if granted else (least - tokens) / rate
    return granted, wait


async def give_back(
    session: AsyncSession, count: int, rate: float, capacity: float, at: datetime, *, name: str = OVERALL
) -> None:
    """Return tokens taken but not used (fewer messages were due than tokens taken)."""
    if count > 0:
        bucket = await _bucket(session, name, capacity, at)
        tokens = _refilled(bucket, rate, capacity, at)
        await _store(session, name, min(capacity, tokens + count), max(at, bucket.refilled_at))


async def charge(
    session: AsyncSession, count: int, rate: float, capacity: float, at: datetime, *, name: str = OVERALL
) -> None:
    """Count `count` messages sent without taking tokens first (replies): the bucket may go into
    debt (down to one second of the rate), which bulk sending then waits out."""
    if count > 0:
        bucket = await _bucket(session, name, capacity, at)
        tokens = _refilled(bucket, rate, capacity, at)
        await _store(session, name, max(-rate, tokens - count), max(at, bucket.refilled_at))


def capacity_for(rate: float, burst_seconds: float) -> float:
    """The bucket's capacity: `burst_seconds` of the rate, at least one message."""
    return max(1.0, rate * burst_seconds)
