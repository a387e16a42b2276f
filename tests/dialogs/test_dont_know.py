""" "Je ne sais pas", "no idea": understood at once on every question, the fact left unknown, never "no"."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dialogs.choices import parse_yes_no
from dialogs.dont_know import DONT_KNOW_PHRASES, says_dont_know
from dialogs.outputs import Output
from dialogs.parsing import Invalid, Parsed
from dialogs.questions import QUESTIONS, InputKind
from rules import Message

from .person import Person, make_engine, reach, says

FRENCH = ["je ne sais pas", "Je sais pas...", "j’sais pas", "chais pas", "Aucune idée!", "pas sûre", "Pas sûr."]
ENGLISH = ["I don't know", "I DON’T KNOW.", "dunno", "not sure", "No idea!", "idk", "no idea, sorry"]
# One question of each kind: a date, a number, a closed choice, a yes/no.
ONE_OF_EACH_KIND = {
    InputKind.DATE: "birth_date",
    InputKind.NUMBER: "relevant_experience_years",
    InputKind.CHOICE: "citizenship",
    InputKind.YES_NO: "spanish",
}


def test_one_question_of_each_kind() -> None:
    assert {QUESTIONS[fact].kind for fact in ONE_OF_EACH_KIND.values()} == set(InputKind)


@pytest.mark.parametrize("kind", list(InputKind))
@pytest.mark.parametrize(("lang", "text"), [*(("fr", t) for t in FRENCH), *(("en", t) for t in ENGLISH)])
def test_not_knowing_sets_the_question_aside_at_once(kind: InputKind, lang: str, text: str) -> None:
    fact = ONE_OF_EACH_KIND[kind]
    person = reach(fact, lang)
    saved = dict(person.state["answers"])
    outputs = person.say(text)
    assert says(outputs, "dont_know.noted"), person.keys
    assert not any(key.startswith(("parse.", "check.")) for key in person.keys)
    assert person.state["skipped"] == [fact] and person.state["answers"] == saved  # unknown, not "no" or zero
    assert person.pending != fact and person.state["attempts"] == 0


@pytest.mark.parametrize("fact", sorted(QUESTIONS))
def test_every_question_has_an_i_dont_know_button(fact: str) -> None:
    person = reach(fact)
    buttons = {b.id: b.label for b in person.ask.buttons}
    assert buttons[f"{fact}:?unknown"] == Message("button.dont_know")
    outputs = person.press(f"{fact}:?unknown")
    assert says(outputs, "dont_know.noted") and fact in person.state["skipped"]
    assert fact not in person.state["answers"]


def test_date_and_number_questions_offer_only_that_button() -> None:
    assert reach("birth_date").button_ids == ["birth_date:?unknown"]
    assert reach("relevant_experience_years").button_ids == ["relevant_experience_years:?unknown"]
    assert reach("spanish").button_ids == ["spanish:yes", "spanish:no", "spanish:?unknown"]


@pytest.mark.parametrize(
    ("fact", "text", "value"),
    [
        ("spanish", "non", False),
        ("spanish", "no", False),
        ("spanish", "Non, je ne sais pas parler espagnol", False),
        ("quebec_domicile", "nope", False),
        ("highest_degree", "aucun", "none"),
        ("relevant_experience_years", "aucune", 0.0),
        ("relevant_experience_years", "none", 0.0),
    ],
)
def test_no_and_none_stay_answers(fact: str, text: str, value: object) -> None:
    person = reach(fact)
    person.say(text)
    assert person.state["answers"][fact] == value and fact not in person.state["skipped"]


@pytest.mark.parametrize("text", ["je ne sais pas", "aucune idée", "no idea", "not sure", "I don't know"])
def test_the_yes_no_parser_never_reads_not_knowing_as_no(text: str) -> None:
    assert isinstance(parse_yes_no(text), Invalid)


@pytest.mark.parametrize("text", ["non", "no", "aucun", "aucune", "none", "pas du tout", "not at all", "nope"])
def test_a_no_is_not_a_dont_know(text: str) -> None:
    assert not says_dont_know(text)
    assert parse_yes_no(text) == Parsed(False)


def test_every_phrase_of_the_list_is_recognised() -> None:
    assert all(says_dont_know(phrase) for phrase in DONT_KNOW_PHRASES)
    assert all(says_dont_know(phrase.upper() + " !") for phrase in DONT_KNOW_PHRASES)


def test_review_comes_back_to_an_unknown_fact() -> None:
    person = reach("relevant_experience_years")
    person.say("je ne sais pas")
    person.press("iom_interest:yes")
    result = person.verdicts["iom-internship-rabat"]
    assert result.status.value == "incomplete" and result.missing_facts == ("relevant_experience_years",)
    person.command("review")
    assert person.review["fact.relevant_experience_years"] == Message("review.skipped")
    person.press("review:relevant_experience_years")
    assert person.pending == "relevant_experience_years"
    person.say("1")
    assert person.verdicts["iom-internship-rabat"].status.value == "eligible"
    assert person.state["skipped"] == []


def test_not_knowing_a_fact_being_changed_drops_its_old_answer_and_what_depends_on_it() -> None:
    person = reach("graduation_date")
    person.say("2021-01-10")
    person.command("review")
    person.press("review:highest_degree")
    person.say("I have no idea")
    assert "highest_degree" in person.state["skipped"]
    assert "highest_degree" not in person.state["answers"] and "graduation_date" not in person.state["answers"]


def test_not_knowing_is_not_sent_to_the_faq_even_with_a_question_mark() -> None:
    calls: list[str] = []

    def faq(text: str, lang: str, programs: Sequence[str]) -> list[Output] | None:
        calls.append(text)
        return None

    person = Person(make_engine(faq))
    person.start()
    person.press("programs:iom-internship-rabat")
    outputs = person.say("Je ne sais pas?")
    assert calls == [] and says(outputs, "dont_know.noted") and person.state["skipped"] == ["birth_date"]


def test_not_knowing_while_confirming_a_date() -> None:
    person = reach("birth_date")
    person.say("03/04/1995")
    assert person.pending == "confirm"
    outputs = person.say("pas sûr")
    assert says(outputs, "dont_know.noted") and person.state["skipped"] == ["birth_date"]
    assert person.state["candidates"] == [] and person.pending == "education"


def test_outside_a_question_the_button_changes_nothing() -> None:
    person = reach("birth_date")
    person.start()
    person.command("restart")
    outputs = person.press_id("birth_date:?unknown")
    assert says(outputs, "button.stale") and person.state["skipped"] == []


def test_a_question_set_aside_counts_in_the_progress() -> None:
    person = Person(make_engine())
    person.start()
    person.press("programs:quebec-psoig-2021-023")
    first = person.ask.progress
    assert first is not None and first[0] == 1
    person.say("je ne sais pas")
    second = person.ask.progress
    assert second is not None and second[0] == 2  # the next question is the second, not the first again
    person.press(f"{person.pending}:?unknown")
    third = person.ask.progress
    assert third is not None and third[0] == 3
