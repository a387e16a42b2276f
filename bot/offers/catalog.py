"""The live offers of one process: the shipped files overlaid by the latest edition of each offer.

`refresh` compares one number with the database (`repo.content_version`) before a turn, as the
FAQ does: an import in any process is live in every other at its next message, without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rules import Program

from ..storage import repo
from . import store

NEVER_LOADED = -1


@dataclass
class OfferCatalog:
    """The offers every channel, verdict, FAQ answer and reminder uses, by id."""

    shipped: Mapping[str, Program]
    generation: int = NEVER_LOADED  # the content version the editions were read at
    editions: dict[str, store.Edition] = field(default_factory=dict)  # the latest imported edition of each offer
    _programs: dict[str, Program] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._programs = dict(self.shipped)

    @property
    def programs(self) -> dict[str, Program]:
        """The live offers: shipped order first, then offers that exist only as editions."""
        return self._programs

    async def refresh(self, session: AsyncSession) -> bool:
        """Take the editions imported since the last look (one small statement when none was);
        True when the live offers changed."""
        stamp = await repo.content_version(session)
        if stamp <= self.generation:
            return False
        row_ids = await store.latest_ids(session)
        known = {pid: e for pid, e in self.editions.items() if e.row_id is not None and row_ids.get(pid) == e.row_id}
        fresh = await store.editions_by_id(session, [rid for pid, rid in row_ids.items() if pid not in known])
        if stamp <= self.generation:  # a turn running alongside installed the same or newer meanwhile
            return False
        return self.install(stamp, {**known, **fresh})

    def install(self, stamp: int, editions: dict[str, store.Edition]) -> bool:
        """Take the editions read at content version `stamp`; True when the live offers changed."""
        self.generation = stamp
        self.editions = editions
        programs = {pid: editions[pid].program if pid in editions else p for pid, p in self.shipped.items()}
        programs.update({pid: editions[pid].program for pid in sorted(editions) if pid not in programs})
        if programs == self._programs:
            return False
        self._programs = programs
        return True
