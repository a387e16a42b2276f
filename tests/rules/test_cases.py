"""The staff-readable cases next to the offers (rules/cases/*.yaml), run one test per case.

The files are read through a strict schema: a misspelt key (`expcet:`, `fatcs:`) would otherwise
be ignored and the case would silently test nothing, so it stops the run with its location.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rules import FactError, Facts, evaluate, load_programs, parse_facts

CASES_DIR = Path(__file__).resolve().parents[2] / "rules" / "cases"
PROGRAMS = load_programs()

Result = Literal["met", "not_met", "unknown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_facts(raw: dict[str, Any]) -> dict[str, Any]:
    """Fact names and values as the rules accept them (`null` removes an answer)."""
    try:
        parse_facts({k: v.isoformat() if isinstance(v, date) else v for k, v in raw.items()})
    except FactError as error:
        raise ValueError(str(error)) from None
    return raw


class Expect(_Strict):
    """What the bot must decide: the status and exactly the failing criteria; the rest if given."""

    status: Literal["eligible", "not_eligible", "incomplete"]
    failing: list[str]
    missing: list[str] | None = None
    offer_open: bool | None = None
    criteria: dict[str, Result] = Field(default_factory=dict)
    assets: dict[str, Result] = Field(default_factory=dict)


class Case(_Strict):
    """A persona: the base's answers changed by `facts`, or replaced by `replace_facts`."""

    name: str = Field(min_length=1)
    today: date | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    replace_facts: dict[str, Any] | None = None
    expect: Expect

    @field_validator("facts", "replace_facts")
    @classmethod
    def _facts_known(cls, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if raw is None else _known_facts(raw)

    @model_validator(mode="after")
    def _one_way_to_give_facts(self) -> Case:
        if self.facts and self.replace_facts is not None:
            raise ValueError("give `facts` (changes to the base) or `replace_facts`, not both")
        return self


class Base(_Strict):
    today: date
    facts: dict[str, Any]

    @field_validator("facts")
    @classmethod
    def _facts_known(cls, raw: dict[str, Any]) -> dict[str, Any]:
        return _known_facts(raw)


class Suite(_Strict):
    """One file: the offer, the base persona who meets every criterion, and the cases."""

    program: str
    base: Base
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_program_and_distinct_names(self) -> Suite:
        if self.program not in PROGRAMS:
            raise ValueError(f"unknown program {self.program!r}; expected one of {', '.join(PROGRAMS)}")
        names = [case.name for case in self.cases]
        if twice := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"case names given twice: {twice}")
        return self

    def facts_of(self, case: Case) -> Facts:
        merged = dict(case.replace_facts) if case.replace_facts is not None else {**self.base.facts, **case.facts}
        return parse_facts({k: v.isoformat() if isinstance(v, date) else v for k, v in merged.items()})


def load_suite(text: str) -> Suite:
    return Suite.model_validate(yaml.safe_load(text))


SUITES = [load_suite(path.read_text(encoding="utf-8")) for path in sorted(CASES_DIR.glob("*.yaml"))]
CASES = [pytest.param(suite, case, id=f"{suite.program}: {case.name}") for suite in SUITES for case in suite.cases]


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_case(suite: Suite, case: Case) -> None:
    program = PROGRAMS[suite.program]
    result = evaluate(suite.facts_of(case), program, case.today or suite.base.today)
    expect = case.expect
    assert result.status.value == expect.status
    assert sorted(result.failing) == sorted(expect.failing)
    if expect.missing is not None:
        assert sorted(result.missing_facts) == sorted(expect.missing)
    if expect.offer_open is not None:
        assert result.offer_open is expect.offer_open
    criteria = {c.id: c.result.value for c in result.criteria}
    assets = {c.id: c.result.value for c in result.assets}
    assert set(expect.criteria) <= set(criteria) and set(expect.assets) <= set(assets)
    for cid, outcome in expect.criteria.items():
        assert criteria[cid] == outcome, cid
    for cid, outcome in expect.assets.items():
        assert assets[cid] == outcome, cid


def test_every_offer_has_at_least_25_cases() -> None:
    counts = {suite.program: len(suite.cases) for suite in SUITES}
    assert set(counts) == set(PROGRAMS)
    assert all(n >= 25 for n in counts.values()), counts


def test_the_base_persona_of_each_suite_is_eligible() -> None:
    for suite in SUITES:
        facts = parse_facts({k: v.isoformat() if isinstance(v, date) else v for k, v in suite.base.facts.items()})
        result = evaluate(facts, PROGRAMS[suite.program], suite.base.today)
        assert result.status.value == "eligible", suite.program


def test_every_blocking_criterion_is_failed_by_some_case_and_met_by_another() -> None:
    for suite in SUITES:
        failed = {cid for case in suite.cases for cid in case.expect.failing}
        assert failed == {c.id for c in PROGRAMS[suite.program].criteria}, suite.program


IOM_CASES = (CASES_DIR / "iom-internship-rabat.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("wrong", "right", "named"),
    [
        ("    expect: {status: eligible, failing: [], offer_open: true}", "    expcet: {status: eligible}", "expcet"),
        ("    facts: {birth_date: 2001-09-15}", "    fatcs: {birth_date: 2001-09-15}", "fatcs"),
        ("missing: [highest_degree]", "mising: [highest_degree]", "mising"),
        ("failing: [], offer_open: true}", "failing: [], offer_opne: true}", "offer_opne"),
        ("  today: 2021-09-15\n", "  todya: 2021-09-15\n", "todya"),
        ("    facts: {birth_date: 2001-09-15}", "    facts: {birth_dat: 2001-09-15}", "birth_dat"),
        ("criteria: {education: met}", "criteria: {education: passed}", "criteria.education"),
        ("{status: not_eligible, failing: [age]}", "{status: not eligible, failing: [age]}", "status"),
    ],
)
def test_a_misspelt_key_or_value_is_refused_with_its_location(wrong: str, right: str, named: str) -> None:
    assert wrong in IOM_CASES
    with pytest.raises(ValidationError) as error:
        load_suite(IOM_CASES.replace(wrong, right, 1))
    assert named in str(error.value)


def test_a_case_gives_facts_one_way_only() -> None:
    text = IOM_CASES.replace("    replace_facts: {}\n", "    replace_facts: {}\n    facts: {education: none}\n", 1)
    with pytest.raises(ValidationError, match="not both"):
        load_suite(text)
