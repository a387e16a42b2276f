"""Whether the process that holds a lease is still alive, so that a successor takes back only a
dead predecessor's messages, never those of a process still sending (a rolling deploy's overlap).

On PostgreSQL a process holds, for its whole life, an advisory lock named after its owner id: the
server releases it when the process's connection ends, however the process died. On SQLite, one
host, the owner id carries the process id.

Named leases (`hold`): a job that one process at a time runs (the reminder scheduler), in a
table, renewed while the holder lives and taken over when it expires.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from .models import Lease


def new_owner(instance: str) -> str:
    """This process's owner id: `instance/pid/random` (the random part tells a restart apart)."""
    return f"{instance}/{os.getpid()}/{secrets.token_hex(4)}"


def _lock_key(owner: str) -> int:
    return int.from_bytes(hashlib.blake2b(owner.encode(), digest_size=8).digest(), "big", signed=True)


class Liveness:
    """This process's proof of life, and the check of another owner's."""

    def __init__(self, engine: AsyncEngine, owner: str) -> None:
        self.engine = engine
        self.owner = owner
        self._held: AsyncConnection | None = None

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def start(self) -> None:
        if self.postgres and self._held is None:
            self._held = await self.engine.connect()
            await self._held.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key(self.owner)})
            await self._held.commit()  # the lock is the session's: it outlives the transaction

    async def stop(self) -> None:
        if self._held is not None:
            await self._held.execute(text("SELECT pg_advisory_unlock_all()"))
            await self._held.commit()
            await self._held.close()
            self._held = None

    async def alive(self, session: AsyncSession, owner: str) -> bool:
        """Whether the process that took a lease as `owner` still runs."""
        if self.postgres:
            key = {"key": _lock_key(owner)}
            if not await session.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
                return True
            await session.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            return False
        _, _, rest = owner.rpartition("/")[0].rpartition("/")
        try:
            pid = int(rest)
        except ValueError:
            return False
        if pid == os.getpid():
            return False  # the same process id, another owner: a predecessor (a container restart)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


async def hold(session: AsyncSession, name: str, owner: str, at: datetime, ttl: timedelta) -> bool:
    """Take the named lease, or renew it: True while `owner` holds it (until `at + ttl`).

    One statement: a free or expired lease goes to `owner`; a live one stays with its holder.
    Several processes running the same job (the reminder scheduler) thus agree on one of them.
    """
    insert = dialect_insert(session)
    statement = insert(Lease).values(name=name, owner=owner, expires_at=at + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={"owner": statement.excluded.owner, "expires_at": statement.excluded.expires_at},
        where=(Lease.owner == owner) | (Lease.expires_at <= at),
    )
    await session.execute(statement)
    holder = await session.scalar(select(Lease.owner).where(Lease.name == name))
    return holder == owner


async def release(session: AsyncSession, name: str, owner: str) -> None:
    """Give the lease up at once (a clean stop): another process takes it at its next try."""
    await session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


def dialect_insert(session: AsyncSession) -> Any:
    """`INSERT` with `ON CONFLICT` for the session's database (PostgreSQL or SQLite)."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
