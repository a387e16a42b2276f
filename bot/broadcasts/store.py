"""Broadcasts in the database: created with their outbox rows in one transaction (or scheduled,
and given them at their time by `start`), then paused, resumed, cancelled, counted and finished.

The outbox rows are written by one `INSERT ... SELECT` per language straight from the audience's
query: recipients are never loaded into memory, and the unique (message_key, person) key means a
row is never queued twice. A row's payload names only the method and the language; the sender
builds the text from the broadcast (`broadcast_payload`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules import N_, Message

from ..errors import InputError
from ..faq import store as audit
from ..faq.store import Author  # who acts: a person (Telegram) or nobody (the command line), in a role
from ..faq.telegram_html import check_html, to_plain
from ..i18n import LANGUAGES, render
from ..storage.bulk import Lane
from ..storage.leases import dialect_insert
from ..storage.models import Broadcast, OutboxMessage, UTCDateTime
from .audience import Audience, recipients
from .message import MAX_TEXT

KIND = "broadcast"
BLOCKED = "blocked"  # the error of a row whose person blocked the bot (the sender's word)
SCHEDULED = "scheduled"  # no outbox row yet: its recipients are queued at `scheduled_at` (`start`)
RUNNING = ("sending", "paused")  # it has outbox rows that may still be sent
CANCELLABLE = (SCHEDULED, *RUNNING)
SCHEDULER = Author(None, "schedule")  # who starts a scheduled broadcast at its time (the audit log's actor)
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers, braille blank: drawn empty


class TextProblem(InputError):
    """A broadcast text Telegram would refuse (or that is too long): `message` says why."""

    def __init__(self, lang: str, message: Message) -> None:
        super().__init__(f"text {lang}: {render(message, 'en')}")
        self.lang = lang
        self.message = message


def text_problem(text: str) -> Message | None:
    """Why a broadcast text cannot be sent (Telegram HTML, length, nothing visible), else None.

    A text of spaces and invisible marks only (right-to-left or zero-width marks, fillers) is
    refused: people would receive a message that looks empty.
    """
    if len(text) > MAX_TEXT:
        return Message(N_("broadcast.too_long"), {"length": len(text), "limit": MAX_TEXT})
    problem = check_html(text)
    if problem is None and not any(_visible(char) for char in to_plain(text)):
        return Message(N_("broadcast.invisible"))
    return problem


def _visible(char: str) -> bool:
    """A character that draws something: not a space, control, format mark (RTL, zero-width), filler."""
    return unicodedata.category(char)[0] not in "ZC" and char not in INVISIBLE_LETTERS


def message_key(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


async def create(
    session: AsyncSession,
    text_fr: str,
    text_en: str,
    audience: Audience,
    origin: str,
    author: Author,
    at: datetime,
    *,
    default_language: str,
    progress_chat_id: int | None = None,
    progress_lang: str | None = None,
    scheduled_at: datetime | None = None,
) -> Broadcast:
    """The broadcast (status `sending`) and one outbox row per recipient, in the caller's transaction.

    `progress_chat_id`: where the progress and the report go (none from the command line);
    `progress_lang`: their language (the organizer's at creation). `scheduled_at`: a later moment
    at which the recipients are chosen and queued (`start`); until then it is `scheduled`, with no
    outbox row, so that people who subscribe meanwhile receive it too."""
    for lang, text in (("fr", text_fr), ("en", text_en)):
        problem = text_problem(text)
        if problem is not None:
            raise TextProblem(lang, problem)
    later = scheduled_at is not None and scheduled_at > at
    broadcast = Broadcast(
        text_fr=text_fr,
        text_en=text_en,
        audience=audience.to_json(),
        status=SCHEDULED if later else "sending",
        total=0,
        origin=origin,
        created_by=author.person_id,
        created_role=author.role,
        created_at=at,
        progress_chat_id=progress_chat_id,
        progress_lang=progress_lang,
        scheduled_at=scheduled_at if later else None,
    )
    session.add(broadcast)
    await session.flush()
    if later:
        assert scheduled_at is not None
        detail = {"audience": audience.to_json(), "scheduled_at": scheduled_at.isoformat()}
        await _audit(session, author, "broadcast.schedule", broadcast, at, **detail)
        return broadcast
    await _queue(session, broadcast, audience, default_language, at)
    await _audit(session, author, "broadcast.create", broadcast, at, audience=audience.to_json(), total=broadcast.total)
    return broadcast


async def start(session: AsyncSession, broadcast_id: int, at: datetime, *, default_language: str) -> Broadcast | None:
    """A scheduled broadcast whose time has come: `sending`, its recipients chosen and queued now,
    exactly as `create` queues an immediate one. None unless it was scheduled for `at` or earlier:
    the status changes from `scheduled` once only (a second run, or a cancel at the same moment,
    finds it changed), and the outbox's unique key never queues a person twice."""
    changed = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == SCHEDULED, Broadcast.scheduled_at <= at)
        .values(status="sending")
    )
    if not getattr(changed, "rowcount", 0):
        return None
    broadcast = await get(session, broadcast_id)
    assert broadcast is not None
    await session.refresh(broadcast)
    await _queue(session, broadcast, Audience.from_json(broadcast.audience), default_language, at)
    await _audit(session, SCHEDULER, "broadcast.start", broadcast, at, total=broadcast.total)
    return broadcast


async def _queue(
    session: AsyncSession, broadcast: Broadcast, audience: Audience, default_language: str, at: datetime
) -> None:
    """One outbox row per recipient of the audience now (one `INSERT ... SELECT` per language),
    the broadcast's total, and `done` at once when nobody matches."""
    key = message_key(broadcast.id)
    columns = [
        "person_id",
        "chat_id",
        "kind",
        "payload",
        "status",
        "attempts",
        "not_before",
        "created_at",
        "message_key",
        "priority",
        "broadcast_id",
    ]
    insert = dialect_insert(session)
    for lang in LANGUAGES:
        chosen = recipients(audience, default_language, lang).subquery()
        rows = select(
            chosen.c.person_id,
            chosen.c.chat_id,
            literal(KIND, String(16)),
            literal({"method": "broadcast", "lang": lang}, JSON()),
            literal("pending", String(16)),
            literal(0, Integer()),
            literal(at, UTCDateTime()),
            literal(at, UTCDateTime()),
            literal(key, String(96)),
            literal(int(Lane.BROADCAST), Integer()),
            literal(broadcast.id, Integer()),
        ).where(chosen.c.person_id.is_not(None))  # SQLite: a WHERE tells its ON CONFLICT from a join's ON
        statement = insert(OutboxMessage).from_select(columns, rows)
        await session.execute(statement.on_conflict_do_nothing(index_elements=["message_key", "person_id"]))
    total = await session.scalar(select(func.count()).where(OutboxMessage.broadcast_id == broadcast.id))
    broadcast.total = int(total or 0)
    if broadcast.total == 0:
        broadcast.status, broadcast.finished_at = "done", at


async def _audit(
    session: AsyncSession, author: Author, action: str, broadcast: Broadcast, at: datetime, **detail: Any
) -> None:
    await audit.record(session, author, action, {"broadcast": broadcast.id, **detail}, at)


async def get(session: AsyncSession, broadcast_id: int, *, lock: bool = False) -> Broadcast | None:
    query = select(Broadcast).where(Broadcast.id == broadcast_id)
    if lock and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def pause(session: AsyncSession, broadcast_id: int, author: Author, at: datetime) -> Broadcast | None:
    """Stop handing its rows to senders (those in flight finish); None unless it was sending with
    rows still waiting (one with nothing left to send is finished here: it is done, not paused)."""
    broadcast = await get(session, broadcast_id)
    if broadcast is None or await finish(session, broadcast, at):
        return None
    return await _change(session, broadcast_id, ("sending",), "paused", "broadcast.pause", author, at)


async def resume(session: AsyncSession, broadcast_id: int, author: Author, at: datetime) -> Broadcast | None:
    """Send the rest; None unless it was paused."""
    return await _change(session, broadcast_id, ("paused",), "sending", "broadcast.resume", author, at)


async def cancel(session: AsyncSession, broadcast_id: int, author: Author, at: datetime) -> Broadcast | None:
    """Nothing more is sent: its pending rows become `cancelled` (a scheduled one never starts);
    None unless it was scheduled or running."""
    broadcast = await _change(session, broadcast_id, CANCELLABLE, "cancelled", "broadcast.cancel", author, at)
    if broadcast is not None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == "pending")
            .values(status="cancelled")
        )
    return broadcast


async def _change(
    session: AsyncSession,
    broadcast_id: int,
    before: tuple[str, ...],
    after: str,
    action: str,
    author: Author,
    at: datetime,
) -> Broadcast | None:
    """One status change, from a status in `before` only (two organizers at once: one wins)."""
    changed = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status.in_(before))
        .values(status=after, finished_at=at if after == "cancelled" else None)
    )
    if not getattr(changed, "rowcount", 0):
        return None
    broadcast = await get(session, broadcast_id)
    assert broadcast is not None
    await session.refresh(broadcast)
    await _audit(session, author, action, broadcast, at)
    return broadcast


@dataclass(frozen=True)
class Counts:
    """Where a broadcast's rows stand; `failures`: failed rows by reason (blocked ones apart)."""

    total: int
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    cancelled: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return self.pending + self.sending

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "pending": self.pending,
            "sending": self.sending,
            "sent": self.sent,
            "blocked": self.blocked,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "failures": dict(self.failures),
        }


async def counts(session: AsyncSession, broadcast: Broadcast) -> Counts:
    """The rows of a broadcast by status, read from the database (one grouped query)."""
    query = (
        select(OutboxMessage.status, OutboxMessage.error, func.count())
        .where(OutboxMessage.broadcast_id == broadcast.id)
        .group_by(OutboxMessage.status, OutboxMessage.error)
    )
    tally: dict[str, int] = {}
    failures: dict[str, int] = {}
    for status, error, number in (await session.execute(query)).all():
        if status == "failed" and error == BLOCKED:  # how the sender marks the rows of who blocked the bot
            status = BLOCKED
        elif status == "failed":
            reason = str(error or "unknown")
            failures[reason] = failures.get(reason, 0) + int(number)
        tally[status] = tally.get(status, 0) + int(number)
    return Counts(
        total=broadcast.total,
        pending=tally.get("pending", 0),
        sending=tally.get("sending", 0),
        sent=tally.get("sent", 0),
        blocked=tally.get(BLOCKED, 0),
        failed=tally.get("failed", 0),
        cancelled=tally.get("cancelled", 0),
        failures=dict(sorted(failures.items(), key=lambda item: (-item[1], item[0]))),
    )


async def status(session: AsyncSession, broadcast_id: int) -> tuple[Broadcast, Counts] | None:
    broadcast = await get(session, broadcast_id)
    if broadcast is None:
        return None
    return broadcast, await counts(session, broadcast)


async def finish(session: AsyncSession, broadcast: Broadcast, at: datetime) -> bool:
    """Mark a sending broadcast done once none of its rows waits; whether it is done now."""
    if broadcast.status == "done":
        return True
    if broadcast.status != "sending":
        return False
    waiting = await session.scalar(
        select(func.count()).where(
            OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status.in_(("pending", "sending"))
        )
    )
    if waiting:
        return False
    changed = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == "sending")
        .values(status="done", finished_at=at)
    )
    if getattr(changed, "rowcount", 0):
        broadcast.status, broadcast.finished_at = "done", at
    return broadcast.status == "done"


async def recent(session: AsyncSession, limit: int = 10) -> list[Broadcast]:
    """The latest broadcasts, newest first."""
    query = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
