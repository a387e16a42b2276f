"""Catalogs and locale formatting: the one place where a message key becomes a sentence.

The gettext catalogs `locales/{fr,en}/LC_MESSAGES/messages.po` (package data `bot/locales/` once
installed, see `bot.resources`) are compiled in memory at start (no build step needed); dates,
numbers, amounts and lists are formatted by Babel for `fr_CA` and `en_CA`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_symbol
from babel.units import format_unit

from rules import CHOICE_LABELS, N_, AnyOf, Choice, Lines, Localized, Message, Money, Quantity

from .resources import locales_dir

logger = logging.getLogger(__name__)

Lang = Literal["fr", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("fr", "en")
LOCALES: Final[dict[str, Locale]] = {"fr": Locale.parse("fr_CA"), "en": Locale.parse("en_CA")}
LOCALES_DIR = Path(os.environ.get("STAGEBOT_LOCALES") or locales_dir())  # package data; the variable overrides

YES_NO = {True: N_("choice.yes"), False: N_("choice.no")}
ONE = {"duration-year": N_("quantity.one_year")}
# An unambiguous symbol per currency ("13 000,00 $ CA"), where the locale's own is ambiguous.
CURRENCY_SYMBOLS = {"CAD": N_("currency.CAD.symbol")}


def as_language(value: str | None, default: Lang = "fr") -> Lang:
    """`fr` for any French tag (fr, fr-CA, FR_ca), `en` for English; else the default."""
    if value:
        tag = value.strip().lower()
        if tag.startswith("fr"):
            return "fr"
        if tag.startswith("en"):
            return "en"
    return default


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """The compiled catalog of a language: message key -> sentence (translated, not fuzzy)."""
    path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale=LOCALES[lang])
    return {
        m.id: m.string
        for m in po
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def gettext(key: str, lang: str) -> str:
    """The sentence for a key; a missing key is logged once and shown as the key (tests forbid it)."""
    text = catalog(lang).get(key)
    if text is None:
        logger.error("missing catalog entry %s for %s", key, lang)
        return key
    return text


FORMATTED = 4096  # formatted values kept per function: Babel's formatting is most of a verdict's cost


@lru_cache(maxsize=FORMATTED)
def format_day(day: date, lang: str) -> str:
    """`7 mars 2022` (with `1er` on the first of the month) or `March 7, 2022`."""
    if lang == "fr":
        pattern = "d'er' MMMM y" if day.day == 1 else "d MMMM y"
        return format_date(day, pattern, locale=LOCALES["fr"])
    return format_date(day, "long", locale=LOCALES[lang])


def format_moment(value: datetime, lang: str, zone: tzinfo) -> str:
    """A date and time in `zone`: `7 mars 2022, 10 h 05` or `March 7, 2022, 10:05`."""
    local = value.astimezone(zone)
    clock = f"{local.hour} h {local.minute:02d}" if lang == "fr" else f"{local.hour}:{local.minute:02d}"
    return f"{format_day(local.date(), lang)}, {clock}"


@lru_cache(maxsize=FORMATTED)
def format_money(amount: Decimal | float, currency: str, lang: str) -> str:
    """`13 000,00 $ CA` or `CA$13,000.00`: the locale's pattern with an unambiguous symbol."""
    locale = LOCALES[lang]
    text = format_currency(amount, currency, locale=locale)
    symbol_key = CURRENCY_SYMBOLS.get(currency)
    if symbol_key is not None:
        text = text.replace(get_currency_symbol(currency, locale), gettext(symbol_key, lang), 1)
    return text


@lru_cache(maxsize=FORMATTED)
def format_number(value: float | int | Decimal, lang: str) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return format_decimal(value, locale=LOCALES[lang])


def format_value(value: Any, lang: str) -> str:
    """Any message parameter, formatted for the person's locale."""
    if type(value) is str:  # the most frequent parameter (a quote of the offer): nothing to format
        return value
    if isinstance(value, Message):
        return render(value, lang)
    if isinstance(value, Choice):
        if isinstance(value.value, bool):
            return gettext(YES_NO[value.value], lang)
        return gettext(CHOICE_LABELS[(value.fact, value.value)], lang)
    if isinstance(value, Localized):
        return value.in_language(lang)
    if isinstance(value, bool):
        return gettext(YES_NO[value], lang)
    if isinstance(value, date):
        return format_day(value, lang)
    if isinstance(value, Money):
        return format_money(value.amount, value.currency, lang)
    if isinstance(value, Quantity):
        if value.value == 1 and value.unit in ONE:  # "au moins un an", not "au moins 1 an"
            return gettext(ONE[value.unit], lang)
        number: float | int = int(value.value) if float(value.value).is_integer() else value.value
        return _unit(number, value.unit, lang)
    if isinstance(value, int | float | Decimal):
        return format_number(value, lang)
    if isinstance(value, Lines):
        return "\n".join(format_value(item, lang) for item in value.items)
    if isinstance(value, AnyOf):
        options = tuple(format_value(item, lang) for item in value.items)
        return _joined(options, "or", lang) if options else ""
    if isinstance(value, tuple | list):
        items = tuple(format_value(item, lang) for item in value)
        return _joined(items, "standard", lang) if items else ""
    return str(value)


@lru_cache(maxsize=FORMATTED)
def _unit(number: float | int, unit: str, lang: str) -> str:
    return format_unit(number, unit, length="long", locale=LOCALES[lang])


@lru_cache(maxsize=FORMATTED)
def _joined(items: tuple[str, ...], style: Literal["standard", "or"], lang: str) -> str:
    return format_list(list(items), style=style, locale=LOCALES[lang])


def render(message: Message | str, lang: str) -> str:
    """A message as a sentence in `lang`, its parameters formatted for the locale."""
    if isinstance(message, str):
        return gettext(message, lang)
    template = gettext(message.key, lang)
    if not message.params:
        return template
    values = {name: format_value(value, lang) for name, value in message.params.items()}
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        logger.error("catalog entry %s for %s does not fit its parameters", message.key, lang)
        return template
