"""What every action reads: the live offers and FAQ (as the bot's), the date, the default language.

The server keeps no personal data: it reads offers and staff content from the bot's database and
writes nothing there (but the schema's migrations, on start, as every command does). Staff edits
and new offer editions are live here too, at most `refresh_every` seconds after they are
published, without a restart.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rules import Program

from ..clock import Clock, SystemClock, local_today
from ..faq.service import FaqService
from ..i18n import Lang
from ..offers.catalog import OfferCatalog
from ..storage.db import failure

logger = logging.getLogger(__name__)

REFRESH_EVERY = 1.0  # seconds between two looks at the database for published changes


@dataclass
class ActionContext:
    offers: OfferCatalog
    faq: FaqService
    sessions: async_sessionmaker[AsyncSession] | None = None  # None: the shipped offers, built-in answers
    clock: Clock = field(default_factory=SystemClock)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Toronto"))
    default_language: Lang = "fr"
    pinned_today: date | None = None  # `--today`: judge as on that day (trying a past edition)
    refresh_every: float = REFRESH_EVERY
    _next_look: float = field(default=0.0, init=False)

    @classmethod
    def create(cls, programs: dict[str, Program], **settings: object) -> ActionContext:
        catalog = OfferCatalog(programs)
        return cls(catalog, FaqService.create(catalog.programs), **settings)  # type: ignore[arg-type]

    @property
    def programs(self) -> dict[str, Program]:
        return self.offers.programs

    def today(self) -> date:
        return self.pinned_today or local_today(self.clock, self.zone)

    async def refresh(self) -> None:
        """Take what was published since the last look; on a database error, keep what we have."""
        if self.sessions is None or time.monotonic() < self._next_look:
            return
        self._next_look = time.monotonic() + self.refresh_every
        try:
            async with self.sessions() as session:
                if await self.offers.refresh(session):
                    self.faq.programs = self.offers.programs
                await self.faq.refresh(session)
        except Exception as error:  # the answers of the last look are still right, or nearly
            logger.warning("could not read published changes: %s", failure(error))
