"""The questions, declared as data: one per fact of the contract.

Each names the catalog keys of its prompt and help, its input kind, its choices (stable ids,
the fact's values), the facts whose change makes it stale, and how its answer is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from rules import FACTS, N_, FactType, FactValue, Quantity, age_on

from .parsing import Invalid


class InputKind(StrEnum):
    DATE = "date"
    CHOICE = "choice"
    YES_NO = "yes_no"
    NUMBER = "number"


Check = Callable[[Any, Mapping[str, FactValue], date], Invalid | None]


@dataclass(frozen=True)
class Question:
    fact: str
    prompt: str
    help: str
    kind: InputKind
    depends_on: tuple[str, ...] = ()
    check: Check | None = None
    maximum: float = 0.0
    since_birth: bool = False  # "depuis ma naissance" answers it with the birth date

    @property
    def choices(self) -> tuple[str, ...]:
        return FACTS[self.fact].choices


def _not_future(value: date, today: date) -> Invalid | None:
    if value > today:
        return Invalid(N_("check.date.future"), {"date": value, "today": today})
    return None


def check_birth_date(value: date, facts: Mapping[str, FactValue], today: date) -> Invalid | None:
    if refused := _not_future(value, today):
        return refused
    age = age_on(value, today)
    if not 14 <= age <= 100:
        return Invalid(N_("check.birth_date.implausible"), {"date": value, "age": Quantity(age, "duration-year")})
    return None


def _after_birth(value: date, facts: Mapping[str, FactValue], years: int, key: str) -> Invalid | None:
    birth = facts.get("birth_date")
    if isinstance(birth, date) and age_on(birth, value) < years:
        return Invalid(key, {"date": value, "birth_date": birth})
    return None


def check_graduation_date(value: date, facts: Mapping[str, FactValue], today: date) -> Invalid | None:
    return _not_future(value, today) or _after_birth(value, facts, 15, N_("check.graduation_date.too_young"))


def check_resident_since(value: date, facts: Mapping[str, FactValue], today: date) -> Invalid | None:
    return _not_future(value, today) or _after_birth(value, facts, 0, N_("check.resident_since.before_birth"))


def check_experience(value: float, facts: Mapping[str, FactValue], today: date) -> Invalid | None:
    birth = facts.get("birth_date")
    if isinstance(birth, date) and value > max(age_on(birth, today) - 12, 0):
        return Invalid(N_("check.experience.implausible"), {"years": value})
    return None


QUESTIONS: dict[str, Question] = {
    q.fact: q
    for q in (
        Question(
            "birth_date", N_("question.birth_date"), N_("help.birth_date"), InputKind.DATE, check=check_birth_date
        ),
        Question("education", N_("question.education"), N_("help.education"), InputKind.CHOICE),
        Question(
            "highest_degree",
            N_("question.highest_degree"),
            N_("help.highest_degree"),
            InputKind.CHOICE,
            depends_on=("education",),
        ),
        Question(
            "graduation_date",
            N_("question.graduation_date"),
            N_("help.graduation_date"),
            InputKind.DATE,
            depends_on=("education", "highest_degree"),
            check=check_graduation_date,
        ),
        Question(
            "relevant_experience_years",
            N_("question.relevant_experience_years"),
            N_("help.relevant_experience_years"),
            InputKind.NUMBER,
            check=check_experience,
            maximum=60,
        ),
        Question("iom_interest", N_("question.iom_interest"), N_("help.iom_interest"), InputKind.YES_NO),
        Question("citizenship", N_("question.citizenship"), N_("help.citizenship"), InputKind.CHOICE),
        Question("quebec_domicile", N_("question.quebec_domicile"), N_("help.quebec_domicile"), InputKind.YES_NO),
        Question(
            "quebec_resident_since",
            N_("question.quebec_resident_since"),
            N_("help.quebec_resident_since"),
            InputKind.DATE,
            check=check_resident_since,
            since_birth=True,
        ),
        Question("french_writing", N_("question.french_writing"), N_("help.french_writing"), InputKind.CHOICE),
        Question("english_writing", N_("question.english_writing"), N_("help.english_writing"), InputKind.CHOICE),
        Question(
            "prior_psoig_internship",
            N_("question.prior_psoig_internship"),
            N_("help.prior_psoig_internship"),
            InputKind.YES_NO,
        ),
        Question("spanish", N_("question.spanish"), N_("help.spanish"), InputKind.YES_NO),
        Question("field_of_study", N_("question.field_of_study"), N_("help.field_of_study"), InputKind.CHOICE),
    )
}


def _kinds_match_the_contract() -> None:
    expected = {
        FactType.DATE: InputKind.DATE,
        FactType.CHOICE: InputKind.CHOICE,
        FactType.YES_NO: InputKind.YES_NO,
        FactType.NUMBER: InputKind.NUMBER,
    }
    for name, spec in FACTS.items():
        if name not in QUESTIONS or QUESTIONS[name].kind is not expected[spec.type]:
            raise RuntimeError(f"question for fact {name} is missing or of the wrong kind")


_kinds_match_the_contract()


def dependents(fact: str) -> set[str]:
    """Facts whose answer loses its meaning when `fact` changes (transitively)."""
    found: set[str] = set()
    frontier = [fact]
    while frontier:
        current = frontier.pop()
        for question in QUESTIONS.values():
            if current in question.depends_on and question.fact not in found:
                found.add(question.fact)
                frontier.append(question.fact)
    return found


def implausible(facts: Mapping[str, FactValue], today: date) -> dict[str, Invalid]:
    """Answers the chat would refuse (a future date, an impossible age...): the same checks for every channel."""
    found: dict[str, Invalid] = {}
    for fact, value in facts.items():
        question = QUESTIONS.get(fact)
        if question is not None and question.check is not None and (problem := question.check(value, facts, today)):
            found[fact] = problem
    return found
