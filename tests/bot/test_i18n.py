"""Dates, amounts and numbers as a Québec reader and an English Canadian reader expect them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.i18n import as_language, format_day, format_money, format_number, format_value, render
from rules import AnyOf, Choice, Message, Quantity


def plain(text: str) -> str:
    """Typographic spaces as spaces: which one CLDR puts where changes between Babel releases."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("day", "fr", "en"),
    [
        (date(2022, 3, 7), "7 mars 2022", "March 7, 2022"),
        (date(2021, 10, 1), "1er octobre 2021", "October 1, 2021"),
        (date(2022, 9, 2), "2 septembre 2022", "September 2, 2022"),
    ],
)
def test_dates(day: date, fr: str, en: str) -> None:
    assert plain(format_day(day, "fr")) == fr
    assert plain(format_day(day, "en")) == en


def test_amounts_in_canadian_dollars() -> None:
    assert plain(format_money(Decimal("13000.00"), "CAD", "fr")) == "13 000,00 $ CA"
    assert plain(format_money(Decimal("15000"), "CAD", "en")) == "CA$15,000.00"
    assert plain(format_money(Decimal("1500.5"), "EUR", "fr")) == "1 500,50 €"


def test_numbers_and_durations() -> None:
    assert format_number(1.5, "fr") == "1,5" and format_number(1.5, "en") == "1.5"
    assert format_number(2.0, "fr") == "2"
    assert format_value(Quantity(1, "duration-year"), "fr") == "un an"
    assert plain(format_value(Quantity(36, "duration-year"), "fr")) == "36 ans"
    assert plain(format_value(Quantity(1.5, "duration-year"), "en")) == "1.5 years"


def test_lists_choices_and_nested_messages() -> None:
    accepted = AnyOf((Choice("citizenship", "canadian"), Choice("citizenship", "permanent_resident")))
    assert format_value(accepted, "fr") == "citoyenneté canadienne ou résidence permanente du Canada"
    assert format_value(accepted, "en") == "Canadian citizenship or permanent residence in Canada"
    assert format_value(True, "fr") == "oui"
    message = Message("offer.closed", {"deadline": date(2021, 10, 10)})
    assert plain(render(message, "fr")).startswith("Inscriptions fermées : la date limite était le 10 octobre 2021.")
    assert plain(render(message, "en")).startswith("Applications closed: the deadline was October 10, 2021.")


@pytest.mark.parametrize(("tag", "lang"), [("fr", "fr"), ("fr-CA", "fr"), ("FR_be", "fr"), ("en-GB", "en"),
                                           ("de", "fr"), (None, "fr"), ("", "fr")])  # fmt: skip
def test_language_from_telegram(tag: str | None, lang: str) -> None:
    assert as_language(tag, "fr") == lang
