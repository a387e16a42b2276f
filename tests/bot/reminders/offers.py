"""Offers for reminder tests: the shipped Québec offer with a deadline still ahead (a copy; the
shipped files are never changed), and the Rabat offer, which states no deadline."""

from __future__ import annotations

from datetime import date, time

from rules import Program, load_programs
from rules.model import Deadline, ReminderSchedule

SHIPPED = load_programs()
QUEBEC_ID = "quebec-psoig-2021-023"
RABAT_ID = "iom-internship-rabat"


def quebec(
    day: date = date(2027, 1, 15),
    at: time | None = None,
    zone: str | None = None,
    reminders: ReminderSchedule | None = None,
) -> Program:
    shipped = SHIPPED[QUEBEC_ID]
    assert isinstance(shipped.deadline, Deadline)
    deadline = shipped.deadline.model_copy(update={"date": day, "time": at, "time_zone": zone})
    return shipped.model_copy(update={"deadline": deadline, "reminders": reminders})


def offers(**changes: object) -> dict[str, Program]:
    """Both offers, the Québec one with a future deadline (`changes` as for `quebec`)."""
    return {QUEBEC_ID: quebec(**changes), RABAT_ID: SHIPPED[RABAT_ID]}  # type: ignore[arg-type]
