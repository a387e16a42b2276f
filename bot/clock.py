"""Time, injectable: the one place that reads the system clock, and "today" in the configured zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Something that tells the time (an aware UTC datetime)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that moves only when told to: for tests and for replaying a day."""

    current: datetime = field(default_factory=lambda: datetime(2021, 9, 15, 12, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def local_today(clock: Clock, zone: ZoneInfo) -> date:
    """The calendar day in `zone` (ages and deadlines count in local days, not UTC ones)."""
    return clock.now().astimezone(zone).date()
