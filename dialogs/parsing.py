"""Bilingual parsing of what a person types: the result types, normalisation, and dates.

Accents and case never matter. Each parser returns `Parsed`, `Ambiguous` (a date to confirm in
words) or `Invalid` with the catalog key of the reason, so the person learns what to fix. Yes/no
and closed choices are in `choices`, numbers of years in `numbers`, "I don't know" in
`dont_know`; `answers.parse_answer` puts them together for one question.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rules import N_


@dataclass(frozen=True)
class Parsed:
    value: Any


@dataclass(frozen=True)
class Ambiguous:
    """A numeric date that reads two ways (03/04/1998): confirm one in words before use."""

    candidates: tuple[date, date]


@dataclass(frozen=True)
class Invalid:
    """Not an answer: `reason` is the catalog key of what to fix, `params` fill its placeholders."""

    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DontKnow:
    """The person says they do not know: the fact stays unknown (never "no" or zero)."""


ParseResult = Parsed | Ambiguous | Invalid


def normalize(text: str) -> str:
    """Lower case, without accents or invisible marks (zero-width, direction), apostrophes unified,
    spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    stripped = stripped.replace("’", "'").replace("`", "'")
    return re.sub(r"\s+", " ", stripped.casefold()).strip()


MONTHS = {
    "january": 1,
    "janvier": 1,
    "jan": 1,
    "janv": 1,
    "february": 2,
    "fevrier": 2,
    "feb": 2,
    "fev": 2,
    "fevr": 2,
    "march": 3,
    "mars": 3,
    "mar": 3,
    "april": 4,
    "avril": 4,
    "apr": 4,
    "avr": 4,
    "may": 5,
    "mai": 5,
    "june": 6,
    "juin": 6,
    "jun": 6,
    "july": 7,
    "juillet": 7,
    "jul": 7,
    "juil": 7,
    "august": 8,
    "aout": 8,
    "aug": 8,
    "september": 9,
    "septembre": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "octobre": 10,
    "oct": 10,
    "november": 11,
    "novembre": 11,
    "nov": 11,
    "december": 12,
    "decembre": 12,
    "dec": 12,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(?P<day>\d{1,2})(?:er|re|st|nd|rd|th)?"
_YEAR = r"'?(?P<year>\d{4}|\d{2})"
# Words people put around a date: "né le 15 mars 1998", "born on March 15, 1998", "depuis le 1er mai".
_FILLER = re.compile(
    r"^(?:(?:je suis |i was )?(?:nee?|born)(?: on| le| the)?|depuis(?: le)?|since(?: the)?|on(?: the)?|the|le|en|in)\s+"
)
_ISO = re.compile(r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})$")
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]" + _YEAR + "$")
_DAY_MONTH = re.compile(rf"^{_DAY}\s*(?:de\s+|of\s+)?(?P<month>{_MONTH})\.?,?\s*{_YEAR}$")
_MONTH_DAY = re.compile(rf"^(?P<month>{_MONTH})\.?\s+{_DAY},?\s+{_YEAR}$")
_MONTH_YEAR = re.compile(rf"^(?P<month>{_MONTH})\.?\s+(?P<year>\d{{4}})$")


def _full_year(year: str, today: date) -> int:
    """Four digits as given; two digits in the most recent century that is not in the future."""
    if len(year) == 4:
        return int(year)
    value = 2000 + int(year)
    return value if value <= today.year else value - 100


def _make(year: int, month: int, day: int) -> Parsed | Invalid:
    try:
        return Parsed(date(year, month, day))
    except ValueError:
        if 1 <= month <= 12 and 1 <= day <= 31 and year >= 1:
            last_day = calendar.monthrange(year, month)[1]
            return Invalid(N_("parse.date.impossible"), {"day": day, "last_day": last_day})
        return Invalid(N_("parse.date.format"))


def parse_date(text: str, today: date) -> ParseResult:
    """Dates as `1998-03-15`, `15/03/1998`, `15 mars 1998`, `March 15, 1998` or `15 march 98`."""
    clean = normalize(text).strip(" .")
    while (shorter := _FILLER.sub("", clean)) != clean:
        clean = shorter
    clean = re.sub(r"\s*,\s*", ", ", clean).replace(" , ", ", ")
    if match := _ISO.match(clean):
        return _make(int(match["year"]), int(match["month"]), int(match["day"]))
    if match := _NUMERIC.match(clean):
        a, b, year = int(match["a"]), int(match["b"]), _full_year(match["year"], today)
        if a > 12 and b <= 12:
            return _make(year, b, a)
        if b > 12 and a <= 12:
            return _make(year, a, b)
        if a == b and a <= 12:
            return _make(year, a, b)
        if a <= 12 and b <= 12:
            first, second = _make(year, b, a), _make(year, a, b)
            if isinstance(first, Parsed) and isinstance(second, Parsed):
                return Ambiguous((first.value, second.value))
        return Invalid(N_("parse.date.format"))
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if match := pattern.match(clean):
            return _make(_full_year(match["year"], today), MONTHS[match["month"]], int(match["day"]))
    if _MONTH_YEAR.match(clean) or re.fullmatch(r"\d{4}", clean):
        return Invalid(N_("parse.date.needs_day"))
    return Invalid(N_("parse.date.format"))


def choose_reading(text: str, candidates: tuple[date, date], today: date) -> date | None:
    """Which reading of an ambiguous date the person means: `1`, `2`, or one said in words.

    Both readings share the year, so "le 4 mars" or "April 3" needs none to be understood.
    """
    clean = text.strip()
    if clean in ("1", "2"):
        return candidates[int(clean) - 1]
    said = parse_date(f"{clean} {candidates[0].year}", today)
    if isinstance(said, Parsed) and said.value in candidates:
        return said.value  # type: ignore[no-any-return]
    return None
