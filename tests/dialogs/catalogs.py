"""The catalogs as the engine's `translate`, read with Babel: the dialog tests need nothing of bot/.

A missing key raises `KeyError` here (bot/ would log it and show the key): a test must fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from rules import AnyOf, Lines, Message

LOCALES = Path(__file__).resolve().parents[2] / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def catalog(lang: str) -> Mapping[str, str]:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        po = read_po(handle)
    return {m.id: m.string for m in po if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string}


def translate(key: str, lang: str) -> str:
    """The sentence of `key` in `lang`, as written in the catalog (placeholders left in)."""
    return catalog(lang)[key]


def unfilled(message: Message, lang: str) -> list[str]:
    """Placeholders of the message (and of the messages in its parameters) that no parameter fills."""
    missing = [f"{message.key}:{name}" for name in PLACEHOLDER.findall(translate(message.key, lang))]
    missing = [m for m in missing if m.rpartition(":")[2] not in message.params]
    for value in message.params.values():
        missing += _nested(value, lang)
    return missing


def _nested(value: object, lang: str) -> list[str]:
    if isinstance(value, Message):
        return unfilled(value, lang)
    if isinstance(value, Lines | AnyOf):
        value = value.items
    if isinstance(value, tuple | list):
        return [m for item in value for m in _nested(item, lang)]
    return []
