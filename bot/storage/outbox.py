"""The outbox: replies written in the same transaction as the state that produced them, sent later.

Every function takes the moment to act at (`at`), so tests and the sender share one clock.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import OUTBOX_WAITING, OutboxMessage, Person
from .repo import is_postgres, now

LEASE = timedelta(seconds=30)  # longer than one send (read timeout); a dead sender's lease expires


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


ENQUEUE = insert(cast(Table, OutboxMessage.__table__))
CHAT_BUCKET = select(Person.send_tokens, Person.send_refilled_at).where(Person.id == bindparam("id_"))
CHAT_CHARGE = (
    update(Person)
    .where(Person.id == bindparam("id_"))
    .values(send_tokens=bindparam("tokens_"), send_refilled_at=bindparam("at_"))
)
CLAIMED = (  # what a claim reads of a queued message
    OutboxMessage.id,
    OutboxMessage.person_id,
    OutboxMessage.chat_id,
    OutboxMessage.payload,
    OutboxMessage.attempts,
    OutboxMessage.status,
    OutboxMessage.not_before,
)


_WAITING = OutboxMessage.status.in_(("pending", "sending"))
# Built once (a turn claims its replies with them): the person's replies and the chat's goodbyes
# in id order, and the lease.
QUEUED_IN_CHAT = (
    select(*CLAIMED)
    .where(
        ((OutboxMessage.person_id == bindparam("person_")) & (OutboxMessage.priority == 0))
        | (OutboxMessage.person_id.is_(None) & (OutboxMessage.chat_id == bindparam("chat_"))),
        _WAITING,
    )
    .order_by(OutboxMessage.id)
    .limit(bindparam("n_"))
)
QUEUED_IN_CHAT_LOCKED = QUEUED_IN_CHAT.with_for_update()
LEASED = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("ids_", expanding=True)))
    .values(status="sending", not_before=bindparam("until_"), lease_owner=bindparam("owner_"))
    .execution_options(synchronize_session=False)
)


@functools.cache
def outcome_update(columns: frozenset[str]) -> Any:
    """The UPDATE recording a send's outcome in `columns` of a message still leased to `owner_`
    (parameters `id_`, `owner_` and `<column>_`), built once per set of columns."""
    table = cast(Table, OutboxMessage.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("id_"), table.c.lease_owner == bindparam("owner_"))
        .values({table.c[column]: bindparam(f"{column}_") for column in sorted(columns)})
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
    if postgres:  # one claim per person at a time, across processes
        await session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    waiting = OutboxMessage.status.in_(("pending", "sending"))
    # Replies only: bulk rows (reminders, broadcasts) have their own sender and never hold a reply back.
    replies = OutboxMessage.priority == 0
    mine = (OutboxMessage.person_id == person_id) & replies
    # A goodbye to an earlier, erased person of the same chat goes first (it belongs to no row).
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
        query = select(*CLAIMED).where(mine, waiting).order_by(OutboxMessage.id).limit(limit + 1)
        queued = list((await session.execute(query)).all())
        if not queued:
            return [], 0.0, False
        first = queued[0]
        earlier = (
            select(*CLAIMED)
            .where(
                OutboxMessage.person_id.is_(None),
                OutboxMessage.chat_id == first.chat_id,
                OutboxMessage.id < first.id,
                waiting,
            )
            .order_by(OutboxMessage.id)
            .limit(1)
        )
        goodbye = (await session.execute(earlier.with_for_update() if postgres else earlier)).first()
    if goodbye is not None:
        if goodbye.status == "sending" and goodbye.not_before > moment:
            return [], 0.5, True  # another sender has it: look again soon, not when its lease would expire
        queued = [goodbye]  # alone: what follows is claimed once it is out
    if queued[0].not_before > moment:
        # another sender holds it ("sending"), or it waits for a retry ("pending")
        return [], (queued[0].not_before - moment).total_seconds(), True
    due: list[Row[Any]] = []
    for row in queued[:limit]:
        if row.not_before > moment:
            break
        due.append(row)
    if pace is not None:
        person = await session.get(Person, person_id)  # a turn's: already in the session
        tokens = _tokens(person, pace, moment) if person is not None else float(pace.burst)
        if tokens < 1:
            return [], (1 - tokens) / pace.per_second, True
        due = due[: int(tokens)]
    await session.execute(LEASED, {"ids_": [row.id for row in due], "until_": moment + lease, "owner_": owner})
    return due, 0.0, goodbye is not None or len(queued) > len(due)


def _tokens(person: Person, pace: ChatPace, moment: datetime) -> float:
    if person.send_tokens is None or person.send_refilled_at is None:
        return float(pace.burst)
    elapsed = max(0.0, (moment - person.send_refilled_at).total_seconds())
    return min(float(pace.burst), person.send_tokens + elapsed * pace.per_second)


async def wait_for_token(session: AsyncSession, person_id: int, pace: ChatPace, at: datetime | None = None) -> float:
    """Seconds before the person's chat may take one more message (0: now); takes nothing."""
    person = await session.get(Person, person_id)
    tokens = _tokens(person, pace, at or now()) if person is not None else float(pace.burst)
    return 0.0 if tokens >= 1 else (1 - tokens) / pace.per_second


async def charge_send(
    session: AsyncSession, person_id: int, pace: ChatPace, at: datetime | None = None, count: int = 1
) -> None:
    """Take tokens from the chat's bucket when sends completed (never earlier than they reached Telegram).

    Two cached statements, without loading the person as an object; a person loaded in this
    session (a turn's) sees the new values too.
    """
    bucket = (await session.execute(CHAT_BUCKET, {"id_": person_id})).first()
    if bucket is not None:
        moment = at or now()
        tokens = max(0.0, _tokens(Person(send_tokens=bucket[0], send_refilled_at=bucket[1]), pace, moment) - count)
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


async def lock_chat_owner(session: AsyncSession, person_id: int) -> None:
    """Lock the person's row (PostgreSQL), before any outbox row of theirs: the order every
    writer follows, so recording a send and erasing the person never deadlock."""
    if is_postgres(session):
        await session.execute(select(Person.id).where(Person.id == person_id).with_for_update())


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
