"""Exact calendar arithmetic: ages on a reference date and windows of whole years or months."""

from __future__ import annotations

import calendar
from datetime import date


def age_on(birth_date: date, on: date) -> int:
    """Completed years of age on `on`.

    A person born on 29 February completes a year on 1 March of a common year: the day of the
    birthday has to have come, and 28 February is still before it.
    """
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def shift_months(day: date, months: int) -> date:
    """`day` moved by a number of calendar months; a day missing in the target month is clipped.

    31 March minus one month is 28 (or 29) February; 29 February minus twelve months is
    28 February.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def shift_years(day: date, years: int) -> date:
    """`day` moved by whole years (29 February becomes 28 February in a common year)."""
    return shift_months(day, 12 * years)


def completed_years_between(start: date, end: date) -> int:
    """Whole years elapsed from `start` to `end` (0 when `end` is before `start`)."""
    return max(0, age_on(start, end))
