"""Offer files for the tests: the 2027 edition of the PSOIG offer, and variants of it."""

from __future__ import annotations

from pathlib import Path

import pytest

EDITIONS = Path(__file__).parent / "editions"
EDITION_2027 = EDITIONS / "quebec-psoig-2021-023-2027.yaml"
QUEBEC = "quebec-psoig-2021-023"


def edition_text(*changes: tuple[str, str]) -> str:
    """The 2027 edition's text with each (old, new) replaced once (each old must be in it)."""
    text = EDITION_2027.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def edition_2027() -> Path:
    return EDITION_2027
