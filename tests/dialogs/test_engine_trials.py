"""What people tried that the engine once got wrong: second thoughts on consent, answers that
look like questions, language names, things that are not text."""

from __future__ import annotations

import pytest

from .person import Person, make_engine, reach, says


def test_after_declining_a_typed_yes_still_accepts() -> None:
    person = Person(make_engine(consent=True))
    person.start()
    person.press("programs:iom-internship-rabat")
    person.press("consent:no")
    assert says(person.outputs, "consent.declined")
    person.say("oui")
    assert says(person.outputs, "consent.thanks") and person.pending == "birth_date"


def test_after_declining_a_question_is_still_a_question() -> None:
    person = Person(make_engine(consent=True))
    person.start()
    person.press("programs:iom-internship-rabat")
    person.press("consent:no")
    person.say("Quelle est l’allocation?")
    assert person.unanswered == ["Quelle est l’allocation?"] and person.state["consent"] is None


@pytest.mark.parametrize(
    ("fact", "text"),
    [("relevant_experience_years", "quelques mois"), ("birth_date", "Quelqu’un"),
     ("relevant_experience_years", "however many")],
)  # fmt: skip
def test_an_answer_that_begins_like_a_question_word_is_an_answer(fact: str, text: str) -> None:
    person = reach(fact)
    person.say(text)
    assert person.unanswered == []  # not kept for staff as a question
    assert person.pending == fact and any(k.startswith("parse.") for k in person.keys)  # what to type instead


@pytest.mark.parametrize(("name", "lang"), [("anglais", "en"), ("English", "en"), ("français", "fr"), ("FR", "fr")])
def test_language_by_its_name_in_either_language(name: str, lang: str) -> None:
    person = Person(make_engine(), lang="en" if lang == "fr" else "fr")
    person.start()
    person.command("language", name)
    assert person.state["lang"] == lang and "language.changed" in person.keys


def test_an_unknown_language_is_refused_without_changing_anything() -> None:
    person = Person(make_engine())
    person.start()
    person.command("language", "enfin")
    assert person.state["lang"] == "fr" and "language.unsupported" in person.keys


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "\u200f\u200e"])
def test_something_that_is_not_text_says_so_and_asks_again(text: str) -> None:
    person = reach("birth_date")
    person.say(text)
    assert person.keys[0] == "input.text_only" and person.pending == "birth_date"


@pytest.mark.parametrize("text", ["aide", "Aide!", "help", "HELP?"])
def test_help_typed_as_a_word_is_the_help(text: str) -> None:
    person = reach("birth_date")
    person.say(text)
    assert "help.birth_date" in person.keys and "help.commands" in person.keys
    assert person.state["attempts"] == 0 and person.pending == "birth_date"


def test_coming_back_starts_with_a_clean_slate_of_attempts() -> None:
    person = reach("birth_date")
    person.say("bientôt")
    person.say("plus tard")
    assert person.state["attempts"] == 2
    person.start()  # the next session
    assert "welcome.back" in person.keys and person.state["attempts"] == 0


@pytest.mark.parametrize("text", ["c quoi ça", "cest quoi l'allocation", "C'est quoi?"])
def test_texting_questions_are_questions(text: str) -> None:
    person = reach("citizenship")
    person.say(text)
    assert person.unanswered == [text]


@pytest.mark.parametrize("text", ["depuis ma naissance", "Depuis toujours", "since I was born", "all my life"])
def test_resident_since_birth_is_the_birth_date(text: str) -> None:
    person = reach("quebec_resident_since")
    birth = person.state["answers"]["birth_date"]
    person.say(text)
    assert person.state["answers"]["quebec_resident_since"] == birth
