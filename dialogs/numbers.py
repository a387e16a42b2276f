"""Numbers of years as people type them: `2`, `1,5`, `18 mois`, `un an et demi`, `about 2 years`."""

from __future__ import annotations

import re

from rules import N_

from .parsing import Invalid, Parsed, normalize

_NUMBER = r"\d+(?:[.,]\d+)?"
_YEARS = r"(?:ans?|annees?|years?|yrs?|y)"
_MONTHS = r"(?:mois|months?|mo)"
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
    "pas du tout",
    "not at all",
}
_WORDS = {
    "zero": 0,
    "un": 1,
    "une": 1,
    "one": 1,
    "a": 1,
    "deux": 2,
    "two": 2,
    "trois": 3,
    "three": 3,
    "quatre": 4,
    "four": 4,
    "cinq": 5,
    "five": 5,
    "six": 6,
    "sept": 7,
    "seven": 7,
    "huit": 8,
    "eight": 8,
    "neuf": 9,
    "nine": 9,
    "dix": 10,
    "ten": 10,
    "onze": 11,
    "eleven": 11,
    "douze": 12,
    "twelve": 12,
}
_ABOUT = re.compile(
    r"^(?:environ|a peu pres|presque|pres de|plus ou moins|about|around|approximately|approx\.?|"
    r"almost|nearly|roughly|~)\s*"
)


def _number(token: str) -> float:
    return float(token.replace(",", "."))


def _digits(clean: str) -> str:
    """Number words as digits ("un an et demi" -> "1 an et demi", "six mois" -> "6 mois")."""
    return " ".join(str(_WORDS[w]) if w in _WORDS else w for w in clean.split())


def parse_years(text: str, maximum: float) -> Parsed | Invalid:
    """A number of years, with a comma or a dot; months, halves and number words understood."""
    clean = normalize(text).strip(" .")
    clean = _ABOUT.sub("", re.sub(r"(\d) (\d{3})\b", r"\1\2", clean))
    if clean in _ZERO:
        return Parsed(0.0)
    if clean.startswith("-"):
        return Invalid(N_("parse.number.negative"))
    clean = _digits(clean.replace("-", " "))
    half = r"\s*(?:et|and)\s*(?:(?:a|1)\s+)?(?:demie?|half)"  # "a half" is "1 half" once words are digits
    if match := re.fullmatch(rf"(?P<n>{_NUMBER})\s*{_YEARS}?", clean):
        value = _number(match["n"])
    elif match := re.fullmatch(rf"(?P<n>{_NUMBER})(?:\s*{_YEARS}{half}|{half}\s*{_YEARS}?)", clean):
        value = _number(match["n"]) + 0.5  # "2 ans et demi", "2 and a half years"
    elif re.fullmatch(
        r"(?:1\s+)?(?:demie?|half)\s*(?:1\s+)?(?:an|annee|year)?|(?:half|demie?)\s+(?:a\s+|1\s+)?year", clean
    ):
        value = 0.5
    elif match := re.fullmatch(rf"(?P<n>{_NUMBER})\s*{_MONTHS}", clean):
        value = _number(match["n"]) / 12
    elif match := re.fullmatch(rf"(?P<y>\d+)\s*{_YEARS}\s*(?:et|and|,)?\s*(?P<m>\d+)\s*{_MONTHS}", clean):
        value = int(match["y"]) + int(match["m"]) / 12
    else:
        return Invalid(N_("parse.number.format"))
    if value > maximum:
        return Invalid(N_("parse.number.too_large"), {"maximum": maximum})
    return Parsed(round(value, 2))
