"""The personas of the rules' cases (rules/cases/*.yaml), and how such a person answers a question.

Each case is a persona: an offer, the day of the check and the facts they know (a fact absent is
one they do not know). The cases are read by `tests.rules.test_cases` (its strict schema); this
module only walks them. A persona alternates languages by position (even French, odd English)
and types dates and numbers as a person does in that language: dates as ISO or in words
("20 mai 1998", "May 20, 1998"), numbers in the locale ("1,99" / "1.99").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from bot.i18n import Lang, format_day, format_number
from dialogs.prompts import DONT_KNOW
from dialogs.questions import QUESTIONS, InputKind
from rules import FACTS, FactValue, evaluate

from ..rules.test_cases import PROGRAMS, SUITES

FACT_ORDER = tuple(FACTS)


@dataclass(frozen=True)
class Persona:
    index: int
    program: str
    case: str
    today: date
    facts: Mapping[str, FactValue]
    expected: str  # the case's `expect.status`

    @property
    def name(self) -> str:
        return f"{self.program}: {self.case}"

    @property
    def lang(self) -> Lang:
        return "fr" if self.index % 2 == 0 else "en"

    def knows(self, fact: str) -> bool:
        return self.facts.get(fact) is not None

    def value(self, fact: str) -> FactValue:
        value = self.facts.get(fact)
        assert value is not None, f"{self.name} does not know {fact}"
        return value

    def button_id(self, fact: str) -> str:
        """The id of the button this person presses for the question of `fact` (`<fact>:<value>`,
        `<fact>:yes|no`, or `<fact>:?unknown` for a fact they do not know)."""
        if not self.knows(fact):
            return f"{fact}:{DONT_KNOW}"
        value = self.value(fact)
        if isinstance(value, bool):
            return f"{fact}:{'yes' if value else 'no'}"
        assert QUESTIONS[fact].kind is InputKind.CHOICE, fact
        return f"{fact}:{value}"

    def in_words(self, fact: str) -> bool:
        """Alternates date styles across personas of each language and across facts."""
        return (self.index // 2 + FACT_ORDER.index(fact)) % 2 == 1

    def typed(self, fact: str) -> str:
        """The text typed for a date or a number this person knows, in their language."""
        value = self.value(fact)
        kind = QUESTIONS[fact].kind
        if kind is InputKind.DATE:
            assert isinstance(value, date)
            return format_day(value, self.lang) if self.in_words(fact) else value.isoformat()
        assert kind is InputKind.NUMBER and isinstance(value, int | float), fact
        return format_number(value, self.lang)

    def rules_status(self) -> str:
        """What the rules module decides for this persona."""
        return evaluate(dict(self.facts), PROGRAMS[self.program], self.today).status.value


def personas() -> list[Persona]:
    """Every case of every suite, in file order."""
    cases = [(suite, case) for suite in SUITES for case in suite.cases]
    return [
        Persona(
            index=index,
            program=suite.program,
            case=case.name,
            today=case.today or suite.base.today,
            facts=suite.facts_of(case),
            expected=case.expect.status,
        )
        for index, (suite, case) in enumerate(cases)
    ]


def by_day(people: Iterable[Persona]) -> list[tuple[date, list[Persona]]]:
    """The personas grouped by the day of their check, the earliest day first."""
    ordered = sorted(people, key=lambda p: (p.today, p.index))
    return [(day, list(group)) for day, group in groupby(ordered, key=lambda p: p.today)]
