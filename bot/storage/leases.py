"""Whether the process that holds a lease is still alive, so that a successor takes back only a
dead predecessor's messages, never those of a process still sending (a rolling deploy's overlap).

On PostgreSQL a process holds, for its whole life, an advisory lock named after its owner id: the
server releases it when the process's connection ends, however the process died. On SQLite, one
host, the owner id carries the process id.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession


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
