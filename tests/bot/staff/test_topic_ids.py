"""A staff topic's id comes from its English title: readable, unique, never a pseudo-topic."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.faq.answers import BUILTIN_TOPICS
from bot.staff.faq_editor import _new_topic_id


def desk_with(topics: list[str]) -> Any:
    return SimpleNamespace(faq=SimpleNamespace(topics=lambda: topics))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Housing", "housing"),
        ("Help with visas", "t_help_with_visas"),  # `help...` ids belong to the dialog's help pseudo-topics
        ("Helpful links", "t_helpful_links"),
        ("2nd round", "t_2nd_round"),
        ("Été à Genève!", "ete_a_geneve"),
        ("!!!", "topic"),
    ],
)
def test_the_id_is_a_readable_slug_of_the_english_title(title: str, expected: str) -> None:
    assert _new_topic_id(desk_with(list(BUILTIN_TOPICS)), title) == expected


def test_an_id_in_use_gets_a_number_and_the_search_always_ends() -> None:
    assert _new_topic_id(desk_with([*BUILTIN_TOPICS, "housing", "housing_2"]), "Housing") == "housing_3"
    assert _new_topic_id(desk_with([*BUILTIN_TOPICS, "t_help_desk"]), "Help desk") == "t_help_desk_2"
    assert _new_topic_id(desk_with(list(BUILTIN_TOPICS)), "Stipend") == "stipend_2"
