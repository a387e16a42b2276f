"""What every criterion kind shares: outcomes, verdicts, parameters and reference dates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from .errors import OfferFileError
from .facts import Facts
from .messages import N_, AnyOf, Message
from .model import CriterionSpec, Program


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Quantity:
    """A number with a CLDR unit (`duration-year`, `duration-month`), pluralised per locale."""

    value: float
    unit: str


@dataclass(frozen=True)
class Choice:
    """The label of a fact's choice value, e.g. `education` / `master_in_progress`."""

    fact: str
    value: str


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    explanation: Message


def choice_list(fact: str, values: list[str]) -> AnyOf:
    return AnyOf(tuple(Choice(fact, v) for v in values))


ReferenceName = Literal["start_date", "today", "deadline"]

REFERENCE_LABELS = {
    "start_date": N_("reference.start_date"),
    "today": N_("reference.today"),
    "deadline": N_("reference.deadline"),
}


def check_reference(program: Program, at: ReferenceName) -> None:
    if (at == "start_date" and program.start_date is None) or (at == "deadline" and program.deadline_date is None):
        raise OfferFileError(f"{program.id}: a criterion counts at {at}, which the offer does not state")


def reference(program: Program, today: date, at: ReferenceName) -> tuple[date, Message]:
    """The date a criterion is counted at, in the offer's own words, and its name.

    "Today" is the day of the check while the offer is open; once its deadline has passed, it is
    the deadline (the last day this edition took applications), so that every criterion of a
    closed offer is judged on that edition's own dates.
    """
    if at == "today":
        deadline = program.deadline_date
        if deadline is not None and today > deadline:
            at, today = "deadline", deadline
        label = REFERENCE_LABELS[at]
        return today, Message(label)
    value = program.start_date if at == "start_date" else program.deadline_date
    if value is None:
        raise OfferFileError(f"{program.id}: a criterion counts at {at}, which the offer lacks")
    label = REFERENCE_LABELS[at]
    return value, Message(label)


def tense(on: date, today: date) -> str:
    return "future" if on > today else "past" if on < today else "present"


class KindParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Criterion(ABC):
    """A criterion of an offer, compiled from its spec."""

    Params: ClassVar[type[KindParams]]
    advisory: ClassVar[bool] = False

    def __init__(self, spec: CriterionSpec, params: KindParams) -> None:
        self.spec = spec
        self.params = params

    @property
    def id(self) -> str:
        return self.spec.id

    @abstractmethod
    def facts(self) -> tuple[str, ...]:
        """Every fact this criterion may consult."""

    @abstractmethod
    def needed(self, facts: Facts) -> list[str]:
        """The unknown facts that decide this criterion next; empty once it is decided."""

    @abstractmethod
    def evaluate(self, facts: Facts, program: Program, today: date) -> Verdict:
        """Met, not met or unknown, with the explanation."""


class SingleFactCriterion(Criterion):
    """A criterion decided by one fact: `FACT`, or the `fact` parameter of the offer file."""

    FACT: ClassVar[str] = ""

    @property
    def fact(self) -> str:
        return str(getattr(self.params, "fact", self.FACT))

    def facts(self) -> tuple[str, ...]:
        return (self.fact,)

    def needed(self, facts: Facts) -> list[str]:
        return [] if self.fact in facts else [self.fact]
