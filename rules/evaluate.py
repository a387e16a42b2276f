"""Pure evaluation: `(facts, program, today) -> ProgramResult`, three-valued per criterion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .criteria import compile_criteria
from .criterion import Criterion, Outcome
from .facts import Facts
from .messages import Message
from .model import OutsideSource, Program


class Status(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's outcome, its explanation with the computed values, and the offer's words."""

    id: str
    result: Outcome
    explanation: Message
    quote: str
    blocking: bool
    also_stated_in: tuple[OutsideSource, ...] = ()  # the organisation's fuller rule, when the offer condenses it


@dataclass(frozen=True)
class ProgramResult:
    program: Program
    today: date
    status: Status
    offer_open: bool
    criteria: tuple[CriterionResult, ...]
    assets: tuple[CriterionResult, ...]
    missing_facts: tuple[str, ...]

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria if c.result is Outcome.NOT_MET)


def status_of(outcomes: Iterable[Outcome]) -> Status:
    """`not_eligible` when any blocking criterion is not met; else `incomplete` on any unknown."""
    seen = set(outcomes)
    if Outcome.NOT_MET in seen:
        return Status.NOT_ELIGIBLE
    if Outcome.UNKNOWN in seen:
        return Status.INCOMPLETE
    return Status.ELIGIBLE


def _result(criterion: Criterion, facts: Facts, program: Program, today: date) -> CriterionResult:
    verdict = criterion.evaluate(facts, program, today)
    return CriterionResult(
        criterion.id,
        verdict.outcome,
        verdict.explanation,
        criterion.spec.source,
        not criterion.advisory,
        tuple(criterion.spec.also_stated_in),
    )


def evaluate(facts: Facts, program: Program, today: date) -> ProgramResult:
    """Each criterion met, not met or unknown, the program's status, and what is still missing."""
    blocking, assets = compile_criteria(program)
    criteria = tuple(_result(c, facts, program, today) for c in blocking)
    asset_results = tuple(_result(c, facts, program, today) for c in assets)
    status = status_of(c.result for c in criteria)
    missing: list[str] = []
    if status is Status.INCOMPLETE:
        for criterion in blocking:
            missing.extend(f for f in criterion.needed(facts) if f not in missing)
    return ProgramResult(
        program=program,
        today=today,
        status=status,
        offer_open=program.offer_open(today),
        criteria=criteria,
        assets=asset_results,
        missing_facts=tuple(missing),
    )
