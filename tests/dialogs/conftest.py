"""Fixtures of the dialog tests: a French and an English person, each with a fresh engine."""

from __future__ import annotations

import pytest

from .person import Person, make_engine


@pytest.fixture
def person() -> Person:
    return Person(make_engine())


@pytest.fixture
def english() -> Person:
    return Person(make_engine(), lang="en")
