"""When reminders fall due: days before the deadline at a local hour of its zone, in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.config import RemindersConfig
from bot.reminders.schedule import schedule
from rules.model import ReminderSchedule

from .offers import SHIPPED, quebec

DEFAULTS = RemindersConfig()  # 14, 7 and 1 days before, at 10:00
TORONTO = "America/Toronto"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_default_offsets_at_ten_in_the_configured_zone() -> None:
    plan = schedule(quebec(date(2027, 1, 15)), DEFAULTS, TORONTO)
    assert plan is not None
    assert [(m.days_before, m.at) for m in plan.moments] == [
        (14, utc(2027, 1, 1, 15)),  # 10:00 EST
        (7, utc(2027, 1, 8, 15)),
        (1, utc(2027, 1, 14, 15)),
    ]
    assert plan.ends_at == utc(2027, 1, 16, 5)  # the whole deadline day counts: midnight after it, local
    assert plan.message_key(plan.moments[1]) == "reminder:quebec-psoig-2021-023:2027-01-15:7"


def test_the_offer_s_own_schedule_and_zone_win() -> None:
    own = ReminderSchedule(days_before=[3], hour=9)
    plan = schedule(quebec(date(2027, 1, 15), zone="Europe/Zurich", reminders=own), DEFAULTS, TORONTO)
    assert plan is not None
    assert [(m.days_before, m.at) for m in plan.moments] == [(3, utc(2027, 1, 12, 8))]  # 09:00 CET
    assert plan.ends_at == utc(2027, 1, 15, 23)


def test_the_local_hour_holds_across_the_november_dst_change() -> None:
    plan = schedule(quebec(date(2026, 11, 10)), DEFAULTS, TORONTO)  # clocks go back on 1 November 2026
    assert plan is not None
    assert [m.at for m in plan.moments] == [utc(2026, 10, 27, 14), utc(2026, 11, 3, 15), utc(2026, 11, 9, 15)]
    assert all(m.at.astimezone(plan.zone).hour == 10 for m in plan.moments)
    assert plan.days_left(utc(2026, 11, 3, 15)) == 7


def test_a_stated_deadline_time_ends_it_then() -> None:
    plan = schedule(quebec(date(2027, 1, 15), at=time(17), zone=TORONTO), DEFAULTS, "UTC")
    assert plan is not None and plan.ends_at == utc(2027, 1, 15, 22)
    assert quebec(date(2027, 1, 15), at=time(17), zone=TORONTO).deadline_at("UTC") == utc(2027, 1, 15, 22)
    assert plan.due(utc(2027, 1, 15, 21, 59)) == plan.moments[-1]
    assert plan.due(utc(2027, 1, 15, 22)) is None  # closed: nothing more to remind


def test_an_offer_without_a_deadline_has_no_schedule() -> None:
    rabat = SHIPPED["iom-internship-rabat"]
    assert rabat.deadline_at(TORONTO) is None
    assert schedule(rabat, DEFAULTS, TORONTO) is None


def test_only_the_latest_due_reminder_counts() -> None:
    plan = schedule(quebec(date(2027, 1, 15)), DEFAULTS, TORONTO)
    assert plan is not None
    assert plan.due(utc(2027, 1, 1, 14, 59)) is None
    assert plan.due(utc(2027, 1, 1, 15)) == plan.moments[0]
    assert plan.due(utc(2027, 1, 9)) == plan.moments[1]  # down over the 14- and 7-day moments: the 7-day one
    assert plan.ahead(utc(2027, 1, 9)) == plan.moments[2:]


def test_days_left_count_local_days() -> None:
    plan = schedule(quebec(date(2027, 1, 15)), DEFAULTS, TORONTO)
    assert plan is not None
    assert plan.days_left(utc(2027, 1, 8, 15)) == 7
    assert plan.days_left(utc(2027, 1, 15, 4)) == 1  # 23:00 on the 14th in Toronto
    assert plan.days_left(utc(2027, 1, 15, 6)) == 0
