"""Periodic jobs that one process at a time runs (the reminder scheduler, the broadcast progress
reporter), whatever the number of bot processes: each holds a named lease in the database.

Every process runs the same loop: every `every` seconds it takes or renews the job's lease and,
if it holds it, runs the job once with the clock's moment. The lease is renewed right before each
run and lasts at least `MIN_TTL` (longer than a slow run: Telegram calls, a busy database), so no
other process takes a job over mid-run; a holder that dies stops renewing, its lease expires and
another process takes the job over. A failing job is
logged by its error's type only (never its message, which may quote a person) and tried again at
the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..clock import Clock
from ..storage.db import failure
from ..storage.leases import hold, release

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
TTL_TICKS = 3  # a lease outlives this many ticks: a holder that misses one tick keeps its job
MIN_TTL = 30.0  # seconds, whatever the tick: longer than one run, so a slow run keeps its job


def lease_ttl(every: float) -> timedelta:
    """How long a job's lease lasts from its last renewal."""
    return timedelta(seconds=max(MIN_TTL, every * TTL_TICKS))


@dataclass(frozen=True)
class LeasedJob:
    """`run_once(moment)` every `every` seconds, in the one process holding the lease `name`."""

    name: str
    run_once: Callable[[datetime], Awaitable[object]]
    every: float


class JobRunner:
    """Runs every job's loop in this process; the database decides which process runs each."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        owner: str,
        clock: Clock,
        jobs: list[LeasedJob],
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sessions = sessions
        self.owner = owner
        self.clock = clock
        self.jobs = jobs
        self.sleep = sleep  # the one place this module waits: tests drive it

    async def tick(self, job: LeasedJob) -> bool:
        """Take or renew the lease and, if held, run the job once; whether it ran."""
        try:
            async with self.sessions.begin() as session:  # renewed right before each run
                held = await hold(session, job.name, self.owner, self.clock.now(), lease_ttl(job.every))
            if not held:
                return False
            await job.run_once(self.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the next tick tries again
            logger.error("job %s failed: %s", job.name, type(error).__name__)
            return False
        return True

    async def _loop(self, job: LeasedJob) -> None:
        while True:
            await self.tick(job)
            await self.sleep(job.every)

    async def run(self) -> None:
        """Every job's loop, until cancelled."""
        await asyncio.gather(*(self._loop(job) for job in self.jobs))

    async def release(self) -> None:
        """Give every lease this process holds back (a clean stop): another process takes over."""
        for job in self.jobs:
            try:
                async with self.sessions.begin() as session:
                    await release(session, job.name, self.owner)
            except Exception as error:
                logger.warning("could not release the lease %s: %s", job.name, failure(error))
