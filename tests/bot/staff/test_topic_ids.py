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


def test_unanswered_questions_are_ranked_by_how_many_people_asked() -> None:
    from bot.faq.store import Asked
    from bot.staff.gaps import group

    asked = [
        *(Asked(i, "est-ce que je peux amener mon chien?", "fr", 7) for i in range(1, 51)),  # one person, 50 times
        Asked(60, "y a-t-il un stationnement?", "fr", 8),
        Asked(61, "Y A T IL UN STATIONNEMENT", "fr", 9),  # the same question, another person, shouted
        Asked(62, "is there parking?", "en", 10),
    ]
    groups = group(asked)
    assert [(g.normal, len(g.askers), len(g.ids)) for g in groups] == [
        ("y a t il un stationnement", 2, 2),
        ("est ce que je peux amener mon chien", 1, 50),
        ("is there parking", 1, 1),
    ]
