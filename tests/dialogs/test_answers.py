"""`parse_answer`, the one reader of typed answers: every question, both languages, and the engine agrees."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dialogs.answers import check_answer, parse_answer
from dialogs.parsing import Ambiguous, DontKnow, Invalid, Parsed
from dialogs.questions import QUESTIONS
from dialogs.state import load_state
from rules import FactValue, Quantity, dump_facts

from .catalogs import translate
from .person import reach

TODAY = date(2021, 9, 15)
BORN = {"birth_date": date(1995, 3, 15)}

# Each question answered in French, then in English, with the fact value the rules receive.
VALID: dict[str, list[tuple[str, FactValue]]] = {
    "birth_date": [("15 mars 1995", date(1995, 3, 15)), ("March 15, 1995", date(1995, 3, 15))],
    "education": [("je fais ma maîtrise", "master_in_progress"), ("PhD", "phd_in_progress")],
    "highest_degree": [("maîtrise", "master"), ("bachelor's degree", "bachelor")],
    "graduation_date": [("10 janvier 2021", date(2021, 1, 10)), ("January 10, 2021", date(2021, 1, 10))],
    "relevant_experience_years": [("un an et demi", 1.5), ("18 months", 1.5)],
    "iom_interest": [("oui", True), ("no", False)],
    "citizenship": [("citoyenne canadienne", "canadian"), ("permanent resident", "permanent_resident")],
    "quebec_domicile": [("Oui!", True), ("nope", False)],
    "quebec_resident_since": [("1er janvier 2010", date(2010, 1, 1)), ("since January 1, 2010", date(2010, 1, 1))],
    "french_writing": [("bon", "good"), ("excellent", "excellent")],
    "english_writing": [("de base", "basic"), ("good", "good")],
    "prior_psoig_internship": [("non", False), ("yes", True)],
    "spanish": [("bien sûr", True), ("not really", False)],
    "field_of_study": [("droit", "law"), ("economics", "economics")],
}
# Each question refused in French, then in English, with the catalog key the chat shows.
INVALID: dict[str, list[tuple[str, str]]] = {
    "birth_date": [("bientôt", "parse.date.format"), ("2030-01-01", "check.date.future")],
    "education": [("astronaute", "parse.choice.none"), ("astronaut", "parse.choice.none")],
    "highest_degree": [("licorne", "parse.choice.none"), ("unicorn", "parse.choice.none")],
    "graduation_date": [("2000-01-01", "check.graduation_date.too_young"), ("soon", "parse.date.format")],
    "relevant_experience_years": [("beaucoup", "parse.number.format"), ("20 years", "check.experience.implausible")],
    "iom_interest": [("peut-être", "parse.yes_no"), ("maybe", "parse.yes_no")],
    "citizenship": [("martienne", "parse.choice.none"), ("martian", "parse.choice.none")],
    "quebec_domicile": [("peut-être", "parse.yes_no"), ("perhaps", "parse.yes_no")],
    "quebec_resident_since": [
        ("1990-01-01", "check.resident_since.before_birth"),
        ("March 2020", "parse.date.needs_day"),
    ],
    "french_writing": [("moyen", "parse.choice.none"), ("average", "parse.choice.none")],
    "english_writing": [("moyen", "parse.choice.none"), ("average", "parse.choice.none")],
    "prior_psoig_internship": [("oui et non", "parse.yes_no"), ("maybe", "parse.yes_no")],
    "spanish": [("un peu", "parse.yes_no"), ("a little", "parse.yes_no")],
    "field_of_study": [("astrologie", "parse.choice.none"), ("astrology", "parse.choice.none")],
}
CASES = [(fact, text, value) for fact, pairs in VALID.items() for text, value in pairs]
REFUSALS = [(fact, text, key) for fact, pairs in INVALID.items() for text, key in pairs]


def parse(fact: str, text: str, facts: dict[str, Any] | None = None) -> Any:
    return parse_answer(fact, text, today=TODAY, facts=BORN if facts is None else facts, translate=translate)


def test_every_question_has_french_and_english_answers_and_refusals() -> None:
    assert set(VALID) == set(QUESTIONS) == set(INVALID)


@pytest.mark.parametrize(("fact", "text", "value"), CASES)
def test_a_valid_answer_gives_the_fact_value(fact: str, text: str, value: FactValue) -> None:
    assert parse(fact, text) == Parsed(value)


@pytest.mark.parametrize(("fact", "text", "key"), REFUSALS)
def test_an_invalid_answer_gives_the_reason_the_chat_shows(fact: str, text: str, key: str) -> None:
    result = parse(fact, text)
    assert isinstance(result, Invalid) and result.reason == key


def test_the_plausibility_checks_come_with_their_values() -> None:
    assert parse("birth_date", "2030-01-01") == Invalid("check.date.future", {"date": date(2030, 1, 1), "today": TODAY})
    assert parse("birth_date", "1900-01-01") == Invalid(
        "check.birth_date.implausible", {"date": date(1900, 1, 1), "age": Quantity(121, "duration-year")}
    )
    assert parse("relevant_experience_years", "99") == Invalid("parse.number.too_large", {"maximum": 60})
    # without a birth date, a graduation at any past date is plausible
    assert parse("graduation_date", "2000-01-01", facts={}) == Parsed(date(2000, 1, 1))


def test_a_date_that_reads_two_ways_is_left_to_confirm_unless_both_readings_are_refused() -> None:
    assert parse("birth_date", "03/04/1995") == Ambiguous((date(1995, 4, 3), date(1995, 3, 4)))
    refused = parse("birth_date", "03/04/2030")
    assert isinstance(refused, Invalid) and refused.reason == "check.date.future"
    assert check_answer("birth_date", date(1995, 3, 4), today=TODAY, facts={}) is None


@pytest.mark.parametrize("fact", sorted(QUESTIONS))
@pytest.mark.parametrize("text", ["je ne sais pas", "I don't know"])
def test_not_knowing_is_understood_on_every_question(fact: str, text: str) -> None:
    assert parse(fact, text) == DontKnow()


def test_an_unknown_fact_is_a_caller_s_mistake() -> None:
    with pytest.raises(ValueError, match="shoe_size"):
        parse("shoe_size", "42")


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        *((fact, text) for fact, text, _ in CASES),
        *((fact, text) for fact, text, _ in REFUSALS),
        ("birth_date", "03/04/1995"),
        ("spanish", "aucune idée"),
        ("relevant_experience_years", "no idea"),
    ],
)
def test_the_engine_reads_a_typed_answer_as_parse_answer_does(fact: str, text: str) -> None:
    person = reach(fact)
    facts = load_state(person.state).facts()
    expected = parse_answer(fact, text, today=person.today, facts=facts, translate=translate)
    person.say(text)
    if isinstance(expected, Parsed):
        assert person.state["answers"][fact] == dump_facts({fact: expected.value})[fact]
    elif isinstance(expected, Ambiguous):
        assert person.pending == "confirm"
        first, second = expected.candidates
        assert person.ask.message.params == {"first": first, "second": second}
    elif isinstance(expected, DontKnow):
        assert fact in person.state["skipped"] and fact not in person.state["answers"]
    else:
        assert fact not in person.state["answers"] and person.pending == fact
        assert person.said[0].key == expected.reason and dict(person.said[0].params) == dict(expected.params)


def test_the_public_names_of_the_answer_parser() -> None:
    import dialogs.answers

    assert sorted(dialogs.answers.__all__) == ["AnswerResult", "check_answer", "parse_answer", "read_answer"]
