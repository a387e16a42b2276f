"""When an offer's deadline reminders fall due: pure date arithmetic in the deadline's time zone.

A reminder `d` days before falls on the local calendar day `deadline - d` at the configured local
hour; days are counted in the deadline's zone (daylight saving changes shift the UTC hour, never
the local one). The deadline ends at its stated time, else at the end of its day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rules import NotStated, Program

from ..config import RemindersConfig


@dataclass(frozen=True)
class Moment:
    """One reminder: so many days before the deadline, at an instant (aware, UTC)."""

    days_before: int
    at: datetime


@dataclass(frozen=True)
class Schedule:
    """An offer's reminders, earliest first, and the instant its deadline ends."""

    program_id: str
    deadline: date
    zone: ZoneInfo
    ends_at: datetime
    moments: tuple[Moment, ...]

    def due(self, at: datetime) -> Moment | None:
        """The latest reminder due at `at` while the deadline has not passed; None otherwise.

        Only the latest counts: a bot that was down over two reminders sends the later one once.
        """
        if at >= self.ends_at:
            return None
        passed = [m for m in self.moments if m.at <= at]
        return passed[-1] if passed else None

    def ahead(self, at: datetime) -> tuple[Moment, ...]:
        """The reminders still to come after `at` (what a new subscriber will receive)."""
        return tuple(m for m in self.moments if m.at > at)

    def days_left(self, at: datetime) -> int:
        """Whole local days from `at` to the deadline day (0 on the day itself), in its zone."""
        return (self.deadline - at.astimezone(self.zone).date()).days

    def open_at(self, at: datetime) -> bool:
        return at < self.ends_at

    def message_key(self, moment: Moment) -> str:
        """The outbox key of one reminder: the same reminder is never queued twice for a person."""
        return f"reminder:{self.program_id}:{self.deadline.isoformat()}:{moment.days_before}"


def deadline_zone(program: Program, default_zone: str) -> ZoneInfo:
    """The deadline's own zone when the offer states one, else the configured one."""
    stated = None if isinstance(program.deadline, NotStated) else program.deadline.time_zone
    return ZoneInfo(stated or default_zone)


def schedule(program: Program, defaults: RemindersConfig, default_zone: str) -> Schedule | None:
    """The offer's reminders (its own schedule, else the defaults); None when it states no deadline."""
    ends_at = program.deadline_at(default_zone)
    deadline = program.deadline_date
    if ends_at is None or deadline is None:
        return None
    zone = deadline_zone(program, default_zone)
    days = program.reminders.days_before if program.reminders is not None else defaults.days_before
    hour = program.reminders.hour if program.reminders is not None else defaults.hour
    moments = []
    for before in sorted(set(days), reverse=True):
        local = datetime.combine(deadline - timedelta(days=before), time(hour), tzinfo=zone)
        moment = Moment(before, local.astimezone(UTC))
        if moment.at < ends_at:
            moments.append(moment)
    return Schedule(program.id, deadline, zone, ends_at, tuple(moments))
