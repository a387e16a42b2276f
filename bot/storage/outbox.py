"""The outbox: replies written in the same transaction as the state that produced them, sent later.

Every function takes the moment to act at (`at`), so tests and the sender share one clock.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import OUTBOX_WAITING, OutboxMessage, Person, table
from .repo import is_postgres, now

LEASE = timedelta(seconds=30)  # longer than one send (read timeout); a dead sender's lease expires
RECHECK = 0.2  # seconds before a claim looks again at a message another sender holds


@dataclass(frozen=True)
class ChatPace:
    """Telegram's per-chat limit: `burst` messages at once, then `per_second`."""

    per_second: float = 1.0
    burst: int = 3


async def enqueue(
    session: AsyncSession,
    person_id: int | None,
    chat_id: int,
    payloads: Iterable[dict[str, Any]],
    kind: str = "reply",
    at: datetime | None = None,
) -> None:
    moment = at or now()
    rows = [
        {
            "person_id": person_id,
            "chat_id": chat_id,
            "kind": kind,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "not_before": moment,
            "created_at": moment,
        }
        for payload in payloads
    ]
    if rows:  # one statement built once, the rows in order (ids ascending)
        await session.execute(ENQUEUE, rows)


# The statements of every turn, built once on the tables (Core: see `models.table`).
OUT, PEOPLE = table(OutboxMessage), table(Person)
ENQUEUE = insert(OUT)
CHAT_BUCKET = select(PEOPLE.c.send_tokens, PEOPLE.c.send_refilled_at).where(PEOPLE.c.id == bindparam("id_"))
# FOR NO KEY UPDATE: a writer of the row (a turn, an erasure) waits, a foreign key check does not
# (a staff member's turn queueing a broadcast to this person holds their own row meanwhile).
CHAT_BUCKET_LOCKED = CHAT_BUCKET.with_for_update(key_share=True)
CHAT_BUCKETS = (
    select(PEOPLE.c.id, PEOPLE.c.send_tokens, PEOPLE.c.send_refilled_at)
    .where(PEOPLE.c.id.in_(bindparam("ids_", expanding=True)))
    .order_by(PEOPLE.c.id)
)
CHAT_BUCKETS_FREE = CHAT_BUCKETS.with_for_update(key_share=True, skip_locked=True)  # the rows nobody holds now
CHAT_CHARGE = (
    update(PEOPLE)
    .where(PEOPLE.c.id == bindparam("id_"))
    .values(send_tokens=bindparam("tokens_"), send_refilled_at=bindparam("at_"))
)
LOCK_PERSON = select(PEOPLE.c.id).where(PEOPLE.c.id == bindparam("id_")).with_for_update()
# what a claim reads of a queued message
CLAIMED = (OUT.c.id, OUT.c.person_id, OUT.c.chat_id, OUT.c.payload, OUT.c.attempts, OUT.c.status, OUT.c.not_before)
_WAITING = OUT.c.status.in_(("pending", "sending"))
# The person's replies and the chat's goodbyes in id order, and the lease.
QUEUED_IN_CHAT = (
    select(*CLAIMED)
    .where(
        ((OUT.c.person_id == bindparam("person_")) & (OUT.c.priority == 0))
        | (OUT.c.person_id.is_(None) & (OUT.c.chat_id == bindparam("chat_"))),
        _WAITING,
    )
    .order_by(OUT.c.id)
    .limit(bindparam("n_"))
)
QUEUED_IN_CHAT_LOCKED = QUEUED_IN_CHAT.with_for_update()
QUEUED = (  # the same when the chat is not known: the person's replies
    select(*CLAIMED)
    .where(OUT.c.person_id == bindparam("person_"), OUT.c.priority == 0, _WAITING)
    .order_by(OUT.c.id)
    .limit(bindparam("n_"))
)
GOODBYE_BEFORE = (  # and a goodbye queued before them in their chat
    select(*CLAIMED)
    .where(OUT.c.person_id.is_(None), OUT.c.chat_id == bindparam("chat_"), OUT.c.id < bindparam("id_"), _WAITING)
    .order_by(OUT.c.id)
    .limit(1)
)
LEASED = (
    update(OUT)
    .where(OUT.c.id.in_(bindparam("ids_", expanding=True)))
    .values(status="sending", not_before=bindparam("until_"), lease_owner=bindparam("owner_"))
)


@functools.cache
def outcome_update(columns: frozenset[str]) -> Any:
    """The UPDATE recording a send's outcome in `columns` of a message still leased to `owner_`
    (parameters `id_`, `owner_` and `<column>_`), built once per set of columns."""
    return (
        update(OUT)
        .where(OUT.c.id == bindparam("id_"), OUT.c.lease_owner == bindparam("owner_"))
        .values({OUT.c[column]: bindparam(f"{column}_") for column in sorted(columns)})
    )


async def claim_next(
    session: AsyncSession,
    person_id: int,
    pace: ChatPace | None = None,
    *,
    owner: str = "",
    at: datetime | None = None,
    lease: timedelta = LEASE,
) -> tuple[OutboxMessage | None, float]:
    """The person's oldest due message, leased to `owner` for sending, or None and how long to wait
    (`claim_due` for one message)."""
    rows, wait, _ = await claim_due(session, person_id, pace, owner=owner, at=at, lease=lease, limit=1)
    return (await session.get(OutboxMessage, rows[0].id) if rows else None), wait


async def claim_due(
    session: AsyncSession,
    person_id: int,
    pace: ChatPace | None = None,
    *,
    owner: str = "",
    at: datetime | None = None,
    lease: timedelta = LEASE,
    limit: int = 8,
    chat_id: int | None = None,
    person_locked: bool = False,
) -> tuple[list[Row[Any]], float, bool]:
    """The person's oldest due messages, in order, leased to `owner` for sending together: at most
    `limit`, and no more than the chat's flood bucket holds. Returns them (id, person_id, chat_id,
    payload, attempts, as they were before the claim), how long to wait when there are none, and
    whether more are queued behind them.

    One sender at a time has a person's messages, so replies arrive in order even when several
    processes send; a lease that expires (a sender died) makes the messages due again, and a
    restarted process takes its predecessor's leases back at once (`reclaim_leases`). The chat's
    flood bucket lives on the person's row, so every process paces the chat together; tokens are
    taken when the sends complete (`charge_send`). Core statements: the rows are not loaded as
    objects, and the lease is one UPDATE.
    """
    moment = at or now()
    postgres = is_postgres(session)
    if postgres and not person_locked:  # one claim per person at a time, across processes (a turn has the lock)
        await session.execute(LOCK_PERSON, {"id_": person_id})
    # Replies only (priority 0): bulk rows (reminders, broadcasts) have their own sender and never
    # hold a reply back. A goodbye to an earlier, erased person of the same chat goes first (it
    # belongs to no row).
    goodbye: Row[Any] | None = None
    if chat_id is not None:  # the chat is known: the person's messages and its goodbyes in one look
        query = QUEUED_IN_CHAT_LOCKED if postgres else QUEUED_IN_CHAT
        found = await session.execute(query, {"person_": person_id, "chat_": chat_id, "n_": limit + 1})
        rows = list(found.all())
        queued = [row for row in rows if row.person_id is not None]
        goodbye = rows[0] if queued and rows[0].person_id is None else None
        if not queued:
            return [], 0.0, False
    else:
        queued = list((await session.execute(QUEUED, {"person_": person_id, "n_": limit + 1})).all())
        if not queued:
            return [], 0.0, False
        earlier = GOODBYE_BEFORE.with_for_update() if postgres else GOODBYE_BEFORE
        goodbye = (await session.execute(earlier, {"chat_": queued[0].chat_id, "id_": queued[0].id})).first()
    if goodbye is not None:
        queued = [goodbye]  # alone: what follows is claimed once it is out
    if queued[0].not_before > moment:
        wait = (queued[0].not_before - moment).total_seconds()
        if queued[0].status == "sending":
            # Another sender holds it (another process, whose record is usually a moment away):
            # look again soon, not when its lease would expire; less often the longer it has held
            # it (a sender that died), from RECHECK up to the time it has held it already.
            held = lease.total_seconds() - wait
            wait = min(wait, max(RECHECK, held))
        return [], wait, True  # (else it waits for a retry)
    due: list[Row[Any]] = []
    for row in queued[:limit]:
        if row.not_before > moment:
            break
        due.append(row)
    if pace is not None:
        person = await session.get(Person, person_id)  # a turn's: already in the session
        tokens = _tokens(person.send_tokens, person.send_refilled_at, pace, moment) if person else float(pace.burst)
        if tokens < 1:
            return [], (1 - tokens) / pace.per_second, True
        due = due[: int(tokens)]
    await session.execute(LEASED, {"ids_": [row.id for row in due], "until_": moment + lease, "owner_": owner})
    return due, 0.0, goodbye is not None or len(queued) > len(due)


def _tokens(tokens: float | None, refilled_at: datetime | None, pace: ChatPace, moment: datetime) -> float:
    """What a chat's bucket (as stored on the person's row) holds at `moment`."""
    if tokens is None or refilled_at is None:
        return float(pace.burst)
    elapsed = max(0.0, (moment - refilled_at).total_seconds())
    return min(float(pace.burst), tokens + elapsed * pace.per_second)


async def wait_for_token(session: AsyncSession, person_id: int, pace: ChatPace, at: datetime | None = None) -> float:
    """Seconds before the person's chat may take one more message (0: now); takes nothing."""
    person = await session.get(Person, person_id)
    tokens = _tokens(person.send_tokens, person.send_refilled_at, pace, at or now()) if person else float(pace.burst)
    return 0.0 if tokens >= 1 else (1 - tokens) / pace.per_second


Bucket = tuple[float | None, datetime | None]  # a chat's flood bucket as stored: tokens, refilled at


async def lock_chat_bucket(session: AsyncSession, person_id: int) -> Bucket | None:
    """The chat's bucket (None if the person is gone), their row locked on PostgreSQL until the
    transaction ends, before any outbox row of theirs: the order every writer follows, so that
    recording a send and erasing the person never deadlock."""
    query = CHAT_BUCKET_LOCKED if is_postgres(session) else CHAT_BUCKET
    row = (await session.execute(query, {"id_": person_id})).first()
    return None if row is None else (row[0], row[1])


async def lock_chat_buckets(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, Bucket]:
    """`lock_chat_bucket` for several people at once, without waiting: on PostgreSQL, only the
    rows nobody holds at this moment (a person whose turn runs is left out, as is someone erased),
    so that a transaction holding several people never waits for another holding one of them."""
    query = CHAT_BUCKETS_FREE if is_postgres(session) else CHAT_BUCKETS
    rows = await session.execute(query, {"ids_": sorted(set(person_ids))})
    return {row.id: (row.send_tokens, row.send_refilled_at) for row in rows}


async def charge_send(
    session: AsyncSession,
    person_id: int,
    pace: ChatPace,
    at: datetime | None = None,
    count: int = 1,
    bucket: Bucket | None = None,
) -> None:
    """Take tokens from the chat's bucket when sends completed (never earlier than they reached Telegram).

    Cached Core statements, without loading the person as an object: a `Person` loaded earlier
    in the same session keeps the old bucket (no caller reads it after a charge). `bucket`: as
    read by `lock_chat_bucket` in this transaction (else read here).
    """
    if bucket is None:
        bucket = await lock_chat_bucket(session, person_id)
    if bucket is not None:
        moment = at or now()
        tokens = max(0.0, _tokens(bucket[0], bucket[1], pace, moment) - count)
        await session.execute(CHAT_CHARGE, {"id_": person_id, "tokens_": tokens, "at_": moment})


async def reclaim_leases(
    session: AsyncSession,
    instance: str,
    owner: str,
    at: datetime | None = None,
    alive: Callable[[AsyncSession, str], Awaitable[bool]] | None = None,
) -> int:
    """Leases held by a dead earlier process of this instance (`instance/...`, not `owner`): due now.

    Such a lease belongs to a process that died mid-send; waiting for it to expire would freeze
    those people's replies. A predecessor still running (`alive`) keeps its leases.
    """
    held = OutboxMessage.status == "sending"
    mine = OutboxMessage.lease_owner.startswith(f"{instance}/", autoescape=True) & (OutboxMessage.lease_owner != owner)
    others = (await session.execute(select(OutboxMessage.lease_owner).where(held, mine).distinct())).scalars()
    reclaimed = 0
    for other in [o for o in others if o is not None]:
        if alive is not None and await alive(session, other):
            continue
        result = await session.execute(
            update(OutboxMessage)
            .where(held, OutboxMessage.lease_owner == other)
            .values(status="pending", not_before=at or now(), lease_owner=None)
        )
        reclaimed += int(getattr(result, "rowcount", 0) or 0)
    return reclaimed


async def claim_unkeyed(
    session: AsyncSession, *, owner: str, at: datetime | None = None, lease: timedelta = LEASE, limit: int = 50
) -> list[OutboxMessage]:
    """Due messages that belong to no person's row (the goodbye after an erasure), leased to `owner`.

    `SKIP LOCKED` lets several processes share them without waiting for each other.
    """
    moment = at or now()
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.person_id.is_(None),
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.not_before <= moment,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.execute(query)).scalars())
    for row in rows:
        row.status, row.not_before, row.lease_owner = "sending", moment + lease, owner
    return rows


async def people_with_due_messages(session: AsyncSession, at: datetime | None = None) -> list[int]:
    query = select(OutboxMessage.person_id).where(
        OUTBOX_WAITING,
        OutboxMessage.not_before <= (at or now()),
        OutboxMessage.priority == 0,  # bulk rows go through the bulk sender
    )
    return sorted({p for p in (await session.execute(query)).scalars() if p is not None})
