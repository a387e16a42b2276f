"""Parsing what people type, in French and English; accents and case never matter."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.choices import Option, parse_choice, parse_yes_no
from dialogs.numbers import parse_years
from dialogs.parsing import Ambiguous, Invalid, Parsed, parse_date
from dialogs.prompts import choice_options

from .catalogs import translate

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    "text",
    [
        "1998-03-15",
        "15/03/1998",
        "15 mars 1998",
        "March 15, 1998",
        "15 march 98",
        "15 MARS 1998",
        "le 15 mars 1998",
        "15-03-1998",
        "15.03.1998",
        "march 15th, 1998",
        "15 Mar. 1998",
        "1998/03/15",
        "  15   mars   1998 ",
        "03/15/1998",
    ],
)
def test_dates_in_both_languages(text: str) -> None:
    assert parse_date(text, TODAY) == Parsed(date(1998, 3, 15))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1er février 2000", date(2000, 2, 1)),
        ("15 août 1999", date(1999, 8, 15)),
        ("15 aout 1999", date(1999, 8, 15)),
        ("1 décembre 2001", date(2001, 12, 1)),
        ("December 1, 2001", date(2001, 12, 1)),
        ("29 février 2000", date(2000, 2, 29)),
        ("07/07/07", date(2007, 7, 7)),
        ("1 janv. 30", date(1930, 1, 1)),
    ],
)
def test_more_dates(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == Parsed(expected)


@pytest.mark.parametrize(
    "text",
    [
        "né le 15 mars 1998",
        "née le 15 mars 1998",
        "born on March 15, 1998",
        "15th of March 1998",
        "the 15th of March 1998",
        "Mar 15, '98",
        "depuis le 15 mars 1998",
        "since March 15, 1998",
    ],
)
def test_dates_with_the_words_around_them(text: str) -> None:
    assert parse_date(text, TODAY) == Parsed(date(1998, 3, 15))


def test_an_ambiguous_numeric_date_is_confirmed() -> None:
    assert parse_date("03/04/1998", TODAY) == Ambiguous((date(1998, 4, 3), date(1998, 3, 4)))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02/1998", "parse.date.impossible"),
        ("29 février 2001", "parse.date.impossible"),
        ("mars 2020", "parse.date.needs_day"),
        ("1998", "parse.date.needs_day"),
        ("hier", "parse.date.format"),
        ("15/15/1998", "parse.date.format"),
        ("", "parse.date.format"),
    ],
)
def test_dates_refused_with_a_reason(text: str, reason: str) -> None:
    result = parse_date(text, TODAY)
    assert isinstance(result, Invalid) and result.reason == reason


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("oui", True),
        ("Oui!", True),
        ("O", True),
        ("y", True),
        ("YES", True),
        ("non", False),
        ("n", False),
        ("No.", False),
        ("NON", False),
    ],
)
def test_yes_no(text: str, value: bool) -> None:
    assert parse_yes_no(text) == Parsed(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("oui je pense", True),
        ("yes of course", True),
        ("absolument", True),
        ("bien sûr", True),
        ("Of course!", True),
        ("non merci", False),
        ("pas vraiment", False),
        ("not really", False),
        ("je ne pense pas", False),
        ("nope", False),
    ],
)
def test_yes_no_as_people_say_it(text: str, value: bool) -> None:
    assert parse_yes_no(text) == Parsed(value)


def test_yes_no_refuses_anything_else() -> None:
    assert isinstance(parse_yes_no("peut-être"), Invalid)
    assert isinstance(parse_yes_no("oui et non"), Invalid)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", 2.0),
        ("1,5", 1.5),
        ("1.5", 1.5),
        ("1,5 an", 1.5),
        ("2 years", 2.0),
        ("18 mois", 1.5),
        ("6 months", 0.5),
        ("1 an et 6 mois", 1.5),
        ("0", 0.0),
        ("aucune", 0.0),
        ("none", 0.0),
    ],
)
def test_years_with_comma_or_dot(text: str, value: float) -> None:
    assert parse_years(text, 60) == Parsed(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1", "parse.number.negative"),
        ("beaucoup", "parse.number.format"),
        ("99", "parse.number.too_large"),
        ("1,2,3", "parse.number.format"),
    ],
)
def test_years_refused(text: str, reason: str) -> None:
    result = parse_years(text, 60)
    assert isinstance(result, Invalid) and result.reason == reason


OPTIONS = [
    Option("master_in_progress", ["fin de maîtrise (2e cycle)", "finishing a master’s degree"]),
    Option("phd_in_progress", ["doctorat en cours (3e cycle)", "doctorate in progress (3rd cycle)"]),
    Option("graduated", ["diplômé(e), plus aux études", "graduated, no longer enrolled"]),
]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", "phd_in_progress"),
        ("FIN DE MAITRISE (2E CYCLE)", "master_in_progress"),
        ("doctorat", "phd_in_progress"),
        ("graduated", "graduated"),
        ("Diplome", "graduated"),
        ("master_in_progress", "master_in_progress"),
    ],
)
def test_choices_by_number_label_or_id(text: str, value: str) -> None:
    assert parse_choice(text, OPTIONS) == Parsed(value)


def test_choices_ambiguous_or_unknown() -> None:
    assert parse_choice("4", OPTIONS) == Invalid("parse.choice.none")
    assert parse_choice("banana", OPTIONS) == Invalid("parse.choice.none")
    assert parse_choice("cycle", OPTIONS) == Invalid("parse.choice.ambiguous")


def test_synonyms_and_everyday_words_name_a_choice() -> None:
    education = choice_options("education", translate)
    citizenship = choice_options("citizenship", translate)
    assert parse_choice("je fais ma maîtrise", education) == Parsed("master_in_progress")
    assert parse_choice("PhD", education) == Parsed("phd_in_progress")
    assert parse_choice("dernière année du bac", education) == Parsed("bachelor_final_year")
    assert parse_choice("bac", education) == Invalid("parse.choice.ambiguous")  # final year or not: ask
    assert parse_choice("citoyenne canadienne", citizenship) == Parsed("canadian")
    assert parse_choice("résidente permanente", citizenship) == Parsed("permanent_resident")
    assert parse_choice("Canada", citizenship) == Invalid("parse.choice.none")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("pantoute", False), ("Pas pantoute!", False), ("certain", True), ("ben oui", True), ("Bin non", False),
     ("euh oui", True), ("well, yes", True), ("oh non!", False)],
)  # fmt: skip
def test_everyday_and_quebec_ways_of_saying_yes_or_no(text: str, expected: bool) -> None:
    assert parse_yes_no(text) == Parsed(expected)


@pytest.mark.parametrize("text", ["ben", "euh", "pas certain", "jsp"])
def test_fillers_alone_and_doubts_are_not_yes_or_no(text: str) -> None:
    assert isinstance(parse_yes_no(text), Invalid)


@pytest.mark.parametrize(
    ("text", "years"),
    [("1 year and a half", 1.5), ("2 and a half years", 2.5), ("deux ans et demi", 2.5), ("un an et demi", 1.5)],
)
def test_halves_of_years_in_both_languages(text: str, years: float) -> None:
    assert parse_years(text, 60) == Parsed(years)


@pytest.mark.parametrize("text", ["\u200f15/03/1999", "15\u200b/03/1999", "\ufeff1999-03-15", "15 mars\u200e 1999"])
def test_invisible_marks_from_phones_do_not_break_a_date(text: str) -> None:
    assert parse_date(text, date(2021, 9, 15)) == Parsed(date(1999, 3, 15))
