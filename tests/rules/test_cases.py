"""The staff-readable cases next to the offers (rules/cases/*.yaml), run one test per case."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules import evaluate, load_programs, parse_facts

CASES_DIR = Path(__file__).resolve().parents[2] / "rules" / "cases"
PROGRAMS = load_programs()


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            params.append(pytest.param(suite, case, id=f"{suite['program']}: {case['name']}"))
    return params


CASES = _load()


def _facts(suite: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    if "replace_facts" in case:
        merged = dict(case["replace_facts"])
    else:
        merged = {**suite["base"]["facts"], **case.get("facts", {})}
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in merged.items()}


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_case(suite: dict[str, Any], case: dict[str, Any]) -> None:
    program = PROGRAMS[suite["program"]]
    today = case.get("today", suite["base"]["today"])
    result = evaluate(parse_facts(_facts(suite, case)), program, today)
    expect = case["expect"]
    assert result.status.value == expect["status"]
    assert sorted(result.failing) == sorted(expect["failing"])
    if "missing" in expect:
        assert sorted(result.missing_facts) == sorted(expect["missing"])
    if "offer_open" in expect:
        assert result.offer_open is expect["offer_open"]
    for cid, outcome in expect.get("criteria", {}).items():
        assert {c.id: c.result.value for c in result.criteria}[cid] == outcome
    for cid, outcome in expect.get("assets", {}).items():
        assert {c.id: c.result.value for c in result.assets}[cid] == outcome


def test_every_offer_has_at_least_25_cases() -> None:
    counts: dict[str, int] = {}
    for param in CASES:
        suite = param.values[0]
        counts[suite["program"]] = counts.get(suite["program"], 0) + 1
    assert set(counts) == set(PROGRAMS)
    assert all(n >= 25 for n in counts.values()), counts


def test_the_base_persona_of_each_suite_is_eligible() -> None:
    for path in sorted(CASES_DIR.glob("*.yaml")):
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        facts = parse_facts(
            {k: (v.isoformat() if isinstance(v, date) else v) for k, v in suite["base"]["facts"].items()}
        )
        result = evaluate(facts, PROGRAMS[suite["program"]], suite["base"]["today"])
        assert result.status.value == "eligible", path.name


def test_every_blocking_criterion_is_failed_by_some_case_and_met_by_another() -> None:
    failed: dict[str, set[str]] = {pid: set() for pid in PROGRAMS}
    for param in CASES:
        suite, case = param.values
        failed[suite["program"]].update(case["expect"]["failing"])
    for pid, program in PROGRAMS.items():
        assert failed[pid] == {c.id for c in program.criteria}, pid
