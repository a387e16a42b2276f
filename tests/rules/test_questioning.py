"""Goal-driven questioning: ask only what can still change an outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rules import FACTS, FactType, evaluate, load_programs, parse_facts, questions_to_ask

PROGRAMS = load_programs()
TODAY = date(2021, 9, 15)
BOUNDARY_DATES = [
    "1970-01-01",
    "1984-09-15",
    "1986-03-07",
    "1995-06-01",
    "2004-03-08",
    "2020-03-06",
    "2020-03-07",
    "2020-09-14",
    "2020-09-15",
    "2021-05-01",
]


def _domain(fact: str) -> list[Any]:
    spec = FACTS[fact]
    if spec.type is FactType.DATE:
        return BOUNDARY_DATES
    if spec.type is FactType.YES_NO:
        return [True, False]
    if spec.type is FactType.NUMBER:
        return [0, 1.5, 2, 5]
    return list(spec.choices)


def _outcomes(raw: dict[str, Any]) -> tuple[Any, ...]:
    facts = parse_facts(raw)
    results = [evaluate(facts, p, TODAY) for p in PROGRAMS.values()]
    return tuple(
        (r.status, tuple(a.result for a in r.assets) if r.status.value != "not_eligible" else ()) for r in results
    )


PARTIAL_FACTS = st.fixed_dictionaries({}, optional={f: st.sampled_from(_domain(f)) for f in FACTS})


@settings(max_examples=150, deadline=None)
@given(PARTIAL_FACTS)
def test_every_asked_fact_can_change_an_outcome_and_no_other_can(raw: dict[str, Any]) -> None:
    asked = questions_to_ask(parse_facts(raw), PROGRAMS.values(), TODAY)
    before = _outcomes(raw)
    for fact in FACTS:
        if fact in raw:
            assert fact not in asked
            continue
        changes = {_outcomes({**raw, fact: value}) != before for value in _domain(fact)}
        if fact in asked:
            assert True in changes, f"{fact} is asked but cannot change any outcome"
        else:
            assert changes == {False}, f"{fact} could change an outcome but is not asked"


def test_nothing_known_asks_shared_facts_first_and_assets_last() -> None:
    asked = questions_to_ask({}, PROGRAMS.values(), TODAY)
    assert asked[:3] == ["birth_date", "education", "iom_interest"]
    assert asked[-2:] == ["spanish", "field_of_study"]
    assert "highest_degree" not in asked and "graduation_date" not in asked


def test_a_ruled_out_program_asks_nothing_more() -> None:
    facts = parse_facts({"citizenship": "other"})
    asked = questions_to_ask(facts, [PROGRAMS["quebec-psoig-2021-023"]], TODAY)
    assert asked == []


def test_graduates_are_asked_their_degree_then_its_date() -> None:
    one = [PROGRAMS["quebec-psoig-2021-023"]]
    assert questions_to_ask(parse_facts({"education": "graduated"}), one, TODAY)[0] == "highest_degree"
    facts = parse_facts({"education": "graduated", "highest_degree": "master"})
    assert "graduation_date" in questions_to_ask(facts, one, TODAY)
    facts = parse_facts({"education": "graduated", "highest_degree": "bachelor"})
    assert questions_to_ask(facts, one, TODAY) == []  # a bachelor's rules the offer out


def test_skipped_facts_are_not_asked_again() -> None:
    asked = questions_to_ask({}, PROGRAMS.values(), TODAY, skipped={"birth_date"})
    assert "birth_date" not in asked and asked[0] == "education"
