"""Translatable messages: a catalog key with parameters, rendered by the channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(key: str) -> str:
    """Mark a catalog key for extraction by pybabel; returns the key unchanged."""
    return key


@dataclass(frozen=True)
class Message:
    """A sentence to show a person: its catalog key and the values it interpolates.

    Parameter values may be dates, numbers, `Money`, plain strings, `Localized` text from an offer
    file, or nested `Message`s (a choice label, a reference-date name); channels format each for
    the person's locale.
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Localized:
    """A text from an offer file, as written in French and translated into English."""

    fr: str
    en: str

    def in_language(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


@dataclass(frozen=True)
class Money:
    """An amount in a currency (ISO 4217 code), formatted per locale by the channels."""

    amount: float
    currency: str


@dataclass(frozen=True)
class AnyOf:
    """Alternatives, shown as a list joined with "or" in the person's language."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Lines:
    """Items shown one per line (a review of answers, a list of duties)."""

    items: tuple[Any, ...]
