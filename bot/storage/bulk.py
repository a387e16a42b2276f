"""Queueing bulk messages (reminders, broadcasts): one outbox row per message and recipient.

A row is keyed by (`message_key`, person): queueing the same message for the same person again
does nothing, whatever process does it and however often (a scheduler that restarts, two
schedulers racing). Rows wait in their lane: conversation replies always go first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from .leases import dialect_insert
from .models import OutboxMessage


class Lane(IntEnum):
    """An outbox row's priority: lower goes first."""

    REPLY = 0
    REMINDER = 1
    BROADCAST = 2


@dataclass(frozen=True)
class Recipient:
    person_id: int
    chat_id: int
    payload: dict[str, Any]


async def queue(
    session: AsyncSession,
    recipients: Iterable[Recipient],
    *,
    message_key: str,
    kind: str,
    lane: Lane,
    at: datetime,
    broadcast_id: int | None = None,
    expires_at: datetime | None = None,
) -> int:
    """Queue the message for each recipient not queued yet; how many rows were added."""
    rows = [
        {
            "person_id": r.person_id,
            "chat_id": r.chat_id,
            "kind": kind,
            "payload": r.payload,
            "status": "pending",
            "attempts": 0,
            "not_before": at,
            "created_at": at,
            "message_key": message_key,
            "priority": int(lane),
            "broadcast_id": broadcast_id,
            "expires_at": expires_at,
        }
        for r in recipients
    ]
    if not rows:
        return 0
    insert = dialect_insert(session)
    statement = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["message_key", "person_id"])
    added = await session.execute(statement.returning(OutboxMessage.id), rows)  # rowcount is unreliable for many rows
    return len(added.all())


async def cancel_queued(session: AsyncSession, person_id: int, *, key_prefix: str | None = None, reason: str) -> int:
    """The person's bulk messages still waiting (all, or those whose key starts with `key_prefix`)
    are cancelled with `reason`: someone who opted out receives nothing already queued."""
    waiting = (
        (OutboxMessage.person_id == person_id)
        & (OutboxMessage.priority >= int(Lane.REMINDER))
        & (OutboxMessage.status == "pending")
    )
    if key_prefix is not None:
        waiting &= OutboxMessage.message_key.startswith(key_prefix, autoescape=True)
    result = await session.execute(
        update(OutboxMessage).where(waiting).values(status="cancelled", error=reason, payload={}, lease_owner=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
