"""One typed answer to one question, read the same way by every channel.

The chat (through the engine) and a Rasa `validate_<slot>` both call `parse_answer`: the
question's own parser for its input kind, then the plausibility checks of `questions` (a birth
date in the future, a degree obtained before the age of 15). A refusal carries the catalog key
and parameters the chat shows, so every channel explains it in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from rules import FactValue

from .choices import parse_choice, parse_yes_no
from .dont_know import says_dont_know
from .numbers import parse_years
from .parsing import Ambiguous, DontKnow, Invalid, Parsed, ParseResult, normalize, parse_date
from .prompts import Translate, choice_options
from .questions import QUESTIONS, InputKind, Question

AnswerResult = Parsed | Ambiguous | Invalid | DontKnow

__all__ = ["AnswerResult", "check_answer", "parse_answer", "read_answer"]


def _read_date(question: Question, text: str, today: date, translate: Translate) -> ParseResult:
    return parse_date(text, today)


def _read_number(question: Question, text: str, today: date, translate: Translate) -> ParseResult:
    return parse_years(text, question.maximum)


def _read_yes_no(question: Question, text: str, today: date, translate: Translate) -> ParseResult:
    # The button labels first ("Oui", "Yes"), in either language; then everyday yes/no words.
    labelled = parse_choice(text, choice_options(question.fact, translate))
    if isinstance(labelled, Parsed):
        return Parsed(labelled.value == "yes")
    return parse_yes_no(text)


def _read_choice(question: Question, text: str, today: date, translate: Translate) -> ParseResult:
    return parse_choice(text, choice_options(question.fact, translate))


_READERS: dict[InputKind, Callable[[Question, str, date, Translate], ParseResult]] = {
    InputKind.DATE: _read_date,
    InputKind.NUMBER: _read_number,
    InputKind.YES_NO: _read_yes_no,
    InputKind.CHOICE: _read_choice,
}


# "Since when?" answered "since I was born", for a question that allows it (residency).
SINCE_BIRTH = frozenset(
    {
        "depuis ma naissance",
        "depuis toujours",
        "depuis que je suis ne",
        "depuis que je suis nee",
        "depuis que je suis ne(e)",
        "depuis la naissance",
        "toujours",
        "toute ma vie",
        "since birth",
        "since my birth",
        "since i was born",
        "always",
        "all my life",
        "my whole life",
        "forever",
    }
)


def _says_since_birth(text: str) -> bool:
    return normalize(text).strip(" .!") in SINCE_BIRTH


def _question(fact: str) -> Question:
    question = QUESTIONS.get(fact)
    if question is None:  # a caller's mistake, not something a person typed
        raise ValueError(f"unknown fact {fact!r}; expected one of {', '.join(QUESTIONS)}")
    return question


def read_answer(fact: str, text: str, *, today: date, translate: Translate) -> ParseResult:
    """The text read by the question's parser only, without the plausibility checks."""
    question = _question(fact)
    return _READERS[question.kind](question, text, today, translate)


def check_answer(fact: str, value: Any, *, today: date, facts: Mapping[str, FactValue]) -> Invalid | None:
    """The question's plausibility check of a value (typed, pressed or confirmed); None when it passes.

    `facts` are the other answers: a graduation date is checked against the birth date.
    """
    question = _question(fact)
    if question.check is None:
        return None
    return question.check(value, facts, today)


def parse_answer(
    fact: str, text: str, *, today: date, facts: Mapping[str, FactValue], translate: Translate
) -> AnswerResult:
    """What `text` answers to the question of `fact`, in French or English.

    - `Parsed(value)`: the fact's value as the rules take it (a `date`, `True`/`False`, a number
      of years as `float`, or a choice id such as `"master_in_progress"`), already checked.
    - `Ambiguous(candidates)`: a numeric date that reads two ways (03/04/1998); confirm one with
      the person, then `check_answer` it. When both readings would be refused, the first refusal
      is returned instead: there is nothing to confirm.
    - `DontKnow()`: the person says they do not know ("je ne sais pas", "no idea"); the fact
      stays unknown. Looked for first, so "aucune idée" is never read as "no".
    - `Invalid(reason, params)`: the catalog key of what to fix and its parameters.

    `facts` are the answers given so far, for the checks; `today` decides what is in the future;
    `translate(key, lang)` gives the catalog labels that name a choice. Raises `ValueError` for
    a fact that is not in the contract.
    """
    if says_dont_know(text):
        _question(fact)
        return DontKnow()
    birth = facts.get("birth_date")
    if _question(fact).since_birth and isinstance(birth, date) and _says_since_birth(text):
        return check_answer(fact, birth, today=today, facts=facts) or Parsed(birth)
    read = read_answer(fact, text, today=today, translate=translate)
    if isinstance(read, Parsed):
        return check_answer(fact, read.value, today=today, facts=facts) or read
    if isinstance(read, Ambiguous):
        refusals = [check_answer(fact, day, today=today, facts=facts) for day in read.candidates]
        if refusals[0] is not None and refusals[1] is not None:
            return refusals[0]
    return read
