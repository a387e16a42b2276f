"""Bilingual parsing of what a person types: dates, yes/no, numbers, closed choices.

Accents and case never matter. Each parser returns `Parsed`, `Ambiguous` (a date to confirm in
words) or `Invalid` with the catalog key of the reason, so the person learns what to fix.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping, Sequence
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
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)


ParseResult = Parsed | Ambiguous | Invalid


def normalize(text: str) -> str:
    """Lower case, without accents, apostrophes unified, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
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
_YEAR = r"(?P<year>\d{4}|\d{2})"
_FILLER = re.compile(r"^(?:le|the|on|depuis|since|en|in)\s+")
_ISO = re.compile(r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})$")
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]" + _YEAR + "$")
_DAY_MONTH = re.compile(rf"^{_DAY}\s*(?:de\s+)?(?P<month>{_MONTH})\.?,?\s*{_YEAR}$")
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
    clean = _FILLER.sub("", normalize(text).strip(" ."))
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


_YES = {
    "oui",
    "o",
    "yes",
    "y",
    "ouais",
    "ouaip",
    "yep",
    "yeah",
    "oui oui",
    "bien sur",
    "of course",
    "sure",
    "vrai",
    "true",
}
_NO = {"non", "n", "no", "nope", "nan", "pas du tout", "not at all", "aucun", "aucune", "none", "faux", "false"}


def parse_yes_no(text: str) -> Parsed | Invalid:
    """oui/non/yes/no/o/n/y and a few everyday spellings."""
    clean = normalize(text).strip(" .!")
    if clean in _YES:
        return Parsed(True)
    if clean in _NO:
        return Parsed(False)
    return Invalid(N_("parse.yes_no"))


_NUMBER = r"\d+(?:[.,]\d+)?"
_ZERO = {
    "0",
    "zero",
    "aucune",
    "aucun",
    "none",
    "rien",
    "nothing",
    "pas d'experience",
    "no experience",
    "jamais",
    "never",
}
_YEARS = r"(?:ans?|annees?|years?|yrs?|y)"
_MONTHS_UNIT = r"(?:mois|months?|mo)"


def _number(token: str) -> float:
    return float(token.replace(",", "."))


def parse_years(text: str, maximum: float) -> Parsed | Invalid:
    """A number of years: `2`, `1,5`, `1.5 ans`, `18 mois`, `1 an et 6 mois`, `none`."""
    clean = normalize(text).strip(" .")
    clean = re.sub(r"(\d) (\d{3})\b", r"\1\2", clean)
    if clean in _ZERO:
        return Parsed(0.0)
    if clean.startswith("-"):
        return Invalid(N_("parse.number.negative"))
    if match := re.fullmatch(rf"(?P<n>{_NUMBER})\s*{_YEARS}?", clean):
        value = _number(match["n"])
    elif match := re.fullmatch(rf"(?P<n>{_NUMBER})\s*{_MONTHS_UNIT}", clean):
        value = _number(match["n"]) / 12
    elif match := re.fullmatch(rf"(?P<y>\d+)\s*{_YEARS}\s*(?:et|and|,)?\s*(?P<m>\d+)\s*{_MONTHS_UNIT}", clean):
        value = int(match["y"]) + int(match["m"]) / 12
    else:
        return Invalid(N_("parse.number.format"))
    if value > maximum:
        return Invalid(N_("parse.number.too_large"), {"maximum": maximum})
    return Parsed(round(value, 2))


@dataclass(frozen=True)
class Option:
    """A closed choice: its stable id and every label it may be typed as (both languages)."""

    id: str
    labels: Sequence[str]


def parse_choice(text: str, options: Sequence[Option]) -> Parsed | Invalid:
    """The option whose id, number (1-based) or label the text names; one match, else Invalid."""
    clean = normalize(text).strip(" .!")
    if not clean:
        return Invalid(N_("parse.choice.none"))
    if clean.isdigit() and 1 <= int(clean) <= len(options):
        return Parsed(options[int(clean) - 1].id)
    exact = [o for o in options if clean == normalize(o.id) or clean in (normalize(label) for label in o.labels)]
    if len(exact) == 1:
        return Parsed(exact[0].id)
    words = set(re.findall(r"\w+", clean))
    partial = []
    for option in options:
        for label in option.labels:
            label_norm = normalize(label)
            label_words = set(re.findall(r"\w+", label_norm))
            if len(clean) >= 3 and (label_norm.startswith(clean) or (words and words <= label_words)):
                partial.append(option)
                break
    if len(partial) == 1:
        return Parsed(partial[0].id)
    if len(partial) > 1:
        return Invalid(N_("parse.choice.ambiguous"))
    return Invalid(N_("parse.choice.none"))
